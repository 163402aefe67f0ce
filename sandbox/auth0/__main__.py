"""Run the Auth0 emulator alone: `python -m sandbox.auth0 --port 8102 --scale 1`."""

from __future__ import annotations

import argparse

import uvicorn

from sandbox.auth0 import create_app, load_demo
from sandbox.demo import generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.auth0", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--latency-ms", type=float, default=0, help="base latency added to every request")
    parser.add_argument("--scale", type=int, default=0, help="load sandbox.demo.generate(scale) users (0: none)")
    parser.add_argument("--audience", default="https://api.papergraph.dev", help="papergraph's API identifier")
    parser.add_argument("--issuer", default=None,
                        help="public base URL of the tenant, tokens' `iss` (default: http://127.0.0.1:PORT/)")
    args = parser.parse_args(argv)
    issuer = args.issuer or f"http://127.0.0.1:{args.port}/"
    app = create_app(issuer=issuer, latency_ms=args.latency_ms, audience=args.audience)
    if args.scale > 0:
        load_demo(app.state.store, generate(args.scale))
    # an emulator holding requests in an injected hang (`timeout`) or latency must not hold up its own shutdown
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()

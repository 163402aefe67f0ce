"""Run the NavigaPay emulator alone: `python -m sandbox.navigapay --port 8103 --scale 1`."""

from __future__ import annotations

import argparse

import uvicorn

from sandbox.demo import generate
from sandbox.navigapay import create_app, load_demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.navigapay", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--latency-ms", type=float, default=0, help="base latency added to every API request")
    parser.add_argument("--scale", type=int, default=0, help="load sandbox.demo.generate(scale) profiles (0: none)")
    parser.add_argument("--api-key", default=None, help="require 'Authorization: Bearer <key>' on /api routes")
    parser.add_argument("--public-url", default=None,
                        help="base URL browsers use to reach this emulator (default: http://HOST:PORT)")
    args = parser.parse_args(argv)
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    app = create_app(public_url=public_url, api_key=args.api_key, latency_ms=args.latency_ms)
    if args.scale > 0:
        load_demo(app.state.store, generate(args.scale))
    # an emulator holding requests in an injected hang (`timeout`) or latency must not hold up its own shutdown
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()

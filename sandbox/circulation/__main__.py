"""Run the circulation emulator alone: `python -m sandbox.circulation --port 8101 --scale 1`."""

from __future__ import annotations

import argparse

import uvicorn

from sandbox.circulation import create_app, load_demo
from sandbox.demo import generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.circulation", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--latency-ms", type=float, default=0, help="base latency added to every API request")
    parser.add_argument("--scale", type=int, default=0, help="load sandbox.demo.generate(scale) at start (0: empty)")
    parser.add_argument("--api-key", default=None, help="require 'Authorization: Bearer <key>' on /api routes")
    args = parser.parse_args(argv)
    app = create_app(latency_ms=args.latency_ms, api_key=args.api_key)
    if args.scale > 0:
        load_demo(app.state.store, generate(args.scale))
    # an emulator holding requests in an injected hang (`timeout`) or latency must not hold up its own shutdown
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()

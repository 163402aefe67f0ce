"""Run the mail emulator alone: `python -m sandbox.mail --smtp-port 1025 --port 8025` (SMTP, and the Mailpit-
shaped inbox API over HTTP)."""

from __future__ import annotations

import argparse
import asyncio

import uvicorn

from sandbox.faults import SandboxControl
from sandbox.mail import MailServer, MailStore, create_app


async def serve(host: str, port: int, smtp_port: int) -> None:
    store, control = MailStore(), SandboxControl()
    smtp = await MailServer(store, control).start(host, smtp_port)
    print(f"mail emulator: SMTP on {smtp.host}:{smtp.port}, inbox at http://{host}:{port}/api/v1/messages", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(store, control), host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=1))
    try:
        await server.serve()
    finally:
        await smtp.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.mail", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025, help="HTTP inbox API")
    parser.add_argument("--smtp-port", type=int, default=1025)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.smtp_port))


if __name__ == "__main__":
    main()

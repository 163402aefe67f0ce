"""Faithful emulators of papergraph's three upstreams, for development, tests and benchmarks.

Each emulator is a Starlette app with its own in-memory state, runnable alone on a loopback port
(`python -m sandbox.<name> --port N`) or mounted in-process through `httpx.ASGITransport`.
"""

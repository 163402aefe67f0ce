"""One listening socket per worker (SO_REUSEPORT), so the kernel spreads new connections over the workers.

`papergraph run` with `PAPERGRAPH_WORKERS` > 1 runs uvicorn's multiprocess supervisor. Given one socket, uvicorn
shares it: every worker's event loop waits on the same accept queue, and whichever wakes first accepts every
connection pending (uvloop accepts in a loop). Clients that open their keep-alive connections at once — a load
balancer, a connection pool, a load generator — then often land all on one worker while the other idles:
measured here with 8 connections (wrk) on 2 workers, the split of CPU between the workers was 3.45 s : 0.02 s in
one run of four, 2.62 s : 0.11 s in another. Node's cluster module avoids this by accepting in the master and
handing connections out in turn; nginx and HAProxy by a listening socket per worker with SO_REUSEPORT, where the
kernel picks the socket by a hash of the connection's addresses and ports. papergraph does the latter.

`ReusePortSocket` is what `papergraph run` hands uvicorn's supervisor instead of a bound socket: the supervisor
sends it to each worker it starts (or restarts) the way it sends any socket, by pickling it into the spawned
process, and unpickling it there binds a fresh socket with SO_REUSEPORT to the same address. The supervisor
itself never listens: a socket of the group that nobody accepts on would strand the connections hashed to it.
Before the workers start, `probe()` binds and closes one such socket in the supervisor, so an address in use is
reported once, at start-up, rather than by every worker in turn.

When a worker dies, the connections waiting in its own accept queue are reset (the price of SO_REUSEPORT); the
supervisor restarts it and its new socket joins the group. Where the platform has no SO_REUSEPORT (Windows),
`reuse_port_available()` is false and `papergraph run` gives uvicorn its usual shared socket.
"""

from __future__ import annotations

import socket
from typing import Any

BACKLOG = 2048  # uvicorn's default


def reuse_port_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def bind_reuse_port(host: str, port: int, backlog: int = BACKLOG) -> socket.socket:
    """A listening socket on (host, port) with SO_REUSEPORT (and SO_REUSEADDR, as uvicorn binds)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


class ReusePortSocket(socket.socket):
    """Not a listening socket in the supervisor: a promise of one per worker (see the module docstring).
    Pickled (into a spawned worker), it becomes `bind_reuse_port(host, port)` there."""

    def __init__(self, host: str, port: int, backlog: int = BACKLOG) -> None:
        super().__init__(_family(host), socket.SOCK_STREAM)
        self.address = (host, port, backlog)

    def probe(self) -> None:
        """Fail now, once, with the OS's error when the address cannot be bound (in use, not ours)."""
        bind_reuse_port(*self.address).close()

    def __reduce__(self) -> tuple[Any, ...]:
        return bind_reuse_port, self.address

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return self.__reduce__()

"""The listening sockets of ``sapper serve --workers N`` on Linux: one per worker process, bound to the same address
with ``SO_REUSEPORT``, so that the kernel spreads new connections over the workers (by a hash of the client's
address and port).

uvicorn's own way, one socket bound by the parent and shared by every worker, lets whichever worker wakes first
accept every connection waiting: under 50 clients connecting at once, ``benchmarks/api_latency.py`` found 41
connections on one worker and 9 on the other (``ss -tnp``, 2 workers), so the busy worker's clients waited about four
times as long as the others' and set the 99th percentile. uvicorn still supervises the workers: it hands each new
worker a :class:`Listener`, which travels as an address and becomes, in the worker, a socket of its own
(:func:`listen_socket`); a worker that dies takes its socket with it and its replacement binds a new one.

This module imports nothing of the app: a worker unpickles its listener before it answers the supervisor's health
checks, and must do so quickly.
"""

from __future__ import annotations

import logging
import socket
import sys

from uvicorn.config import STARTUP_FAILURE


def reuse_port_balances() -> bool:
    """Whether the kernel spreads connections over sockets sharing a port with ``SO_REUSEPORT`` (Linux; elsewhere
    the option exists on some systems but gives every connection to one socket)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host: str, port: int) -> int:
    """``port`` (for 0: the one the system gives) once a plain bind shows that nothing else holds it; OSError
    otherwise. The workers' sockets, bound with ``SO_REUSEPORT``, would join another service listening with that
    option on the same port instead of failing."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        found: int = probe.getsockname()[1]
        return found
    finally:
        probe.close()


class Listener:
    """What uvicorn's supervisor hands each worker process as its socket: pickled as the address only, and
    unpickled in the worker into a socket of its own (:func:`listen_socket`)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def __reduce__(self) -> tuple[object, tuple[str, int]]:
        return listen_socket, (self.host, self.port)


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT`` (uvicorn makes it listen). A worker that cannot bind it
    ends as a failed start, which stops the service instead of starting the worker again and again."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        logging.getLogger("uvicorn.error").error("cannot listen on %s:%d: %s", host, port, exc.strerror)
        sys.exit(STARTUP_FAILURE)
    return sock

"""Serving the viewer on 127.0.0.1: the listening socket and uvicorn in a thread (I/O).

The socket is bound before the address is printed, so the port is known (``--port`` or a
free one) and a port in use is a clear error, not a log line from uvicorn. Only the loopback
address is ever bound.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from dmj.machine.errors import UsageError
from starlette.types import ASGIApp

__all__ = ["listen", "serving"]

LOOPBACK = "127.0.0.1"


def listen(port: int | None) -> socket.socket:
    """A socket listening on 127.0.0.1 at ``port`` (a free one when None)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((LOOPBACK, port or 0))
    except OSError as exc:
        sock.close()
        why = "it is in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise UsageError(
            f"dmj view cannot listen on {LOOPBACK}:{port} ({why}); choose another --port, or "
            "leave --port out to use a free one."
        ) from exc
    sock.listen(64)
    return sock


@contextmanager
def serving(app: ASGIApp, sock: socket.socket) -> Iterator[None]:
    """Serve ``app`` on ``sock`` from a background thread until the block ends."""
    config = uvicorn.Config(
        app, lifespan="off", log_config=None, log_level="warning", access_log=False,
        proxy_headers=False, server_header=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="dmj-view", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

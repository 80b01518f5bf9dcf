"""Ways to run the emulator: a real HTTP server on loopback (in a thread, or ``serve`` in the
foreground until a signal), or in-process through an httpx transport.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import httpx
import uvicorn
from dmj.machine.errors import UsageError

from ._emulator import ConnectionDropped, Emulator, EmulatorStats, RequestRecord
from ._faults import FaultPlan
from ._workspace import load_world, state_file_for

__all__ = ["IN_PROCESS_BASE", "RunningEmulator", "emulator_transport", "run_emulator", "serve"]

IN_PROCESS_BASE = "http://discord.sandbox/api/v9"
"""A base URL for clients on ``emulator_transport`` (any host works; nothing resolves it)."""


class RunningEmulator:
    """An emulator listening on 127.0.0.1; what ``run_emulator`` yields."""

    def __init__(self, emulator: Emulator, port: int) -> None:
        self.emulator = emulator
        self.port = port
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/api/v9"
        """The value for ``DMJ_API_BASE``."""

    def requests(self) -> list[RequestRecord]:
        return self.emulator.requests()

    def stats(self) -> EmulatorStats:
        return self.emulator.stats()

    def add_messages(self, channel_id: str, count: int) -> int:
        """New messages arrive in ``channel_id``; returns its message count now."""
        return self.emulator.add_messages(channel_id, count)

    def set_faults(self, plan: FaultPlan | str) -> None:
        """Replace the fault plan (a ``FaultPlan`` or a ``--faults`` string)."""
        self.emulator.set_faults(FaultPlan.parse(plan) if isinstance(plan, str) else plan)


def _listen(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every kept-alive answer waits out a 40 ms delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"The sandbox cannot listen on 127.0.0.1:{port} ({exc.strerror}); choose another "
            "--port, or 0 for any free port."
        ) from exc
    sock.listen(128)
    return sock


@contextmanager
def run_emulator(emulator: Emulator, *, port: int = 0) -> Iterator[RunningEmulator]:
    """Serve ``emulator`` over real HTTP on 127.0.0.1 from a background thread.

    The socket listens before this yields, so clients may connect at once. The server runs
    its own asyncio loop (real time), whatever loop the caller uses.
    """
    sock = _listen(port)
    config = uvicorn.Config(
        emulator, lifespan="off", log_config=None, log_level="warning", access_log=False,
        proxy_headers=False, server_header=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])),
        name="dmj-sandbox-emulator",
        daemon=True,
    )
    thread.start()
    try:
        yield RunningEmulator(emulator, sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class _Transport(httpx.AsyncBaseTransport):
    def __init__(self, emulator: Emulator) -> None:
        self._asgi = httpx.ASGITransport(app=emulator)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._asgi.handle_async_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None


def emulator_transport(emulator: Emulator) -> httpx.AsyncBaseTransport:
    """An httpx transport that serves ``emulator`` in-process, on the caller's event loop.

    With trio's ``MockClock`` and the emulator's default clock, rate-limit waits and slow
    answers run in virtual time. A dropped connection surfaces as the
    ``httpx.RemoteProtocolError`` a real one gives.
    """
    return _Transport(emulator)


def serve(
    world_file: Path, *, port: int, faults: FaultPlan, announce: Callable[[str], None]
) -> None:
    """Serve the world in ``world_file`` until SIGINT or SIGTERM, then return.

    ``announce`` gets ``DMJ_API_BASE=<url>`` once the socket listens. Opened and closed
    DMs persist in the state file next to the world.
    """
    world = load_world(world_file)
    emulator = Emulator(world, faults=faults, state_file=state_file_for(world_file))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with run_emulator(emulator, port=port) as running:
            announce(f"DMJ_API_BASE={running.base_url}")
            while not stop.wait(timeout=1.0):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

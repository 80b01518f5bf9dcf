"""Large ingests read the exports in a second process while this one writes the index (I/O).

Reading an export (decoding DCE's JSON, building rows) and writing it (SQLite's inserts and
FTS5's tokenizer) cost about the same, so on two cores a large ingest does both at once: a
worker process (``serve``, in a fresh interpreter: nothing of this process is shared or
run again) reads its task on stdin, runs ``export_frames`` and writes
each frame, msgpack-encoded and length-prefixed, to stdout; this process adds them, in
order, in its own transaction. A thread moves them from the pipe to a queue of ``_AHEAD``
frames, so each side works on while the other is busy with a long export, and memory stays
bounded on both (a full queue stops the thread, a full pipe the worker).

Only the worker reads exports; only this process writes: the index's guarantees are the
ones of a single process (a crash of either leaves no half-built index, and a refresh's
transaction is rolled back; a worker that ends early fails the reader with
``FileWriteFailed``). Below ``WORKER_BYTES`` of JSON, starting a process costs more than it
saves, and the frames are read here.
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import msgspec
from dmj.machine.errors import FileWriteFailed
from dmj.machine.state import Outcome

from . import _frames
from ._frames import (
    Batch,
    Begin,
    End,
    Frame,
    Problem,
    Title,
    export_files,
    export_frames,
)

__all__ = ["WORKER_BYTES", "ingest_frames"]

WORKER_BYTES = 64 << 20
"""From this much DCE JSON to ingest on, a worker process reads it."""

_COMMAND = [
    sys.executable,
    "-P",
    "-c",
    "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "from dmj.projections.history._worker import serve; serve()",
]
"""The worker (``-P``: nothing from the current folder is imported). It ignores the Ctrl-C
the terminal sends it too: what Ctrl-C does is dmj's to decide (a reader that stops reading
stops the worker)."""
_AHEAD = 32
"""Frames (up to ~1 MB each) the worker may be ahead of the inserts."""


def _env_without_token() -> dict[str, str]:
    """This process's environment but Discord's token variables (``DISCORD_TOKEN*``): the
    worker reads files and needs no token, so it never holds one."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_TOKEN")}


class _Task(msgspec.Struct, frozen=True, array_like=True):
    """What the worker reads: ``export_frames``' arguments."""

    archive: str
    outcomes: list[Outcome]
    first_row: int
    stream_bytes: int


class _Done(msgspec.Struct, frozen=True, array_like=True, tag=True):
    """The worker read every export."""


_DONE = msgspec.msgpack.encode(_Done())
_DECODER: msgspec.msgpack.Decoder[Frame] = msgspec.msgpack.Decoder(
    Title | Batch | Problem | Begin | End
)


def ingest_frames(archive: Path, outcomes: Sequence[Outcome], first_row: int) -> Iterator[Frame]:
    """``export_frames`` of ``outcomes``, read by a worker process if they are large."""
    task = _Task(str(archive), list(outcomes), first_row, _frames.STREAM_BYTES)
    if sys.executable and _json_bytes(archive, outcomes) >= WORKER_BYTES:
        return _from_worker(task)
    return _frames_of(task)


def _frames_of(task: _Task) -> Iterator[Frame]:
    return export_frames(
        Path(task.archive), task.outcomes, task.first_row, stream_bytes=task.stream_bytes
    )


def _json_bytes(archive: Path, outcomes: Sequence[Outcome]) -> int:
    """How many bytes of DCE JSON the exports hold (as recorded, or on disk for records
    without their files)."""
    total = 0
    for outcome in outcomes:
        if outcome.files:
            total += sum(f.size for f in outcome.files if f.name.endswith(".json"))
        elif outcome.path:
            with contextlib.suppress(OSError):
                total += sum(f.stat().st_size for f in export_files(archive, outcome))
    return total


def _from_worker(task: _Task) -> Iterator[Frame]:
    worker = subprocess.Popen(
        _COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env_without_token()
    )
    assert worker.stdin is not None
    assert worker.stdout is not None
    received: queue.Queue[bytes | None] = queue.Queue(_AHEAD)
    reader = threading.Thread(target=_read, args=(worker.stdout, received), daemon=True)
    try:
        with contextlib.suppress(BrokenPipeError), worker.stdin:  # a dead worker: below
            worker.stdin.write(msgspec.msgpack.encode(task))
        reader.start()
        while (data := received.get()) != _DONE:
            if data is None:
                raise FileWriteFailed(
                    "The message index cannot be built: the process reading the exports ended "
                    f"early (exit code {worker.wait()}); run the command again, and report "
                    "it if it happens every time."
                )
            yield _DECODER.decode(data)
    finally:
        if worker.poll() is None:
            worker.kill()  # the consumer stopped early (an error), or the worker is done
        worker.wait()
        while reader.is_alive():  # it ends at the pipe's end: make room for what it puts
            with contextlib.suppress(queue.Empty):
                received.get(timeout=0.1)
        worker.stdout.close()


def _read(frames: IO[bytes], received: queue.Queue[bytes | None]) -> None:
    """Move the worker's frames from the pipe to ``received`` (None: the pipe ended early,
    a frame cut short by the worker's end included)."""
    while len(size := frames.read(4)) == 4:
        data = frames.read(length := int.from_bytes(size, "little"))
        if len(data) < length:
            break
        received.put(data)
        if data == _DONE:
            return
    received.put(None)


def serve() -> None:
    """The worker: read the task on stdin, write every frame to stdout, then ``_Done``."""
    gc.disable()  # a short-lived process that makes no cycles: collections would only cost
    task = msgspec.msgpack.decode(sys.stdin.buffer.read(), type=_Task)
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing else may write between the frames
    encoder = msgspec.msgpack.Encoder()
    with frames:
        for frame in _frames_of(task):
            data = encoder.encode(frame)
            frames.write(len(data).to_bytes(4, "little") + data)
        frames.write(len(_DONE).to_bytes(4, "little") + _DONE)

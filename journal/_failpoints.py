"""Failpoints: telling a real dmj process to crash, tear a write or fail an fsync on cue.

Crash tests run dmj as a child process and need it to die at a chosen point, as SQLite's
``crash_on_write`` does: right after record k is acknowledged, instead of its N-th storage
operation, halfway through its N-th write, or with ``EIO`` from its N-th operation. The CLI
builds a ``Failpoints`` from an environment variable (only ``dmj.cli`` reads the
environment), wraps the command's one ``Storage`` with it (the journal's and the archive's
operations alike) and hands the record failpoint to ``JournalWriter.open``; the default does
nothing.

Spec syntax (comma-separated): ``after-record=K``, and one of ``crash-at-op=N``,
``tear-at-op=N``, ``eio-at-op=N``. Operations are counted from 1 over the ``Storage`` calls
(the journal's recovery included), so enumerating N = 1, 2, ... visits every point.
"""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Literal, NoReturn

import msgspec
from dmj.machine.errors import UsageError

from ._storage import Storage

__all__ = ["FailAction", "FailingStorage", "Failpoints", "sigkill_self"]

FailAction = Literal["crash", "tear", "eio"]
"""``crash``: SIGKILL instead of the operation. ``tear``: a write writes its first half,
then SIGKILL (other operations: as ``crash``). ``eio``: the operation raises ``EIO``."""

_ACTIONS: dict[str, FailAction] = {
    "crash-at-op": "crash",
    "tear-at-op": "tear",
    "eio-at-op": "eio",
}


def sigkill_self() -> NoReturn:
    """Die at once, as a power cut or the OOM killer would: no cleanup, no flush."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: SIGKILL cannot be caught")  # pragma: no cover


class Failpoints(msgspec.Struct, frozen=True, kw_only=True):
    """Where a journal writer should fail on purpose; the default never fails."""

    after_record: int | None = None
    at_op: int | None = None
    action: FailAction = "crash"

    @classmethod
    def parse(cls, spec: str) -> Failpoints:
        """Read a spec such as ``"after-record=3"`` or ``"tear-at-op=7"``."""
        after_record: int | None = None
        at_op: int | None = None
        action: FailAction = "crash"
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key, _, value = item.partition("=")
            if not value.isdigit() or int(value) < 1:
                raise _bad_spec(spec)
            if key == "after-record":
                after_record = int(value)
            elif key in _ACTIONS and at_op is None:
                at_op, action = int(value), _ACTIONS[key]
            else:
                raise _bad_spec(spec)
        return cls(after_record=after_record, at_op=at_op, action=action)

    def storage(self, inner: Storage, crash: Callable[[], NoReturn] = sigkill_self) -> Storage:
        """``inner`` with the operation failpoint applied (``inner`` itself if none)."""
        if self.at_op is None:
            return inner
        return FailingStorage(inner, at_op=self.at_op, action=self.action, crash=crash)

    def acknowledged(self, seq: int, crash: Callable[[], NoReturn] = sigkill_self) -> None:
        """Called once record ``seq`` is durable: crash here if asked to."""
        if seq == self.after_record:
            crash()


def _bad_spec(spec: str) -> UsageError:
    return UsageError(
        f"the failpoint spec {spec!r} is not understood; use `after-record=K` and/or one of "
        "`crash-at-op=N`, `tear-at-op=N`, `eio-at-op=N` (K, N counted from 1)."
    )


class FailingStorage:
    """A ``Storage`` that fails its ``at_op``-th operation the way ``action`` says."""

    def __init__(
        self,
        inner: Storage,
        *,
        at_op: int,
        action: FailAction,
        crash: Callable[[], NoReturn] = sigkill_self,
    ) -> None:
        self._inner = inner
        self._at_op = at_op
        self._action = action
        self._crash = crash
        self.ops = 0

    def _arrive(self, name: str) -> None:
        """Count one operation; fail it if it is the chosen one (except a tearing write)."""
        self.ops += 1
        if self.ops != self._at_op:
            return
        if self._action == "eio":
            raise OSError(errno.EIO, f"injected failure of {name} (failpoint)")
        if self._action == "crash" or name != "write":
            self._crash()

    def open_append(self, path: Path) -> tuple[int, bool]:
        self._arrive("open_append")
        return self._inner.open_append(path)

    def create_new(self, path: Path) -> int:
        self._arrive("create_new")
        return self._inner.create_new(path)

    def write(self, fd: int, data: bytes) -> int:
        self._arrive("write")
        if self.ops == self._at_op:  # a tearing write: the first half reaches the file
            self._inner.write(fd, data[: len(data) // 2])
            self._crash()
        return self._inner.write(fd, data)

    def sync(self, fd: int) -> None:
        self._arrive("sync")
        self._inner.sync(fd)

    def sync_dir(self, path: Path) -> None:
        self._arrive("sync_dir")
        self._inner.sync_dir(path)

    def truncate(self, fd: int, length: int) -> None:
        self._arrive("truncate")
        self._inner.truncate(fd, length)

    def close(self, fd: int) -> None:
        self._arrive("close")
        self._inner.close(fd)

    def create_temp(self, target: Path) -> tuple[int, Path]:
        self._arrive("create_temp")
        return self._inner.create_temp(target)

    def sync_file(self, path: Path) -> None:
        self._arrive("sync_file")
        self._inner.sync_file(path)

    def make_dir(self, path: Path) -> None:
        self._arrive("make_dir")
        self._inner.make_dir(path)

    def replace(self, source: Path, target: Path) -> None:
        self._arrive("replace")
        self._inner.replace(source, target)

    def link(self, source: Path, target: Path) -> None:
        self._arrive("link")
        self._inner.link(source, target)

    def remove(self, path: Path) -> None:
        self._arrive("remove")
        self._inner.remove(path)

    def remove_tree(self, path: Path) -> None:
        self._arrive("remove_tree")
        self._inner.remove_tree(path)

"""Helpers for the journal tests: a fixed clock, sample events, storages that watch or skip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dmj.journal import JournalWriter, OsStorage
from dmj.machine.events import (
    AnyEvent,
    BatchFinished,
    BatchStarted,
    ChannelExported,
    DmClosed,
    DmCloseRequested,
    DmOpened,
    DmOpenRequested,
    DmSkipped,
    ExportRequested,
    RunPaused,
)

RUN = "run-test"
START = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


class TickingClock:
    """A clock that starts at ``START`` and moves one second per reading."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        at = self.now
        self.now += timedelta(seconds=1)
        return at


def sample_events(count: int) -> list[AnyEvent]:
    """``count`` unstamped events of a run, in a fixed, varied order."""
    cycle: list[AnyEvent] = [
        BatchStarted(run=RUN, batch=0, user_ids=("111", "222")),
        DmOpenRequested(run=RUN, batch=0, user_id="111"),
        DmOpened(run=RUN, batch=0, user_id="111", channel_id="900", package_channel_id="800"),
        ExportRequested(run=RUN, batch=0, channel_id="900", attempt=1, user_id="111"),
        ChannelExported(
            run=RUN,
            batch=0,
            channel_id="900",
            user_id="111",
            path="exports/900/0001",
            message_count=42,
            last_message_id="9999",
        ),
        DmCloseRequested(run=RUN, batch=0, channel_id="900"),
        DmClosed(run=RUN, batch=0, channel_id="900"),
        DmSkipped(run=RUN, batch=0, user_id="222", reason="Deleted User", status=400, code=50033),
        BatchFinished(run=RUN, batch=0, exported=1, skipped=1, failed=0),
        RunPaused(run=RUN, reason="captcha: naïve “quotes” and a \\ backslash"),
    ]
    return [cycle[index % len(cycle)] for index in range(count)]


def write_journal(path: Path, events: list[AnyEvent]) -> list[AnyEvent]:
    """Journal ``events`` at ``path`` with a ``TickingClock``; the acknowledged records."""
    with JournalWriter.open(path, clock=TickingClock()) as journal:
        return [journal.append(event) for event in events]


class NoSyncStorage(OsStorage):
    """Real files without the fsyncs: for tests that open journals thousands of times."""

    def sync(self, fd: int) -> None:
        pass

    def sync_dir(self, path: Path) -> None:
        pass


class RecordingStorage(OsStorage):
    """Real files, and a log of every operation in order (``write``, ``sync``, ...)."""

    def __init__(self) -> None:
        self.ops: list[str] = []

    def open_append(self, path: Path) -> tuple[int, bool]:
        fd, created = super().open_append(path)
        self.ops.append(f"open_append {path.name} created={created}")
        return fd, created

    def create_new(self, path: Path) -> int:
        self.ops.append(f"create_new {path.name}")
        return super().create_new(path)

    def write(self, fd: int, data: bytes) -> int:
        self.ops.append(f"write {len(data)}")
        return super().write(fd, data)

    def sync(self, fd: int) -> None:
        self.ops.append("sync")
        super().sync(fd)

    def sync_dir(self, path: Path) -> None:
        self.ops.append(f"sync_dir {path.name}")
        super().sync_dir(path)

    def truncate(self, fd: int, length: int) -> None:
        self.ops.append(f"truncate {length}")
        super().truncate(fd, length)

    def close(self, fd: int) -> None:
        self.ops.append("close")
        super().close(fd)

    def remove(self, path: Path) -> None:
        self.ops.append(f"remove {path.name}")
        super().remove(path)


def line_starts(data: bytes) -> list[int]:
    """The byte offset of every line in ``data`` (and of the end)."""
    starts = [0]
    starts.extend(index + 1 for index, byte in enumerate(data) if byte == ord("\n"))
    return starts


def torn_files(directory: Path) -> dict[str, bytes]:
    """The set-aside torn tails in ``directory``, by name."""
    return {path.name: path.read_bytes() for path in sorted(directory.glob("*.torn-*"))}

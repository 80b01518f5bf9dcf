"""The journal as the index reads it: without its lock, up to any damage (I/O).

Readers run while ``dmj run`` appends: ``read_events`` stops quietly before a record being
written, and the index reflects what was durable when it looked. Damage (a corrupt record,
a broken rule) stops the fold there, with a notice: the index shows the archive up to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
from dmj.journal import JournalEvents, read_events
from dmj.machine.errors import JournalCorrupt, JournalNotFound
from dmj.machine.events import AnyEvent
from dmj.machine.state import State, fold_until_broken

__all__ = ["JOURNAL", "JournalView", "journal_stamp", "read_journal"]

JOURNAL = "journal.jsonl"


class JournalView(msgspec.Struct, frozen=True, kw_only=True):
    """The state of the journal's intact records; ``at_mark``: the time of record
    ``at_seq`` (None if there is no such record); ``at_end``: the last record's time."""

    state: State
    at_mark: str | None
    at_end: str


def journal_stamp(archive: Path) -> str:
    """The journal's size, modification time and inode: unchanged means nothing appended."""
    journal = archive / JOURNAL
    try:
        info = journal.stat()
    except FileNotFoundError:
        where = "no such directory" if not archive.is_dir() else f"it has no {JOURNAL}"
        raise JournalNotFound(
            f"There is no dmj archive at {archive} ({where}); check --archive or "
            "DMJ_ARCHIVE, or start one with `dmj run --package PATH`."
        ) from None
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"


def read_journal(
    archive: Path, *, at_seq: int | None, notice: Callable[[str], None]
) -> JournalView:
    """Fold ``archive``'s journal (no lock), noting the time of record ``at_seq``."""
    marks: dict[int, str] = {}
    with read_events(archive / JOURNAL) as events:
        intact = _Intact(events, at_seq, marks)
        state, broken = fold_until_broken(intact)
        damage = broken or intact.damage
    if damage is not None:
        notice(
            f"journal.jsonl is damaged after record {state.through_seq} ({damage}); the "
            "message index shows the archive up to there. `dmj replay --inspect` says more."
        )
    return JournalView(
        state=state,
        at_mark=marks.get(at_seq) if at_seq is not None else None,
        at_end=state.at.isoformat(),
    )


class _Intact:
    """The reader's checked blocks up to any damage, noting the time of one record."""

    def __init__(self, events: JournalEvents[AnyEvent], at_seq: int | None,
                 marks: dict[int, str]) -> None:  # fmt: skip
        self._events = events
        self._at_seq = at_seq
        self._marks = marks
        self.damage: JournalCorrupt | None = None

    def blocks(self) -> Iterator[list[AnyEvent]]:
        wanted = self._at_seq
        try:
            for block in self._events.blocks():
                if wanted is not None and block and block[0].seq <= wanted <= block[-1].seq:
                    self._marks[wanted] = block[wanted - block[0].seq].at.isoformat()
                yield block
        except JournalCorrupt as error:
            self.damage = error

    def __iter__(self) -> Iterator[AnyEvent]:
        return (event for block in self.blocks() for event in block)

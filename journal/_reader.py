"""Reading a journal without the lock: streaming events, and the read-only audit.

Readers open the file read-only, take no lock and never change a byte, so ``dmj replay
--inspect`` and ``dmj export`` can run while a writer appends. A reader stops quietly before
a torn tail (it may be a record being written right now) and raises for damage before it.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from contextlib import suppress
from itertools import chain
from pathlib import Path
from typing import Any, Generic, overload

from dmj.machine.errors import InvariantBroken, JournalCorrupt
from dmj.machine.events import AnyEvent

from ._findings import JournalCheck
from ._paths import require_journal
from ._scan import open_for_reading, scan, scan_to_end
from ._schema import DMJ_SCHEMA, E, Schema

__all__ = ["JournalEvents", "check_journal", "read_events"]


class JournalEvents(Generic[E]):
    """The intact records of a journal, in order: one pass, in constant memory.

    Iterate it (or call ``next``) for the events, or take ``blocks()``: lists of consecutive
    records whose seqs the reader has checked (``dmj.machine.state.fold`` uses them and skips
    re-checking each record's seq). Either way it is one pass over the file. The file is
    closed when the pass ends, when ``close()`` is called, or on leaving a ``with`` block: a
    consumer that stops early closes it then, not whenever garbage collection gets to it.

    Iteration stops before a torn tail without raising; damage before the tail raises
    ``JournalCorrupt`` (or ``SequenceGap``) naming the file and line, after the records that
    precede it. ``check()`` gives the audit of the same pass, so a caller that wants the
    records and the audit reads the file once.
    """

    __slots__ = ("_blocks", "_end", "_events", "_file")

    def __init__(self, file: io.FileIO, name: str, schema: Schema[E]) -> None:
        self._file = file
        # The scan's verdict lands in a list, not on self: a generator holding self would
        # make a cycle, and an abandoned reader's file would wait for the cycle collector.
        self._end: list[JournalCheck] = []
        self._blocks = _blocks_then_verdict(file, name, schema, self._end)
        # chain.from_iterable walks each block's list in C: the generator resumes once per
        # block, not once per event.
        self._events: Iterator[E] = chain.from_iterable(self._blocks)

    def __iter__(self) -> Iterator[E]:
        # The chain itself, not self: a for loop then steps in C, not through __next__.
        return self._events

    def __next__(self) -> E:
        return next(self._events)

    def blocks(self) -> Iterator[list[E]]:
        """The records in blocks (the same pass as iterating: take one or the other)."""
        # A view, not the scan itself: a consumer that delegates to it (``yield from``) and
        # is dropped early must not close the scan under ``check()``; the reader owns it.
        return (block for block in self._blocks)

    def check(self) -> JournalCheck:
        """The audit of this pass, as ``check_journal`` gives it; never raises for damage.

        Reads (and drops) whatever records the pass has not handed out yet. Call it after
        taking the records you want, before ``close()``.
        """
        if not self._end:
            with suppress(JournalCorrupt):
                for _ in self._blocks:
                    pass
        if not self._end:
            raise InvariantBroken(f"the reader of {self._file.name} was closed before check()")
        return self._end[0]

    def close(self) -> None:
        """Stop reading and close the file (again is harmless)."""
        self._blocks.close()
        self._file.close()

    def __enter__(self) -> JournalEvents[E]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@overload
def read_events(path: Path | str) -> JournalEvents[AnyEvent]: ...


@overload
def read_events(path: Path | str, schema: Schema[E]) -> JournalEvents[E]: ...


def read_events(path: Path | str, schema: Schema[Any] = DMJ_SCHEMA) -> JournalEvents[Any]:
    """The journal's intact records in order (see ``JournalEvents``), in constant memory.

    Opens the file at once (``JournalNotFound`` if it is missing).
    """
    path = Path(path)
    require_journal(path)
    return JournalEvents(open_for_reading(path), str(path), schema)


def _blocks_then_verdict(
    file: io.FileIO, name: str, schema: Schema[E], verdict: list[JournalCheck]
) -> Generator[list[E], None, None]:
    """The scan's blocks; then, past the last intact record, the damage it found (if any).

    The scan's audit is appended to ``verdict`` before any damage is raised.
    """
    with file:
        end = yield from scan(file, name, schema)
    verdict.append(end)
    if end.problem is not None:
        raise end.problem.error()


def check_journal(path: Path | str, schema: Schema[Any] = DMJ_SCHEMA) -> JournalCheck:
    """Audit the journal read-only: the intact prefix, a torn tail, the first problem.

    Never raises for a damaged journal (``JournalNotFound`` if there is none at all).
    """
    path = Path(path)
    require_journal(path)
    with open_for_reading(path) as file:
        return scan_to_end(file, str(path), schema)

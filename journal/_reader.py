"""Reading a journal without the lock: streaming events, and the read-only audit.

Readers open the file read-only, take no lock and never change a byte, so ``dmj replay
--inspect`` and ``dmj export`` can run while a writer appends. A reader stops quietly before
a torn tail (it may be a record being written right now) and raises for damage before it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import Any, overload

from dmj.machine.events import AnyEvent

from ._findings import JournalCheck
from ._paths import require_journal
from ._scan import open_for_reading, scan, scan_to_end
from ._schema import DMJ_SCHEMA, E, Schema

__all__ = ["check_journal", "read_events"]


@overload
def read_events(path: Path | str) -> Iterator[AnyEvent]: ...


@overload
def read_events(path: Path | str, schema: Schema[E]) -> Iterator[E]: ...


def read_events(path: Path | str, schema: Schema[Any] = DMJ_SCHEMA) -> Iterator[Any]:
    """Iterate the journal's intact records in order, in constant memory.

    Opens the file at once (``JournalNotFound`` if it is missing). Iteration stops before
    a torn tail without raising; damage before the tail raises ``JournalCorrupt`` (or
    ``SequenceGap``) naming the file and line, after the records that precede it.
    """
    path = Path(path)
    require_journal(path)
    return _events(open_for_reading(path), str(path), schema)


def _events(file: io.FileIO, name: str, schema: Schema[E]) -> Iterator[E]:
    # chain.from_iterable walks each block's list in C: the generator below resumes once
    # per block, not once per event.
    return chain.from_iterable(_blocks_then_verdict(file, name, schema))


def _blocks_then_verdict(file: io.FileIO, name: str, schema: Schema[E]) -> Iterator[list[E]]:
    """The scan's blocks; then, past the last intact record, the damage it found (if any)."""
    with file:
        end = yield from scan(file, name, schema)
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

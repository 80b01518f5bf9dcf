"""The state of an archive, folded from its journal: ``State``, ``apply`` and ``fold``.

``apply(state, event)`` returns the state after one event and leaves ``state`` as it was; it
enforces the rules of a run (``_run_events``, ``_dm_events``): a broken rule raises
``RuleBroken`` naming the record's seq and the rule (a checksummed, gap-free record that breaks
a rule can only come from a dmj bug or a hand edit, so it is an ``InvariantBroken``); a seq
that does not follow its predecessor raises ``SequenceGap`` (a ``JournalCorrupt``: records
are missing). Replay is ``fold(read_events(journal))``; what to do next is
``dmj.machine.decide.decide(state)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from . import _dm_events as dm
from . import _run_events as run
from ._memory import remember
from ._model import (
    VERDICTS,
    BatchProgress,
    BatchRecord,
    Chain,
    ChannelStatus,
    DmProgress,
    Memory,
    Outcome,
    OutcomeKind,
    RunState,
    State,
    Verdict,
    count_outcomes,
    verdict_of,
)
from ._tally import Tally, tally
from ._working import Working
from .errors import RuleBroken, SequenceGap
from .events import (
    AnyEvent,
    BatchFinished,
    BatchStarted,
    ChannelExported,
    DmClosed,
    DmCloseRequested,
    DmOpened,
    DmOpenRequested,
    DmSkipped,
    ExportFailed,
    ExportRequested,
    OpenDmsCaptured,
    RunFinished,
    RunPaused,
    RunStarted,
)

__all__ = [
    "HANDLERS",
    "INITIAL",
    "VERDICTS",
    "BatchProgress",
    "BatchRecord",
    "Chain",
    "ChannelStatus",
    "DmProgress",
    "Memory",
    "Outcome",
    "OutcomeKind",
    "RunState",
    "Sequenced",
    "State",
    "Tally",
    "Verdict",
    "apply",
    "count_outcomes",
    "fold",
    "fold_until_broken",
    "remember",
    "tally",
    "verdict_of",
]

INITIAL = State()
"""The state of an empty journal."""

_TABLE: dict[type[AnyEvent], Callable[[Working, Any], None]] = {
    ExportRequested: dm.export_requested,
    ChannelExported: dm.channel_exported,
    ExportFailed: dm.export_failed,
    DmOpenRequested: dm.dm_open_requested,
    DmOpened: dm.dm_opened,
    DmCloseRequested: dm.dm_close_requested,
    DmClosed: dm.dm_closed,
    DmSkipped: dm.dm_skipped,
    BatchStarted: run.batch_started,
    BatchFinished: run.batch_finished,
    RunPaused: run.run_paused,
    OpenDmsCaptured: run.open_dms_captured,
    RunStarted: run.run_started,
    RunFinished: run.run_finished,
}

HANDLERS: Mapping[type[AnyEvent], Callable[[Working, Any], None]] = MappingProxyType(_TABLE)
"""One handler per event type. A table, not a ``match``: replay dispatches once per record,
and a lookup costs the same for every type (``tests/machine`` checks it covers the union)."""


@runtime_checkable
class Sequenced(Protocol):
    """Events in blocks whose seqs their producer checked: each block runs on by one.

    ``dmj.journal.read_events`` is one: the reader checks that every record's seq follows its
    predecessor's, so ``fold`` need not check every record again. It checks where one block
    meets the previous one (and the first block against the state it starts from); within a
    block the seqs are the producer's promise. Blocks are never empty.
    """

    def blocks(self) -> Iterator[Sequence[AnyEvent]]: ...


def apply(state: State, event: AnyEvent) -> State:
    """The state after ``event``, or ``RuleBroken``/``SequenceGap`` if it cannot follow.

    An event with ``seq == 0`` (not journaled yet) is checked and applied without advancing
    ``through_seq``, so a driver can check an event before journaling it.
    """
    working = Working(state)
    _run(working, (event,))
    return working.freeze()


def fold(events: Iterable[AnyEvent], state: State = INITIAL) -> State:
    """Apply ``events`` in order to ``state``: replay is ``fold(read_events(path))``."""
    working = Working(state)
    _run_any(working, events)
    return working.freeze()


def fold_until_broken(
    events: Iterable[AnyEvent], state: State = INITIAL
) -> tuple[State, RuleBroken | SequenceGap | None]:
    """Like ``fold``, but a broken rule stops it: the state before that record, and why.

    For audits (``dmj replay --inspect``) that show everything up to the first bad record.
    """
    working = Working(state)
    try:
        _run_any(working, events)
    except (RuleBroken, SequenceGap) as error:
        return working.freeze(), error
    return working.freeze(), None


def _run_any(working: Working, events: Iterable[AnyEvent]) -> None:
    if isinstance(events, Sequenced):
        _run_blocks(working, events.blocks())
    else:
        _run(working, events)


def _run(working: Working, events: Iterable[AnyEvent]) -> None:
    """Apply ``events`` to ``working``, up to the first that breaks a rule (which raises).

    ``seq``/``at`` are kept in locals and stamped on the way out, also when a record breaks a
    rule (the working copy then holds the state before it).
    """
    table = _TABLE
    expected = working.through_seq + 1
    last = None
    try:
        for event in events:
            seq = event.seq
            if seq and seq != expected:
                raise _gap(event, expected - 1)
            table[type(event)](working, event)
            if seq:
                expected = seq + 1
                last = event
    finally:
        if last is not None:
            working.through_seq = last.seq
            working.at = last.at


def _run_blocks(working: Working, blocks: Iterator[Sequence[AnyEvent]]) -> None:
    """``_run`` for checked blocks (see ``Sequenced``): the hot loop of replay.

    Only each block's first seq is compared; the last record applied is found from the seq
    of the one that raised (a block's seqs run on by one).
    """
    table = _TABLE
    expected = working.through_seq + 1
    last = None
    try:
        for block in blocks:
            event = block[0]
            if event.seq != expected:
                raise _gap(event, expected - 1)
            try:
                for event in block:
                    table[type(event)](working, event)
            except BaseException:
                applied = event.seq - expected
                if applied:
                    last = block[applied - 1]
                raise
            last = block[-1]
            expected = last.seq + 1
    finally:
        if last is not None:
            working.through_seq = last.seq
            working.at = last.at


def _gap(event: AnyEvent, previous: int) -> SequenceGap:
    return SequenceGap(
        f"journal record seq {event.seq} ({type(event).__name__}) follows seq {previous}: "
        "records are missing or out of order. Run `dmj replay --inspect` to see where; do not "
        "edit journal.jsonl by hand."
    )

"""The state of an archive, folded from its journal: ``State``, ``apply`` and ``fold``.

``apply(state, event)`` returns the state after one event, enforcing the rules of the run
(``_run_events``, ``_dm_events``): a broken rule raises ``RuleBroken`` naming the record's seq
and the rule; a seq that does not follow its predecessor raises ``SequenceGap``. Replay is
``fold(read_events(journal))``; what to do next is ``dmj.machine.decide.decide(state)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from . import _dm_events as dm
from . import _run_events as run
from ._model import (
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
    remember,
)
from .errors import SequenceGap
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
    "INITIAL",
    "BatchProgress",
    "BatchRecord",
    "Chain",
    "ChannelStatus",
    "DmProgress",
    "Memory",
    "Outcome",
    "OutcomeKind",
    "RunState",
    "State",
    "apply",
    "fold",
    "remember",
]

INITIAL = State()
"""The state of an empty journal."""


def fold(events: Iterable[AnyEvent], state: State = INITIAL) -> State:
    """Apply ``events`` in order to ``state``: replay is ``fold(read_events(path))``."""
    for event in events:
        state = apply(state, event)
    return state


def apply(state: State, event: AnyEvent) -> State:  # noqa: PLR0911, PLR0912 (one case per event)
    """The state after ``event``, or ``RuleBroken``/``SequenceGap`` if it cannot follow.

    An event with ``seq == 0`` (not journaled yet) is checked and applied without advancing
    ``through_seq``, so a driver can check an event before journaling it.
    """
    if event.seq and event.seq != state.through_seq + 1:
        raise SequenceGap(
            f"journal record seq {event.seq} ({type(event).__name__}) follows seq "
            f"{state.through_seq}: records are missing or out of order. Run "
            "`dmj replay --inspect` to see where; do not edit journal.jsonl by hand."
        )
    match event:  # the most frequent first
        case ExportRequested():
            return dm.export_requested(state, event)
        case ChannelExported():
            return dm.channel_exported(state, event)
        case ExportFailed():
            return dm.export_failed(state, event)
        case DmOpenRequested():
            return dm.dm_open_requested(state, event)
        case DmOpened():
            return dm.dm_opened(state, event)
        case DmCloseRequested():
            return dm.dm_close_requested(state, event)
        case DmClosed():
            return dm.dm_closed(state, event)
        case DmSkipped():
            return dm.dm_skipped(state, event)
        case BatchStarted():
            return run.batch_started(state, event)
        case BatchFinished():
            return run.batch_finished(state, event)
        case RunPaused():
            return run.run_paused(state, event)
        case OpenDmsCaptured():
            return run.open_dms_captured(state, event)
        case RunStarted():
            return run.run_started(state, event)
        case RunFinished():
            return run.run_finished(state, event)
        case _:
            assert_never(event)

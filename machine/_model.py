"""The values a journal folds into: runs, batches, DMs, outcomes and the archive's memory.

Every value is frozen and never edited: ``apply`` builds new values and shares the unchanged
parts with the old state, so any earlier state stays valid (tests fold prefixes and compare).
Containers inside a value (dicts, tuples) are never mutated after construction either. Large,
growing collections are kept where appending is cheap (a ``Chain`` of finished batches) and
merged into dicts only when a fold ends or a projection is built (``_memory``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Literal

import msgspec

from .events import (
    NOT_JOURNALED,
    ChannelInfo,
    ErrorClass,
    ExportFile,
    OpenDmsCaptured,
    PlanEntry,
    RunFinished,
    RunPaused,
    RunStarted,
)

__all__ = [
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
    "State",
    "Value",
    "Verdict",
    "count_outcomes",
    "verdict_of",
]

OutcomeKind = Literal["exported", "skipped", "failed"]
"""How a planned DM ended: exported; skipped (Discord would not open it: deleted user, not
found); failed (DCE could not export it: unreachable, or transient failures exhausted)."""

Verdict = Literal["exported", "skipped", "unreachable", "failed"]
"""What people read about a DM's outcome, everywhere (progress lines, summaries, ``replay
--inspect``, status, exports): ``failed`` outcomes split into ``unreachable`` (Discord refused
the channel for good: forbidden or not found) and ``failed`` (something passing went wrong:
DCE, the disk, the network; ``dmj resume`` can try again). ``OutcomeKind`` stays the
journal's and the projections' three-way model."""

VERDICTS: tuple[Verdict, ...] = ("exported", "skipped", "unreachable", "failed")
"""The verdicts in the order people read them."""


def verdict_of(kind: OutcomeKind, error_class: ErrorClass | None) -> Verdict:
    """The verdict of an outcome of ``kind`` whose last failure was ``error_class``."""
    if kind == "failed" and error_class == "permanent":
        return "unreachable"
    return kind


class Value(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Base of the state values.

    ``frozen``: a state is a value; ``apply`` returns a new one and shares what did not change.
    ``kw_only``: fields are added with defaults without breaking callers. Subclasses repeat
    both options because type checkers read each class statement on its own.
    """


class Outcome(Value, frozen=True, kw_only=True):
    """The one terminal outcome of a planned DM in a run, and the record that decided it.

    ``channel_id`` is the channel exported or tried last; for a skipped DM, the package's.
    ``path`` and ``files``: where an export was filed and what it holds (``ChannelExported``).
    ``refused_channel_id``: the package's channel of an exported DM, when Discord refused it
    (exporting it failed permanently: not found, forbidden) and reopening the DM handed back
    ``channel_id`` instead: Discord no longer serves that channel.
    """

    user_id: str
    kind: OutcomeKind
    channel_id: str
    seq: int
    at: datetime
    reason: str = ""
    error_class: ErrorClass | None = None
    message_count: int = 0
    last_message_id: str | None = None
    path: str = ""
    files: tuple[ExportFile, ...] = ()
    refused_channel_id: str | None = None

    @property
    def verdict(self) -> Verdict:
        """This outcome in the words people read (``Verdict``)."""
        return verdict_of(self.kind, self.error_class)


class DmProgress(Value, frozen=True, kw_only=True):
    """Where one DM of the open batch stands.

    ``open_at_start``: the channel that was open when the run started (exported as it is, never
    reopened, never closed). ``opening``/``exporting``/``closing`` mark a journaled intent
    still waiting for its outcome. ``opened``: the channel dmj opened and has not closed.
    ``direct_failed``: exporting the package's channel failed permanently, so the DM is
    reopened. ``attempt`` counts export attempts for the DM, ``checks`` those the read probe
    ended before DCE started (``attempt - checks``: DCE runs); ``transient_failures`` those
    that failed transiently (bounded by the run's ``max_attempts``). ``export_seq``: the seq
    of the pending ``ExportRequested`` (its export folder is named after it).
    """

    entry: PlanEntry
    open_at_start: str | None = None
    opening: bool = False
    opened: str | None = None
    closing: bool = False
    direct_failed: bool = False
    exporting: str | None = None
    export_seq: int = 0
    attempt: int = 0
    checks: int = 0
    transient_failures: int = 0
    outcome: Outcome | None = None

    @property
    def complete(self) -> bool:
        """The DM has its outcome and nothing dmj opened for it is still open."""
        return self.outcome is not None and self.opened is None


class BatchProgress(Value, frozen=True, kw_only=True):
    """The open batch: its DMs in plan order and the channels Discord handed back so far."""

    batch: int
    started_seq: int
    started_at: datetime
    dms: tuple[DmProgress, ...]
    seen: tuple[ChannelInfo, ...] = ()

    def outcomes(self) -> Iterator[Outcome]:
        return (dm.outcome for dm in self.dms if dm.outcome is not None)

    def dm(self, user_id: str) -> DmProgress | None:
        """The batch's DM of ``user_id``, if it has one."""
        return next((dm for dm in self.dms if dm.entry.user_id == user_id), None)


class BatchRecord(Value, frozen=True, kw_only=True):
    """A finished batch: its outcomes in plan order, the channels it saw, its timings."""

    batch: int
    started_seq: int
    started_at: datetime
    finished_seq: int
    finished_at: datetime
    outcomes: tuple[Outcome, ...]
    seen: tuple[ChannelInfo, ...] = ()


class Chain(Value, frozen=True, kw_only=True):
    """A persistent list of finished batches, newest first: appending shares the rest."""

    head: BatchRecord
    rest: Chain | None = None

    def oldest_first(self) -> list[BatchRecord]:
        records: list[BatchRecord] = []
        link: Chain | None = self
        while link is not None:
            records.append(link.head)
            link = link.rest
        records.reverse()
        return records


class RunState(Value, frozen=True, kw_only=True):
    """One run: its plan, the open DMs it found, finished batches, counts, pause, finish.

    ``open_by_user`` maps the recipient of each 1-on-1 DM open at the start to its channel;
    ``open_channels`` holds every channel open at the start (groups included).
    """

    started: RunStarted
    started_seq: int
    capture: OpenDmsCaptured | None = None
    open_by_user: dict[str, str] = {}
    open_channels: frozenset[str] = frozenset()
    last_completed: int = -1
    done: Chain | None = None
    exported: int = 0
    skipped: int = 0
    failed: int = 0
    last_pause: RunPaused | None = None
    pauses: int = 0
    finished: RunFinished | None = None

    @property
    def id(self) -> str:
        return self.started.run

    def batch_entries(self, batch: int) -> tuple[PlanEntry, ...]:
        """The plan entries of ``batch`` (0-based), in plan order."""
        size = self.started.batch_size
        return self.started.plan[batch * size : (batch + 1) * size]

    def finished_batches(self) -> list[BatchRecord]:
        return [] if self.done is None else self.done.oldest_first()

    def outcomes(self) -> list[Outcome]:
        """The outcomes of the finished batches, in plan order."""
        return [outcome for record in self.finished_batches() for outcome in record.outcomes]


class ChannelStatus(Value, frozen=True, kw_only=True, rename="camel"):
    """The latest terminal outcome involving a channel, across runs.

    ``message_count`` adds up the messages of every export of the channel (an incremental
    re-run exports only new ones); ``last_message_id`` is the newest message archived.
    ``rename="camel"``: this is also an entry of ``id-history.json``'s ``exportStatus``.
    """

    status: OutcomeKind
    at: datetime
    message_count: int = 0
    last_message_id: str | None = None


class Memory(Value, frozen=True, kw_only=True):
    """What the archive remembers from the runs before the current one.

    ``first_capture``: the open DMs of the first capture ever (``originalState``).
    ``channels``: every channel seen (``uniqueChannels``); ``status``: per channel, the latest
    outcome (``exportStatus``, and ``after`` for incremental re-runs); ``runs``: the earlier
    runs themselves, oldest first.
    """

    first_capture: tuple[ChannelInfo, ...] | None = None
    channels: dict[str, ChannelInfo] = {}
    status: dict[str, ChannelStatus] = {}
    runs: tuple[RunState, ...] = ()


class State(Value, frozen=True, kw_only=True):
    """Everything the journal says, up to and including record ``through_seq``.

    ``at`` is the time of that record. ``run`` is the current run (or the last one, finished);
    ``batch`` the open batch of ``run``, if any; ``memory`` the runs before ``run``.
    """

    through_seq: int = 0
    at: datetime = NOT_JOURNALED
    run: RunState | None = None
    batch: BatchProgress | None = None
    memory: Memory = Memory()

    @property
    def runs(self) -> tuple[RunState, ...]:
        """Every run the journal has started, oldest first (``run`` last)."""
        if self.run is None:
            return self.memory.runs
        return (*self.memory.runs, self.run)

    @property
    def paused(self) -> RunPaused | None:
        """The pause the journal ends with, if the last record is a ``RunPaused``."""
        run = self.run
        if run is None or run.last_pause is None or run.last_pause.seq != self.through_seq:
            return None
        return run.last_pause


def count_outcomes(outcomes: Iterable[Outcome]) -> tuple[int, int, int]:
    """How many of ``outcomes`` are (exported, skipped, failed)."""
    kinds = [outcome.kind for outcome in outcomes]
    return kinds.count("exported"), kinds.count("skipped"), kinds.count("failed")

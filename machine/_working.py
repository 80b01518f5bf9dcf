"""The working copy ``apply`` and ``fold`` change in place, then freeze into a ``State``.

``State`` is a frozen value and ``apply(state, event)`` never changes the state it is given.
Building a whole new ``State`` per event, though, costs more than decoding the event (the
open batch's DM tuple is copied every time); replaying a long journal would be dominated by
that copying. So, like a Clojure *transient*, the handlers change a private ``Working`` copy
that one call owns: ``apply`` thaws, applies one event and freezes; ``fold`` thaws once,
applies every event and freezes once. Handlers check every rule before they change anything,
so the copy is never half-changed when a rule breaks, and ``fold_until_broken`` can freeze
the state just before the record that broke one.
"""

from __future__ import annotations

from datetime import datetime

from msgspec.structs import replace

from ._memory import Summed, gather, with_runs
from ._model import BatchProgress, DmProgress, Memory, RunState, State
from .events import ChannelInfo

__all__ = ["Working"]


class Working:
    """A mutable copy of a ``State``: ``batch`` keeps the open batch's header, ``dms`` and
    ``seen`` its DMs and channels.

    ``dms`` maps each DM of the open batch by its plan key (``entry.user_id``) to its progress,
    in plan order: the hot handlers find a DM and put back its new progress with one dict
    operation each. ``run_id`` and ``batch_no`` repeat fields of the run and the open batch
    where the hot path reads them in one step (``set_run``/``open_batch`` keep them true).

    ``ended`` holds the runs that finished before the current one and are not in ``memory``
    yet: folding a run into the memory costs O(channels), so a replay of many runs does it
    once, for all of them, when it freezes. Until then ``memory`` lacks them (handlers read
    only ``known_runs`` from it).
    """

    __slots__ = (
        "at",
        "batch",
        "batch_no",
        "dms",
        "ended",
        "memory",
        "run",
        "run_id",
        "seen",
        "through_seq",
    )

    def __init__(self, state: State) -> None:
        self.through_seq: int = state.through_seq
        self.at: datetime = state.at
        self.memory: Memory = state.memory
        self.ended: list[RunState] = []
        self.run: RunState | None = None
        self.run_id = ""
        self.set_run(state.run)
        self.batch: BatchProgress | None = None
        self.batch_no = -1
        self.dms: dict[str, DmProgress] = {}
        self.seen: list[ChannelInfo] = []
        batch = state.batch
        if batch is not None:
            self.open_batch(batch, {dm.entry.user_id: dm for dm in batch.dms})
            self.seen = list(batch.seen)

    def freeze(self) -> State:
        """The ``State`` this copy holds now (the copy can go on changing afterwards)."""
        if self.ended:
            sums: dict[str, Summed] = {}
            outcomes = (o for run in self.ended for b in run.finished_batches() for o in b.outcomes)
            gather(sums, outcomes)
            self.memory = with_runs(self.memory, self.ended, sums)
            self.ended = []
        batch = self.batch
        if batch is not None:
            batch = replace(batch, dms=tuple(self.dms.values()), seen=tuple(self.seen))
        return State(
            through_seq=self.through_seq,
            at=self.at,
            run=self.run,
            batch=batch,
            memory=self.memory,
        )

    def known_runs(self) -> set[str]:
        """The id of every run the journal has started so far."""
        runs = (*self.memory.runs, *self.ended, *((self.run,) if self.run else ()))
        return {run.id for run in runs}

    def start_run(self, run: RunState) -> None:
        """``run`` starts; the current one (finished) is remembered (at ``freeze``)."""
        if self.run is not None:
            self.ended.append(self.run)
        self.set_run(run)
        self.open_batch(None, {})

    def set_run(self, run: RunState | None) -> None:
        """Make ``run`` the current run (also when only its counters changed)."""
        self.run = run
        self.run_id = run.started.run if run is not None else ""

    def open_batch(self, batch: BatchProgress | None, dms: dict[str, DmProgress]) -> None:
        """Make ``batch`` (with ``dms`` by plan key, in plan order) the open batch, or close it
        (None, with no DMs)."""
        self.batch = batch
        self.batch_no = batch.batch if batch is not None else -1
        self.dms = dms
        self.seen = []

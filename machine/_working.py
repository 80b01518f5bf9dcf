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

from ._model import BatchProgress, DmProgress, Memory, RunState, State
from .events import ChannelInfo

__all__ = ["Working"]


class Working:
    """A mutable copy of a ``State``: ``batch`` keeps its header, ``dms``/``seen`` its lists.

    ``run_id`` and ``batch_no`` repeat fields of the run and the open batch, and ``positions``
    maps each user of the open batch to its DM's position, where the hot path reads them in
    one step (``set_run``/``open_batch`` keep them true).
    """

    __slots__ = (
        "at",
        "batch",
        "batch_no",
        "dms",
        "memory",
        "positions",
        "run",
        "run_id",
        "seen",
        "through_seq",
    )

    def __init__(self, state: State) -> None:
        self.through_seq: int = state.through_seq
        self.at: datetime = state.at
        self.memory: Memory = state.memory
        self.run: RunState | None = None
        self.run_id = ""
        self.set_run(state.run)
        self.batch: BatchProgress | None = None
        self.batch_no = -1
        self.positions: dict[str, int] = {}
        self.dms: list[DmProgress] = []
        self.seen: list[ChannelInfo] = []
        if state.batch is not None:
            self.open_batch(state.batch, list(state.batch.dms))
            self.seen = list(state.batch.seen)

    def freeze(self) -> State:
        """The ``State`` this copy holds now (the copy can go on changing afterwards)."""
        batch = self.batch
        if batch is not None:
            batch = replace(batch, dms=tuple(self.dms), seen=tuple(self.seen))
        return State(
            through_seq=self.through_seq,
            at=self.at,
            run=self.run,
            batch=batch,
            memory=self.memory,
        )

    def set_run(self, run: RunState | None) -> None:
        """Make ``run`` the current run (also when only its counters changed)."""
        self.run = run
        self.run_id = run.started.run if run is not None else ""

    def open_batch(self, batch: BatchProgress | None, dms: list[DmProgress]) -> None:
        """Make ``batch`` (with ``dms``) the open batch, or close it (None)."""
        self.batch = batch
        self.batch_no = batch.batch if batch is not None else -1
        self.positions = {dm.entry.user_id: i for i, dm in enumerate(dms)}
        self.dms = dms
        self.seen = []

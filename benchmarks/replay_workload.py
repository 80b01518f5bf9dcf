"""Journals for the replay benchmark: a realistic archive and a one-run stress case.

Written with the journal's own line format by driving ``decide`` against a simulated world
(``tests/machine/simulate.py``) with a realistic mix of answers: most closed DMs export
directly by channel id; some need a reopen, a few fail transiently or are gone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

from dmj.machine.events import DmKind
from dmj.machine.package import PackageDm

from benchmarks.journal_workload import write_events
from tests.machine.simulate import Simulation, World, dm_channel, package_dm, run_started

__all__ = ["EVENTS_PER_DM", "write_archive", "write_stress"]

WEIGHTS = {
    "exported": 90.0, "transient": 4.0, "permanent": 6.0, "fatal": 0.02,
    "opened": 80.0, "opened-elsewhere": 10.0, "skipped": 10.0,
}  # fmt: skip
"""How often the simulated world gives each answer (relative weights)."""

EVENTS_PER_DM = 2.5
"""About how many records one DM costs with ``WEIGHTS`` (measured on the generated journal)."""

OPEN_EVERY = 200
"""One DM in this many is open when a run starts (Discord lists a user's open DMs)."""


def realistic_choice(rng: random.Random) -> Callable[[Sequence[str]], str]:
    def choose(options: Sequence[str]) -> str:
        return rng.choices(options, [WEIGHTS.get(o, 1.0) for o in options])[0]

    return choose


def write_archive(path: Path, events: int, dms: int, seed: int = 1) -> tuple[int, int]:
    """An archive's journal: incremental re-runs over the same ``dms`` DMs until it holds
    about ``events`` records. Returns (records, runs)."""
    rng = random.Random(seed)
    package = _package(rng, dms)
    open_now = tuple(
        dm_channel(dm.channel_id, dm.user_id)
        for dm in package[::OPEN_EVERY]
        if dm.user_id is not None
    )
    world = World(choose=realistic_choice(rng), fatal_budget=10**9, open_at_start=open_now)
    sim = Simulation(world=world)
    runs = 0
    while len(sim.events) < events:
        runs += 1
        sim.start(run_started(package, run=f"run-{runs}", batch_size=20))
        sim.run_to_end(limit=10**8)
    write_events(path, sim.events)
    return len(sim.events), runs


def write_stress(path: Path, events: int, seed: int = 1) -> tuple[int, int]:
    """One run over ``events / EVENTS_PER_DM`` DMs. Returns (records, runs)."""
    rng = random.Random(seed)
    sim = Simulation(world=World(choose=realistic_choice(rng), fatal_budget=10**9))
    sim.start(run_started(_package(rng, int(events / EVENTS_PER_DM)), run="run-1", batch_size=20))
    sim.run_to_end(limit=10**8)
    write_events(path, sim.events)
    return len(sim.events), 1


def _package(rng: random.Random, dms: int) -> list[PackageDm]:
    kinds: list[DmKind] = rng.choices(["dm", "group", "deleted"], [90, 7, 3], k=dms)
    return [package_dm(str(10**17 + i * 7919), kind) for i, kind in enumerate(kinds)]

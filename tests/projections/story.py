"""One archive's story, scripted: the journals the projection tests, goldens and CLI share.

Run 1 plans five DMs in batches of 2 (plan order = channel id order):
the group ``300`` (open at the start) is exported; the deleted user's ``400`` is unreachable;
alice (``100``, closed) fails directly, is reopened as channel ``7100`` and exported; bob
(``200``, open at the start as ``5200``) fails once transiently, then is exported; carol
(``500``) fails directly and cannot be reopened (skipped). Run 2 repeats the plan
incrementally with everything exported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from dmj.journal import JournalWriter
from dmj.machine.events import AnyEvent, ChannelExported, DmOpened

from tests.journal.support import TickingClock
from tests.machine.simulate import (
    T0,
    Simulation,
    World,
    dm_channel,
    group_channel,
    package_dm,
    run_started,
    scripted,
)

DMS = [
    package_dm("100", name="alice"),
    package_dm("200", name="bob"),
    package_dm("300", "group", name="friends"),
    package_dm("400", "deleted", name="Deleted User"),
    package_dm("500", name="carol"),
]
OPEN_AT_START = (dm_channel("5200", "200"), group_channel("300", "200", "500"))
RUN_1 = (
    "exported",  # friends
    "permanent",  # Deleted User
    *("permanent", "opened-elsewhere", "exported"),  # alice
    *("transient", "exported"),  # bob
    *("permanent", "skipped"),  # carol
)


def first_run(until: Callable[[AnyEvent], bool] = lambda _: False) -> list[AnyEvent]:
    """Run 1's journal, to its end or up to the first event ``until`` accepts."""
    sim = Simulation(world=World(choose=scripted(*RUN_1), open_at_start=OPEN_AT_START))
    sim.start(run_started(DMS, batch_size=2))
    while not until(sim.events[-1]):
        if sim.state.run is not None and sim.state.run.finished is not None:
            break
        sim.step()
    return sim.events


def mid_run() -> list[AnyEvent]:
    """Run 1 stopped right after alice's DM was reopened (batch 1 in progress)."""
    return first_run(until=lambda event: isinstance(event, DmOpened))


def two_runs() -> list[AnyEvent]:
    """Run 1 to the end, then run 2 (incremental, all exported) to the end."""
    events = first_run()
    world = World(choose=scripted(), open_at_start=OPEN_AT_START)
    sim = Simulation.resumed(world, events)
    sim.start(run_started(DMS, run="run-2", batch_size=2))
    sim.run_to_end()
    return sim.events


def write_journal(archive: Path, events: Sequence[AnyEvent]) -> Path:
    """``archive/journal.jsonl`` holding ``events``, stamped as ``tests.machine.simulate``
    stamps them (the writer's clock ticks from ``T0``), so folds compare equal; the export
    folders the events record are made too (empty: the simulated records list no files)."""
    archive.mkdir(parents=True, exist_ok=True)
    for event in events:
        if isinstance(event, ChannelExported) and event.path:
            (archive / event.path).mkdir(parents=True, exist_ok=True)
    path = archive / "journal.jsonl"
    with JournalWriter.open(path, clock=TickingClock(T0 + timedelta(seconds=1))) as journal:
        for event in events[journal.last_seq :]:
            journal.append(event)
    return path

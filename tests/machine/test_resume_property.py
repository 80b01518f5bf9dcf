"""Crash anywhere, resume, and the run still ends right: a property over random runs.

A simulated driver follows ``decide`` against a world that answers at random (opened,
skipped, exported, transient/permanent/fatal failure, Ctrl-C). The journal is cut at a random
record (the crash), replayed, and driven on with fresh answers to the end. The whole journal
must then satisfy the run's promises, checked from the records themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from dmj.machine.decide import decide
from dmj.machine.events import (
    AnyEvent,
    BatchFinished,
    BatchStarted,
    ChannelExported,
    ChannelInfo,
    DmClosed,
    DmCloseRequested,
    DmKind,
    DmOpened,
    DmSkipped,
    ExportFailed,
    ExportRequested,
    RunFinished,
    RunStarted,
    Strategy,
)
from dmj.machine.steps import Idle
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.machine.simulate import (
    Simulation,
    World,
    dm_channel,
    group_channel,
    package_dm,
    run_started,
)


@dataclass(frozen=True)
class Scenario:
    started: RunStarted
    open_at_start: tuple[ChannelInfo, ...]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    kinds: list[DmKind] = draw(
        st.lists(st.sampled_from(["dm", "dm", "group", "deleted"]), min_size=1, max_size=7)
    )
    dms = [package_dm(str(100 + i), kind) for i, kind in enumerate(kinds)]
    open_now: list[ChannelInfo] = []
    for dm in dms:
        if draw(st.booleans()):
            if dm.kind == "dm" and dm.user_id:
                channel = draw(st.sampled_from([dm.channel_id, f"5{dm.user_id}"]))
                open_now.append(dm_channel(channel, dm.user_id))
            elif dm.kind == "group":
                open_now.append(group_channel(dm.channel_id, "3", "4"))
    strategy: Strategy = draw(st.sampled_from(["direct-first", "reopen"]))
    started = run_started(
        dms,
        batch_size=draw(st.integers(1, 4)),
        strategy=strategy,
        max_attempts=draw(st.integers(1, 3)),
    )
    return Scenario(started=started, open_at_start=tuple(open_now))


WEIGHTS = {"exported": 4, "transient": 2, "permanent": 3, "fatal": 1, "opened": 3,
           "opened-elsewhere": 2, "skipped": 2, "go on": 4, "interrupt": 1}  # fmt: skip
"""How often the world gives each answer: every path is common, the first is the simplest."""


def world(data: st.DataObject, scenario: Scenario) -> World:
    def choose(options: Sequence[str]) -> str:
        weighted = [option for option in options for _ in range(WEIGHTS[option])]
        return weighted[data.draw(st.integers(0, len(weighted) - 1))]

    return World(choose=choose, open_at_start=scenario.open_at_start, interrupt_budget=2)


@settings(max_examples=200)
@given(scenario=scenarios(), data=st.data())
def test_resuming_after_a_crash_at_any_record_keeps_every_promise_of_the_run(
    scenario: Scenario, data: st.DataObject
) -> None:
    first = Simulation(world=world(data, scenario))
    first.start(scenario.started)
    first.run_to_end()
    crash = data.draw(st.integers(1, len(first.events)), label="records that survived")

    resumed = Simulation.resumed(world(data, scenario), first.events[:crash])
    final = resumed.run_to_end()

    assert isinstance(decide(final), Idle)
    check_promises(resumed.events, scenario)


def check_promises(events: Sequence[AnyEvent], scenario: Scenario) -> None:
    plan = scenario.started.plan
    assert isinstance(events[-1], RunFinished)
    check_batches_run_once_in_order(events)
    check_no_channel_exported_twice(events)
    check_every_user_has_one_outcome(events, [entry.user_id for entry in plan])
    groups = {entry.channel_id for entry in plan if entry.kind == "group"}
    check_closes_only_what_it_opened(events, groups | {c.id for c in scenario.open_at_start})


def check_batches_run_once_in_order(events: Sequence[AnyEvent]) -> None:
    last_completed = -1
    started: list[int] = []
    for event in events:
        if isinstance(event, BatchStarted):
            assert event.batch == last_completed + 1, f"seq {event.seq} restarts a batch"
            started.append(event.batch)
        elif isinstance(event, BatchFinished):
            last_completed = event.batch
    assert started == sorted(set(started))


def check_no_channel_exported_twice(events: Sequence[AnyEvent]) -> None:
    exported: set[str] = set()
    for event in events:
        if isinstance(event, ExportRequested):
            assert event.channel_id not in exported, f"seq {event.seq} exports it again"
        elif isinstance(event, ChannelExported):
            exported.add(event.channel_id)


def check_every_user_has_one_outcome(events: Sequence[AnyEvent], users: list[str]) -> None:
    ended: Counter[str] = Counter()
    last_failure: dict[str, ExportFailed] = {}
    for event in events:
        if isinstance(event, ChannelExported | DmSkipped):
            ended[event.user_id] += 1
        elif isinstance(event, ExportFailed):
            last_failure[event.user_id] = event
    assert all(count == 1 for count in ended.values())
    failed = [u for u in users if u not in ended]
    assert all(last_failure[u].error_class != "fatal" for u in failed)
    finish = events[-1]
    assert isinstance(finish, RunFinished)
    exported = sum(isinstance(e, ChannelExported) for e in events)
    skipped = sum(isinstance(e, DmSkipped) for e in events)
    assert (finish.exported, finish.skipped, finish.failed) == (exported, skipped, len(failed))


def check_closes_only_what_it_opened(events: Sequence[AnyEvent], never_close: set[str]) -> None:
    open_by_dmj: set[str] = set()
    for event in events:
        if isinstance(event, DmOpened):
            open_by_dmj.add(event.channel_id)
        elif isinstance(event, DmCloseRequested):
            assert event.channel_id not in never_close, f"seq {event.seq} closes a DM it found"
            assert event.channel_id in open_by_dmj
        elif isinstance(event, DmClosed):
            open_by_dmj.discard(event.channel_id)
        elif isinstance(event, BatchFinished):
            assert open_by_dmj == set(), f"batch {event.batch} left {open_by_dmj} open"

"""``fold``: the same state however the journal arrives, and the archive's memory over runs.

Replay folds the journal reader's checked blocks in one working copy, sums each channel's
outcomes as batches finish and remembers finished runs once at the end; ``apply`` takes one
event at a time and remembers a run when the next one starts. Both must reach the same state,
and the memory must be what the plain definition says.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain

import pytest
from dmj.machine.errors import RuleBroken, SequenceGap
from dmj.machine.events import AnyEvent, ChannelInfo, DmCloseRequested, DmKind
from dmj.machine.state import (
    INITIAL,
    BatchProgress,
    ChannelStatus,
    Memory,
    RunState,
    Sequenced,
    State,
    apply,
    fold,
    fold_until_broken,
    remember,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.machine.simulate import (
    Simulation,
    World,
    dm_channel,
    journal,
    package_dm,
    run_started,
)
from tests.machine.test_state import ALL_EXPORTED, STARTED, R, exported


class Blocks:
    """A ``Sequenced`` source, as the journal reader is: the records in blocks."""

    def __init__(self, blocks: Sequence[Sequence[AnyEvent]]) -> None:
        self._blocks = blocks

    def blocks(self) -> Iterator[Sequence[AnyEvent]]:
        return iter(self._blocks)

    def __iter__(self) -> Iterator[AnyEvent]:
        return chain.from_iterable(self._blocks)


def cut(events: Sequence[AnyEvent], sizes: Sequence[int]) -> list[Sequence[AnyEvent]]:
    """``events`` in blocks of ``sizes`` (cycled), none empty."""
    blocks: list[Sequence[AnyEvent]] = []
    start = 0
    while start < len(events):
        size = sizes[len(blocks) % len(sizes)]
        blocks.append(events[start : start + size])
        start += size
    return blocks


ANSWERS = ("exported", "exported", "exported", "transient", "permanent", "fatal", "opened",
           "opened-elsewhere", "skipped", "go on", "go on", "interrupt")  # fmt: skip


@st.composite
def archives(draw: st.DrawFn) -> list[AnyEvent]:
    """A journal of 2-4 runs over one package (re-runs of the same plan, or of part of it),
    with random answers and the odd Ctrl-C; maybe cut short during the last run."""
    kinds: list[DmKind] = draw(
        st.lists(st.sampled_from(["dm", "dm", "group", "deleted"]), min_size=1, max_size=6)
    )
    dms = [package_dm(str(100 + i), kind) for i, kind in enumerate(kinds)]
    open_now = tuple(dm_channel(dm.channel_id, dm.user_id) for dm in dms[::3] if dm.user_id)
    answers = st.sampled_from(ANSWERS)

    def choose(options: Sequence[str]) -> str:
        wanted = draw(answers)
        return wanted if wanted in options else options[0]

    sim = Simulation(world=World(choose=choose, open_at_start=open_now, interrupt_budget=3))
    for run in range(draw(st.integers(2, 4))):
        started = len(sim.events)
        planned = dms if draw(st.booleans()) else dms[: draw(st.integers(1, len(dms)))]
        sim.start(run_started(planned, run=f"run-{run}", batch_size=draw(st.integers(1, 3))))
        sim.run_to_end()
    crash = draw(st.integers(0, len(sim.events) - started - 1))
    return sim.events[: len(sim.events) - crash]


def one_by_one(events: Sequence[AnyEvent]) -> State:
    state = INITIAL
    for event in events:
        state = apply(state, event)
    return state


def remembered_plainly(
    runs: Sequence[RunState], batch: BatchProgress | None = None
) -> tuple[dict[str, ChannelInfo], dict[str, ChannelStatus]]:
    """What the memory's channels and statuses are by their definition after ``runs`` (and
    the last one's open ``batch``): every captured and seen channel, and the outcomes merged
    one after the other."""
    channels: dict[str, ChannelInfo] = {}
    status: dict[str, ChannelStatus] = {}
    seen = [c for run in runs for record in run.finished_batches() for c in record.seen]
    outcomes = [o for run in runs for record in run.finished_batches() for o in record.outcomes]
    if batch is not None:
        seen.extend(batch.seen)
        outcomes.extend(batch.outcomes())
    for run in runs:
        for channel in run.capture.channels if run.capture else ():
            channels[channel.id] = channel
    for channel in seen:
        channels[channel.id] = channel
    for o in outcomes:
        old = status.get(o.channel_id)
        status[o.channel_id] = ChannelStatus(
            status=o.kind,
            at=o.at,
            message_count=o.message_count + (old.message_count if old else 0),
            last_message_id=(
                o.last_message_id if old is None else o.last_message_id or old.last_message_id
            ),
        )
    return channels, status


def as_lists(memory: Memory) -> tuple[list[tuple[str, ChannelInfo]], list[tuple[str, object]]]:
    """The memory's channels and statuses, order included."""
    return list(memory.channels.items()), list(memory.status.items())


@settings(max_examples=100, deadline=None)
@given(events=archives(), sizes=st.lists(st.integers(1, 7), min_size=1, max_size=4))
def test_replaying_in_blocks_or_one_event_at_a_time_reaches_the_same_state(
    events: list[AnyEvent], sizes: list[int]
) -> None:
    state = fold(events)
    assert fold(Blocks(cut(events, sizes))) == state
    assert one_by_one(events) == state
    channels, status = remembered_plainly(state.memory.runs)
    assert as_lists(state.memory) == (list(channels.items()), list(status.items()))
    captures = [run.capture.channels for run in state.memory.runs if run.capture]
    assert state.memory.first_capture == (captures[0] if captures else None)
    assert state.run is not None
    with_current = remember(state.memory, state.run, state.batch)
    channels, status = remembered_plainly([*state.memory.runs, state.run], state.batch)
    assert as_lists(with_current) == (list(channels.items()), list(status.items()))


def test_the_memory_of_many_runs_sums_up_each_channel_in_the_order_first_reached() -> None:
    sim = Simulation(world=World(choose=lambda options: options[0]))
    alice, bob, carol = (package_dm(str(user)) for user in (100, 101, 102))
    for run, planned in enumerate([[bob, carol], [alice, bob, carol], [alice]]):
        sim.start(run_started(planned, run=f"run-{run}", batch_size=2))
        sim.run_to_end()
    state = fold(Blocks(cut(sim.events, [5])))
    assert [run.id for run in state.memory.runs] == ["run-0", "run-1"]
    assert list(state.memory.status) == ["1101", "1102", "1100"]
    assert [s.message_count for s in state.memory.status.values()] == [6, 6, 3]
    assert [s.last_message_id for s in state.memory.status.values()] == [
        "9000004", "9000005", "9000003",
    ]  # fmt: skip


def test_a_rerun_of_the_same_plan_keeps_one_copy_of_it() -> None:
    sim = Simulation(world=World(choose=lambda options: options[0]))
    dms = [package_dm("100"), package_dm("200")]
    for run in range(2):
        sim.start(run_started(dms, run=f"run-{run}"))
        sim.run_to_end()
    state = fold(sim.events)
    assert state.run is not None
    [first] = state.memory.runs
    assert state.run.started.plan is first.started.plan
    assert state.run.started == sim.events[state.run.started_seq - 1]


def test_blocks_that_do_not_meet_are_a_sequence_gap() -> None:
    events = journal(ALL_EXPORTED)
    with pytest.raises(SequenceGap, match=r"journal record seq 6 .* follows seq 4"):
        fold(Blocks([events[:4], events[5:]]))


def test_the_first_block_must_follow_the_state_it_continues() -> None:
    events = journal(ALL_EXPORTED)
    with pytest.raises(SequenceGap, match=r"journal record seq 1 .* follows seq 5"):
        fold(Blocks([events]), fold(events[:5]))
    assert fold(Blocks([events[5:]]), fold(events[:5])) == fold(events)


@pytest.mark.parametrize("size", [1, 2, 3, 6, 10])
def test_a_rule_broken_inside_a_block_stops_at_the_record_before_it(size: int) -> None:
    events = journal([*STARTED, *exported("500", "500"), DmCloseRequested(
        run=R, batch=0, channel_id="500"), *exported("1100", "100")])  # fmt: skip
    state, error = fold_until_broken(Blocks(cut(events, [size])))
    assert isinstance(error, RuleBroken)
    assert error.seq == 6
    assert state == fold(events[:5])
    assert (state.through_seq, state.at) == (5, events[4].at)
    with pytest.raises(RuleBroken):
        fold(Blocks(cut(events, [size])))


def test_the_journal_reader_is_a_checked_source() -> None:
    assert isinstance(Blocks([]), Sequenced)
    assert not isinstance(journal(STARTED), Sequenced)

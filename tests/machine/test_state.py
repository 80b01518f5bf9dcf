"""``apply``: the state after each event, and the rules a journal must follow."""

from __future__ import annotations

import typing

import pytest
from dmj.machine.errors import RuleBroken, SequenceGap
from dmj.machine.events import (
    AnyEvent,
    BatchFinished,
    BatchStarted,
    ChannelExported,
    DmClosed,
    DmCloseRequested,
    DmOpened,
    DmOpenRequested,
    DmSkipped,
    ErrorClass,
    ExportFailed,
    ExportRequested,
    OpenDmsCaptured,
    RunFinished,
    RunPaused,
    Strategy,
)
from dmj.machine.state import (
    HANDLERS,
    INITIAL,
    OutcomeKind,
    apply,
    fold,
    fold_until_broken,
    verdict_of,
)
from msgspec.structs import replace

from tests.machine.simulate import (
    T0,
    Simulation,
    World,
    dm_channel,
    group_channel,
    journal,
    package_dm,
    run_started,
    scripted,
)

R = "run-1"
ALICE, BOB, GROUP = package_dm("100"), package_dm("200"), package_dm("500", "group")

STARTED: list[AnyEvent] = [
    run_started([ALICE, BOB, GROUP], batch_size=3),
    OpenDmsCaptured(run=R, channels=(group_channel("500", "3"), dm_channel("1200", "200"))),
    BatchStarted(run=R, batch=0, user_ids=("500", "100", "200")),
]
"""Batch 0 open: the group 500 (open), alice (closed, channel 1100), bob (open, 1200)."""


def exported(channel: str, user: str, batch: int = 0, run: str = R) -> list[AnyEvent]:
    return [
        ExportRequested(run=run, batch=batch, channel_id=channel, attempt=1, user_id=user),
        ChannelExported(
            run=run, batch=batch, channel_id=channel, user_id=user, path=f"exports/{channel}",
            message_count=4, last_message_id="77",
        ),
    ]  # fmt: skip


ALL_EXPORTED = [
    *STARTED,
    *exported("500", "500"),
    *exported("1100", "100"),
    *exported("1200", "200"),
]
FINISHED_BATCH = [*ALL_EXPORTED, BatchFinished(run=R, batch=0, exported=3, skipped=0, failed=0)]

BROKEN: list[tuple[str, list[AnyEvent], str]] = [
    ("an event before any run", [OpenDmsCaptured(run=R, channels=())],
     "every event but RunStarted belongs to a run in progress"),
    ("a second run while the first is unfinished", [*STARTED, run_started([ALICE], run="run-2")],
     "a new run starts only after the previous one finished"),
    ("a run id used twice", [*FINISHED_BATCH, RunFinished(run=R, exported=3, skipped=0, failed=0),
                             run_started([ALICE])],
     "run ids are unique in a journal"),
    ("a plan whose batch count is wrong", [replace(run_started([ALICE, BOB], batch_size=1),
                                                   total_batches=1)],
     "2 planned DMs in batches of 1 make 2 batches, not 1"),
    ("an event of another run", [*STARTED, ExportRequested(
        run="run-9", batch=0, channel_id="500", attempt=1, user_id="500")],
     "it names run 'run-9', but run 'run-1' is in progress"),
    ("a batch before the open DMs were captured", [STARTED[0], STARTED[2]],
     "open DMs are captured before the first batch starts"),
    ("open DMs captured twice", [*STARTED[:2], STARTED[1]],
     "open DMs are captured once per run"),
    ("a batch out of order", [*STARTED[:2], BatchStarted(run=R, batch=1, user_ids=())],
     "the next batch is 0 of 0..0"),
    ("a batch that lists other users", [*STARTED[:2], BatchStarted(
        run=R, batch=0, user_ids=("100", "500", "200"))],
     "it lists exactly the plan's users of batch 0, in plan order"),
    ("a batch started twice", [*STARTED, STARTED[2]], "batch 0 is still open"),
    ("a batch finished with a DM that has no outcome", [
        *STARTED, *exported("500", "500"),
        BatchFinished(run=R, batch=0, exported=1, skipped=0, failed=0)],
     "user 100 has no outcome yet"),
    ("a batch finished with a DM dmj opened still open", [
        *STARTED, *exported("500", "500"), *exported("1200", "200"),
        DmOpenRequested(run=R, batch=0, user_id="100"),
        DmOpened(run=R, batch=0, user_id="100", channel_id="1100", package_channel_id="1100"),
        *[replace(e, attempt=1) if isinstance(e, ExportRequested) else e
          for e in exported("1100", "100")],
        BatchFinished(run=R, batch=0, exported=3, skipped=0, failed=0)],
     "channel 1100, which dmj opened, is still open"),
    ("a batch whose counts disagree with its outcomes", [
        *ALL_EXPORTED, BatchFinished(run=R, batch=0, exported=2, skipped=1, failed=0)],
     "its counts (exported, skipped, failed) = (2, 1, 0) match the batch's outcomes, "
     "which are (3, 0, 0)"),
    ("a run finished before its last batch", [*ALL_EXPORTED, RunFinished(
        run=R, exported=3, skipped=0, failed=0)],
     "batch 0 is still open"),
    ("an event after the run finished", [
        *FINISHED_BATCH, RunFinished(run=R, exported=3, skipped=0, failed=0),
        RunPaused(run=R, reason="x")],
     "every event but RunStarted belongs to a run in progress"),
    ("an export of a channel that is not the DM's", [*STARTED, ExportRequested(
        run=R, batch=0, channel_id="1200", attempt=1, user_id="100")],
     "channel 1200 is not user 100's DM"),
    ("an attempt number that skips", [*STARTED, ExportRequested(
        run=R, batch=0, channel_id="1100", attempt=2, user_id="100")],
     "it is attempt 2 for user 100, whose last was 0: attempts count up by one"),
    ("an export outcome nobody asked for", [*STARTED, exported("1100", "100")[1]],
     "it answers no ExportRequested: no export of channel 1100 is pending for user 100"),
    ("a second export of a channel already exported", [
        *STARTED, *exported("1100", "100"), replace(exported("1100", "100")[0], attempt=2)],
     "user 100 already has its outcome (exported, seq 5): a DM ends exactly once per run"),
    ("a DM skipped after it was exported", [
        *STARTED, *exported("1100", "100"),
        DmSkipped(run=R, batch=0, user_id="100", reason="gone")],
     "user 100 already has its outcome"),
    ("a group DM reopened", [*STARTED, DmOpenRequested(run=R, batch=0, user_id="500")],
     "only a 1-on-1 DM with a known user is reopened, never a group DM"),
    ("a DM that was open at the start reopened", [
        *STARTED, DmOpenRequested(run=R, batch=0, user_id="200")],
     "user 200's DM was open at the start"),
    ("a group DM closed", [*STARTED, DmCloseRequested(run=R, batch=0, channel_id="500")],
     "dmj closes only a channel it opened in this batch"),
    ("a DM that was open at the start closed", [
        *STARTED, DmCloseRequested(run=R, batch=0, channel_id="1200")],
     "never a group DM or a DM that was open at the start"),
    ("a close nobody asked for", [
        *STARTED, DmOpenRequested(run=R, batch=0, user_id="100"),
        DmOpened(run=R, batch=0, user_id="100", channel_id="1100", package_channel_id="1100"),
        DmClosed(run=R, batch=0, channel_id="1100")],
     "it answers no DmCloseRequested for channel 1100"),
    ("an open outcome nobody asked for", [*STARTED, DmOpened(
        run=R, batch=0, user_id="100", channel_id="1100", package_channel_id="1100")],
     "it answers no DmOpenRequested for user 100"),
    ("an event for a batch that is not open", [*STARTED, ExportRequested(
        run=R, batch=1, channel_id="1100", attempt=1, user_id="100")],
     "it belongs to batch 1, but batch 0 is open"),
    ("an event for a user outside the batch", [*STARTED, DmOpenRequested(
        run=R, batch=0, user_id="999")],
     "user 999 is not in batch 0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("events", "rule"), [(e, r) for _, e, r in BROKEN], ids=[i for i, _, _ in BROKEN]
)
def test_an_event_that_breaks_a_rule_is_refused_naming_its_seq_and_the_rule(
    events: list[AnyEvent], rule: str
) -> None:
    stamped = journal(events)
    before = fold(stamped[:-1])
    with pytest.raises(RuleBroken) as caught:
        apply(before, stamped[-1])
    assert rule in caught.value.rule
    assert caught.value.seq == len(events)
    name = type(events[-1]).__name__
    assert str(caught.value).startswith(
        f"journal record seq {len(events)} ({name}) breaks a rule of the run: "
    )
    assert "dmj replay --inspect" in str(caught.value)


def test_an_event_not_journaled_yet_is_checked_and_named_as_such() -> None:
    state = fold(journal(STARTED))
    with pytest.raises(RuleBroken, match=r"^dmj was about to journal DmOpenRequested, which"):
        apply(state, DmOpenRequested(run=R, batch=0, user_id="500"))


def test_an_event_not_journaled_yet_leaves_the_journal_position_alone() -> None:
    state = fold(journal(STARTED))
    request = ExportRequested(run=R, batch=0, channel_id="500", attempt=1, user_id="500")
    after = apply(state, request)
    assert (after.through_seq, after.at) == (state.through_seq, state.at)
    assert after.batch is not None
    assert after.batch.dms[0].exporting == "500"


def test_a_seq_that_does_not_follow_its_predecessor_is_a_sequence_gap() -> None:
    stamped = journal(STARTED)
    with pytest.raises(SequenceGap, match=r"journal record seq 3 .* follows seq 1"):
        fold([stamped[0], stamped[2]])


def test_apply_leaves_the_earlier_state_untouched() -> None:
    stamped = journal(ALL_EXPORTED)
    before = fold(stamped[:-1])
    snapshot = replace(before)
    after = apply(before, stamped[-1])
    assert before == snapshot
    assert before.batch is not None
    assert after.batch is not None
    assert before.batch.dms[2].outcome is None
    assert after.batch.dms[2].outcome is not None


def test_a_finished_batch_records_outcomes_counts_and_timings() -> None:
    state = fold(journal(FINISHED_BATCH))
    assert state.batch is None
    assert state.run is not None
    assert (state.run.last_completed, state.run.exported, state.run.skipped) == (0, 3, 0)
    [record] = state.run.finished_batches()
    assert [o.user_id for o in record.outcomes] == ["500", "100", "200"]
    assert (record.started_seq, record.finished_seq) == (3, 10)
    assert record.finished_at == T0.replace(second=10)


def test_the_open_dms_at_the_start_are_known_by_user_and_by_channel() -> None:
    state = fold(journal(STARTED))
    assert state.run is not None
    assert state.batch is not None
    assert state.run.open_by_user == {"200": "1200"}
    assert state.run.open_channels == frozenset({"500", "1200"})
    assert [dm.open_at_start for dm in state.batch.dms] == ["500", None, "1200"]


def test_a_pause_is_current_only_until_the_next_record() -> None:
    paused = journal([*STARTED, RunPaused(run=R, reason="captcha")])
    state = fold(paused)
    assert state.paused is not None
    assert state.paused.reason == "captcha"
    resumed = fold(journal([*paused, *exported("500", "500")]))
    assert resumed.paused is None
    assert resumed.run is not None
    assert resumed.run.pauses == 1


def test_a_finished_run_is_remembered_when_the_next_run_starts() -> None:
    first = [*FINISHED_BATCH, RunFinished(run=R, exported=3, skipped=0, failed=0)]
    state = fold(journal([*first, run_started([ALICE], run="run-2")]))
    assert state.run is not None
    assert state.run.id == "run-2"
    assert [run.id for run in state.memory.runs] == [R]
    assert state.memory.first_capture == STARTED[1].channels  # type: ignore[union-attr]
    assert set(state.memory.status) == {"500", "1100", "1200"}
    assert state.memory.status["1100"].last_message_id == "77"
    assert set(state.memory.channels) == {"500", "1200"}


def test_failures_that_end_a_dm_record_why() -> None:
    events = journal([
        *STARTED,
        ExportRequested(run=R, batch=0, channel_id="500", attempt=1, user_id="500"),
        ExportFailed(
            run=R, batch=0, channel_id="500", user_id="500", error_class="permanent",
            message="failed: forbidden.", attempts=1,
        ),
    ])  # fmt: skip
    state = fold(events)
    assert state.batch is not None
    outcome = state.batch.dms[0].outcome
    assert outcome is not None
    assert (outcome.kind, outcome.channel_id, outcome.reason, outcome.seq) == (
        "failed", "500", "failed: forbidden.", 5,
    )  # fmt: skip


def test_initial_state_is_empty() -> None:
    assert (INITIAL.through_seq, INITIAL.run, INITIAL.batch) == (0, None, None)


def test_every_event_type_has_exactly_one_handler() -> None:
    assert set(HANDLERS) == set(typing.get_args(AnyEvent))


def test_fold_until_broken_returns_the_state_before_the_record_that_broke_a_rule() -> None:
    events = journal([*STARTED, *exported("500", "500"), DmCloseRequested(
        run=R, batch=0, channel_id="500")])  # fmt: skip
    state, error = fold_until_broken(events)
    assert isinstance(error, RuleBroken)
    assert error.seq == 6
    assert state == fold(events[:-1])
    assert fold_until_broken(events[:-1]) == (fold(events[:-1]), None)


def test_fold_until_broken_stops_at_a_sequence_gap() -> None:
    stamped = journal(STARTED)
    state, error = fold_until_broken([stamped[0], stamped[2]])
    assert isinstance(error, SequenceGap)
    assert state.through_seq == 1


def test_fold_continues_from_a_given_state() -> None:
    stamped = journal(ALL_EXPORTED)
    assert fold(stamped[5:], fold(stamped[:5])) == fold(stamped)


@pytest.mark.parametrize(
    ("kind", "error_class", "verdict"),
    [
        ("exported", None, "exported"),
        ("skipped", None, "skipped"),
        ("failed", "permanent", "unreachable"),
        ("failed", "transient", "failed"),
        ("failed", "fatal", "failed"),
    ],
    ids=["exported", "skipped", "refused-for-good", "passing-failure", "fatal"],
)
def test_people_read_a_permanent_failure_as_unreachable(
    kind: OutcomeKind, error_class: ErrorClass | None, verdict: str
) -> None:
    assert verdict_of(kind, error_class) == verdict


@pytest.mark.parametrize(
    ("strategy", "answers", "refused"),
    [
        ("direct-first", ("permanent", "opened-elsewhere", "exported"), "1100"),
        ("direct-first", ("permanent", "opened", "exported"), None),
        ("direct-first", ("exported",), None),
        ("reopen", ("opened-elsewhere", "exported"), None),
    ],
    ids=["refused-then-reopened-elsewhere", "reopened-as-itself", "read-directly",
         "reopened-without-asking"],
)  # fmt: skip
def test_an_export_names_the_package_channel_only_when_discord_refused_it_for_another(
    strategy: Strategy, answers: tuple[str, ...], refused: str | None
) -> None:
    sim = Simulation(world=World(choose=scripted(*answers)))
    sim.start(run_started([ALICE], strategy=strategy))
    state = sim.run_to_end()
    assert state.runs
    [record] = state.runs[-1].finished_batches()
    [outcome] = record.outcomes
    assert outcome.kind == "exported"
    assert outcome.refused_channel_id == refused

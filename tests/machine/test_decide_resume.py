"""``decide`` across interruptions: pauses, Ctrl-C, interrupted batches, incremental runs."""

from __future__ import annotations

from dmj.machine.decide import closes_before_stopping, decide
from dmj.machine.events import (
    BatchFinished,
    BatchStarted,
    DmClosed,
    DmCloseRequested,
    DmOpenRequested,
    DmSkipped,
    ExportRequested,
    OpenDmsCaptured,
    RunPaused,
)
from dmj.machine.state import fold
from dmj.machine.steps import CloseDm, ExportChannel, OpenDm, StartBatch

from tests.machine.simulate import dm_channel, journal, run_started
from tests.machine.test_decide import (
    ALICE,
    BOB,
    REOPEN_PATH,
    R,
    export,
    export_done,
    export_failed,
)


def test_after_a_fatal_failure_and_a_pause_resume_exports_again_without_using_the_bound() -> None:
    events = journal([
        run_started([ALICE], batch_size=1, max_attempts=1),
        OpenDmsCaptured(run=R, channels=()),
        BatchStarted(run=R, batch=0, user_ids=("100",)),
        *export_failed("fatal", "Authentication token is invalid."),
        RunPaused(run=R, reason="token rejected"),
    ])  # fmt: skip
    state = fold(events)
    assert state.paused is not None
    assert state.paused.reason == "token rejected"
    assert decide(state) == export("1100", 2, probe=True)


def test_a_pause_right_after_an_intent_repeats_the_intent() -> None:
    events = journal([
        *REOPEN_PATH[:6],  # … DmOpenRequested
        RunPaused(run=R, reason="captcha"),
    ])  # fmt: skip
    assert decide(fold(events)) == OpenDm(
        batch=0, user_id="100", package_channel_id="1100", name="alice"
    )


def test_an_interrupted_batch_finishes_its_remaining_dms_without_redoing_finished_ones() -> None:
    events = journal([
        run_started([ALICE, BOB], batch_size=2),
        OpenDmsCaptured(run=R, channels=()),
        BatchStarted(run=R, batch=0, user_ids=("100", "200")),
        *export_done(),
    ])  # fmt: skip
    assert decide(fold(events)) == export("1200", 1, user="200", name="bob", probe=True)


def test_a_skipped_dm_moves_on_to_the_next_dm() -> None:
    events = journal([
        run_started([ALICE, BOB], batch_size=2, strategy="reopen"),
        OpenDmsCaptured(run=R, channels=()),
        BatchStarted(run=R, batch=0, user_ids=("100", "200")),
        DmOpenRequested(run=R, batch=0, user_id="100"),
        DmSkipped(run=R, batch=0, user_id="100", reason="Unknown user", status=400, code=50033),
    ])  # fmt: skip
    assert decide(fold(events)) == OpenDm(
        batch=0, user_id="200", package_channel_id="1200", name="bob"
    )


def test_the_next_batch_starts_only_after_the_last_completed_one() -> None:
    events = journal([
        run_started([ALICE, BOB], batch_size=1),
        OpenDmsCaptured(run=R, channels=()),
        BatchStarted(run=R, batch=0, user_ids=("100",)),
        *export_done(),
        BatchFinished(run=R, batch=0, exported=1, skipped=0, failed=0),
    ])  # fmt: skip
    assert decide(fold(events)) == StartBatch(batch=1, user_ids=("200",))


def test_stopping_early_closes_what_the_batch_opened_and_resume_reopens_it() -> None:
    opened = journal(REOPEN_PATH[:7])  # … DmOpened 7100, nothing exported yet
    state = fold(opened)
    closes = closes_before_stopping(state)
    assert closes == (CloseDm(batch=0, user_id="100", channel_id="7100", name="alice"),)
    stopped = journal([
        *REOPEN_PATH[:7],
        DmCloseRequested(run=R, batch=0, channel_id="7100"),
        DmClosed(run=R, batch=0, channel_id="7100"),
        RunPaused(run=R, reason="interrupted"),
    ])  # fmt: skip
    assert closes_before_stopping(fold(stopped)) == ()
    assert decide(fold(stopped)) == OpenDm(
        batch=0, user_id="100", package_channel_id="1100", name="alice"
    )


def test_an_incremental_run_exports_only_messages_after_the_last_archived_one() -> None:
    second = journal([
        *REOPEN_PATH,
        run_started([ALICE, BOB], run="run-2", batch_size=2),
        OpenDmsCaptured(run="run-2", channels=(dm_channel("7100", "100"),)),
        BatchStarted(run="run-2", batch=0, user_ids=("100", "200")),
    ])  # fmt: skip
    step = decide(fold(second))
    assert step == ExportChannel(
        batch=0, user_id="100", channel_id="7100", attempt=1, name="alice", after="999"
    )
    assert step.intent("run-2") == ExportRequested(
        run="run-2", batch=0, channel_id="7100", attempt=1, user_id="100", after="999"
    )


def test_a_new_channel_in_an_incremental_run_is_exported_in_full() -> None:
    second = journal([
        *REOPEN_PATH,
        run_started([ALICE, BOB], run="run-2", batch_size=1),
        OpenDmsCaptured(run="run-2", channels=()),
        BatchStarted(run="run-2", batch=0, user_ids=("100",)),
        *export_done(count=0, last=None, run="run-2"),
        BatchFinished(run="run-2", batch=0, exported=1, skipped=0, failed=0),
        BatchStarted(run="run-2", batch=1, user_ids=("200",)),
    ])  # fmt: skip
    assert decide(fold(second)) == ExportChannel(
        batch=1, user_id="200", channel_id="1200", attempt=1, name="bob", after=None, probe=True
    )


def test_stopping_early_leaves_a_channel_being_exported_to_the_export() -> None:
    exporting = journal(REOPEN_PATH[:8])  # … ExportRequested 7100, no outcome yet
    assert closes_before_stopping(fold(exporting)) == ()
    assert closes_before_stopping(fold(journal(REOPEN_PATH[:3]))) == ()
    assert closes_before_stopping(fold([])) == ()

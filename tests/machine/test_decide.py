"""``decide``: given the journal so far, the exact next step."""

from __future__ import annotations

import pytest
from dmj.machine.decide import decide
from dmj.machine.events import (
    AnyEvent,
    BatchFinished,
    BatchStarted,
    ChannelExported,
    DmClosed,
    DmCloseRequested,
    DmOpened,
    DmOpenRequested,
    ErrorClass,
    ExportFailed,
    ExportRequested,
    OpenDmsCaptured,
    RunFinished,
)
from dmj.machine.state import fold
from dmj.machine.steps import (
    AnyStep,
    CaptureOpenDms,
    CloseDm,
    ExportChannel,
    FinishBatch,
    FinishRun,
    Idle,
    OpenDm,
    StartBatch,
)

from tests.machine.simulate import (
    dm_channel,
    group_channel,
    journal,
    package_dm,
    run_started,
)

R = "run-1"
ALICE = package_dm("100", name="alice")  # 1-on-1, package channel 1100
BOB = package_dm("200", name="bob")  # 1-on-1, package channel 1200


def export(
    channel: str, attempt: int, user: str = "100", name: str = "alice", *, probe: bool = False
) -> ExportChannel:
    return ExportChannel(
        batch=0, user_id=user, channel_id=channel, attempt=attempt, name=name, probe=probe
    )


def export_failed(
    error_class: ErrorClass,
    message: str,
    *,
    attempt: int = 1,
    channel: str = "1100",
    user: str = "100",
) -> list[AnyEvent]:
    """Attempt ``attempt`` at exporting ``user``'s DM (batch 0) through ``channel``, failed."""
    return [
        ExportRequested(run=R, batch=0, channel_id=channel, attempt=attempt, user_id=user),
        ExportFailed(
            run=R, batch=0, channel_id=channel, user_id=user, error_class=error_class,
            message=message, attempts=attempt,
        ),
    ]  # fmt: skip


def export_done(
    channel: str = "1100", *, count: int = 2, last: str | None = "5", run: str = R
) -> list[AnyEvent]:
    """The first attempt at exporting alice's DM (batch 0) through ``channel``, done."""
    return [
        ExportRequested(run=run, batch=0, channel_id=channel, attempt=1, user_id="100"),
        ChannelExported(
            run=run, batch=0, channel_id=channel, user_id="100", path="p", message_count=count,
            last_message_id=last,
        ),
    ]  # fmt: skip


REOPEN_PATH: list[AnyEvent] = [
    run_started([ALICE], batch_size=1),
    OpenDmsCaptured(run=R, channels=()),
    BatchStarted(run=R, batch=0, user_ids=("100",)),
    ExportRequested(run=R, batch=0, channel_id="1100", attempt=1, user_id="100"),
    ExportFailed(
        run=R, batch=0, channel_id="1100", user_id="100", error_class="permanent",
        message="not found", attempts=1,
    ),
    DmOpenRequested(run=R, batch=0, user_id="100"),
    DmOpened(run=R, batch=0, user_id="100", channel_id="7100", package_channel_id="1100"),
    ExportRequested(run=R, batch=0, channel_id="7100", attempt=2, user_id="100"),
    ChannelExported(
        run=R, batch=0, channel_id="7100", user_id="100", path="exports/7100/a",
        message_count=5, last_message_id="999",
    ),
    DmCloseRequested(run=R, batch=0, channel_id="7100"),
    DmClosed(run=R, batch=0, channel_id="7100"),
    BatchFinished(run=R, batch=0, exported=1, skipped=0, failed=0),
    RunFinished(run=R, exported=1, skipped=0, failed=0),
]  # fmt: skip
"""One DM through every stage: direct export fails, reopen (new channel id), export, close."""

AFTER_CRASH: list[tuple[str, AnyStep]] = [
    ("RunStarted", CaptureOpenDms()),
    ("OpenDmsCaptured", StartBatch(batch=0, user_ids=("100",))),
    ("BatchStarted: probe the closed DM, then export it", export("1100", 1, probe=True)),
    ("direct export intent: repeated as a new attempt", export("1100", 2, probe=True)),
    ("direct export failed permanently: reopen", OpenDm(
        batch=0, user_id="100", package_channel_id="1100", name="alice")),
    ("open intent: repeated", OpenDm(
        batch=0, user_id="100", package_channel_id="1100", name="alice")),
    ("opened: export the channel Discord returned", export("7100", 2)),
    ("export intent: repeated", export("7100", 3)),
    ("exported: close what dmj opened", CloseDm(
        batch=0, user_id="100", channel_id="7100", name="alice")),
    ("close intent: repeated", CloseDm(
        batch=0, user_id="100", channel_id="7100", name="alice")),
    ("closed: the batch is complete", FinishBatch(batch=0, exported=1, skipped=0, failed=0)),
    ("BatchFinished: the run is complete", FinishRun(exported=1, skipped=0, failed=0)),
    ("RunFinished", Idle(reason="run-finished")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("crash_after", "expected"),
    [(k, step) for k, (_, step) in enumerate(AFTER_CRASH, start=1)],
    ids=[label for label, _ in AFTER_CRASH],
)
def test_a_crash_after_any_record_of_a_batch_resumes_with_the_exact_next_step(
    crash_after: int, expected: AnyStep
) -> None:
    assert decide(fold(journal(REOPEN_PATH[:crash_after]))) == expected


def test_an_empty_journal_has_nothing_to_do() -> None:
    assert decide(fold([])) == Idle(reason="no-run")


def test_a_dm_open_at_the_start_is_exported_by_its_open_channel_and_never_closed() -> None:
    open_now = dm_channel("5100", "100")  # not the package's channel 1100
    events = journal([
        run_started([ALICE], batch_size=1),
        OpenDmsCaptured(run=R, channels=(open_now,)),
        BatchStarted(run=R, batch=0, user_ids=("100",)),
    ])  # fmt: skip
    assert decide(fold(events)) == export("5100", 1)
    exported = journal([
        *events,
        *export_done("5100", count=1, last="1"),
    ])  # fmt: skip
    assert decide(fold(exported)) == FinishBatch(batch=0, exported=1, skipped=0, failed=0)


def test_a_dm_open_at_the_start_that_fails_permanently_is_not_reopened() -> None:
    events = journal([
        run_started([ALICE], batch_size=1),
        OpenDmsCaptured(run=R, channels=(dm_channel("1100", "100"),)),
        BatchStarted(run=R, batch=0, user_ids=("100",)),
        *export_failed("permanent", "forbidden"),
    ])  # fmt: skip
    assert decide(fold(events)) == FinishBatch(batch=0, exported=0, skipped=0, failed=1)


@pytest.mark.parametrize("kind", ["group", "deleted"])
def test_group_and_deleted_user_dms_are_exported_directly_and_never_reopened(kind: str) -> None:
    dm = package_dm("500", kind)  # type: ignore[arg-type]
    events = journal([
        run_started([dm], batch_size=1, strategy="reopen"),
        OpenDmsCaptured(run=R, channels=(group_channel("500", "3", "4"),)),
        BatchStarted(run=R, batch=0, user_ids=("500",)),
    ])  # fmt: skip
    assert decide(fold(events)) == ExportChannel(
        batch=0, user_id="500", channel_id="500", attempt=1, name="chan500"
    )
    failed = journal([
        *events,
        *export_failed("permanent", "not found", channel="500", user="500"),
    ])  # fmt: skip
    assert decide(fold(failed)) == FinishBatch(batch=0, exported=0, skipped=0, failed=1)


@pytest.mark.parametrize("kind", ["dm", "group", "deleted"])
def test_a_channel_neither_open_at_the_start_nor_opened_by_dmj_is_probed_before_dce(
    kind: str,
) -> None:
    started = run_started([package_dm("500", kind)], batch_size=1)  # type: ignore[arg-type]
    [entry] = started.plan
    events = journal([
        started,
        OpenDmsCaptured(run=R, channels=()),
        BatchStarted(run=R, batch=0, user_ids=(entry.user_id,)),
    ])  # fmt: skip
    step = decide(fold(events))
    assert isinstance(step, ExportChannel)
    assert (step.channel_id, step.probe) == (entry.channel_id, True)


@pytest.mark.parametrize(("read_check", "shown"), [(True, 1), (False, 2)])
def test_an_attempt_the_read_check_ended_is_not_counted_in_the_attempt_people_read(
    read_check: bool, shown: int
) -> None:
    """The journal numbers every attempt; a person reads how many times DCE ran."""
    refused = [
        *REOPEN_PATH[:4],
        ExportFailed(
            run=R, batch=0, channel_id="1100", user_id="100", error_class="permanent",
            message="not found", attempts=1, read_check=read_check,
        ),
        *REOPEN_PATH[5:7],
    ]  # fmt: skip
    step = decide(fold(journal(refused)))
    assert step == ExportChannel(
        batch=0, user_id="100", channel_id="7100", attempt=2, name="alice", checks=int(read_check)
    )
    assert step.describe() == f"export alice (channel 7100), attempt {shown}"
    probing = export("1100", 1, probe=True).describe()
    assert probing == "check that alice (channel 1100) is readable, then export it, attempt 1"


def test_strategy_reopen_opens_a_closed_dm_before_any_export() -> None:
    events = journal([
        run_started([ALICE], batch_size=1, strategy="reopen"),
        OpenDmsCaptured(run=R, channels=()),
        BatchStarted(run=R, batch=0, user_ids=("100",)),
    ])  # fmt: skip
    assert decide(fold(events)) == OpenDm(
        batch=0, user_id="100", package_channel_id="1100", name="alice"
    )


def test_transient_failures_retry_with_the_next_attempt_until_the_bound() -> None:
    start: list[AnyEvent] = [
        run_started([ALICE], batch_size=1, max_attempts=2),
        OpenDmsCaptured(run=R, channels=()),
        BatchStarted(run=R, batch=0, user_ids=("100",)),
    ]
    fail = export_failed("transient", "timed out")
    assert decide(fold(journal(start + fail))) == export("1100", 2, probe=True)
    again = export_failed("transient", "timed out", attempt=2)
    state = fold(journal(start + fail + again))
    assert decide(state) == FinishBatch(batch=0, exported=0, skipped=0, failed=1)
    assert state.batch is not None
    outcome = state.batch.dms[0].outcome
    assert outcome is not None
    assert (outcome.kind, outcome.reason, outcome.error_class) == (
        "failed",
        "timed out",
        "transient",
    )


def test_steps_name_a_dm_as_people_say_it_not_as_the_package_titles_it() -> None:
    step = OpenDm(batch=0, user_id="7", package_channel_id="70", name="Direct Message with bea#0")
    assert step.describe() == "reopen the DM with bea#0 (user 7)"

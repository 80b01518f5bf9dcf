"""The projection builders: a state → batch-state.json and id-history.json."""

from __future__ import annotations

import msgspec
from dmj.machine.events import UserInfo
from dmj.machine.state import fold
from dmj.projections import (
    BATCH_STATE,
    ID_HISTORY,
    BatchStateDoc,
    IdHistoryDoc,
    build_batch_state,
    build_id_history,
    projection_files,
)
from msgspec.structs import replace

from tests.machine.simulate import T0
from tests.projections.golden import assert_golden_tree
from tests.projections.story import first_run, mid_run, two_runs


def present(files: dict[str, bytes | None]) -> dict[str, bytes]:
    return {path: data for path, data in files.items() if data is not None}


def test_the_projections_in_the_middle_of_a_run_match_the_golden_files() -> None:
    assert_golden_tree("mid-run", present(projection_files(fold(mid_run()))))


def test_the_projections_after_two_runs_match_the_golden_files() -> None:
    assert_golden_tree("two-runs", present(projection_files(fold(two_runs()))))


def test_batch_state_mid_run_says_where_the_run_stands() -> None:
    state = fold(mid_run())
    assert state.run is not None
    doc = build_batch_state(state.run, state.batch, state.through_seq, state.at)
    assert doc == BatchStateDoc(
        run_id="run-1",
        all_dm_ids=("300", "400", "100", "200", "500"),
        total_batches=3,
        current_batch=1,
        last_completed_batch=0,
        processed_users=("300",),
        skipped_users=(),
        failed_users=("400",),
        timestamp=state.at,
        in_progress=True,
        through_seq=13,
    )


def test_batch_state_uses_the_seed_schema_field_names_in_order() -> None:
    data = projection_files(fold(mid_run()))[BATCH_STATE]
    assert data is not None
    assert list(msgspec.json.decode(data)) == [
        "schemaVersion", "runId", "allDmIds", "totalBatches", "currentBatch",
        "lastCompletedBatch", "processedUsers", "skippedUsers", "failedUsers", "timestamp",
        "inProgress", "throughSeq",
    ]  # fmt: skip
    assert msgspec.json.decode(data)["timestamp"] == "2024-05-01T12:00:13Z"


def test_a_finished_run_has_no_live_batch_state_only_its_archived_copy() -> None:
    files = projection_files(fold(first_run()))
    assert files[BATCH_STATE] is None
    archived = files["runs/run-1/batch-state.json"]
    assert archived is not None
    doc = msgspec.json.decode(archived, type=BatchStateDoc)
    assert (doc.current_batch, doc.last_completed_batch, doc.in_progress) == (3, 2, False)
    assert (doc.processed_users, doc.skipped_users, doc.failed_users) == (
        ("300", "100", "200"), ("500",), ("400",),
    )  # fmt: skip


def test_id_history_latest_includes_what_dmj_opened_and_has_not_closed() -> None:
    doc = build_id_history(fold(mid_run()))
    assert doc is not None
    assert [c.id for c in doc.latest] == ["5200", "7100"]
    assert [c.id for c in doc.original_state] == ["5200", "300"]
    assert [c.id for c in doc.unique_channels] == ["5200", "300", "7100"]  # first seen


def test_id_history_after_the_close_leaves_the_list_as_dmj_found_it() -> None:
    doc = build_id_history(fold(first_run()))
    assert doc is not None
    assert [c.id for c in doc.latest] == ["5200"]


def test_export_status_keeps_the_latest_outcome_and_adds_up_messages_across_runs() -> None:
    doc = build_id_history(fold(two_runs()))
    assert doc is not None
    status = {cid: (s.status, s.message_count) for cid, s in doc.export_status.items()}
    assert status == {
        "300": ("exported", 6),
        "400": ("exported", 3),
        "1100": ("exported", 3),
        "1500": ("exported", 3),
        "5200": ("exported", 6),
        "7100": ("exported", 3),
    }
    assert list(doc.export_status) == [
        "300",
        "400",
        "7100",
        "5200",
        "1500",
        "1100",
    ]  # first reached


def test_id_history_names_the_account_and_falls_back_to_the_package_owner() -> None:
    events = first_run()
    doc = build_id_history(fold(events))
    assert doc is not None
    assert doc.user == UserInfo(id="42", username="me", global_name="Me")
    started = events[0]
    old = fold([replace(started, user=None), *events[1:]])
    old_doc = build_id_history(old)
    assert old_doc is not None
    assert old_doc.user == UserInfo(id="42")


def test_nothing_is_projected_before_the_first_run() -> None:
    assert projection_files(fold([])) == {}
    assert build_id_history(fold([])) is None


def test_the_same_journal_always_gives_the_same_bytes() -> None:
    assert projection_files(fold(two_runs())) == projection_files(fold(two_runs()))
    history = projection_files(fold(two_runs()))[ID_HISTORY]
    assert history is not None
    doc = msgspec.json.decode(history, type=IdHistoryDoc)
    assert doc.through_seq == 48
    assert doc.export_status["300"].at == T0.replace(second=34)

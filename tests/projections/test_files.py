"""The archive's projection files: written from a state, judged against the journal."""

from __future__ import annotations

from pathlib import Path

from dmj.machine.events import AnyEvent, BatchFinished, RunFinished, RunPaused
from dmj.machine.state import fold
from dmj.projections import (
    ProjectionChange,
    ProjectionStatus,
    projection_files,
    projection_status,
    write_projections,
)

from tests.machine.simulate import Simulation, World, run_started, scripted
from tests.projections.story import DMS, OPEN_AT_START, RUN_1, first_run, mid_run, two_runs


def files_in(archive: Path) -> dict[str, bytes]:
    return {
        p.relative_to(archive).as_posix(): p.read_bytes()
        for p in sorted(archive.rglob("*"))
        if p.is_file()
    }


def test_projections_written_during_a_run_equal_a_rebuild_from_the_journal_prefix(
    tmp_path: Path,
) -> None:
    """The driver writes after each BatchFinished, pause and finish: each time, the files
    must be exactly what a full rebuild of the journal up to that record gives."""
    archive = tmp_path / "archive"
    archive.mkdir()
    sim = Simulation(world=World(choose=scripted(*RUN_1), open_at_start=OPEN_AT_START))
    sim.start(run_started(DMS, batch_size=2))
    checkpoints = 0
    while sim.state.run is not None and sim.state.run.finished is None:
        sim.step()
        if isinstance(sim.events[-1], BatchFinished | RunPaused | RunFinished):
            write_projections(archive, sim.state)
            rebuilt = tmp_path / f"rebuilt-{checkpoints}"
            rebuilt.mkdir()
            write_projections(rebuilt, fold(sim.events), past_runs=True)
            assert files_in(archive) == files_in(rebuilt)
            checkpoints += 1
    assert checkpoints == 4  # three batches and the finish


def test_a_rebuild_reports_what_it_created_updated_and_left_alone(tmp_path: Path) -> None:
    state = fold(mid_run())
    assert write_projections(tmp_path, state) == [
        ProjectionChange(path="id-history.json", change="created", after=13),
        ProjectionChange(path="batch-state.json", change="created", after=13),
    ]
    assert [c.change for c in write_projections(tmp_path, state)] == ["unchanged", "unchanged"]
    later = fold(first_run())
    assert write_projections(tmp_path, later) == [
        ProjectionChange(path="id-history.json", change="updated", before=13, after=29),
        ProjectionChange(path="runs/run-1/batch-state.json", change="created", after=29),
        ProjectionChange(path="batch-state.json", change="removed", before=13),
    ]
    assert sorted(files_in(tmp_path)) == ["id-history.json", "runs/run-1/batch-state.json"]


def test_an_unreadable_projection_is_replaced_not_trusted(tmp_path: Path) -> None:
    (tmp_path / "batch-state.json").write_bytes(b'{"throughSeq": 1')
    state = fold(mid_run())
    changes = write_projections(tmp_path, state)
    assert (
        ProjectionChange(
            path="batch-state.json", change="replaced-unreadable", before=None, after=13
        )
        in changes
    )
    assert (tmp_path / "batch-state.json").read_bytes() == projection_files(state)[
        "batch-state.json"
    ]


def test_projection_status_judges_each_file_against_the_journal(tmp_path: Path) -> None:
    events: list[AnyEvent] = two_runs()
    write_projections(tmp_path, fold(events[:28]))  # run 1 before its finish
    (tmp_path / "id-history.json").write_text("not json")
    statuses = projection_status(tmp_path, fold(events))
    assert statuses == [
        ProjectionStatus(path="runs/run-1/batch-state.json", freshness="missing",
                         through_seq=None, expected=29),
        ProjectionStatus(path="id-history.json", freshness="unreadable", through_seq=None,
                         expected=48),
        ProjectionStatus(path="runs/run-2/batch-state.json", freshness="missing",
                         through_seq=None, expected=48),
        ProjectionStatus(path="batch-state.json", freshness="leftover", through_seq=28,
                         expected=None),
    ]  # fmt: skip


def test_a_projection_written_between_batches_is_behind_and_one_from_the_future_ahead(
    tmp_path: Path,
) -> None:
    events = mid_run()
    write_projections(tmp_path, fold(events[:8]))
    assert [(s.path, s.freshness) for s in projection_status(tmp_path, fold(events))] == [
        ("id-history.json", "behind"),
        ("batch-state.json", "behind"),
    ]
    write_projections(tmp_path, fold(events))
    assert [s.freshness for s in projection_status(tmp_path, fold(events[:8]))] == [
        "ahead",
        "ahead",
    ]

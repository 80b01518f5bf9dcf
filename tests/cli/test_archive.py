"""Tidying an archive: only what this journal proves is its own unfinished work goes.

``tidy`` runs under the journal's lock before every run and resume. It empties ``tmp/``,
removes the export folder of an ``ExportRequested`` that has no outcome (moved into place
just before a crash) and the temp files of an interrupted projection write; it never deletes
any other export folder, and refuses to go on while ``exports/`` holds one it does not know.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dmj.cli._archive import Archive, tidy, unknown_exports
from dmj.machine.errors import UsageError
from dmj.machine.events import ExportRequested
from dmj.machine.state import INITIAL, State
from dmj.projections import replay_journal

from tests.projections.story import mid_run, write_journal
from tests.storage_log import RecordingStorage, durability_problems


def exporting_alice(root: Path) -> tuple[State, int]:
    """An archive whose run 1 asked DCE to export alice's reopened DM (channel 7100) and
    crashed before the outcome: the state, and the seq of that ``ExportRequested``."""
    events = [
        *mid_run(),
        ExportRequested(run="run-1", batch=1, channel_id="7100", attempt=2, user_id="100"),
    ]
    write_journal(root, events)
    return replay_journal(root / "journal.jsonl"), len(events)


def put(root: Path, *relatives: str) -> None:
    for relative in relatives:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("{}")


def test_tidy_removes_tmp_and_this_journals_unfinished_export_and_keeps_recorded_ones(
    tmp_path: Path,
) -> None:
    state, seq = exporting_alice(tmp_path)
    recorded = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("exports/*/*"))
    put(tmp_path, "tmp/run-1-9/half.json", f"exports/7100/run-1-{seq}/alice.json")
    removed = tidy(Archive(tmp_path), state)
    assert removed == ["tmp", f"exports/7100/run-1-{seq}"]
    assert not (tmp_path / "tmp").exists()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("exports/*/*")) == (
        recorded
    )
    assert recorded, "the story records exports"


def test_tidy_removes_an_unfinished_export_an_earlier_dmj_named_by_its_seq(tmp_path: Path) -> None:
    state, seq = exporting_alice(tmp_path)
    put(tmp_path, f"exports/7100/{seq}/alice.json")
    assert tidy(Archive(tmp_path), state) == [f"exports/7100/{seq}"]


def test_tidy_refuses_export_folders_its_journal_does_not_know_and_removes_nothing(
    tmp_path: Path,
) -> None:
    state, seq = exporting_alice(tmp_path)
    put(
        tmp_path, "tmp/run-1-9/half.json", f"exports/7100/run-1-{seq}/alice.json",
        "exports/555/20240101-000000-ab12-6/old.json", "exports/555/12/older.json",
    )  # fmt: skip
    with pytest.raises(UsageError) as refused:
        tidy(Archive(tmp_path), state)
    assert str(refused.value) == (
        f"The archive {tmp_path} holds export folders that its journal does not record: "
        "exports/555/12, exports/555/20240101-000000-ab12-6, probably written under a journal "
        "that was moved aside or replaced. dmj never deletes them and will not file new "
        f"exports beside them. To go on, move those folders out of {tmp_path / 'exports'}, or "
        "put back the journal they belong to; then run the command again."
    )
    for left in ("tmp/run-1-9", f"exports/7100/run-1-{seq}", "exports/555/12"):
        assert (tmp_path / left).is_dir()


def test_a_new_journal_in_an_archive_with_exports_says_how_to_move_them_aside(
    tmp_path: Path,
) -> None:
    """The journal was moved aside: the new one knows no export, and removes none."""
    put(tmp_path, *(f"exports/{ch}/run-0-{ch}/x.json" for ch in range(1, 8)))
    with pytest.raises(UsageError) as refused:
        tidy(Archive(tmp_path), INITIAL)
    assert str(refused.value) == (
        f"The archive {tmp_path} holds export folders that its journal does not record: "
        "exports/1/run-0-1, exports/2/run-0-2, exports/3/run-0-3, exports/4/run-0-4, "
        "exports/5/run-0-5 and 2 more, probably written under a journal that was moved aside "
        "or replaced. dmj never deletes them and will not file new exports beside them. To go "
        f"on, move them out of the archive (e.g. `mv {tmp_path / 'exports'} "
        f"{tmp_path}/exports.old`), or put back the journal they belong to; then run the "
        "command again."
    )
    assert len(list(tmp_path.glob("exports/*/*/x.json"))) == 7


def test_stray_files_and_hidden_folders_in_exports_are_neither_removed_nor_refused(
    tmp_path: Path,
) -> None:
    put(
        tmp_path, "exports/.DS_Store", "exports/555/.DS_Store", "exports/555/.hidden/x",
        "exports/.Trash-1000/files/x",
    )  # fmt: skip
    assert unknown_exports(Archive(tmp_path), INITIAL) == []
    assert tidy(Archive(tmp_path), INITIAL) == []
    assert (tmp_path / "exports/555/.hidden/x").is_file()


def test_tidy_removes_only_the_temp_files_of_interrupted_projection_writes(
    tmp_path: Path,
) -> None:
    state, _ = exporting_alice(tmp_path)
    put(
        tmp_path, ".id-history.json.k3j_x9.tmp", ".batch-state.json.a1.tmp",
        "runs/run-0/.batch-state.json.zz.tmp", ".notes.txt.a1.tmp", "id-history.json.tmp",
    )  # fmt: skip
    assert tidy(Archive(tmp_path), state) == [
        ".batch-state.json.a1.tmp", ".id-history.json.k3j_x9.tmp",
        "runs/run-0/.batch-state.json.zz.tmp",
    ]  # fmt: skip
    assert (tmp_path / ".notes.txt.a1.tmp").exists()
    assert (tmp_path / "id-history.json.tmp").exists()


def test_every_removal_is_synced_in_its_folder(tmp_path: Path) -> None:
    state, seq = exporting_alice(tmp_path)
    put(tmp_path, "tmp/x/y.json", f"exports/7100/run-1-{seq}/a.json", ".id-history.json.q.tmp")
    recorder = RecordingStorage()
    tidy(Archive(tmp_path, storage=recorder), state)
    assert [op.name for op in recorder.ops] == ["remove_tree", "sync_dir"] * 2 + [
        "remove",
        "sync_dir",
    ]
    assert durability_problems(recorder.ops) == []

"""A whole ``dmj run`` (and a reader, a repair, an export) through the storage seam: every
durable step in the order that makes it durable (file synced → renamed or linked → folder
synced; created and removed entries synced in their folder), before the journal records what
depends on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from dmj.cli import _archive

from tests.cli.runs import invoke
from tests.e2e.support import Served
from tests.projections.history.archives import two_run_archive
from tests.projections.story import first_run, write_journal
from tests.storage_log import Op, RecordingStorage, durability_problems


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> RecordingStorage:
    """The storage every ``dmj`` command of the test writes through, recording."""
    recording = RecordingStorage()
    monkeypatch.setattr(_archive, "OsStorage", lambda: recording)
    return recording


def test_a_whole_run_makes_every_file_durable_before_the_journal_relies_on_it(
    served: Served, recorder: RecordingStorage
) -> None:
    result = invoke(served, *served.run_args("--media"))
    assert result.exit_code == 0, result.output
    archive = served.archive.path
    ops = recorder.ops
    assert durability_problems(ops, journal=archive / "journal.jsonl") == []
    renamed = {op.target: op for op in ops if op.name == "replace"}
    for folder in served.archive.export_folders():
        files = renamed[archive / folder].files
        assert files
        assert {f.name for f in files} == {p.name for p in (archive / folder).iterdir()}
    written = {op.target for op in ops if op.name == "replace" and op.path.name.endswith(".tmp")}
    assert {archive / "id-history.json", archive / "batch-state.json"} <= written
    media = {
        op.path for op in ops if op.name == "sync_file" and op.path.parent == archive / "media"
    }
    assert media
    assert media == set((archive / "media").iterdir())
    assert any(op.name == "sync_dir" and op.path == archive / "media" for op in ops)
    linked = [op for op in ops if op.name == "link" and op.target == archive / "index.sqlite"]
    assert len(linked) == 1, "the summary builds the message index through the run's seam"


def test_a_reader_builds_the_message_index_through_the_commands_seam(
    tmp_path: Path, recorder: RecordingStorage
) -> None:
    """``dmj show`` on an archive without an index: the private file created, synced, linked
    in place, its folder synced, all through the seam (SQLite's pages cannot be)."""
    archive = two_run_archive(tmp_path / "archive")
    result = invoke(None, "show", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    index = archive / "index.sqlite"
    built = [op for op in recorder.ops if op.path.name.startswith(".index.sqlite.")]
    assert [op.name for op in built] == ["create_new", "close", "sync_file", "link", "remove"]
    assert built[3].target == index
    assert durability_problems(recorder.ops) == []
    assert index.is_file()


def test_an_export_file_is_written_through_the_commands_seam_durably(
    tmp_path: Path, recorder: RecordingStorage
) -> None:
    """``dmj export --filename``: the user's file is a temp file written, synced and closed,
    then linked in place and its temp name removed (renamed over the old file with
    ``--force``), then its folder synced, all through the command's seam."""
    archive = two_run_archive(tmp_path / "archive")
    out = tmp_path / "out" / "messages.json"
    out.parent.mkdir()
    expected = {
        (): ["create_temp", "write", "sync", "close", "link", "remove", "sync_dir"],
        ("--force",): ["create_temp", "write", "sync", "close", "replace", "sync_dir"],
    }
    for force, steps in expected.items():
        recorder.ops.clear()
        args = ("export", "json", "--filename", str(out), *force, "--archive", str(archive))
        result = invoke(None, *args)
        assert result.exit_code == 0, result.output
        assert durability_problems(recorder.ops) == []
        done = [op for op in recorder.ops if out.parent in (op.path, op.path.parent)]
        names = [op.name for op in done]
        assert [n for i, n in enumerate(names) if names[i - 1 : i] != [n]] == steps
        assert {op.target for op in done if op.target is not None} == {out}
        assert list(out.parent.iterdir()) == [out]


def test_repair_moves_export_folders_aside_through_the_seam_durably(
    tmp_path: Path, recorder: RecordingStorage
) -> None:
    """``dmj repair --apply`` moves the export folders only the set-aside lines recorded to
    ``exports.damaged-<UTC>/``: files and folder synced, renamed, both parents synced."""
    archive = tmp_path / "archive"
    journal = write_journal(archive, first_run())
    for folder in ("exports/7100/run-1-2", "exports/5200/run-1-2"):
        (archive / folder / "dm.json").write_text(folder)
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[12] = lines[12].replace(b'"at":"2', b'"at":"3', 1)  # line 13: checksum mismatch
    journal.write_bytes(b"".join(lines))
    result = invoke(None, "repair", "--archive", str(archive), "--apply")
    assert result.exit_code == 0, result.output
    [aside] = archive.glob("exports.damaged-*")
    moves = {(op.path, op.target, len(op.files)) for op in recorder.ops if op.name == "replace"}
    assert {
        (archive / "exports" / channel / "run-1-2", aside / channel / "run-1-2", 1)
        for channel in ("7100", "5200")
    } <= moves, "each folder moved through the seam, with its file"
    assert durability_problems(recorder.ops, journal=journal) == []


def test_the_checker_finds_each_broken_recipe(tmp_path: Path) -> None:
    """The judge of the order itself: each way of breaking a recipe is named."""
    journal, target, temp = (
        tmp_path / "journal.jsonl",
        tmp_path / "a.json",
        tmp_path / ".a.json.x.tmp",
    )
    good = [
        Op("open_append", journal),
        Op("create_temp", temp), Op("write", temp), Op("sync", temp), Op("close", temp),
        Op("replace", temp, target=target), Op("sync_dir", tmp_path),
        Op("write", journal),
    ]  # fmt: skip
    assert durability_problems(good, journal) == []
    no_sync = [op for op in good if op.name != "sync"]
    assert "not synced after its last write" in durability_problems(no_sync, journal)[0]
    no_dir_sync = [op for op in good if op.name != "sync_dir"]
    assert "was not synced after it" in durability_problems(no_dir_sync, journal)[0]
    in_place = [Op("open_append", journal), Op("write", target)]
    assert "written in place" in durability_problems(in_place, journal)[0]
    source, moved = tmp_path / "a" / "x", tmp_path / "b" / "x"
    folder_move = [
        Op("sync_file", source / "f"), Op("sync_dir", source),
        Op("replace", source, target=moved, files=(source / "f",)),
        Op("sync_dir", moved.parent), Op("sync_dir", source.parent),
    ]  # fmt: skip
    assert durability_problems(folder_move) == []
    unsynced_source = folder_move[:-1]
    assert f"its folder {source.parent} was not synced" in durability_problems(unsynced_source)[0]
    unsynced_files = folder_move[1:]
    assert "files not synced before the rename" in durability_problems(unsynced_files)[0]


def test_the_checker_finds_a_link_of_an_unsynced_file_or_into_an_unsynced_folder(
    tmp_path: Path,
) -> None:
    """A file written outside the seam (SQLite's) is synced after it was created, before it
    is linked in place; the folder is synced after the link."""
    build, index = tmp_path / ".index.sqlite.1.build", tmp_path / "index.sqlite"
    good = [
        Op("create_new", build), Op("close", build), Op("sync_file", build),
        Op("link", build, target=index), Op("remove", build), Op("sync_dir", tmp_path),
    ]  # fmt: skip
    assert durability_problems(good) == []
    unsynced = [op for op in good if op.name != "sync_file"]
    assert durability_problems(unsynced) == [
        f"op 3: link {build} -> {index}: the file was not synced before it was linked"
    ]
    synced_first = [Op("sync_file", build), *unsynced]
    assert "not synced before it was linked" in durability_problems(synced_first)[0]
    no_folder_sync = good[:-1]
    assert [p.split(":")[1] for p in durability_problems(no_folder_sync)] == [
        f" link {build} -> {index}",
        f" remove {build}",
    ]


def test_the_checker_finds_a_temp_file_linked_before_it_was_synced(tmp_path: Path) -> None:
    """A temp file written through the seam (``dmj export``'s without ``--force``) is synced
    after its last write, before it is linked in place."""
    temp, export = tmp_path / ".out.json.x.tmp", tmp_path / "out.json"
    ops = [Op("create_temp", temp), Op("write", temp), Op("close", temp)]
    ops += [Op("link", temp, target=export), Op("remove", temp), Op("sync_dir", tmp_path)]
    assert durability_problems(ops) == [
        f"op 4: link {temp} -> {export}: the file was not synced after its last write"
    ]
    ops.insert(2, Op("sync", temp))
    assert durability_problems(ops) == []

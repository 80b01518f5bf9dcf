"""write_atomic: a file is replaced whole or not at all, durably, private to its owner."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from dmj.journal import FailingStorage, OsStorage
from dmj.machine.errors import FileWriteFailed
from dmj.projections import make_dirs, remove_durably, write_atomic


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_write_atomic_creates_the_file_with_owner_only_permissions(tmp_path: Path) -> None:
    target = tmp_path / "batch-state.json"
    write_atomic(target, b'{"a": 1}\n')
    assert target.read_bytes() == b'{"a": 1}\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_write_atomic_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "id-history.json"
    target.write_bytes(b"old contents that are longer than the new ones\n")
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"


def test_a_failure_while_writing_keeps_the_old_file_and_removes_the_temp_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "batch-state.json"
    target.write_bytes(b"old\n")
    failing = FailingStorage(OsStorage(), at_op=3, action="eio")  # create, write, sync
    with pytest.raises(FileWriteFailed) as caught:
        write_atomic(target, b"new\n", storage=failing)
    assert str(caught.value) == (
        f"{target} could not be written (injected failure of sync (failpoint)); it was left "
        "as it was. Check the free space and the permissions of its directory, then try again."
    )
    assert target.read_bytes() == b"old\n"
    assert leftovers(tmp_path) == []


def test_writing_into_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileWriteFailed, match="could not be written"):
        write_atomic(tmp_path / "nowhere" / "x.json", b"{}")


def test_make_dirs_creates_private_directories_and_parents(tmp_path: Path) -> None:
    make_dirs(tmp_path / "runs" / "run-1")
    for directory in (tmp_path / "runs", tmp_path / "runs" / "run-1"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    make_dirs(tmp_path / "runs" / "run-1")  # already there: nothing to do


def test_remove_durably_says_whether_the_file_was_there(tmp_path: Path) -> None:
    target = tmp_path / "batch-state.json"
    target.write_bytes(b"{}")
    assert remove_durably(target) is True
    assert not target.exists()
    assert remove_durably(target) is False


def test_a_failed_folder_sync_after_the_rename_says_the_file_was_replaced(tmp_path: Path) -> None:
    target = tmp_path / "id-history.json"
    target.write_bytes(b"old\n")
    failing = FailingStorage(OsStorage(), at_op=6, action="eio")  # ... close, replace, sync_dir
    with pytest.raises(FileWriteFailed) as caught:
        write_atomic(target, b"new\n", storage=failing)
    assert str(caught.value) == (
        f"{target} was replaced, but its folder could not be synced (injected failure of "
        "sync_dir (failpoint)), so the new version may not survive a power cut. Check the "
        "disk, then try again."
    )
    assert target.read_bytes() == b"new\n"
    assert leftovers(tmp_path) == []

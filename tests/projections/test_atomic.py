"""write_atomic, write_chunks_atomic: a file is written whole or not at all, durably, private
to its owner."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dmj.journal import FailingStorage, OsStorage
from dmj.machine.errors import FileWriteFailed
from dmj.projections import (
    make_dirs,
    remove_durably,
    remove_projection_temps,
    write_atomic,
    write_chunks_atomic,
)

from tests.storage_log import RecordingStorage, durability_problems


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


def test_write_chunks_atomic_links_a_new_file_but_never_replaces_one_made_meanwhile(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out.json"

    def chunks() -> Iterator[bytes]:
        yield b"new "
        target.write_bytes(b"theirs\n")  # another program creates the file meanwhile
        yield b"file\n"

    with pytest.raises(FileExistsError):
        write_chunks_atomic(target, chunks(), overwrite=False)
    assert target.read_bytes() == b"theirs\n"
    assert leftovers(tmp_path) == []
    write_chunks_atomic(target, [b"new ", b"file\n"], overwrite=True)
    assert target.read_bytes() == b"new file\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_write_chunks_atomic_removes_its_temp_file_whatever_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    failing = FailingStorage(OsStorage(), at_op=4, action="eio")  # create, write, write, sync
    with pytest.raises(OSError, match="injected failure of sync"):
        write_chunks_atomic(target, [b"a", b"b"], overwrite=False, storage=failing)

    def broken() -> Iterator[bytes]:
        yield b"a"
        raise RuntimeError("the selection failed")

    with pytest.raises(RuntimeError, match="the selection failed"):
        write_chunks_atomic(target, broken(), overwrite=False)
    assert not target.exists()
    assert leftovers(tmp_path) == []


CHILD = """
import sys
from pathlib import Path
from dmj.journal import Failpoints, OsStorage
from dmj.projections import write_atomic
target, spec = Path(sys.argv[1]), sys.argv[2]
storage = Failpoints.parse(spec).storage(OsStorage())
write_atomic(target, b'{"new": "' + b"n" * 100_000 + b'"}\\n', storage=storage)
"""
NEW = b'{"new": "' + b"n" * 100_000 + b'"}\n'
WRITE_ATOMIC_OPS = 6
"""create_temp, write, sync, close, replace, sync_dir."""


@pytest.mark.parametrize(
    "spec",
    [f"crash-at-op={n}" for n in range(1, WRITE_ATOMIC_OPS + 1)] + ["tear-at-op=2"],
)
def test_a_kill_during_a_projection_write_leaves_the_old_file_or_the_new_never_a_mix(
    tmp_path: Path, spec: str
) -> None:
    """A real process SIGKILLed at each step of ``write_atomic`` (and halfway through its
    write): the file is whole, old or new; the temp file it may leave is tidied later."""
    target = tmp_path / "id-history.json"
    old = b'{"old": true}\n'
    target.write_bytes(old)
    killed = subprocess.run([sys.executable, "-c", CHILD, str(target), spec], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert target.read_bytes() == (NEW if spec == "crash-at-op=6" else old)
    remove_projection_temps(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["id-history.json"]


def test_the_child_writes_the_new_file_when_nothing_fails(tmp_path: Path) -> None:
    target = tmp_path / "id-history.json"
    done = subprocess.run([sys.executable, "-c", CHILD, str(target), ""], check=False)
    assert (done.returncode, target.read_bytes()) == (0, NEW)


def test_write_atomic_syncs_the_temp_file_then_renames_it_then_syncs_the_folder(
    tmp_path: Path,
) -> None:
    recorder = RecordingStorage()
    write_atomic(tmp_path / "batch-state.json", b"{}", storage=recorder)
    assert [op.name for op in recorder.ops] == [
        "create_temp", "write", "sync", "close", "replace", "sync_dir",
    ]  # fmt: skip
    assert recorder.ops[4].target == tmp_path / "batch-state.json"
    assert durability_problems(recorder.ops) == []


def test_make_dirs_and_removals_sync_the_parent_folder(tmp_path: Path) -> None:
    recorder = RecordingStorage()
    make_dirs(tmp_path / "runs" / "run-1", storage=recorder)
    (tmp_path / "runs" / "run-1" / "x").write_bytes(b"")
    remove_durably(tmp_path / "runs" / "run-1" / "x", storage=recorder)
    assert [(op.name, op.path.relative_to(tmp_path).as_posix()) for op in recorder.ops] == [
        ("make_dir", "runs"), ("sync_dir", "."), ("make_dir", "runs/run-1"), ("sync_dir", "runs"),
        ("remove", "runs/run-1/x"), ("sync_dir", "runs/run-1"),
    ]  # fmt: skip
    assert durability_problems(recorder.ops) == []


def test_a_failure_after_the_new_file_is_linked_in_place_says_it_is_there(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    # create, write, sync, close, link, remove the temp name, sync_dir
    failing = FailingStorage(OsStorage(), at_op=7, action="eio")
    with pytest.raises(FileWriteFailed) as caught:
        write_chunks_atomic(target, [b"new\n"], overwrite=False, storage=failing)
    assert str(caught.value) == (
        f"{target} was written, but its folder could not be synced (injected failure of "
        "sync_dir (failpoint)), so it may not survive a power cut. Check the disk, then try "
        "again."
    )
    assert target.read_bytes() == b"new\n"
    assert leftovers(tmp_path) == []


def test_a_temp_name_that_cannot_be_removed_after_the_link_is_named(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    failing = FailingStorage(OsStorage(), at_op=6, action="eio")  # the temp name's removal
    with pytest.raises(FileWriteFailed) as caught:
        write_chunks_atomic(target, [b"new\n"], overwrite=False, storage=failing)
    (temp,) = leftovers(tmp_path)
    assert str(caught.value) == (
        f"{target} was written, but its temporary name {temp} could not be removed (injected "
        f"failure of remove (failpoint)); delete {tmp_path / temp} (the same file)."
    )
    assert target.read_bytes() == b"new\n"

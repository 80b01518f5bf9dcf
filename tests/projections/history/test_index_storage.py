"""index.sqlite's file-level steps go through the command's ``Storage``, in the order that
makes them durable: the private file created, filled by SQLite (its page I/O cannot go through
the seam), synced, the index it replaces removed, linked in place, the folder synced."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dmj.adapters import open_package
from dmj.projections.history import INDEX, rebuild_index, refresh_index

from tests.projections.history.archives import two_run_archive
from tests.storage_log import RecordingStorage, durability_problems


def steps(recorder: RecordingStorage, root: Path) -> list[tuple[str, str]]:
    """The operations as (name, path in the archive), a link or rename as ``a -> b``."""
    return [
        (op.name, op.path.relative_to(root).as_posix()
         + (f" -> {op.target.relative_to(root).as_posix()}" if op.target else ""))
        for op in recorder.ops
    ]  # fmt: skip


def test_a_rebuild_syncs_the_private_file_then_links_it_in_place_then_syncs_the_folder(
    tmp_path: Path,
) -> None:
    archive = two_run_archive(tmp_path / "archive")
    refresh_index(archive, notice=lambda _: None, packages=open_package)  # one to replace
    recorder = RecordingStorage()
    rebuild_index(archive, notice=lambda _: None, packages=open_package, storage=recorder)
    build = f".{INDEX}.{os.getpid()}.build"
    assert steps(recorder, archive) == [
        ("create_new", build), ("close", build), ("sync_file", build),
        ("remove", f"{INDEX}-wal"), ("remove", f"{INDEX}-shm"), ("remove", INDEX),
        ("link", f"{build} -> {INDEX}"), ("remove", build), ("sync_dir", "."),
    ]  # fmt: skip
    assert durability_problems(recorder.ops) == []
    assert sorted(p.name for p in archive.glob(f"*{INDEX}*")) == [INDEX]


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           check=True, capture_output=True, text=True)  # fmt: skip
    return int(child.stdout)


def test_a_dead_builds_private_file_is_removed_through_the_seam_and_its_folder_synced(
    tmp_path: Path,
) -> None:
    archive = two_run_archive(tmp_path / "archive")
    leftover = archive / f".{INDEX}.{dead_pid()}.build"
    leftover.write_bytes(b"half an index")
    recorder = RecordingStorage()
    refresh_index(archive, notice=lambda _: None, packages=open_package, storage=recorder)
    assert steps(recorder, archive)[:2] == [("remove", leftover.name), ("sync_dir", ".")]
    assert durability_problems(recorder.ops) == []
    assert not leftover.exists()


class FailingLink(RecordingStorage):
    """Records, and fails the link into place as a full or broken disk would."""

    def link(self, source: Path, target: Path) -> None:
        self._log("link", source, target=target)
        raise OSError(errno.EIO, "Input/output error")


def test_a_build_that_cannot_be_linked_in_place_removes_its_private_file_through_the_seam(
    tmp_path: Path,
) -> None:
    archive = two_run_archive(tmp_path / "archive")
    recorder = FailingLink()
    with pytest.raises(OSError, match="Input/output error"):
        refresh_index(archive, notice=lambda _: None, packages=open_package, storage=recorder)
    build = f".{INDEX}.{os.getpid()}.build"
    assert steps(recorder, archive)[-3:] == [
        ("link", f"{build} -> {INDEX}"), ("remove", build), ("sync_dir", "."),
    ]  # fmt: skip
    assert list(archive.glob(f".{INDEX}*")) == []
    assert not (archive / INDEX).exists()

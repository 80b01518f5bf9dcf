"""Recording every operation through dmj's ``Storage`` seam, and judging their order.

``RecordingStorage`` does the real thing and logs each operation with the path it touched.
``durability_problems`` checks the log against the recipes of durability.md: a file is
synced before it is renamed or linked into place (one written outside the seam, by DCE or
SQLite: ``sync_file`` after it was created), a renamed folder's files and the folder itself
before the rename; every rename (a move between folders: both), link, created folder and
removal is followed by a sync of the parent folder before the journal records anything
more; nothing is written in place.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from dmj.journal import OsStorage

__all__ = ["Op", "RecordingStorage", "durability_problems"]


@dataclass(frozen=True)
class Op:
    """One operation: its ``name`` (the ``Storage`` method), the ``path`` it touched (for a
    descriptor: the file it was opened on), the ``target`` of a rename, and for a folder
    renamed: the files in it at that moment."""

    name: str
    path: Path
    target: Path | None = None
    files: tuple[Path, ...] = ()

    def __str__(self) -> str:
        target = f" -> {self.target}" if self.target is not None else ""
        return f"{self.name} {self.path}{target}"


class RecordingStorage(OsStorage):
    """Real files, and ``ops``: every operation in order."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self._open: dict[int, Path] = {}

    def _log(self, name: str, path: Path, **more: object) -> None:
        self.ops.append(Op(name, path, **more))  # type: ignore[arg-type]

    def open_append(self, path: Path) -> tuple[int, bool]:
        fd, created = super().open_append(path)
        self._open[fd] = path
        self._log("open_append", path)
        return fd, created

    def create_new(self, path: Path) -> int:
        fd = super().create_new(path)
        self._open[fd] = path
        self._log("create_new", path)
        return fd

    def create_temp(self, target: Path) -> tuple[int, Path]:
        fd, temp = super().create_temp(target)
        self._open[fd] = temp
        self._log("create_temp", temp)
        return fd, temp

    def _file(self, fd: int) -> Path:
        """The file ``fd`` was opened on through the seam (or a stand-in name if it was not)."""
        return self._open.get(fd, Path(f"<descriptor {fd} opened outside the seam>"))

    def write(self, fd: int, data: bytes) -> int:
        self._log("write", self._file(fd))
        return super().write(fd, data)

    def sync(self, fd: int) -> None:
        self._log("sync", self._file(fd))
        super().sync(fd)

    def truncate(self, fd: int, length: int) -> None:
        self._log("truncate", self._file(fd))
        super().truncate(fd, length)

    def close(self, fd: int) -> None:
        self._log("close", self._file(fd))
        self._open.pop(fd, None)
        super().close(fd)

    def sync_dir(self, path: Path) -> None:
        self._log("sync_dir", path)
        super().sync_dir(path)

    def sync_file(self, path: Path) -> None:
        self._log("sync_file", path)
        super().sync_file(path)

    def make_dir(self, path: Path) -> None:
        self._log("make_dir", path)
        super().make_dir(path)

    def replace(self, source: Path, target: Path) -> None:
        files = (
            tuple(sorted(p for p in source.rglob("*") if p.is_file())) if source.is_dir() else ()
        )
        self._log("replace", source, target=target, files=files)
        super().replace(source, target)

    def link(self, source: Path, target: Path) -> None:
        self._log("link", source, target=target)
        super().link(source, target)

    def remove(self, path: Path) -> None:
        self._log("remove", path)
        super().remove(path)

    def remove_tree(self, path: Path) -> None:
        self._log("remove_tree", path)
        super().remove_tree(path)


def durability_problems(ops: list[Op], journal: Path | None = None) -> list[str]:
    """Every way ``ops`` breaks the recipes; empty when all is well.

    ``journal``: writes to it are the points by which what came before must be durable
    (the end of the log counts as one too).
    """
    problems = []
    temps = {op.path for op in ops if op.name == "create_temp"}
    appended = {op.path for op in ops if op.name in ("open_append", "create_new")}
    for index, op in enumerate(ops):
        if op.name == "write" and op.path not in temps | appended:
            problems.append(f"op {index + 1}: {op}: written in place, not through a temp file")
        if op.name == "replace":
            problems += _synced_before(ops, index, op, temps)
            problems += _parent_synced_after(ops, index, op.target or op.path, journal)
            if op.target is not None and op.target.parent != op.path.parent:
                problems += _parent_synced_after(ops, index, op.path, journal)
        if op.name == "link":
            if op.path in temps:
                problems += _synced_before(ops, index, op, temps)
            else:
                problems += _created_then_synced_before(ops, index, op)
            problems += _parent_synced_after(ops, index, op.target or op.path, journal)
        if op.name in ("make_dir", "remove", "remove_tree"):
            problems += _parent_synced_after(ops, index, op.path, journal)
    return problems


def _synced_before(ops: list[Op], index: int, op: Op, temps: set[Path]) -> list[str]:
    """The renamed file (or the folder's files, then the folder) was synced before."""
    before = ops[:index]
    if op.path in temps:
        if not _done_since(before, "sync", op.path, last="write", of=(op.path,)):
            return [f"op {index + 1}: {op}: the file was not synced after its last write"]
        return []
    synced = {o.path for o in before if o.name == "sync_file"}
    unsynced = [str(f) for f in op.files if f not in synced]
    if unsynced:
        return [f"op {index + 1}: {op}: files not synced before the rename: {unsynced}"]
    if not _done_since(before, "sync_dir", op.path, last="sync_file", of=op.files):
        return [f"op {index + 1}: {op}: the folder was not synced after its files"]
    return []


def _created_then_synced_before(ops: list[Op], index: int, op: Op) -> list[str]:
    """The linked file (written outside the seam) was synced after it was last created."""
    if not _done_since(ops[:index], "sync_file", op.path, last="create_new", of=(op.path,)):
        return [f"op {index + 1}: {op}: the file was not synced before it was linked"]
    return []


def _done_since(ops: list[Op], name: str, path: Path, *, last: str, of: Collection[Path]) -> bool:
    """Whether ``ops`` do ``name`` to ``path`` after their last ``last`` to one of ``of``
    (anywhere, if there is none)."""
    start = max((i for i, o in enumerate(ops) if o.name == last and o.path in of), default=-1)
    return any(o.name == name and o.path == path for o in ops[start + 1 :])


def _parent_synced_after(ops: list[Op], index: int, path: Path, journal: Path | None) -> list[str]:
    """A sync of ``path``'s parent follows ``ops[index]`` before the journal's next write."""
    for later in ops[index + 1 :]:
        if later.name == "sync_dir" and later.path == path.parent:
            return []
        if later.name == "write" and later.path == journal:
            break
    return [f"op {index + 1}: {ops[index]}: its folder {path.parent} was not synced after it"]

"""The architecture of docs/architecture.md, checked on the source with ``ast``.

Two rules: the ladder (which ``dmj.*`` package may import which) and purity (the pure modules
of ``machine/`` and the projection builders touch no files, network, subprocess or clock).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import CODE_FOLDERS, REPO_ROOT

ALLOWED_DMJ_IMPORTS: dict[str, frozenset[str]] = {
    "machine": frozenset(),
    "journal": frozenset({"machine"}),
    "projections": frozenset({"machine", "journal"}),
    "adapters": frozenset({"machine"}),
    "sandbox": frozenset({"machine", "journal", "projections", "adapters"}),
    "view": frozenset({"machine", "projections"}),
    "cli": frozenset({"machine", "journal", "projections", "adapters", "sandbox", "view"}),
}
"""The ladder: machine at the ground, cli on top, sandbox beside (design.md §3); view (the
archive browser) reads through projections and never imports the journal, whose writer lock
it must never take. projections never import adapters: what the history reads from a data
package comes through the ``PackageOpener`` port of ``machine/package.py``, which ``cli/``
fills with ``dmj.adapters.open_package``."""

IO_MODULES: dict[str, str] = {
    "machine/driver.py": "the async driver: runs decide's steps through the injected ports "
    "(anyio for waiting between attempts and for Ctrl-C); it opens no file itself",
    "projections/_atomic.py": "write_atomic, write_chunks_atomic: the atomic, durable file "
    "writes (temp, fsync, rename or link, directory fsync), through a Storage",
    "projections/_exports.py": "reads the export folders the journal records, to measure and "
    "digest their files and compare them with the record",
    "projections/_files.py": "reads the projection files an archive holds and writes them "
    "through write_atomic",
    "projections/_replay.py": "the journal's edge for projections: reads journal.jsonl, takes "
    "its lock to rebuild",
    "projections/history/_journal.py": "the history index's edge to the journal: reads "
    "journal.jsonl without its lock",
    "projections/history/_index.py": "builds and refreshes index.sqlite (sqlite3) from the "
    "journal and the DCE files it records",
    "projections/history/_frames.py": "reads the DCE files an export recorded in the journal "
    "holds, into the frames the index adds",
    "projections/history/_ingest.py": "writes the exports' rows and the conversations into "
    "index.sqlite (sqlite3)",
    "projections/history/_worker.py": "reads a large ingest's frames in a second process "
    "(subprocess) and passes them through a pipe",
    "projections/history/_reader.py": "reads index.sqlite (sqlite3): one snapshot per reader",
    "projections/history/_completeness.py": "looks the data package's message ids up in "
    "index.sqlite (dmj status); the package is read through the PackageOpener passed in",
    "projections/history/_own.py": "writes the owner's messages from the data package into "
    "index.sqlite (sqlite3), noting the package's stat; it reads it through the PackageOpener",
    "projections/history/_export.py": "streams an export into the user's file (temp, fsync, "
    "link or rename) or a stream",
    "projections/_repair.py": "dmj repair: reads journal.jsonl, sets its damaged end aside and "
    "rebuilds the projections",
}
"""Modules of machine/ and projections/ that may do I/O, each with the reason it must.

Everything else in those two folders is pure. Add an entry only for a module whose job is
I/O (the async driver, the atomic file writer), never to silence a finding.
"""

FORBIDDEN_MODULES = frozenset(
    {
        "os", "io", "pathlib", "shutil", "tempfile", "glob", "fcntl", "mmap", "zipfile",
        "socket", "ssl", "select", "selectors", "http", "urllib", "httpx", "uvicorn",
        "starlette", "subprocess", "signal", "multiprocessing", "threading", "asyncio",
        "anyio", "trio", "time", "random", "secrets", "uuid", "logging", "sys", "sqlite3",
    }
)  # fmt: skip
"""Top-level modules whose use means I/O, a clock or randomness."""

FORBIDDEN_CALLS = frozenset({"open", "print", "input", "now", "utcnow", "today"})
"""Calls that read the world: builtins ``open``/``print``/``input``, ``datetime.now()`` & co."""


@dataclass(frozen=True)
class Import:
    module: str
    line: int


def source_files(folder: str) -> list[Path]:
    return sorted((REPO_ROOT / folder).rglob("*.py"))


def imports_of(path: Path, folder: str) -> Iterator[Import]:
    """Every module ``path`` imports, relative imports resolved to ``dmj.<folder>...``."""
    package = ["dmj", folder, *path.relative_to(REPO_ROOT / folder).parent.parts]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                yield Import(".".join([*base, node.module or ""]).rstrip("."), node.lineno)
            else:
                yield Import(node.module or "", node.lineno)


def forbidden_calls_in(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Attribute):
                name = func.attr if func.attr in {"now", "utcnow", "today"} else None
            if name in FORBIDDEN_CALLS:
                yield name, node.lineno


def relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


@pytest.mark.parametrize("folder", CODE_FOLDERS)
def test_each_package_imports_only_the_packages_below_it(folder: str) -> None:
    violations = [
        f"{relative(path)}:{imp.line} imports {imp.module}"
        for path in source_files(folder)
        for imp in imports_of(path, folder)
        if imp.module.startswith("dmj.")
        and imp.module.split(".")[1] != folder
        and imp.module.split(".")[1] not in ALLOWED_DMJ_IMPORTS[folder]
    ]
    assert violations == [], f"{folder}/ may import only {sorted(ALLOWED_DMJ_IMPORTS[folder])}"


def pure_modules() -> list[Path]:
    return [
        path
        for folder in ("machine", "projections")
        for path in source_files(folder)
        if relative(path) not in IO_MODULES
    ]


@pytest.mark.parametrize("path", pure_modules(), ids=relative)
def test_pure_modules_do_no_io(path: Path) -> None:
    folder = relative(path).split("/")[0]
    bad_imports = [
        f"line {imp.line}: import {imp.module}"
        for imp in imports_of(path, folder)
        if imp.module.split(".")[0] in FORBIDDEN_MODULES
    ]
    bad_calls = [f"line {line}: call {name}()" for name, line in forbidden_calls_in(path)]
    assert bad_imports + bad_calls == [], (
        f"{relative(path)} is a pure module: move the I/O into a port or an edge module"
    )


def test_io_allowlist_names_existing_modules() -> None:
    missing = [name for name in IO_MODULES if not (REPO_ROOT / name).is_file()]
    assert missing == []


def write_module(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    return path


def test_the_purity_check_catches_io_imports_and_clock_calls(tmp_path: Path) -> None:
    """The check itself must be able to fail, or it proves nothing."""
    probe = write_module(
        tmp_path,
        "import os\nfrom pathlib import Path\nfrom datetime import datetime\n"
        "x = datetime.now()\nopen('f')\n",
    )
    tree = ast.parse(probe.read_text())
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {"os", "pathlib"} <= {str(m).split(".")[0] for m in imported} & FORBIDDEN_MODULES
    assert sorted(name for name, _ in forbidden_calls_in(probe)) == ["now", "open"]

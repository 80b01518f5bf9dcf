"""The archive outside the journal, with real processes: no run ever deletes an export it
cannot prove is its own unfinished work."""

from __future__ import annotations

from pathlib import Path

from dmj.sandbox import LAYOUTS, Sandbox, write_package

from tests.e2e.support import serving


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_journal_moved_aside_then_a_new_run_in_the_same_archive_loses_no_export(
    small_world: Sandbox, tmp_path: Path
) -> None:
    """As the issue found it: the journal is moved aside (as a damaged journal's message
    advises) and a new run starts in the same archive with a package that no longer has one
    of the DMs, whose only copy is in ``exports/``."""
    with serving(small_world, tmp_path / "archive") as served:
        first = served.run()
        assert first.returncode == 0, first.stderr
        archive = served.archive.path
        exports = files_under(archive / "exports")
        (archive / "journal.jsonl").rename(archive / "journal.damaged")
        dropped = next(c for c in small_world.world.channels if c.in_package and c.fate != "open")
        smaller = write_package(
            small_world.world, tmp_path / "smaller", LAYOUTS["2025"], as_zip=False,
            exclude=[dropped.id],
        )  # fmt: skip
        run = served.run_args(package=smaller)
        refused = served.dmj(*run)
        assert refused.returncode == 2, refused.stderr
        assert "export folders that its journal does not record" in refused.stderr
        assert files_under(archive / "exports") == exports
        assert not (archive / "journal.jsonl").exists()
        (archive / "exports").rename(archive / "exports.before")
        again = served.dmj(*run)
        assert again.returncode == 0, again.stderr
        assert files_under(archive / "exports.before") == exports
        assert any(dropped.id in name for name in exports), "the dropped DM's only copy"

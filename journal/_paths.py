"""The files around a journal: its lock, its set-aside tails and damage, and its directory."""

from __future__ import annotations

from pathlib import Path

from dmj.machine.errors import JournalNotFound

__all__ = ["damaged_path", "lock_path", "require_directory", "require_journal", "torn_path"]


def lock_path(journal: Path) -> Path:
    """``journal.lock`` next to ``journal.jsonl``."""
    return journal.with_suffix(".lock")


def torn_path(journal: Path, stamp: str, attempt: int = 1) -> Path:
    """``journal.torn-<stamp>`` next to ``journal.jsonl`` (``-2``, ``-3``... if taken)."""
    suffix = f".torn-{stamp}" if attempt == 1 else f".torn-{stamp}-{attempt}"
    return journal.with_suffix(suffix)


def damaged_path(journal: Path, stamp: str, attempt: int = 1) -> Path:
    """``journal.damaged-<stamp>`` next to ``journal.jsonl``: what ``dmj repair`` set aside."""
    suffix = f".damaged-{stamp}" if attempt == 1 else f".damaged-{stamp}-{attempt}"
    return journal.with_suffix(suffix)


def require_directory(journal: Path) -> None:
    """Refuse to write a journal whose archive directory does not exist.

    The writer creates the journal file but never its directory: a mistyped ``--archive``
    must not quietly start a second archive somewhere else. ``dmj run`` creates the
    archive directory (mode 0700) before it opens the journal.
    """
    if not journal.parent.is_dir():
        raise JournalNotFound(
            f"the archive directory {journal.parent} does not exist, so {journal.name} cannot "
            "be written there; check the --archive path, or start a new archive with `dmj run`."
        )


def require_journal(journal: Path) -> None:
    """Refuse to read a journal that does not exist, naming what is missing."""
    if not journal.is_file():
        where = "does not exist" if not journal.exists() else "is not a file"
        raise JournalNotFound(
            f"{journal} {where}, so there is no archive to read there; check the --archive "
            "path, or start a new archive with `dmj run`."
        )

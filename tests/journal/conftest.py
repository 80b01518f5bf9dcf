"""Fixtures of the journal tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """Where a test's journal lives: ``journal.jsonl`` in an archive directory of its own."""
    return tmp_path / "journal.jsonl"

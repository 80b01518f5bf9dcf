"""Helpers shared by tests (importable as ``tests.support``)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout's root directory (where pyproject.toml lives)."""

CODE_FOLDERS = ("machine", "journal", "projections", "adapters", "sandbox", "view", "cli")
"""The folders installed as ``dmj.<folder>``."""

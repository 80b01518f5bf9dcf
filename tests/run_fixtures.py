"""Fixtures for tests that run ``dmj run``/``dmj resume`` (registered in tests/conftest.py).

- ``small_world``: a sandbox world of three users (open, readable, reopen-only) and a
  group DM: every path of a run in a few DCE exports (module-scoped: built once per module).
- ``served``: that world served by a fresh emulator over loopback, with an archive path
  (``tests.e2e.support.Served``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dmj.sandbox import Sandbox, WorldSpec, create_sandbox

from tests.e2e.support import Served, serving

__all__ = ["SMALL_WORLD", "served", "small_world"]

SMALL_WORLD = WorldSpec(users=3, groups=1, duplicates=0, empty=0, messages=3, seed=2)


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return create_sandbox(tmp_path_factory.mktemp("small") / "sbx", SMALL_WORLD)


@pytest.fixture
def served(small_world: Sandbox, tmp_path: Path) -> Iterator[Served]:
    with serving(small_world, tmp_path / "archive") as served:
        yield served

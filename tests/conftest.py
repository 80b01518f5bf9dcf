"""Fixtures every test gets: an isolated working directory and a predictable terminal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from trio.testing import MockClock

pytest_plugins = ["tests.sandbox_fixtures", "tests.run_fixtures", "tests.browser_fixtures"]

# Property tests are deterministic (the same examples every run, like every other test) and
# judged on what they find, not on how fast a loaded 2-core CI machine produces examples.
settings.register_profile(
    "dmj", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("dmj")

# Environment that would leak the developer's machine into a test: their token, their
# archive, their API base, debug switches, colour and terminal width.
_SCRUBBED = ("DISCORD_TOKEN", "DMJ_ARCHIVE", "DMJ_API_BASE", "DMJ_DEBUG", "FORCE_COLOR")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run each test in its own ``tmp_path`` with no colour, 100 columns and UTC."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("TZ", "UTC")
    for name in _SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> str | tuple[str, dict[str, object]]:
    """anyio tests run on trio; marked ``virtual_time``, on trio's ``MockClock``, which jumps
    ahead whenever every task waits on the clock, so the minutes they wait take no time."""
    if request.node.get_closest_marker("virtual_time") is not None:
        return "trio", {"clock": MockClock(autojump_threshold=0)}
    return "trio"

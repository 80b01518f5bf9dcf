"""``dmj run`` end to end: a ~60-DM world with every fate, then an incremental re-run.

Real processes: the ``dmj`` console script, the DCE stand-in, the emulator over loopback.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from dmj.machine.events import ChannelExported, ExportRequested, RunStarted
from dmj.sandbox import LAYOUTS, Sandbox, WorldSpec, create_sandbox, world_facts, write_package

from tests.e2e.support import Served, serving
from tests.promises import broken_promises, exported_channels

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_world(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    """56 users (every fate, several times), 5 group DMs, duplicates: about 60 DMs planned."""
    root = tmp_path_factory.mktemp("world")
    return create_sandbox(root / "sbx", WorldSpec.sized(56, seed=11, messages=4))


def deletes(served: Served) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in served.server.requests() if r.method == "DELETE"]


def test_a_run_exports_every_reachable_dm_once_and_leaves_discord_as_it_found_it(
    big_world: Sandbox, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    with serving(big_world, archive) as served:
        open_before = served.open_now()
        done = served.run(batch_size=20)
        facts = served.facts
        assert done.returncode == 0, done.stderr
        events = served.archive.events()
        started = events[0]
        assert isinstance(started, RunStarted)
        assert len(started.plan) >= 55
        assert broken_promises(events, facts) == []
        assert set(exported_channels(events).values()) == {1}, "each DM exported once"
        assert served.archive.exported() == facts.expected_messages
        assert served.open_now() == open_before, "the open-DM list is as dmj found it"
        closed = deletes(served)
        assert set(closed) <= set(facts.needs_reopen) | set(facts.reopens_elsewhere.values())
        assert not set(closed) & (set(facts.group_dms) | set(facts.open_at_start))
        assert set(facts.reopens_elsewhere.values()) <= set(served.archive.exported())
    summary = done.stdout
    assert f"Run {started.run} finished: {len(started.plan)} DMs planned" in summary
    for line in ("skipped ", "unreachable ", "the account is deleted or cannot be reached"):
        assert line in summary
    assert "Discord forbids reading this channel" in summary, "a left group DM is unreachable"
    assert_private_complete_and_tidy(archive, served, started.run)


def assert_private_complete_and_tidy(archive: Path, served: Served, run: str) -> None:
    assert not (archive / "batch-state.json").exists(), "it moved to runs/<run_id>/"
    state = served.archive.json(f"runs/{run}/batch-state.json")
    assert state["inProgress"] is False
    assert state["currentBatch"] == state["totalBatches"], "every batch is done"
    assert state["lastCompletedBatch"] == state["totalBatches"] - 1  # type: ignore[operator]
    assert served.archive.json("id-history.json")["throughSeq"] == len(served.archive.events())
    assert not list((archive / "tmp").glob("*")), "nothing is left in tmp/"
    assert len(list(archive.glob("logs/*.log"))) == 1
    for path in [archive, *archive.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {mode:o}"


def test_an_incremental_run_exports_only_new_messages_and_new_dms_in_full(
    tmp_path: Path,
) -> None:
    sandbox = create_sandbox(tmp_path / "sbx", WorldSpec(users=6, groups=1, messages=5, seed=4))
    facts_exports = _exports(sandbox)
    newcomer = sorted(facts_exports)[-1]
    earlier = write_package(
        sandbox.world, tmp_path / "earlier", LAYOUTS["2025"], as_zip=False, exclude=[newcomer]
    )
    with serving(sandbox, tmp_path / "archive") as served:
        first = served.dmj(*served.run_args(package=earlier))
        assert first.returncode == 0, first.stderr
        grown = sorted(set(facts_exports.values()) - {facts_exports[newcomer]})[0]
        served.server.add_messages(grown, 3)
        second = served.run()
        assert second.returncode == 0, second.stderr
        assert "An incremental run" in second.stdout
        events = served.archive.events()
    runs = [i for i, e in enumerate(events) if isinstance(e, RunStarted)]
    earlier_run, later_run = events[: runs[1]], events[runs[1] :]
    archived = {
        e.channel_id: e.last_message_id for e in earlier_run if isinstance(e, ChannelExported)
    }
    for event in later_run:
        if isinstance(event, ExportRequested) and event.channel_id in archived:
            assert event.after == archived[event.channel_id], "only what is newer"
    new_dm = facts_exports[newcomer]
    assert [e.after for e in later_run if isinstance(e, ExportRequested)
            and e.channel_id == new_dm] == [None], "a new DM is exported in full"  # fmt: skip
    counts = {e.channel_id: e.message_count for e in later_run if isinstance(e, ChannelExported)}
    assert counts[grown] == 3
    assert {counts[ch] for ch in archived if ch != grown and archived[ch]} == {0}
    assert counts[new_dm] == served.emulator.message_count(new_dm)
    assert served.archive.exported()[grown] == served.emulator.message_count(grown)


def _exports(sandbox: Sandbox) -> dict[str, str]:
    return world_facts(sandbox.world).exports

"""``dmj run``, ``dmj status --missing`` and ``dmj export`` end to end, against the world's truth.

Real processes (the ``dmj`` console script, the DCE stand-in, the emulator over loopback) on a
world with deleted and gone users, unreadable closed DMs, a left group, messages the owner
deleted after the package was made, and one export DCE cuts in half (exit 0).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dmj.sandbox import MessageLog, Sandbox, WorldSpec, create_sandbox, world_facts

from tests.e2e.support import serving
from tests.e2e.test_history import own_messages

pytestmark = pytest.mark.slow

SPEC = WorldSpec(users=12, groups=3, messages=8, seed=11, duplicates=1, empty=1, deleted_later=1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return create_sandbox(tmp_path_factory.mktemp("world") / "sbx", SPEC)


def cut_in_half(sandbox: Sandbox) -> tuple[str, set[str]]:
    """A readable DM whose export DCE will cut in half, and the ids of the half it keeps."""
    facts = world_facts(sandbox.world)
    for channel in sandbox.world.channels:
        log = MessageLog(sandbox.world, channel)
        mine_late = [i for i in range(len(log) // 2, len(log)) if log.package_row(i)]
        if channel.fate == "readable" and channel.id not in facts.deleted_later and mine_late:
            return channel.id, {str(log.id_at(i)) for i in range(len(log) // 2)}
    raise AssertionError("no DM to cut")


def test_status_missing_and_the_export_say_what_the_world_says(
    world: Sandbox, tmp_path: Path
) -> None:
    facts = world_facts(world.world)
    target, kept_half = cut_in_half(world)
    out = tmp_path / "all.json"
    with serving(world, tmp_path / "archive", faults=f"dce-truncate={target}") as served:
        archive = str(served.archive.path)
        done = served.run(batch_size=8)
        missing = served.dmj("status", "--missing", "--archive", archive, COLUMNS="300")
        as_json = served.dmj("status", "--missing", "--json", "--archive", archive)
        exported = served.dmj("export", "json", "--filename", str(out), "--archive", archive)
    assert done.returncode == 0, done.stderr
    assert (missing.returncode, as_json.returncode, exported.returncode) == (3, 3, 0), (
        missing.stderr + exported.stderr
    )
    rows = {row["channelId"]: row for row in json.loads(as_json.stdout)["conversations"]}
    short = {facts.exports[dm] for dm in facts.exports
             if facts.own_archivable[dm] + facts.own_kept[dm] < facts.own_messages[dm]}  # fmt: skip
    (deleted_in,) = facts.deleted_later
    assert facts.exports[deleted_in] in short
    assert set(rows) == set(facts.unreachable) | set(facts.not_in_package) | short | {target}, (
        "exactly the conversations not fully archived: refused, never planned, short of the "
        "owner's messages (older duplicates, deleted later), and the one cut in half"
    )
    for refused in facts.unreachable:
        own = rows[refused]["own"]
        assert (own["kept"], own["missing"]) == (facts.own_messages[refused], 0)
        assert f"{rows[refused]['name']} " in missing.stdout
    assert rows[facts.exports[deleted_in]]["own"]["missing"] == facts.deleted_later[deleted_in]
    lines = [line for line in missing.stdout.splitlines() if "newer than the newest" in line]
    assert len(lines) == 1, "the cut export says a new run fetches the rest"

    document = json.loads(out.read_text(encoding="utf-8"))
    archived = {m["id"] for m in document["messages"] if "source" not in m}
    by_id = {c.id: c for c in world.world.channels}
    for channel in set(facts.exports.values()) - {target}:
        log = MessageLog(world.world, by_id[channel])
        assert {str(log.id_at(i)) for i in range(len(log))} <= archived
    assert kept_half <= archived
    assert len(archived) == sum(facts.expected_messages.values()) - (
        facts.expected_messages[target] - len(kept_half)
    ), "every message DCE archived, the cut one's first half, nothing twice"
    one_sided = {
        m["id"]: (m["channelId"], m["author"]["id"], m["content"], m["source"])
        for m in document["messages"]
        if "source" in m
    }
    assert one_sided == own_messages(world)
    partial = {g["channelId"] for g in document["gaps"] if g["partial"]}
    assert partial == {dm for dm in facts.unreachable if facts.own_messages[dm]}

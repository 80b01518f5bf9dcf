"""``dmj run`` then ``dmj export`` end to end: every message of the world in the JSON,
verbatim, every DM no run can export listed as a gap, and the owner's own messages there
from the data package.

Real processes: the ``dmj`` console script, the DCE stand-in, the emulator over loopback.
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest
from dmj.sandbox import MessageLog, Sandbox, WorldSpec, create_sandbox, world_facts
from dmj.sandbox._dce_json import dce_message

from tests.e2e.support import serving

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    """14 users (every fate), 3 groups, a few messages each: ~18 DMs planned."""
    root = tmp_path_factory.mktemp("world")
    return create_sandbox(root / "sbx", WorldSpec.sized(14, seed=5, messages=6))


def world_messages(sandbox: Sandbox, channel_ids: set[str]) -> dict[str, tuple[str, str, str]]:
    """Message id → (channel id, author id, content as DCE writes it) for ``channel_ids``."""
    found = {}
    for channel in sandbox.world.channels:
        if channel.id in channel_ids:
            log = MessageLog(sandbox.world, channel)
            for index in range(len(log)):
                message = dce_message(log.message(index), UTC, lambda url, _size: url)
                found[message["id"]] = (channel.id, message["author"]["id"], message["content"])
    return found


def own_messages(sandbox: Sandbox) -> dict[str, tuple[str, str, str, str]]:
    """Message id → (channel id, author id, content, "package") of the owner's messages the
    package holds where Discord refuses them for good (``own_kept``): every unreachable DM's,
    older duplicates included, under its package channel; a moved DM's package channel's,
    under the channel exported instead."""
    world, facts = sandbox.world, world_facts(sandbox.world)
    by_id = {c.id: c for c in world.channels}
    kept = {dm: (dm, (dm, *facts.duplicates.get(dm, ()))) for dm in facts.unreachable}
    kept |= {dm: (facts.exports[dm], (dm,)) for dm in facts.reopens_elsewhere}
    found = {}
    for conversation, channels in kept.values():
        for channel in channels:
            for row in MessageLog(world, by_id[channel]).package_rows():
                found[str(row[0])] = (conversation, world.self_user.id, row[2], "package")
    assert len(found) == sum(facts.own_kept.values())
    return found


def test_the_export_holds_every_message_of_the_world_verbatim_and_every_refused_dm_as_a_gap(
    world: Sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "everything.json"
    with serving(world, tmp_path / "archive") as served:
        done = served.run(batch_size=10)
        assert done.returncode == 0, done.stderr
        facts = served.facts
        exported = served.dmj(
            "export", "json", "--filename", str(out), "--archive", str(served.archive.path)
        )
        shown = served.dmj("show", "last:3", "--archive", str(served.archive.path))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    expected = world_messages(world, set(facts.exports.values()))
    assert len(expected) == sum(facts.expected_messages.values()) > 50
    got = {m["id"]: (m["channelId"], m["author"]["id"], m["content"])
           for m in document["messages"] if "source" not in m}  # fmt: skip
    assert got == expected, "every message of every exported DM, verbatim, once"
    one_sided = {m["id"]: (m["channelId"], m["author"]["id"], m["content"], m["source"])
                 for m in document["messages"] if "source" in m}  # fmt: skip
    assert one_sided == own_messages(world), (
        "the owner's own messages where Discord refuses them (a DM, a moved DM's old "
        "channel), from the package"
    )
    assert document["count"] == len(expected) + len(one_sided)
    assert exported.stdout.startswith(f"Exported {document['count']:,} messages and ")
    assert {g["channelId"] for g in document["gaps"]} == set(facts.unreachable) != set()
    assert all(g["errorState"] and g["errorMessage"] for g in document["gaps"])
    times = [(m["createdAt"], int(m["id"])) for m in document["messages"]]
    assert [t[1] for t in times] == sorted(t[1] for t in times), "chronological (ids follow time)"
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1].startswith("3 messages, ")

"""DCE stand-in exports against dce.md §1.5-§4: files, JSON, ranges, partitions, errors."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from dmj.sandbox import Emulator, MessageLog, Sandbox
from dmj.sandbox._snowflake import snowflake_ms

from tests.sandbox.dce_helpers import export_argv, exported, fate, run_in_process, run_launcher

ROOT_KEYS = ["guild", "channel", "dateRange", "exportedAt", "messages", "messageCount"]
MESSAGE_KEYS = [
    "id", "type", "timestamp", "timestampEdited", "callEndedTimestamp", "isPinned", "content",
    "author", "attachments", "embeds", "stickers", "reactions", "mentions",
]  # fmt: skip
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?\+00:00$")


def test_an_export_writes_dces_json_and_says_so(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    ran = run_launcher(sandbox, export_argv(channel.id, tmp_path / "out"), sandbox_env)
    assert (ran.code, ran.err) == (0, "")
    name = json.loads(next(iter(exported(tmp_path / "out"))).read_text())["channel"]["name"]
    assert ran.out == (
        f"Resolving channel(s)...\nExporting 1 channel(s)...\n{name}: 0%\n"
        "Successfully exported 1 channel(s).\n"
    )
    (path,) = exported(tmp_path / "out")
    assert path.name == f"Direct Messages - {name} [{channel.id}].json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert list(doc) == ROOT_KEYS
    assert doc["guild"] == {
        "id": "0", "name": "Direct Messages", "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
    }  # fmt: skip
    assert doc["channel"] == {
        "id": channel.id, "type": "DirectTextChat", "categoryId": None, "category": None,
        "name": name, "topic": None,
    }  # fmt: skip
    assert doc["messageCount"] == len(doc["messages"]) == channel.message_count
    log = MessageLog(sandbox.world, channel)
    assert [m["id"] for m in doc["messages"]] == [str(log.id_at(i)) for i in range(len(log))]
    for message in doc["messages"]:
        assert list(message)[: len(MESSAGE_KEYS)] == MESSAGE_KEYS
        assert list(message)[-1] == "inlineEmojis"
        assert TIMESTAMP.match(message["timestamp"]), message["timestamp"]
        moment = datetime.fromisoformat(message["timestamp"])
        assert snowflake_ms(int(message["id"])) == round(1000 * moment.timestamp())
    raw = [log.message(i)["content"] for i in range(len(log))]
    defaults = [m["content"] for m in doc["messages"] if m["type"] in ("Default", "Reply")]
    assert defaults == [c for i, c in enumerate(raw) if log.message(i)["type"] in (0, 19)]
    assert path.read_text(encoding="utf-8").endswith(
        f'  ],\n  "messageCount": {channel.message_count}\n}}'
    )


def test_the_stand_in_asks_the_api_what_dce_asks_in_dces_order(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    assert run_in_process(export_argv(channel.id, tmp_path), sandbox_env).code == 0
    calls = [(e.path.removeprefix("/api/v9/"), e.query, e.client) for e in emulator.requests()]
    pages = -(-channel.message_count // 100)
    assert calls[:4] == [
        ("users/@me", "", "dce"),
        (f"channels/{channel.id}", "", "dce"),
        ("users/@me/channels", "", "dce"),
        (f"channels/{channel.id}/messages", "limit=1", "dce"),
    ]
    assert next(q for p, q, _ in calls[4:]) == "limit=100&after=0"
    assert len(calls) == 4 + pages + 1, "one empty page ends the paging"


def test_timestamps_follow_the_local_zone_without_utc(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = fate(sandbox.world, "open")
    argv = [a for a in export_argv(channel.id, tmp_path) if a != "--utc"]
    env = {**sandbox_env, "TZ": "Asia/Kolkata"}
    assert run_launcher(sandbox, argv, env).code == 0
    doc = json.loads(exported(tmp_path)[0].read_text())
    assert all(m["timestamp"].endswith("+05:30") for m in doc["messages"])


def test_after_is_exclusive_and_names_the_file_and_the_range(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    log = MessageLog(sandbox.world, channel)
    cursor = log.id_at(4)
    ran = run_in_process(export_argv(channel.id, tmp_path, "--after", str(cursor)), sandbox_env)
    assert ran.code == 0
    (path,) = exported(tmp_path)
    assert re.search(rf"\[{channel.id}\] \(after \d{{4}}-\d\d-\d\d\)\.json$", path.name)
    doc = json.loads(path.read_text())
    assert [m["id"] for m in doc["messages"]] == [str(log.id_at(i)) for i in range(5, len(log))]
    assert doc["dateRange"]["after"] is not None
    assert doc["dateRange"]["before"] is None


def test_an_after_past_the_last_message_warns_and_writes_an_empty_file_without_fetching(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    last = MessageLog(sandbox.world, channel).last_id
    ran = run_in_process(export_argv(channel.id, tmp_path, "--after", str(last)), sandbox_env)
    name = json.loads(exported(tmp_path)[0].read_text())["channel"]["name"]
    assert ran.code == 0
    assert ran.err == (
        f"Warnings reported for the following channel(s):\n{name}: Channel '{name}' of guild "
        "'Direct Messages' does not contain any messages within the specified period; an "
        "empty file will be created.\n\n"
    )
    assert ran.out.endswith("Successfully exported 1 channel(s).\n\n")
    doc = json.loads(exported(tmp_path)[0].read_text())
    assert (doc["messages"], doc["messageCount"]) == ([], 0)
    assert not [e for e in emulator.requests() if e.path.endswith("/messages")]


def test_an_empty_channel_warns_and_writes_an_empty_file(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    empty = next(c for c in sandbox.world.channels if c.fate == "readable" and c.message_count == 0)
    ran = run_in_process(export_argv(empty.id, tmp_path), sandbox_env)
    assert ran.code == 0
    assert "does not contain any messages; an empty file will be created.\n" in ran.err
    assert json.loads(exported(tmp_path)[0].read_text())["messageCount"] == 0


@pytest.mark.parametrize("limit", ["10", "3kb"])
def test_partitions_split_the_export_into_complete_numbered_parts(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path, limit: str
) -> None:
    channel = max(sandbox.world.channels, key=lambda c: c.message_count if c.open else 0)
    assert run_in_process(export_argv(channel.id, tmp_path, "-p", limit), sandbox_env).code == 0
    paths = exported(tmp_path)
    base = f"Direct Messages - {json.loads(paths[0].read_text())['channel']['name']} [{channel.id}]"
    names = [f"{base}.json"] + [f"{base} [part {n}].json" for n in range(2, len(paths) + 1)]
    assert sorted(p.name for p in paths) == sorted(names)
    assert len(paths) > 2
    docs = [json.loads((tmp_path / n).read_text()) for n in names]
    assert sum(d["messageCount"] for d in docs) == channel.message_count
    assert all(d["messageCount"] == len(d["messages"]) for d in docs)
    if limit == "10":
        assert [d["messageCount"] for d in docs[:-1]] == [10] * (len(docs) - 1)


def test_a_closed_dm_whose_messages_are_forbidden_fails_that_channel(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "reopen", "forbidden")
    ran = run_in_process(export_argv(channel.id, tmp_path), sandbox_env)
    user = sandbox.world.user(channel.recipients[0])
    assert user is not None
    name = user.global_name or user.username
    url = f"channels/{channel.id}/messages?limit=1"
    assert ran.code == 1
    assert ran.err == (
        f"Failed to export the following channel(s):\n{name}: Request to '{url}' failed: "
        "forbidden.\n\nExport failed.\n"
    )
    assert exported(tmp_path) == []


def test_an_unknown_channel_crashes_while_resolving(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "reopen", "not_found")
    ran = run_launcher(sandbox, export_argv(channel.id, tmp_path), sandbox_env)
    assert ran.code == 1
    assert ran.out == "Resolving channel(s)...\n"
    assert ran.err.startswith(
        "ERROR\nDiscordChatExporter.Core.Exceptions.DiscordChatExporterException: "
        f"Request to 'channels/{channel.id}' failed: not found.\n   at "
    )


def test_an_invalid_token_is_tried_as_user_then_bot_then_refused(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    env = {**sandbox_env, "DISCORD_TOKEN": "not-a-token"}
    ran = run_in_process(export_argv(fate(sandbox.world, "open").id, tmp_path), env)
    assert ran.code == 1
    assert "DiscordChatExporterException: Authentication token is invalid.\n" in ran.err
    assert [(e.path, e.status) for e in emulator.requests()] == [("/api/v9/users/@me", 401)] * 2


def test_one_failure_among_several_channels_still_succeeds(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    good, bad = fate(sandbox.world, "open"), fate(sandbox.world, "reopen", "forbidden")
    argv = export_argv(good.id, tmp_path)
    argv[argv.index(good.id) + 1 : argv.index(good.id) + 1] = [bad.id]
    ran = run_in_process(argv, sandbox_env)
    assert ran.code == 0
    assert "Successfully exported 1 channel(s).\n" in ran.out
    assert "Failed to export the following channel(s):\n" in ran.err
    assert len(exported(tmp_path)) == 1


def test_several_channels_need_a_directory_or_template(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    ids = [fate(sandbox.world, "open").id, fate(sandbox.world, "group").id]
    argv = ["export", "-c", *ids, "-f", "Json", "-o", str(tmp_path / "one.json"), "--fuck-russia"]
    ran = run_in_process(argv, sandbox_env)
    assert ran.code == 1
    assert ran.err.startswith(
        "Attempted to export multiple channels, but the output path is neither"
    )


def test_the_banner_shows_unless_switched_off(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open").id
    argv = [a for a in export_argv(channel, tmp_path) if a != "--fuck-russia"]
    shown = run_in_process(argv, sandbox_env)
    assert shown.out.startswith(
        "┌────────────────────────────────────────────────────────────────────┐\n"
        "│   Thank you for supporting Ukraine <3                              │\n"
    )
    assert (
        "└────────────────────────────────────────────────────────────────────┘\n\nResolving"
        in shown.out
    )
    for value in ("1", ""):
        hidden = run_in_process(argv, {**sandbox_env, "FUCK_RUSSIA": value})
        assert hidden.out.startswith("Resolving channel(s)...")

"""DCE stand-in export options: --before/--reverse, --media, group DMs, exportdm and dm."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dmj.sandbox import MessageLog, RunningEmulator, Sandbox

from tests.sandbox.dce_helpers import export_argv, exported, fate, run_in_process


def test_media_lands_next_to_the_export_and_the_json_points_at_it(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    channel = max((c for c in sandbox.world.channels if c.open), key=lambda c: c.message_count)
    ran = run_in_process(export_argv(channel.id, tmp_path, "--media", "--reuse-media"), sandbox_env)
    assert ran.code == 0
    doc = json.loads(exported(tmp_path)[0].read_text())
    urls = [a["url"] for m in doc["messages"] for a in m["attachments"]]
    assert urls, "the busiest open DM has attachments"
    for url in [*urls, doc["messages"][0]["author"]["avatarUrl"]]:
        assert url.startswith(exported(tmp_path)[0].name + "_Files/")
        assert (tmp_path / url).is_file()
    refused = run_in_process(export_argv(channel.id, tmp_path, "--reuse-media"), sandbox_env)
    assert (refused.code, refused.err) == (
        1,
        "Option --reuse-media cannot be used without --media.\n",
    )


def test_exportdm_exports_every_open_dm_and_dm_lists_them(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    opened = [c for c in sandbox.world.channels if c.open]
    argv = ["exportdm", "-f", "Json", "-o", f"{tmp_path}/", "--fuck-russia"]
    ran = run_in_process(argv, sandbox_env)
    assert ran.code == 0
    assert ran.out.startswith(f"Fetching channels...\nExporting {len(opened)} channel(s)...\n")
    assert len(exported(tmp_path)) == len(opened)
    listing = run_in_process(["dm"], sandbox_env)
    assert sorted(line.split(" | ")[0].strip() for line in listing.out.splitlines()) == sorted(
        c.id for c in opened
    )


def test_before_is_exclusive_and_reverse_writes_newest_first(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    log = MessageLog(sandbox.world, channel)
    argv = export_argv(channel.id, tmp_path, "--before", str(log.id_at(6)), "--reverse")
    assert run_in_process(argv, sandbox_env).code == 0
    (path,) = exported(tmp_path)
    assert re.search(r"\(before \d{4}-\d\d-\d\d\)\.json$", path.name)
    doc = json.loads(path.read_text())
    assert [m["id"] for m in doc["messages"]] == [str(log.id_at(i)) for i in range(5, -1, -1)]


def test_a_group_dm_exports_under_its_name_as_a_group_chat(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    group = next(c for c in sandbox.world.channels if c.fate == "group" and c.name)
    assert run_in_process(export_argv(group.id, tmp_path), sandbox_env).code == 0
    doc = json.loads(exported(tmp_path)[0].read_text())
    assert (doc["channel"]["type"], doc["channel"]["name"]) == ("DirectGroupTextChat", group.name)
    kinds = {m["type"] for m in doc["messages"]}
    assert "RecipientAdd" in kinds
    added = next(m for m in doc["messages"] if m["type"] == "RecipientAdd")
    assert re.fullmatch(r"Added .+ to the group\.", added["content"])


def test_a_media_dir_outside_the_output_is_referenced_by_absolute_path(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    channel = max((c for c in sandbox.world.channels if c.open), key=lambda c: c.message_count)
    media = tmp_path / "media"
    argv = export_argv(channel.id, tmp_path / "out", "--media", "--media-dir", str(media))
    assert run_in_process(argv, sandbox_env).code == 0
    doc = json.loads(exported(tmp_path / "out")[0].read_text())
    urls = [a["url"] for m in doc["messages"] for a in m["attachments"]]
    assert urls
    assert all(Path(u).parent == media and Path(u).is_file() for u in urls)
    assert all(re.fullmatch(r".{1,42}-[0-9a-f]{16}\.\w+", Path(u).name) for u in urls)


def test_an_incremental_export_after_the_last_id_holds_only_the_new_messages(
    sandbox: Sandbox,
    sandbox_env: dict[str, str],
    emulator_server: RunningEmulator,
    tmp_path: Path,
) -> None:
    channel = fate(sandbox.world, "open")
    last = MessageLog(sandbox.world, channel).last_id
    assert emulator_server.add_messages(channel.id, 5) == channel.message_count + 5
    argv = export_argv(channel.id, tmp_path, "--after", str(last))
    assert run_in_process(argv, sandbox_env).code == 0
    doc = json.loads(exported(tmp_path)[0].read_text())
    assert doc["messageCount"] == 5
    assert all(int(m["id"]) > (last or 0) for m in doc["messages"])

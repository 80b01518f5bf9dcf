"""``dmj run``/``dmj resume`` and the exports already in the archive: never deleted, never
mixed with another journal's, re-exported whole when damaged, checked by ``replay --inspect``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from dmj.adapters import open_package
from dmj.machine.events import ChannelExported, ExportRequested, RunStarted
from dmj.projections.history import open_history
from dmj.sandbox import WorldSpec, create_sandbox

from tests.cli.runs import invoke
from tests.e2e.support import Served, serving

EMPTY_WORLD = WorldSpec(users=2, groups=0, duplicates=0, empty=1, messages=3, seed=2)
"""An open DM, and a closed one readable by id whose messages were all deleted."""


@pytest.fixture
def served_empty(tmp_path: Path) -> Iterator[Served]:
    sandbox = create_sandbox(tmp_path / "sbx", EMPTY_WORLD)
    with serving(sandbox, tmp_path / "archive") as served:
        yield served


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_run_beside_exports_its_journal_does_not_know_refuses_before_writing_anything(
    served: Served,
) -> None:
    """The journal was moved aside (what a damaged journal's message advises): the next run
    must not delete, nor file new exports among, the exports of the old one."""
    assert invoke(served, *served.run_args()).exit_code == 0
    archive = served.archive.path
    (archive / "journal.jsonl").rename(archive / "journal.jsonl.old")
    exports = tree(archive / "exports")
    for command in (served.run_args(), ["resume", "--archive", str(archive)]):
        result = invoke(served, *command)
        assert result.exit_code == 2, result.output
        assert tree(archive / "exports") == exports
    assert not (archive / "journal.jsonl").exists()
    refused = flat(invoke(served, *served.run_args()).stderr)
    assert "holds export folders that its journal does not record: exports/" in refused
    assert "dmj never deletes them" in refused
    assert f"(e.g. `mv {archive / 'exports'} {archive}/exports.old`)" in refused
    (archive / "exports").rename(archive / "exports.old")
    assert invoke(served, *served.run_args()).exit_code == 0
    assert tree(archive / "exports.old") == exports


def test_an_incremental_run_exports_a_channel_whose_export_is_missing_whole_and_says_so(
    served: Served,
) -> None:
    assert invoke(served, *served.run_args()).exit_code == 0
    archive = served.archive.path
    first = [e for e in served.archive.events() if isinstance(e, ChannelExported)]
    lost = next(e for e in first if e.message_count > 1)
    shutil.rmtree(archive / lost.path)
    result = invoke(served, *served.run_args())
    assert result.exit_code == 0, result.output
    notes = flat(result.stderr)
    assert f"Note: the archived export {lost.path} (channel {lost.channel_id}) is missing." in (
        notes
    )
    assert f"this run exports channels {lost.channel_id} again from their first message" in notes
    events = served.archive.events()
    started = [e for e in events if isinstance(e, RunStarted)][-1]
    assert started.from_scratch == (lost.channel_id,)
    asked = {e.channel_id: e.after for e in events[started.seq :] if isinstance(e, ExportRequested)}
    assert asked[lost.channel_id] is None
    assert all(after is not None for ch, after in asked.items() if ch != lost.channel_id)
    again = next(
        e
        for e in events[started.seq :]
        if isinstance(e, ChannelExported) and e.channel_id == lost.channel_id
    )
    assert again.message_count == lost.message_count


def test_inspect_reports_damage_a_whole_export_made_good_as_superseded_and_passes(
    served: Served,
) -> None:
    assert invoke(served, *served.run_args()).exit_code == 0
    archive = served.archive.path
    lost = next(e for e in served.archive.events() if isinstance(e, ChannelExported) and e.path)
    shutil.rmtree(archive / lost.path)
    inspect = ["replay", "--inspect", "--archive", str(archive)]
    assert invoke(served, *inspect).exit_code == 1
    assert invoke(served, *served.run_args()).exit_code == 0
    again = [e for e in served.archive.events() if isinstance(e, ChannelExported)][-4:]
    whole = next(e for e in again if e.channel_id == lost.channel_id)
    result = invoke(served, *inspect)
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "Exports  5 recorded, intact, 1 damaged but superseded (checked by size and digest)" in (
        lines
    )
    assert (
        f"superseded: {lost.path} (channel {lost.channel_id}) is missing; superseded by the "
        f"whole export {whole.path} (the channel again from its first message)"
    ) in lines
    assert "again from their first message." not in result.stdout
    report = json.loads(invoke(served, *inspect, "--json").stdout)["exports"]
    assert (report["damaged"], report["from_scratch"]) == ([], [])
    [superseded] = report["superseded"]
    assert (superseded["path"], superseded["folder_missing"]) == (lost.path, True)
    assert superseded["superseded_by"] == {
        "run_id": whole.run,
        "seq": whole.seq,
        "path": whole.path,
    }
    rerun = invoke(served, *served.run_args())
    assert rerun.exit_code == 0
    assert "Note:" not in rerun.stderr, "a run says nothing of damage made good"


def test_an_incremental_run_that_finds_nothing_new_files_no_empty_export_folder(
    served: Served,
) -> None:
    assert invoke(served, *served.run_args()).exit_code == 0
    folders = served.archive.export_folders()
    assert invoke(served, *served.run_args()).exit_code == 0
    assert served.archive.export_folders() == folders
    events = served.archive.events()
    started = [e for e in events if isinstance(e, RunStarted)][-1]
    again = [e for e in events[started.seq :] if isinstance(e, ChannelExported)]
    assert again
    assert {(e.path, e.message_count) for e in again} == {("", 0)}


def test_an_export_without_messages_keeps_no_folder_run_after_run(
    served_empty: Served,
) -> None:
    """A conversation whose messages were all deleted has no last message id to go on from:
    each run exports it whole again, and finds nothing each time."""
    served = served_empty
    empty = next(c for c in served.sandbox.world.channels if c.message_count == 0)
    user = next(u for u in served.sandbox.world.users if u.id == empty.recipients[0])
    for _ in range(2):
        assert invoke(served, *served.run_args()).exit_code == 0
        assert [f for f in served.archive.export_folders() if f"/{empty.id}/" in f"/{f}"] == []
    events = served.archive.events()
    outcomes = [e for e in events if isinstance(e, ChannelExported) and e.channel_id == empty.id]
    assert [(e.path, e.message_count, e.files) for e in outcomes] == [("", 0, ())] * 2
    with open_history(
        served.archive.path, zone=UTC, notice=lambda _: None, packages=open_package
    ) as history:
        shown = next(c for c in history.conversations() if str(c.id) == empty.id)
        assert (shown.name, shown.verdict, shown.messages) == (
            f"{user.username}#{user.discriminator}",
            "exported",
            0,
        )  # the package's name for it (DCE's name came with the export)
    inspect = invoke(served, "replay", "--inspect", "--archive", str(served.archive.path))
    assert inspect.exit_code == 0, inspect.output


def test_inspect_reports_a_missing_or_changed_export_and_fails(served: Served) -> None:
    assert invoke(served, *served.run_args()).exit_code == 0
    archive = served.archive.path
    gone, changed = [e for e in served.archive.events() if isinstance(e, ChannelExported)][:2]
    shutil.rmtree(archive / gone.path)
    part = next((archive / changed.path).glob("*.json"))
    part.write_bytes(part.read_bytes().replace(b'"messageCount"', b'"messageCOUNT"'))
    inspect = ["replay", "--inspect", "--archive", str(archive)]
    result = invoke(served, *inspect)
    assert result.exit_code == 1
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "Exports  4 recorded, 2 damaged (checked by size and digest)" in lines
    assert f"damaged: {gone.path} (channel {gone.channel_id}) is missing" in lines
    assert f"damaged: {changed.path} (channel {changed.channel_id}): {part.name} has changed" in (
        lines
    )
    channels = ", ".join(sorted([gone.channel_id, changed.channel_id]))
    assert (
        f"The next `dmj run` exports channels {channels} again from their first message." in lines
    )
    quick = invoke(served, *inspect, "--quick", "--json")
    assert quick.exit_code == 1
    exports = json.loads(quick.stdout)["exports"]
    assert (exports["quick"], [d["path"] for d in exports["damaged"]]) == (True, [gone.path])


def test_export_folders_are_named_after_their_run_and_request_so_journals_never_collide(
    served: Served,
) -> None:
    assert invoke(served, *served.run_args()).exit_code == 0
    events = served.archive.events()
    requested = {e.user_id: e.seq for e in events if isinstance(e, ExportRequested)}
    run = events[0].run
    for exported in (e for e in events if isinstance(e, ChannelExported)):
        assert exported.path == (
            f"exports/{exported.channel_id}/{run}-{requested[exported.user_id]}"
        )


def test_a_dry_run_names_a_damaged_export_and_plans_its_channel_whole(served: Served) -> None:
    assert invoke(served, *served.run_args()).exit_code == 0
    archive = served.archive.path
    first = [e for e in served.archive.events() if isinstance(e, ChannelExported)]
    lost = next(e for e in first if e.message_count > 1)
    shutil.rmtree(archive / lost.path)
    before = tree(archive)
    result = invoke(served, *served.run_args("--dry-run"), DISCORD_TOKEN=None)
    assert result.exit_code == 0, result.output
    assert f"Note: the archived export {lost.path} (channel {lost.channel_id}) is missing." in (
        flat(result.stderr)
    )
    archived = sum(1 for e in first if e.message_count)
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["archived", "before", str(archived - 1), "only", "messages", "newer", "than",
            "archived"] in rows  # fmt: skip
    assert ["damaged", "before", "1", "exported", "whole", "again", "(see", "the", "notes)"] in (
        rows
    )
    assert tree(archive) == before


def test_a_retry_run_exports_a_channel_whose_archived_export_is_missing_whole(
    served: Served,
) -> None:
    """Run 1 archived carol; run 2 failed her (the disk); then run 1's export went missing.
    The retry of run 2 must not ask only for what is newer than the lost export."""
    carol = served.facts.readable_closed[0]
    assert invoke(served, *served.run_args()).exit_code == 0
    archive = served.archive.path
    lost = next(
        e
        for e in served.archive.events()
        if isinstance(e, ChannelExported) and e.channel_id == carol
    )
    served.emulator.add_messages(carol, 2)
    served.server.set_faults(f"dce-disk-full={carol}x3")
    assert invoke(served, *served.run_args()).exit_code == 4
    served.server.set_faults("")
    shutil.rmtree(archive / lost.path)
    result = invoke(served, "resume", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert f"this run exports channels {carol} again from their first message" in (
        flat(result.stderr)
    )
    events = served.archive.events()
    retry = [e for e in events if isinstance(e, RunStarted)][-1]
    assert retry.retries is not None
    assert retry.from_scratch == (carol,)
    asked = [e for e in events[retry.seq :] if isinstance(e, ExportRequested)]
    assert [(e.channel_id, e.after) for e in asked] == [(carol, None)]
    again = next(e for e in events[retry.seq :] if isinstance(e, ChannelExported))
    assert again.message_count == lost.message_count + 2

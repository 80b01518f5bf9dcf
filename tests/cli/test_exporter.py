"""The Exporter port: DCE (the sandbox's stand-in, a real process) into ``tmp/``, verified,
measured, synced and filed under ``exports/``; media checked against Discord's sizes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from dmj.adapters import DceRunner, find_dce
from dmj.cli._archive import Archive
from dmj.cli._exporter import ArchiveExporter
from dmj.journal import OsStorage, Storage
from dmj.machine.errors import ChannelExportError
from dmj.sandbox import Sandbox, WorldChannel

from tests.storage_log import RecordingStorage, durability_problems

pytestmark = pytest.mark.anyio


@pytest.fixture
async def runner(sandbox: Sandbox, sandbox_env: dict[str, str]) -> DceRunner:
    dce = await find_dce(sandbox.dce_dir, env=sandbox_env)
    return DceRunner(dce, sandbox.world.token, env=sandbox_env, stall_timeout=60, kill_grace=5)


def exporter(
    runner: DceRunner, root: Path, *, media: bool = False, storage: Storage | None = None
) -> ArchiveExporter:
    root.mkdir(exist_ok=True)
    return ArchiveExporter(runner, Archive(root, storage=storage or OsStorage()), media=media)


def open_dm(sandbox: Sandbox) -> WorldChannel:
    return next(c for c in sandbox.world.channels if c.fate == "open" and c.message_count > 5)


def attachments(folder: Path) -> dict[Path, int]:
    """The files the export's JSON names as attachments, with Discord's sizes."""
    found = {}
    for part in folder.glob("*.json"):
        for message in json.loads(part.read_text("utf-8"))["messages"]:
            for attachment in message["attachments"]:
                found[Path(attachment["url"])] = attachment["fileSizeBytes"]
    return found


async def test_an_export_is_filed_with_each_files_size_and_digest(
    sandbox: Sandbox, runner: DceRunner, tmp_path: Path
) -> None:
    target = open_dm(sandbox)
    done = await exporter(runner, tmp_path).export(target.id, after=None, export_id="run-1-7")
    folder = tmp_path / done.path
    assert done.path == f"exports/{target.id}/run-1-7"
    assert [f.name for f in done.files] == sorted(p.name for p in folder.iterdir())
    for described in done.files:
        data = (folder / described.name).read_bytes()
        assert described.size == len(data)
        assert described.digest == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_an_incremental_export_that_finds_nothing_new_keeps_no_folder(
    sandbox: Sandbox, runner: DceRunner, tmp_path: Path
) -> None:
    target = open_dm(sandbox)
    archive = exporter(runner, tmp_path)
    first = await archive.export(target.id, after=None, export_id="run-1-7")
    again = await archive.export(target.id, after=first.last_message_id, export_id="run-2-7")
    assert (again.path, again.message_count, again.last_message_id, again.files) == (
        "", 0, None, ()
    )  # fmt: skip
    assert [p.name for p in (tmp_path / "exports" / target.id).iterdir()] == ["run-1-7"]
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_an_export_of_a_channel_without_messages_keeps_no_folder(
    sandbox: Sandbox, runner: DceRunner, tmp_path: Path
) -> None:
    """A conversation whose messages were all deleted has no last message id, so every run
    exports it whole again: a folder kept each time would pile up empty exports."""
    empty = next(c for c in sandbox.world.channels if c.in_package and c.message_count == 0)
    done = await exporter(runner, tmp_path).export(empty.id, after=None, export_id="run-1-3")
    assert (done.path, done.message_count, done.last_message_id, done.files) == ("", 0, None, ())
    assert not (tmp_path / "exports").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_a_cut_off_attachment_is_removed_and_the_next_attempt_downloads_it_whole(
    sandbox: Sandbox, runner: DceRunner, tmp_path: Path
) -> None:
    """A DCE killed mid-download leaves a cut-off file under the final name, which DCE's
    ``--reuse-media`` would reuse for good."""
    archive = exporter(runner, tmp_path, media=True)
    target, media = await a_dm_with_attachments(sandbox, archive, tmp_path)
    cut, size = next(iter(media.items()))
    with cut.open("r+b") as file:
        file.truncate(size // 2)
    with pytest.raises(ChannelExportError) as failed:
        await archive.export(target.id, after=None, export_id="run-1-9")
    assert failed.value.error_class == "transient"
    assert f"{cut.name} ({size // 2} bytes of {size})" in str(failed.value)
    assert not cut.exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    done = await archive.export(target.id, after=None, export_id="run-1-11")
    assert cut.stat().st_size == size
    assert attachments(tmp_path / done.path) == media


async def a_dm_with_attachments(
    sandbox: Sandbox, archive: ArchiveExporter, root: Path
) -> tuple[WorldChannel, dict[Path, int]]:
    """The first readable DM whose export has attachments, exported once, and those."""
    readable = (c for c in sandbox.world.channels if c.fate in ("open", "readable"))
    for number, channel in enumerate(readable):
        done = await archive.export(channel.id, after=None, export_id=f"run-0-{number}")
        media = attachments(root / done.path)
        if media:
            return channel, media
    raise AssertionError("the sandbox world has no readable DM with attachments")


async def test_filing_syncs_media_and_files_then_the_folder_then_renames_then_syncs_parents(
    sandbox: Sandbox, runner: DceRunner, tmp_path: Path
) -> None:
    recorder = RecordingStorage()
    archive = exporter(runner, tmp_path, media=True, storage=recorder)
    target = open_dm(sandbox)
    done = await archive.export(target.id, after=None, export_id="run-1-7")
    ops = [(op.name, op.path.relative_to(tmp_path).as_posix()) for op in recorder.ops]
    json_name = done.files[0].name
    media = sorted(p.name for p in (tmp_path / "media").iterdir())
    assert ops == [
        ("make_dir", "tmp"), ("sync_dir", "."), ("make_dir", "media"), ("sync_dir", "."),
        *(("sync_file", f"media/{name}") for name in media), ("sync_dir", "media"),
        ("sync_file", f"tmp/run-1-7/{json_name}"), ("sync_dir", "tmp/run-1-7"),
        ("make_dir", "exports"), ("sync_dir", "."),
        ("make_dir", f"exports/{target.id}"), ("sync_dir", "exports"),
        ("replace", "tmp/run-1-7"), ("sync_dir", f"exports/{target.id}"), ("sync_dir", "tmp"),
    ]  # fmt: skip
    assert durability_problems(recorder.ops) == []

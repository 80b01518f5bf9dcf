"""Checking the archived exports against the journal's record of their files.

The story's runs (``tests.projections.story``) with each recorded export given real files
and the record of them, as the exporter makes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dmj.machine.events import AnyEvent, ChannelExported, RunStarted
from dmj.machine.state import fold
from dmj.projections import WholeExport, describe_files, verify_exports, whole_exports_needed
from msgspec.structs import replace

from tests.projections.story import first_run, two_runs


def filed(archive: Path, events: list[AnyEvent]) -> list[AnyEvent]:
    """``events`` with every export's folder written (two files) and recorded."""
    out: list[AnyEvent] = []
    for event in events:
        if not isinstance(event, ChannelExported):
            out.append(event)
            continue
        folder = archive / event.path
        folder.mkdir(parents=True)
        (folder / "dm.json").write_text(f'{{"messages": "{event.path}"}}')
        (folder / "dm [part 2].json").write_text("{}")
        out.append(replace(event, files=describe_files(folder)))
    return out


def exports_of(events: list[AnyEvent]) -> list[ChannelExported]:
    return [e for e in events if isinstance(e, ChannelExported)]


def test_describe_files_gives_each_file_its_size_and_sha256(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"abc")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_bytes(b"")
    assert [(f.name, f.size, f.digest) for f in describe_files(tmp_path)] == [
        ("a.json", 3, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "sub/b.json",
            0,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
    ]


def test_an_archive_as_filed_verifies_intact(tmp_path: Path) -> None:
    events = filed(tmp_path, first_run())
    check = verify_exports(tmp_path, fold(events))
    assert (check.checked, check.unlisted, check.damaged, check.from_scratch) == (
        len(exports_of(events)), 0, (), ()
    )  # fmt: skip


def test_a_missing_folder_a_missing_file_and_a_changed_file_are_each_reported(
    tmp_path: Path,
) -> None:
    events = filed(tmp_path, two_runs())
    gone, lost_file, same_size, other_size = exports_of(events)[:4]
    shutil.rmtree(tmp_path / gone.path)
    (tmp_path / lost_file.path / "dm [part 2].json").unlink()
    (tmp_path / same_size.path / "dm [part 2].json").write_text("[]")  # same size, other bytes
    (tmp_path / other_size.path / "dm.json").write_text("{}")
    full = verify_exports(tmp_path, fold(events))
    assert [d.describe() for d in full.damaged] == [
        f"{gone.path} (channel {gone.channel_id}) is missing",
        f"{lost_file.path} (channel {lost_file.channel_id}): dm [part 2].json is missing",
        f"{same_size.path} (channel {same_size.channel_id}): dm [part 2].json has changed",
        f"{other_size.path} (channel {other_size.channel_id}): dm.json has changed",
    ]
    quick = verify_exports(tmp_path, fold(events), quick=True)
    assert [d.path for d in quick.damaged] == [gone.path, lost_file.path, other_size.path]


def test_an_export_recorded_without_its_files_is_checked_by_its_folder(tmp_path: Path) -> None:
    events = first_run()  # an older dmj: no file list
    for export in exports_of(events)[1:]:
        (tmp_path / export.path).mkdir(parents=True)
    check = verify_exports(tmp_path, fold(events))
    assert (check.checked, check.unlisted) == (0, len(exports_of(events)))
    assert [d.folder_missing for d in check.damaged] == [True]


def test_a_damaged_export_is_exported_whole_until_a_run_has_done_so(tmp_path: Path) -> None:
    events = filed(tmp_path, two_runs())
    first = exports_of(events)[0]
    shutil.rmtree(tmp_path / first.path)
    damaged = verify_exports(tmp_path, fold(events)).damaged
    assert whole_exports_needed(fold(events), damaged) == (first.channel_id,)
    rerun = [
        replace(e, from_scratch=(first.channel_id,))
        if isinstance(e, RunStarted) and e.run == "run-2"
        else e
        for e in events
    ]
    assert whole_exports_needed(fold(rerun), damaged) == ()
    later = [e for e in exports_of(rerun) if e.channel_id == first.channel_id][-1]
    shutil.rmtree(tmp_path / later.path)
    damaged = verify_exports(tmp_path, fold(rerun)).damaged
    assert whole_exports_needed(fold(rerun), damaged) == (first.channel_id,)


def from_scratch_in_run_2(events: list[AnyEvent], channel: str) -> list[AnyEvent]:
    """``events`` as if run 2 had found ``channel``'s exports damaged (and exported it whole)."""
    return [
        replace(e, from_scratch=(channel,)) if isinstance(e, RunStarted) and e.run == "run-2" else e
        for e in events
    ]


def test_damage_a_later_whole_export_made_good_is_superseded_not_damaged(tmp_path: Path) -> None:
    events = filed(tmp_path, two_runs())
    first = exports_of(events)[0]
    shutil.rmtree(tmp_path / first.path)
    before = verify_exports(tmp_path, fold(events))
    assert ([d.path for d in before.damaged], before.superseded) == ([first.path], ())
    rerun = from_scratch_in_run_2(events, first.channel_id)
    later = [e for e in exports_of(rerun) if e.channel_id == first.channel_id][-1]
    check = verify_exports(tmp_path, fold(rerun))
    assert (check.damaged, check.from_scratch) == ((), ())
    assert [(d.path, d.folder_missing, d.superseded_by) for d in check.superseded] == [
        (first.path, True, WholeExport(run_id="run-2", seq=later.seq, path=later.path))
    ]
    assert check.superseded[0].superseded_by is not None
    assert check.superseded[0].superseded_by.describe() == (
        f"the whole export {later.path} (the channel again from its first message)"
    )


def test_a_whole_export_that_found_no_message_supersedes_too(tmp_path: Path) -> None:
    """The channel's messages were all deleted since: the archive cannot hold more of it."""
    events = filed(tmp_path, two_runs())
    first = exports_of(events)[0]
    shutil.rmtree(tmp_path / first.path)
    later = [e for e in exports_of(events) if e.channel_id == first.channel_id][-1]
    assert later.seq > first.seq
    shutil.rmtree(tmp_path / later.path)
    emptied = replace(later, path="", message_count=0, last_message_id=None, files=())
    rerun = from_scratch_in_run_2([emptied if e is later else e for e in events], first.channel_id)
    check = verify_exports(tmp_path, fold(rerun))
    assert (check.damaged, [d.path for d in check.superseded]) == ((), [first.path])
    by = check.superseded[0].superseded_by
    assert by is not None
    assert by.describe() == (
        f"the whole export of run run-2 (seq {later.seq}), which found no message in the channel"
    )

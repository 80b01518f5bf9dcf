"""The owner's own messages where Discord says no: from the data package into the index.

Only conversations Discord refuses for good (skipped, unreachable) get them, marked
``source = 'package'``; a DCE copy of the same id always wins; the package is read again when
it changes, moves back, or the refused conversations change; a package that is gone, changed
or unreadable adds nothing and says so once.
"""

from __future__ import annotations

import json
import os
from datetime import UTC
from pathlib import Path

from dmj.adapters import open_package
from dmj.projections.history import open_history, parse_query, rebuild_index, refresh_index

from tests.projections.history.archives import (
    BAND_1,
    DAN_DM,
    DAN_GONE,
    DAN_HI,
    DAN_MINE,
    ERIN,
    ERIN_1,
    ERIN_2,
    ERIN_DM,
    FRANK_1,
    FRANK_DM,
    ONE_SIDED,
    one_sided_archive,
)
from tests.projections.history.chats import ME, Chat, write_archive

EVERYTHING = parse_query("")


def selected(archive: Path, query: str = "") -> dict[int, str]:
    """Message id → source of what ``query`` selects."""
    with open_history(archive, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        return {m.id: m.source for m in history.select(parse_query(query)).messages()}


def test_refused_conversations_get_the_owner_s_package_messages_and_nothing_else_does(
    tmp_path: Path,
) -> None:
    archive = one_sided_archive(tmp_path / "archive")
    notices: list[str] = []
    with open_history(archive, zone=UTC, notice=notices.append, packages=open_package) as history:
        selection = history.select(EVERYTHING)
        messages = {m.id: m for m in selection.messages()}
        gaps = {g.channel_id: g.partial for g in selection.gaps}
    assert {i: m.source for i, m in messages.items()} == {
        int(DAN_HI["id"]): "discord", int(DAN_MINE["id"]): "discord",
        int(ERIN_1["id"]): "package", int(ERIN_2["id"]): "package",
        int(FRANK_1["id"]): "package",
    }, "not the failed group's, not the one deleted later from an archived DM"  # fmt: skip
    assert int(BAND_1["id"]) not in messages
    assert int(DAN_GONE["id"]) not in messages
    erin = messages[int(ERIN_1["id"])]
    assert (erin.channel_id, erin.author_id, erin.content) == (
        int(ERIN_DM),
        int(ME.id),
        ERIN_1["content"],
    )
    assert erin.created_at == "2023-05-06T02:00:00+00:00", "the package's UTC time"
    picture = messages[int(ERIN_2["id"])].attachments
    assert [(a.file_name, a.size_bytes) for a in picture] == [("photo_1.jpg", 0)]
    assert gaps == {int(ERIN_DM): True, int(FRANK_DM): True, int(ONE_SIDED[3].channel): False}
    assert notices == [f"Building the message index {archive / 'index.sqlite'}: it is missing."]


def test_source_selects_where_messages_came_from(tmp_path: Path) -> None:
    archive = one_sided_archive(tmp_path / "archive")
    assert set(selected(archive, "source:package")) == {
        int(ERIN_1["id"]), int(ERIN_2["id"]), int(FRANK_1["id"]),
    }  # fmt: skip
    assert set(selected(archive, "-source:package")) == {int(DAN_HI["id"]), int(DAN_MINE["id"])}
    assert set(selected(archive, "from:me source:discord")) == {int(DAN_MINE["id"])}
    assert set(selected(archive, "in:erin")) == {int(ERIN_1["id"]), int(ERIN_2["id"])}


def test_a_dce_copy_of_the_same_id_wins_and_nothing_is_duplicated(tmp_path: Path) -> None:
    """Erin's DM was archived in run 1, then refused in run 2: the package's copy of a
    message DCE archived is not added; the owner's newer one is."""
    first = [Chat(ERIN_DM, (ERIN,), [ERIN_1])]
    second = [Chat(ERIN_DM, (ERIN,), fate="unreachable", own=[ERIN_1, ERIN_2])]
    archive = write_archive(tmp_path / "archive", first, runs=[second])
    assert selected(archive) == {int(ERIN_1["id"]): "discord", int(ERIN_2["id"]): "package"}
    with open_history(archive, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        assert history.select(EVERYTHING).gaps == (), "a conversation with archived messages"


def test_a_later_export_replaces_the_package_s_copies(tmp_path: Path) -> None:
    """Refused in run 1 (its messages from the package), archived in run 2: DCE's copies
    replace the package's, once each, in the index refreshed after each run."""
    refused = [Chat(ERIN_DM, (ERIN,), fate="unreachable", own=[ERIN_1, ERIN_2])]
    archive = write_archive(tmp_path / "archive", refused)
    assert set(selected(archive).values()) == {"package"}
    answered = [Chat(ERIN_DM, (ERIN,), [ERIN_1, ERIN_2])]
    write_archive(tmp_path / "again", refused, runs=[answered])
    os.replace(tmp_path / "again" / "journal.jsonl", archive / "journal.jsonl")
    os.replace(tmp_path / "again" / "exports", archive / "exports")
    caught_up = refresh_index(archive, notice=lambda _: None, packages=open_package)
    assert (caught_up.built, caught_up.exports) == (None, 1), "refreshed, not rebuilt"
    refreshed = selected(archive)
    assert refreshed == {int(ERIN_1["id"]): "discord", int(ERIN_2["id"]): "discord"}
    rebuild_index(archive, notice=lambda _: None, packages=open_package)
    assert selected(archive) == refreshed


def test_a_package_that_is_gone_adds_nothing_says_so_once_and_is_read_when_back(
    tmp_path: Path,
) -> None:
    archive = one_sided_archive(tmp_path / "archive")
    package = archive / "package"
    package.rename(tmp_path / "elsewhere")
    notices: list[str] = []
    refresh_index(archive, notice=notices.append, packages=open_package)
    refresh_index(archive, notice=notices.append, packages=open_package)
    assert notices[1:] == [
        f"The data package {package} the last run read is gone, so your own messages in 2 "
        "conversations Discord refuses are not in the message index; put it back, or run "
        "`dmj run --package PATH` with it."
    ], "said once: the second reader finds the index up to date"
    assert "package" not in selected(archive).values()
    (tmp_path / "elsewhere").rename(package)
    assert list(selected(archive).values()).count("package") == 3, "back: read again"


def test_a_changed_package_adds_nothing_and_says_so(tmp_path: Path) -> None:
    archive = one_sided_archive(tmp_path / "archive")
    channel = archive / "package" / "Messages" / f"c{DAN_DM}" / "channel.json"
    channel.write_text(json.dumps({"id": DAN_DM, "type": "DM", "recipients": [ME.id, "999"]}))
    notices: list[str] = []
    refresh_index(archive, notice=notices.append, packages=open_package)
    assert notices[1] == (
        f"The data package at {archive / 'package'} is not the one the last run read (it "
        "changed since), so your own messages in 2 conversations Discord refuses are not in "
        "the message index; put that package back, or run `dmj run --package PATH` with this "
        "one."
    )
    assert "package" not in selected(archive).values()


def test_an_unreadable_package_file_is_reported_and_the_others_are_still_read(
    tmp_path: Path,
) -> None:
    archive = one_sided_archive(tmp_path / "archive")
    broken = archive / "package" / "Messages" / f"c{ERIN_DM}" / "messages.json"
    broken.write_text('[{"ID": 1, "Timestamp": ', encoding="utf-8")
    notices: list[str] = []
    refresh_index(archive, notice=notices.append, packages=open_package)
    assert len(notices) == 2
    assert notices[1] == (
        f"{archive / 'package'}: Messages/c{ERIN_DM}/messages.json cannot be read (Input data "
        "was truncated); download the package again, or pass a newer one with --package. Its "
        "messages are not in the message index."
    )
    assert selected(archive, "source:package") == {int(FRANK_1["id"]): "package"}


def test_the_package_s_owner_is_the_author_and_from_me_finds_them(tmp_path: Path) -> None:
    archive = one_sided_archive(tmp_path / "archive")
    with open_history(archive, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        mine = list(history.select(parse_query("from:me")).messages())
        names = {(m.author_name, m.author_display) for m in mine if m.source == "package"}
        dan = next(c for c in history.conversations() if c.id == int(DAN_DM))
        erin = next(c for c in history.conversations() if c.id == int(ERIN_DM))
    assert names == {(ME.username, ME.global_name)}
    assert len(mine) == 4
    assert (dan.archived, dan.from_package, erin.archived, erin.from_package) == (2, 0, 0, 2)
    assert erin.archived_last_ts is None
    assert dan.archived_last_ts is not None

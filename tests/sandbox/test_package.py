"""The data package: every layout reads back to the world's DMs, byte-for-byte reproducible."""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from pathlib import Path

import msgspec
import pytest
from dmj.adapters import read_package
from dmj.sandbox import (
    LAYOUTS,
    Layout,
    MessageLog,
    World,
    WorldSpec,
    build_world,
    create_sandbox,
    world_facts,
    write_package,
)

ALL_LAYOUTS = [
    msgspec.convert(
        {"casing": casing, "prefix": prefix, "type_style": type_style, "messages": messages},
        Layout,
    )
    for casing, prefix, type_style, messages in itertools.product(
        ("lower", "title", "german"), (True, False), ("string", "int"), ("json", "csv")
    )
]


def layout_id(layout: Layout) -> str:
    prefix = "c" if layout.prefix else "bare"
    return f"{layout.casing}-{prefix}-{layout.type_style}-{layout.messages}"


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldSpec())


Key = tuple[str, str, str | None, tuple[str, ...], str | None, tuple[str, ...]]


def expected_dms(world: World) -> list[Key]:
    """The DM list a reader must get from the package, from the world: channel id, kind,
    user id, recipients, the index name (None for an unnamed group), older duplicates."""
    facts = world_facts(world)
    expected = []
    for channel in world.channels:
        if not channel.in_package or channel.fate == "duplicate":
            continue
        users = [world.user(uid) for uid in channel.recipients]
        deleted = channel.type == 1 and any(u is None or u.deleted for u in users)
        ids = (
            tuple(u.id for u in users if u and not u.deleted) if channel.package_recipients else ()
        )
        first = users[0]
        if channel.type == 3:
            name = channel.name
        elif deleted or first is None:
            name = "Direct Message with Unknown Participant"
        else:
            name = f"Direct Message with {first.username}#{first.discriminator}"
        kind = "group" if channel.type == 3 else "deleted" if deleted else "dm"
        user_id = ids[0] if kind == "dm" else None
        older = tuple(sorted(facts.duplicates.get(channel.id, ()), key=int))
        expected.append((channel.id, kind, user_id, tuple(sorted(ids, key=int)), name, older))
    return sorted(expected, key=lambda key: int(key[0]))


def read_dms(package: Path) -> list[Key]:
    """The package as dmj's own reader sees it, in ``expected_dms``'s terms."""
    contents = read_package(package)
    assert contents.problems == ()
    keys = [
        (
            dm.channel_id, dm.kind, dm.user_id, tuple(sorted(dm.recipient_ids, key=int)),
            None if dm.kind == "group" and dm.name == f"group {dm.channel_id}" else dm.name,
            tuple(sorted(dm.other_channel_ids, key=int)),
        )
        for dm in contents.dms
    ]  # fmt: skip
    return sorted(keys, key=lambda key: int(key[0]))


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize("layout", ALL_LAYOUTS, ids=layout_id)
def test_every_layout_reads_back_to_the_worlds_dm_list(
    tmp_path: Path, world: World, layout: Layout, as_zip: bool
) -> None:
    package = write_package(world, tmp_path / ("p.zip" if as_zip else "p"), layout, as_zip=as_zip)
    assert read_package(package).owner.id == world.self_user.id
    assert read_dms(package) == expected_dms(world)


def count_rows(data: bytes, layout: Layout) -> int:
    if layout.messages == "json":
        return len(json.loads(data))
    return len(list(csv.DictReader(io.StringIO(data.decode()))))


@pytest.mark.parametrize("layout", [LAYOUTS["2025"], LAYOUTS["2020"]], ids=["json", "csv"])
def test_each_channel_lists_exactly_the_owners_messages(
    tmp_path: Path, world: World, layout: Layout
) -> None:
    root = write_package(world, tmp_path / "p", layout, as_zip=False)
    files = {p.parent.name.removeprefix("c"): p for p in root.rglob(f"messages.{layout.messages}")}
    for channel in (c for c in world.channels if c.in_package):
        log = MessageLog(world, channel)
        mine = sum(log.package_row(i) is not None for i in range(len(log)))
        assert count_rows(files[channel.id].read_bytes(), layout) == mine, channel.fate


def test_the_round_trip_covers_every_kind_of_dm(world: World) -> None:
    """The world the round trip reads must hold every case a reader has to get right."""
    dms = expected_dms(world)
    assert {kind for _, kind, *_ in dms} == {"dm", "group", "deleted"}
    assert any(older for *_, older in dms), "a duplicate DM"
    assert any(kind == "group" and not ids for _, kind, _, ids, _, _ in dms), "no recipients"
    assert any(kind == "group" and name is None for _, kind, _, _, name, _ in dms), "unnamed"
    empty = [c for c in world.channels if c.in_package and c.message_count == 0]
    assert empty, "a DM whose messages were all deleted"


def folder_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("layout_name", sorted(LAYOUTS))
def test_the_same_seed_writes_byte_identical_worlds_and_packages(
    tmp_path: Path, layout_name: str
) -> None:
    layout = LAYOUTS[layout_name]  # type: ignore[index]
    for run in ("a", "b"):
        create_sandbox(tmp_path / run / "folder", WorldSpec(seed=42), layout=layout)
        create_sandbox(tmp_path / run / "zip", WorldSpec(seed=42), layout=layout, as_zip=True)
    for kind in ("folder", "zip"):
        first = tmp_path / "a" / kind
        second = tmp_path / "b" / kind
        assert (first / "world.json").read_bytes() == (second / "world.json").read_bytes()
    assert folder_bytes(tmp_path / "a/folder/package") == folder_bytes(
        tmp_path / "b/folder/package"
    )
    assert (tmp_path / "a/zip/package.zip").read_bytes() == (
        tmp_path / "b/zip/package.zip"
    ).read_bytes()


def test_another_seed_writes_another_world(tmp_path: Path) -> None:
    one = create_sandbox(tmp_path / "one", WorldSpec(seed=1))
    two = create_sandbox(tmp_path / "two", WorldSpec(seed=2))
    assert one.world_file.read_bytes() != two.world_file.read_bytes()
    assert {c.id for c in one.world.channels}.isdisjoint(c.id for c in two.world.channels)


def test_zip_entries_carry_fixed_timestamps_and_permissions(tmp_path: Path, world: World) -> None:
    package = write_package(world, tmp_path / "p.zip", LAYOUTS["2025"], as_zip=True)
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_the_2025_layout_is_title_case_with_c_folders_string_types_and_json(
    tmp_path: Path, world: World
) -> None:
    root = write_package(world, tmp_path / "p", LAYOUTS["2025"], as_zip=False)
    dm = next(c for c in world.channels if c.fate == "open")
    assert json.loads((root / "Account/user.json").read_text())["id"] == world.self_user.id
    channel = json.loads((root / f"Messages/c{dm.id}/channel.json").read_text())
    assert channel == {"id": dm.id, "type": "DM", "recipients": channel["recipients"]}
    assert sorted(channel["recipients"]) == sorted([world.self_user.id, dm.recipients[0]])
    rows = json.loads((root / f"Messages/c{dm.id}/messages.json").read_text())
    assert rows
    assert list(rows[0]) == ["ID", "Timestamp", "Contents", "Attachments"]
    assert isinstance(rows[0]["ID"], int)
    assert len(rows[0]["Timestamp"]) == len("2023-12-11 02:01:09")
    index = json.loads((root / "Messages/index.json").read_text())
    assert index[dm.id].startswith("Direct Message with ")
    assert None in index.values(), "a deleted channel maps to null"
    assert (root / "Servers/index.json").is_file()


def test_the_2020_layout_has_bare_id_folders_integer_types_and_csv(
    tmp_path: Path, world: World
) -> None:
    root = write_package(world, tmp_path / "p", LAYOUTS["2020"], as_zip=False)
    deleted = next(c for c in world.channels if c.fate == "deleted")
    channel = json.loads((root / f"messages/{deleted.id}/channel.json").read_text())
    assert channel["type"] == 1
    assert "Deleted User" in channel["recipients"]
    text = (root / f"messages/{deleted.id}/messages.csv").read_bytes()
    assert text.startswith(b"ID,Timestamp,Contents,Attachments\r\n")
    assert (root / "account/user.json").is_file()
    assert not any(p.name.startswith("c") for p in (root / "messages").iterdir() if p.is_dir())


def test_the_localized_layout_uses_german_folder_names(tmp_path: Path, world: World) -> None:
    root = write_package(world, tmp_path / "p", LAYOUTS["localized"], as_zip=False)
    assert sorted(p.name for p in root.iterdir()) == [
        "Konto", "Nachrichten", "README.txt", "Server",
    ]  # fmt: skip


def test_a_package_can_leave_out_dms_first_written_in_later(tmp_path: Path, world: World) -> None:
    later = next(c.id for c in world.channels if c.fate == "readable")
    package = write_package(world, tmp_path / "p", LAYOUTS["2025"], as_zip=False, exclude=[later])
    dms = read_dms(package)
    assert later not in {channel_id for channel_id, *_ in dms}
    assert len(dms) == len(expected_dms(world)) - 1

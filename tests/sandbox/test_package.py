"""The data package: every layout reads back to the world's DMs, byte-for-byte reproducible."""

from __future__ import annotations

import itertools
import json
import zipfile
from pathlib import Path

import msgspec
import pytest
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

from tests.sandbox.package_reader import ReadDm, read_package

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


def expected_dms(world: World) -> list[ReadDm]:
    """The DM list a reader must get from the package, written from the world's facts."""
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
        if channel.type == 3:
            name = channel.name or "None"
        elif deleted:
            name = "Direct Message with Unknown Participant"
        else:
            name = f"Direct Message with {users[0].username}#{users[0].discriminator}"  # type: ignore[union-attr]
        log = MessageLog(world, channel)
        expected.append(
            ReadDm(
                channel_id=channel.id,
                kind="group" if channel.type == 3 else "deleted" if deleted else "dm",
                user_id=ids[0] if channel.type == 1 and not deleted else None,
                recipients=tuple(sorted(ids, key=int)),
                name=name,
                messages=sum(log.package_row(i) is not None for i in range(len(log))),
                older_channel_ids=facts.duplicates.get(channel.id, ()),
            )
        )
    return expected


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize("layout", ALL_LAYOUTS, ids=layout_id)
def test_every_layout_reads_back_to_the_worlds_dm_list(
    tmp_path: Path, world: World, layout: Layout, as_zip: bool
) -> None:
    package = write_package(world, tmp_path / ("p.zip" if as_zip else "p"), layout, as_zip=as_zip)
    owner, dms = read_package(package)
    assert owner == world.self_user.id
    assert dms == expected_dms(world)


def test_the_round_trip_covers_every_kind_of_dm(world: World) -> None:
    """The world the round trip reads must hold every case a reader has to get right."""
    dms = expected_dms(world)
    assert {dm.kind for dm in dms} == {"dm", "group", "deleted"}
    assert any(dm.older_channel_ids for dm in dms), "a duplicate DM"
    assert any(dm.kind == "group" and not dm.recipients for dm in dms), "a group without recipients"
    assert any(dm.messages == 0 for dm in dms), "a DM whose messages were all deleted"
    assert sum(dm.messages for dm in dms) > 50


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
    _, dms = read_package(package)
    assert later not in {dm.channel_id for dm in dms}
    assert len(dms) == len(expected_dms(world)) - 1

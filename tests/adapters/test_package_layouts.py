"""Every package layout the sandbox writes reads to the same DM list: the world's DMs."""

from __future__ import annotations

from pathlib import Path

import pytest
from dmj.adapters import read_package
from dmj.machine.package import PackageContents
from dmj.sandbox import Layout, World, WorldSpec, build_world, world_facts, write_package

from tests.sandbox.test_package import ALL_LAYOUTS, layout_id


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldSpec(users=24, groups=4, duplicates=2))


@pytest.fixture(scope="module")
def reference(world: World, tmp_path_factory: pytest.TempPathFactory) -> PackageContents:
    root = tmp_path_factory.mktemp("reference")
    return read_package(write_package(world, root / "package", Layout(), as_zip=False))


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize("layout", ALL_LAYOUTS, ids=layout_id)
def test_every_layout_reads_to_the_same_dm_list(
    tmp_path: Path, world: World, reference: PackageContents, layout: Layout, as_zip: bool
) -> None:
    package = write_package(world, tmp_path / ("p.zip" if as_zip else "p"), layout, as_zip=as_zip)
    assert read_package(package) == reference


def test_the_dm_list_is_the_worlds(world: World, reference: PackageContents) -> None:
    facts = world_facts(world)
    by_id = {dm.channel_id: dm for dm in reference.dms}
    assert reference.owner.id == world.self_user.id
    assert reference.owner.username == world.self_user.username
    assert reference.problems == ()
    in_package = {c.id for c in world.channels if c.in_package and c.fate != "duplicate"}
    assert set(by_id) == in_package
    assert {i for i, dm in by_id.items() if dm.kind == "group"} == set(facts.group_dms)
    assert {i for i, dm in by_id.items() if dm.kind == "deleted"} == set(facts.deleted_user_dms)
    merged = {i: dm.other_channel_ids for i, dm in by_id.items() if dm.other_channel_ids}
    assert merged == {i: tuple(sorted(o, key=int)) for i, o in facts.duplicates.items()}
    assert len(merged) == 2
    for channel in world.channels:
        if channel.id in by_id and by_id[channel.id].kind == "dm":
            assert by_id[channel.id].user_id == channel.recipients[0]
            assert by_id[channel.id].name.startswith("Direct Message with ")


def test_the_world_holds_every_case_the_reader_must_get_right(reference: PackageContents) -> None:
    kinds = {dm.kind for dm in reference.dms}
    assert kinds == {"dm", "group", "deleted"}
    assert any(dm.kind == "group" and not dm.recipient_ids for dm in reference.dms)

"""The package reader finds a package's DMs by structure, whatever its era or shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from dmj.adapters import read_package
from dmj.machine.package import PackageContents, PackageDm, PackageOwner

from tests.adapters.package_files import (
    ALICE,
    BOB,
    OWNER,
    current_package,
    old_package,
    write_folder,
    write_zip,
)

EXPECTED_DMS = (
    PackageDm(
        channel_id="900000000000000001",
        kind="dm",
        user_id=ALICE,
        recipient_ids=(ALICE,),
        name="Direct Message with alice#0",
    ),
    PackageDm(
        channel_id="900000000000000002",
        kind="group",
        user_id=None,
        recipient_ids=(ALICE, BOB),
        name="Trip crew",
    ),
    PackageDm(channel_id="900000000000000005", kind="deleted", user_id=None, name="Deleted User"),
)


def read(tmp_path: Path, files: dict[str, object], *, zipped: bool = False) -> PackageContents:
    if zipped:
        return read_package(write_zip(tmp_path / "package.zip", files))
    return read_package(write_folder(tmp_path / "package", files))


def test_a_current_package_gives_dms_group_dms_and_deleted_user_dms(tmp_path: Path) -> None:
    contents = read(tmp_path, current_package())
    assert contents.owner == PackageOwner(id=OWNER, username="me", global_name="Me")
    assert contents.dms == EXPECTED_DMS
    assert contents.problems == ()


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(old_package(), id="pre-2021-lowercase-bare-ids-integer-types"),
        pytest.param(current_package("Nachrichten", "Konto"), id="localized-folders"),
        pytest.param(
            {f"package/{k}": v for k, v in current_package().items()}, id="wrapped-in-a-folder"
        ),
        pytest.param(current_package("MESSAGES", "ACCOUNT"), id="upper-case"),
    ],
)
@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_every_layout_reads_to_the_same_dms(
    tmp_path: Path, files: dict[str, object], zipped: bool
) -> None:
    contents = read(tmp_path, files, zipped=zipped)
    assert (contents.owner.id, contents.dms, contents.problems) == (OWNER, EXPECTED_DMS, ())


def test_the_fingerprint_names_the_contents_not_the_shape(tmp_path: Path) -> None:
    folder = read(tmp_path, current_package())
    zipped = read(tmp_path, old_package(), zipped=True)
    assert folder.fingerprint == zipped.fingerprint
    assert folder.fingerprint.startswith("sha256:")
    files = current_package()
    del files["Messages/c900000000000000005/channel.json"]
    assert read(tmp_path / "other", files).fingerprint != folder.fingerprint


def test_mac_and_windows_litter_is_ignored(tmp_path: Path) -> None:
    files = {
        **current_package(),
        "__MACOSX/Messages/c900000000000000009/channel.json": b"\x00\x05\x16\x07",
        "Messages/c900000000000000009/._channel.json": b"\x00\x05\x16\x07",
        "Messages/.DS_Store": b"\x00\x00",
        "Messages/Thumbs.db": b"\x00",
    }
    contents = read(tmp_path, files, zipped=True)
    assert (contents.dms, contents.problems) == (EXPECTED_DMS, ())


def test_several_channels_with_one_user_merge_into_the_newest(tmp_path: Path) -> None:
    files = current_package()
    files["Messages/c900000000000000007/channel.json"] = {
        "id": "900000000000000007",
        "type": "DM",
        "recipients": [ALICE, OWNER],
    }
    files["Messages/c800000000000000001/channel.json"] = {
        "id": "800000000000000001",
        "type": 1,
        "recipients": [OWNER, ALICE],
    }
    alice = read(tmp_path, files).dms[-1]
    assert alice == PackageDm(
        channel_id="900000000000000007",
        kind="dm",
        user_id=ALICE,
        recipient_ids=(ALICE,),
        name="Direct Message with alice#0",
        other_channel_ids=("800000000000000001", "900000000000000001"),
    )


def test_dms_without_a_name_in_the_index_get_one_made_up(tmp_path: Path) -> None:
    files = current_package()
    files["Messages/index.json"] = {"900000000000000001": None, "900000000000000002": "None"}
    names = [dm.name for dm in read(tmp_path, files).dms]
    assert names == [f"user {ALICE}", "Trip crew", "Deleted User"]


def test_a_group_dm_without_recipients_is_still_a_group_dm(tmp_path: Path) -> None:
    files = current_package()
    files["Messages/c900000000000000002/channel.json"] = {
        "id": "900000000000000002",
        "type": "GROUP_DM",
    }
    group = read(tmp_path, files).dms[1]
    assert (group.kind, group.recipient_ids, group.name) == ("group", (), "Trip crew")

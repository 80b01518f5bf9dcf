"""Bad packages: a bad channel file is reported and skipped; a package dmj cannot use is
refused with an error naming the file and what is wrong."""

from __future__ import annotations

import json
import re
import struct
import zipfile
from pathlib import Path

import pytest
from dmj.adapters import read_package
from dmj.machine.errors import PackageError
from dmj.machine.package import PackageProblem

from tests.adapters.package_files import ALICE, OWNER, current_package, write_folder, write_zip

BAD_CHANNEL = "Messages/c900000000000000006/channel.json"
ALICE_CHANNEL = "Messages/c900000000000000001/channel.json"


def package(tmp_path: Path, **changes: object) -> Path:
    files: dict[str, object] = {**current_package(), **changes}
    return write_folder(tmp_path / "package", {k: v for k, v in files.items() if v is not None})


@pytest.mark.parametrize(
    ("content", "what"),
    [
        pytest.param(b'{"id": "900000000000000006", "type": "DM", "recip', "truncated", id="cut"),
        pytest.param(b"\xff\xfe not json", "malformed", id="binary"),
        pytest.param({"type": "DM"}, "missing required field `id`", id="no-id"),
        pytest.param(
            {"id": "900000000000000006", "type": []},
            "Expected `int | str`, got `array` - at `$.type`",
            id="type",
        ),
        pytest.param(["not", "an", "object"], "Expected `object`", id="array"),
    ],
)
def test_a_bad_channel_file_is_reported_and_skipped(
    tmp_path: Path, content: object, what: str
) -> None:
    contents = read_package(package(tmp_path, **{BAD_CHANNEL: content}))
    assert len(contents.dms) == 3
    [problem] = contents.problems
    assert problem.path == BAD_CHANNEL
    assert problem.message.startswith(f"{BAD_CHANNEL} cannot be read (")
    assert problem.message.endswith("), so its conversation is left out of the plan.")
    assert what in problem.message


def test_a_channel_file_naming_another_channel_is_skipped(tmp_path: Path) -> None:
    wrong = {"id": "900000000000000001", "type": "DM", "recipients": [OWNER, ALICE]}
    contents = read_package(package(tmp_path, **{BAD_CHANNEL: wrong}))
    assert contents.problems == (
        PackageProblem(
            path=BAD_CHANNEL,
            message=f"{BAD_CHANNEL} names channel 900000000000000001, not 900000000000000006 "
            "as its folder does, so its conversation is left out of the plan.",
        ),
    )
    assert [dm.channel_id for dm in contents.dms if dm.user_id == ALICE] == ["900000000000000001"]


@pytest.mark.parametrize(
    "recipients",
    [None, [OWNER], [OWNER, ALICE, "444444444444444444"], ["555555555555555555", ALICE]],
    ids=["none", "only-the-owner", "three-people", "not-the-owner"],
)
def test_a_dm_that_is_not_the_owner_and_one_other_user_is_skipped(
    tmp_path: Path, recipients: list[str] | None
) -> None:
    channel = {"id": "900000000000000006", "type": "DM", "recipients": recipients}
    contents = read_package(package(tmp_path, **{BAD_CHANNEL: channel}))
    [problem] = contents.problems
    assert problem.path == BAD_CHANNEL
    assert "a DM needs the owner 111111111111111111 and one other user" in problem.message
    assert len(contents.dms) == 3


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_a_channel_folder_without_its_channel_json_is_reported(
    tmp_path: Path, zipped: bool
) -> None:
    files = {**current_package(), BAD_CHANNEL: None, "Messages/c900000000000000006/x.json": []}
    present = {k: v for k, v in files.items() if v is not None}
    path = (
        write_zip(tmp_path / "p.zip", present) if zipped else write_folder(tmp_path / "p", present)
    )
    contents = read_package(path)
    assert contents.problems == (
        PackageProblem(
            path=BAD_CHANNEL,
            message="Messages/c900000000000000006/ has no channel.json, so its conversation is "
            "left out of the plan.",
        ),
    )
    assert len(contents.dms) == 3


def test_a_missing_or_broken_index_only_costs_the_names(tmp_path: Path) -> None:
    missing = read_package(package(tmp_path / "a", **{"Messages/index.json": None}))
    broken = read_package(package(tmp_path / "b", **{"Messages/index.json": b"{"}))
    assert [dm.name for dm in missing.dms] == [f"user {ALICE}", "Trip crew", "Deleted User"]
    assert [dm.name for dm in broken.dms] == [dm.name for dm in missing.dms]
    assert [p.message for p in missing.problems] == [
        "Messages/index.json is missing; DM names are made up from ids."
    ]
    [problem] = broken.problems
    assert problem.message.startswith("Messages/index.json cannot be read (")


def test_without_user_json_the_owner_is_the_one_id_in_every_dm(tmp_path: Path) -> None:
    bob_dm = {"id": "900000000000000006", "type": "DM", "recipients": ["333333333333333333", OWNER]}
    contents = read_package(package(tmp_path, **{"Account/user.json": None, BAD_CHANNEL: bob_dm}))
    assert contents.owner.id == OWNER
    assert [p.message for p in contents.problems] == [
        f"The account's user.json is missing; the owner {OWNER} was inferred."
    ]


def test_without_user_json_and_one_dm_the_owner_cannot_be_told(tmp_path: Path) -> None:
    deleted = "Messages/c900000000000000005/channel.json"
    path = package(tmp_path, **{"Account/user.json": None, deleted: None})
    with pytest.raises(PackageError, match=r"has no account/user.json and its DMs do not show"):
        read_package(path)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b'{"username": "me"}', "has no account id (top-level 'id')"),
        (b'{"id": 111111111111111111}', "has no account id"),
        (b'{"relationships": [{"id": "2"}], "username": "me"}', "has no account id"),
        (b'{"id": "1111', "is not a readable account file: it is cut off or malformed at"),
        (b'{"id": "1111",', "is not a readable account file: it ends before its top-level"),
        (b"[1, 2]", "is not a readable account file: it is not a JSON object."),
    ],
)
def test_an_unusable_user_json_is_refused_naming_it(
    tmp_path: Path, content: bytes, what: str
) -> None:
    path = package(tmp_path, **{"Account/user.json": content})
    with pytest.raises(PackageError) as error:
        read_package(path)
    assert str(error.value).startswith(f"{path}: Account/user.json ")
    assert what in str(error.value)


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"package\.zip does not exist"):
        read_package(tmp_path / "package.zip")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "package.zip"
    path.write_text("hello")
    with pytest.raises(PackageError, match=r"is neither a folder nor a readable \.zip file"):
        read_package(path)


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_a_package_without_messages_is_refused(tmp_path: Path, zipped: bool) -> None:
    files = {"Account/user.json": {"id": OWNER}, "Servers/index.json": {}}
    path = write_zip(tmp_path / "p.zip", files) if zipped else write_folder(tmp_path / "p", files)
    with pytest.raises(PackageError, match=re.escape(f"{path} has no messages folder")):
        read_package(path)


def test_two_packages_in_one_folder_are_refused(tmp_path: Path) -> None:
    files = current_package()
    both = {
        **{f"one/{k}": v for k, v in files.items()},
        **{f"two/{k}": v for k, v in files.items()},
    }
    with pytest.raises(PackageError, match=r"more than one messages folder \(one/Messages, two/"):
        read_package(write_folder(tmp_path / "p", both))


def zip_with_damaged_entry(path: Path, name: str, compression: int) -> Path:
    """A package zip whose entry ``name`` is damaged on disk, as a cut download leaves it.

    A stored entry gets one byte flipped (its CRC no longer matches); a deflated one gets its
    stream overwritten with 0xFF bytes (an invalid deflate block type).
    """
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for entry, value in current_package().items():
            archive.writestr(entry, json.dumps(value).encode())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    data = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    if compression == zipfile.ZIP_STORED:
        data[start + 5] ^= 0x20
    else:
        data[start : start + 4] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("name", "compression", "why"),
    [
        (ALICE_CHANNEL, zipfile.ZIP_STORED, "BadZipFile: Bad CRC-32 for file"),
        (ALICE_CHANNEL, zipfile.ZIP_DEFLATED, "error: Error -3 while decompressing data"),
        ("Account/user.json", zipfile.ZIP_DEFLATED, "error: Error -3 while decompressing"),
        ("Messages/index.json", zipfile.ZIP_STORED, "BadZipFile: Bad CRC-32 for file"),
    ],
    ids=["channel-crc", "channel-deflate", "user-json-streamed", "index-crc"],
)
def test_a_zip_entry_that_does_not_unpack_is_a_package_error_naming_it(
    tmp_path: Path, name: str, compression: int, why: str
) -> None:
    path = zip_with_damaged_entry(tmp_path / "package.zip", name, compression)
    with pytest.raises(PackageError) as error:
        read_package(path)
    message = str(error.value)
    assert message.startswith(f"The data package {path} is damaged: {name} inside it does not ")
    assert why in message
    assert message.endswith(
        "Download the package again from the link Discord sent, or extract it with another "
        "tool and pass the folder with --package."
    )

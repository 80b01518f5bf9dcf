"""The owner's messages in a data package, one channel's file at a time: every layout era reads
to the same ids, ids are integers, and a file that cannot be read is a problem of its channel
(naming the file, what is wrong and what to do), never an exception and never silence."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from dmj.adapters import open_package
from dmj.machine.package import PackageMessage
from dmj.sandbox import MessageLog, World, WorldSpec, build_world, write_package

from tests.adapters.package_files import current_package, old_package, write_folder, write_zip
from tests.sandbox.test_package import ALL_LAYOUTS, layout_id

ALICE_DM = "900000000000000001"
ALICE_FILE = f"Messages/c{ALICE_DM}/messages.json"
ROWS = [
    {"ID": 1183589260452962364, "Timestamp": "2023-12-11 02:01:09", "Contents": "hi",
     "Attachments": ""},
    {"ID": 1183589260452962365, "Timestamp": "2023-12-11 02:01:10", "Contents": "",
     "Attachments": "https://cdn.discordapp.com/attachments/1/2/a.png https://cdn/b.pdf"},
]  # fmt: skip


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldSpec(users=12, groups=3, duplicates=1, deleted_later=1))


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize("layout", ALL_LAYOUTS, ids=layout_id)
def test_every_layout_reads_the_owner_s_messages_of_every_channel(
    tmp_path: Path, world: World, layout: object, as_zip: bool
) -> None:
    path = write_package(world, tmp_path / ("p.zip" if as_zip else "p"), layout, as_zip=as_zip)  # type: ignore[arg-type]
    with open_package(path) as package:
        for channel in (c for c in world.channels if c.in_package):
            rows = MessageLog(world, channel).package_rows()
            found = package.messages(channel.id)
            assert found.problem is None
            assert [(m.id, m.contents, m.attachments) for m in found.messages] == [
                (row[0], row[2], row[3]) for row in rows
            ]
            assert package.message_ids(channel.id).ids == tuple(row[0] for row in rows)


def test_ids_are_the_package_s_json_numbers_as_integers(tmp_path: Path) -> None:
    files = {**current_package(), ALICE_FILE: ROWS}
    with open_package(write_folder(tmp_path / "p", files)) as package:
        found = package.messages(ALICE_DM)
    assert found.messages == (
        PackageMessage(id=1183589260452962364, timestamp="2023-12-11 02:01:09", contents="hi"),
        PackageMessage(
            id=1183589260452962365, timestamp="2023-12-11 02:01:10",
            attachments="https://cdn.discordapp.com/attachments/1/2/a.png https://cdn/b.pdf",
        ),
    )  # fmt: skip
    assert found.path == ALICE_FILE


def test_a_csv_file_is_read_by_its_header_with_quoted_lines_and_a_byte_order_mark(
    tmp_path: Path,
) -> None:
    csv = (
        "\ufeffID,Timestamp,Contents,Attachments\r\n"
        '1183589260452962364,2020-10-10 12:34:56.789000+00:00,"two\nlines, and ""quotes""",\r\n'
        "1183589260452962365,2020-10-10 12:35:00+00:00,,https://cdn/x.png\r\n"
    )
    files = {**old_package(), f"messages/{ALICE_DM}/messages.csv": csv}
    del files[f"messages/{ALICE_DM}/messages.json"]  # a package has one or the other
    with open_package(write_zip(tmp_path / "p.zip", files)) as package:
        found = package.messages(ALICE_DM)
    assert [(m.id, m.timestamp, m.contents, m.attachments) for m in found.messages] == [
        (1183589260452962364, "2020-10-10 12:34:56.789000+00:00", 'two\nlines, and "quotes"', ""),
        (1183589260452962365, "2020-10-10 12:35:00+00:00", "", "https://cdn/x.png"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        pytest.param(ALICE_FILE, b'[{"ID": 1, "Timest', "Input data was truncated", id="cut"),
        pytest.param(ALICE_FILE, b'[{"ID": "12x"}]', "the message id '12x' is not a number",
                     id="json-id"),
        pytest.param(ALICE_FILE, b'{"ID": 1}', "Expected `array`, got `object`", id="object"),
        pytest.param(f"Messages/c{ALICE_DM}/messages.csv", b"ID,Timestamp\n12x,2020\n",
                     "line 2: the message id '12x' is not a number", id="csv-id"),
        pytest.param(f"Messages/c{ALICE_DM}/messages.csv", b"Timestamp\n2020\n",
                     "its first line is not the header ID,Timestamp,Contents,Attachments",
                     id="csv-header"),
        pytest.param(f"Messages/c{ALICE_DM}/messages.csv", b"ID\n\xff\n", "invalid start byte",
                     id="csv-binary"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_is_its_channel_s_problem_and_the_others_still_read(
    tmp_path: Path, name: str, content: bytes, why: str
) -> None:
    files = {**current_package(), name: content, "Messages/c900000000000000002/messages.json": ROWS}
    if name.endswith(".csv"):
        del files[ALICE_FILE]  # a package has one or the other
    path = write_folder(tmp_path / "p", files)
    with open_package(path) as package:
        broken, group = package.messages(ALICE_DM), package.messages("900000000000000002")
        ids = package.message_ids(ALICE_DM)
    assert broken.messages == ()
    assert broken.problem is not None
    assert broken.problem.startswith(f"{path}: {name} cannot be read (")
    assert why in broken.problem
    assert broken.problem.endswith(
        "); download the package again, or pass a newer one with --package."
    )
    assert ids.problem == broken.problem
    assert len(group.messages) == 2


def test_a_channel_without_a_messages_file_says_so(tmp_path: Path) -> None:
    path = write_folder(tmp_path / "p", current_package())
    with open_package(path) as package:
        found = package.messages("900000000000000005")
    assert found.problem == (
        f"{path}: channel 900000000000000005 has no messages.json or messages.csv beside its "
        "channel.json, so the messages you sent there cannot be compared; download the "
        "package again, or pass a newer one with --package."
    )


def test_a_damaged_zip_entry_is_its_channel_s_problem_with_the_reader_s_words(
    tmp_path: Path,
) -> None:
    path = write_zip(tmp_path / "p.zip", {**current_package(), ALICE_FILE: ROWS * 50})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(ALICE_FILE)
    data = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    data[info.header_offset + 30 + name_length + extra_length + 100] ^= 0x20  # a bad CRC
    path.write_bytes(bytes(data))
    with open_package(path) as package:
        found = package.messages(ALICE_DM)
    assert found.problem is not None
    assert found.problem.startswith(
        f"The data package {path} is damaged: {ALICE_FILE} inside it does not unpack ("
    )

"""Opening a package again with what an earlier reader found (``known``): while the stamp of
what its DMs were read from holds, no ``channel.json`` is read again (the messages files
always are); any change that could alter the DMs is seen, and the package is read whole."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from dmj.adapters import _package, open_package, read_package
from dmj.adapters._package_files import decode_channel
from dmj.machine.package import PackageSnapshot

from tests.adapters.package_files import OWNER, current_package, write_folder, write_zip

ALICE_DM = "900000000000000001"
FILES = {
    **current_package(),
    f"Messages/c{ALICE_DM}/messages.json": [{"ID": 11, "Timestamp": "2023-12-11 02:01:09"}],
    "Messages/c900000000000000006/messages.json": [],  # a channel folder without channel.json
}
EXTRACTED = 1_600_000_000_000_000_000
"""When the package's files were written, as an extraction dates them (long before a test)."""


def extracted(root: Path) -> Path:
    """The package folder written and dated as an extraction leaves it."""
    write_folder(root, FILES)
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(EXTRACTED, EXTRACTED))
    return root


def snapshot_of(path: Path) -> PackageSnapshot:
    with open_package(path) as package:
        return package.snapshot


@pytest.fixture
def channel_reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every ``channel.json`` the reader decodes from now on."""
    decoded: list[bytes] = []

    def counting(data: bytes) -> object:
        decoded.append(data)
        return decode_channel(data)

    monkeypatch.setattr(_package, "decode_channel", counting)
    return decoded


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_a_snapshot_holds_what_a_full_read_found(tmp_path: Path, as_zip: bool) -> None:
    path = write_zip(tmp_path / "p.zip", FILES) if as_zip else extracted(tmp_path / "p")
    snapshot = snapshot_of(path)
    assert snapshot.path == str(path)
    assert snapshot.contents == read_package(path)
    assert snapshot.message_files[ALICE_DM] == f"Messages/c{ALICE_DM}/messages.json"
    assert snapshot.stamp.startswith("sha256:" if not as_zip else "")


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_reopening_an_unchanged_package_with_its_snapshot_reads_no_channel_json(
    tmp_path: Path, as_zip: bool, channel_reads: list[bytes]
) -> None:
    path = write_zip(tmp_path / "p.zip", FILES) if as_zip else extracted(tmp_path / "p")
    known = snapshot_of(path)
    channel_reads.clear()
    with open_package(path, known=known) as package:
        assert package.snapshot is known
        assert package.contents == known.contents
        assert package.message_ids(ALICE_DM).ids == (11,), "the messages files are read"
    assert channel_reads == []


def rewrite(root: Path, name: str, content: object) -> None:
    (root / name).write_text(json.dumps(content))


def dm(channel: str, user: str) -> dict[str, object]:
    return {"id": channel, "type": "DM", "recipients": [OWNER, user]}


def channel_written_again(root: Path) -> None:
    rewrite(root, f"Messages/c{ALICE_DM}/channel.json", dm(ALICE_DM, "4" * 18))


def channel_added(root: Path) -> None:
    channel = "900000000000000007"
    write_folder(root, {f"Messages/c{channel}/channel.json": dm(channel, "5" * 18)})


def channel_removed(root: Path) -> None:
    shutil.rmtree(root / "Messages/c900000000000000005")


def channel_json_added_where_none_was(root: Path) -> None:
    channel = "900000000000000006"
    rewrite(root, f"Messages/c{channel}/channel.json", dm(channel, "6" * 18))


def index_written_again(root: Path) -> None:
    rewrite(root, "Messages/index.json", {ALICE_DM: "Direct Message with alicia#0"})


def user_written_again(root: Path) -> None:
    rewrite(root, "Account/user.json", {"id": OWNER, "username": "me2", "global_name": "Me"})


CHANGES: dict[str, Callable[[Path], None]] = {
    "a channel.json written again": channel_written_again,
    "a channel added": channel_added,
    "a channel removed": channel_removed,
    "a channel.json added to a folder without one": channel_json_added_where_none_was,
    "index.json written again": index_written_again,
    "user.json written again": user_written_again,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_package_folder_changed_since_its_snapshot_is_read_whole_again(
    tmp_path: Path, change: Callable[[Path], None], channel_reads: list[bytes]
) -> None:
    root = extracted(tmp_path / "p")
    known = snapshot_of(root)
    change(root)
    channel_reads.clear()
    with open_package(root, known=known) as package:
        assert package.snapshot.stamp != known.stamp
        assert package.contents == read_package(root)
    assert channel_reads, "every channel.json was read again"


def test_a_package_replaced_at_the_same_path_is_read_whole_again(
    tmp_path: Path, channel_reads: list[bytes]
) -> None:
    root = extracted(tmp_path / "p")
    known = snapshot_of(root)
    newer = extracted(tmp_path / "newer")
    shutil.rmtree(root)
    newer.rename(root)
    channel_reads.clear()
    with open_package(root, known=known) as package:
        assert package.snapshot.stamp != known.stamp
    assert channel_reads


def test_a_zip_replaced_at_the_same_path_is_read_whole_again(
    tmp_path: Path, channel_reads: list[bytes]
) -> None:
    path = write_zip(tmp_path / "p.zip", FILES)
    known = snapshot_of(path)
    write_zip(tmp_path / "new.zip", {**FILES, "Messages/index.json": {}}).replace(path)
    channel_reads.clear()
    with open_package(path, known=known) as package:
        assert package.snapshot.stamp != known.stamp
        assert package.contents == read_package(path)
    assert channel_reads


def test_the_snapshot_of_another_package_is_never_used(
    tmp_path: Path, channel_reads: list[bytes]
) -> None:
    first = extracted(tmp_path / "a")
    known = snapshot_of(first)
    second = tmp_path / "b"
    shutil.copytree(first, second)
    channel_reads.clear()
    with open_package(second, known=known) as package:
        assert package.snapshot.path == str(second)
    assert channel_reads


def test_a_channel_json_rewritten_in_place_with_its_size_and_time_kept_is_read_again(
    tmp_path: Path, channel_reads: list[bytes]
) -> None:
    # what extracting a newer package over the folder does when the zip dates its entries
    # alike: the same file (inode), the same length, the entry's time set again
    root = extracted(tmp_path / "p")
    known = snapshot_of(root)
    name = root / f"Messages/c{ALICE_DM}/channel.json"
    before = name.read_bytes()
    after = before.replace(b"222222222222222222", b"777777777777777777")
    assert after != before
    assert len(after) == len(before)
    with name.open("r+b") as file:
        file.write(after)
    os.utime(name, ns=(EXTRACTED, EXTRACTED))
    channel_reads.clear()
    with open_package(root, known=known) as package:
        assert package.contents == read_package(root)
    assert channel_reads, "every channel.json was read again"

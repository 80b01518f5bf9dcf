"""Hand-written data packages for the reader's edge cases (the sandbox writes the full ones)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

OWNER = "111111111111111111"
ALICE = "222222222222222222"
BOB = "333333333333333333"

Files = Mapping[str, object]
"""Package-relative path → content (``bytes`` as is, ``str`` as text, anything else as JSON)."""


def _content(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


def write_folder(root: Path, files: Files) -> Path:
    for name, value in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_content(value))
    return root


def write_zip(path: Path, files: Files) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in files.items():
            archive.writestr(name, _content(value))
    return path


def current_package(messages: str = "Messages", account: str = "Account") -> dict[str, object]:
    """A 2025-style package: Title-case folders, ``c<id>`` channel folders, string types."""
    return {
        f"{account}/user.json": {"id": OWNER, "username": "me", "global_name": "Me"},
        f"{messages}/index.json": {
            "900000000000000001": "Direct Message with alice#0",
            "900000000000000002": "Trip crew",
            "900000000000000003": "general in Test Server",
            "900000000000000004": None,
        },
        f"{messages}/c900000000000000001/channel.json": {
            "id": "900000000000000001",
            "type": "DM",
            "recipients": [OWNER, ALICE],
        },
        f"{messages}/c900000000000000001/messages.json": [],
        f"{messages}/c900000000000000002/channel.json": {
            "id": "900000000000000002",
            "type": "GROUP_DM",
            "name": "Trip crew",
            "recipients": [OWNER, ALICE, BOB],
        },
        f"{messages}/c900000000000000003/channel.json": {
            "id": "900000000000000003",
            "type": "GUILD_TEXT",
            "name": "general",
            "guild": {"id": "800000000000000000", "name": "Test Server"},
        },
        f"{messages}/c900000000000000005/channel.json": {
            "id": "900000000000000005",
            "type": "DM",
            "recipients": [OWNER, "Deleted User"],
        },
        "Servers/index.json": {"800000000000000000": "Test Server"},
    }


def old_package() -> dict[str, object]:
    """The same account as ``current_package`` in a pre-2021 layout: lower case, bare ids,
    integer types."""
    files = current_package(messages="messages", account="account")
    types = {"DM": 1, "GROUP_DM": 3, "GUILD_TEXT": 0}
    renamed: dict[str, object] = {}
    for name, value in files.items():
        if isinstance(value, dict) and value.get("type") in types:
            value = {**value, "type": types[value["type"]]}  # noqa: PLW2901
        renamed[name.replace("/c9", "/9")] = value
    return renamed

"""DCE's JSON export format (dce.md §3): field order, trimmed timestamps, ``messageCount`` last.

``JsonExport`` streams messages into ``name.json``, ``name [part 2].json``, … as DCE's
``MessageExporter`` does, each part a complete document (and a killed process leaves a
truncated one). Stdlib only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "DM_GUILD",
    "Json",
    "JsonExport",
    "channel_name",
    "dce_message",
    "dce_timestamp",
    "dce_user",
]

DM_GUILD = {
    "id": "0",
    "name": "Direct Messages",
    "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
}
_KINDS = {
    0: "Default", 1: "RecipientAdd", 2: "RecipientRemove", 3: "Call", 4: "ChannelNameChange",
    5: "ChannelIconChange", 6: "ChannelPinnedMessage", 7: "GuildMemberJoin",
    18: "ThreadCreated", 19: "Reply",
}  # fmt: skip
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

Json = dict[str, Any]
"""A JSON object as the API sends it and DCE writes it."""


def dce_timestamp(value: str | datetime | None, zone: tzinfo | None) -> str | None:
    """``O`` format with trailing fraction zeros trimmed; ``zone`` None means local time."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment.astimezone(zone) if zone else moment.astimezone()
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{moment.microsecond:06d}0".rstrip("0")
    offset = moment.strftime("%z")
    return f"{text}{'.' + fraction if fraction else ''}{offset[:3]}:{offset[3:]}"


def _display(user: Json) -> str:
    return str(user.get("global_name") or user["username"])


def channel_name(channel: Json) -> str:
    """A DM's name as DCE derives it: the group name, else the recipients by user id."""
    if channel.get("name"):
        return str(channel["name"])
    recipients = sorted(channel.get("recipients", []), key=lambda u: int(u["id"]))
    return ", ".join(_display(u) for u in recipients) or str(channel["id"])


def dce_user(user: Json) -> Json:
    discriminator = int(user.get("discriminator") or 0)
    avatar = user.get("avatar")
    if avatar:
        extension = "gif" if avatar.startswith("a_") else "png"
        url = f"https://cdn.discordapp.com/avatars/{user['id']}/{avatar}.{extension}?size=512"
    else:
        index = (int(user["id"]) >> 22) % 6 if discriminator == 0 else discriminator % 5
        url = f"https://cdn.discordapp.com/embed/avatars/{index}.png"
    out: Json = {
        "id": user["id"], "name": user["username"], "discriminator": f"{discriminator:04d}",
        "nickname": _display(user), "color": None, "isBot": bool(user.get("bot")), "roles": [],
        "avatarUrl": url,
    }  # fmt: skip
    return out


def _fallback(message: Json) -> str:
    kind, mentions = message["type"], message.get("mentions") or []
    if kind == 1:
        return f"Added {_display(mentions[0])} to the group." if mentions else "Added a recipient."
    if kind == 2:
        if mentions and mentions[0]["id"] == message["author"]["id"]:
            return "Left the group."
        return (
            f"Removed {_display(mentions[0])} from the group."
            if mentions
            else "Removed a recipient."
        )
    if kind == 3:
        ended = (message.get("call") or {}).get("ended_timestamp")
        start = datetime.fromisoformat(message["timestamp"])
        minutes = (datetime.fromisoformat(ended) - start).total_seconds() / 60 if ended else 0
        return f"Started a call that lasted {round(minutes):,} minutes."
    if kind == 4:
        return f"Changed the channel name: {message.get('content', '')}"
    fixed = {5: "Changed the channel icon.", 6: "Pinned a message.", 7: "Joined the server.",
             18: "Started a thread."}  # fmt: skip
    return fixed.get(kind) or str(message.get("content", ""))


def dce_message(
    message: Json, zone: tzinfo | None, asset: Callable[[str, int | None], str]
) -> Json:
    """One API message in DCE's JSON shape; ``asset`` maps a CDN URL (``--media``), given the
    file's size when the API says it (attachments)."""
    kind = message["type"]
    ended = (message.get("call") or {}).get("ended_timestamp")
    system = kind in (1, 2, 3, 4, 5, 6, 7, 18)
    author = dce_user(message["author"])
    author["avatarUrl"] = asset(author["avatarUrl"], None)
    out: Json = {
        "id": message["id"], "type": _KINDS.get(kind, str(kind)),
        "timestamp": dce_timestamp(message["timestamp"], zone),
        "timestampEdited": dce_timestamp(message.get("edited_timestamp"), zone),
        "callEndedTimestamp": dce_timestamp(ended, zone), "isPinned": bool(message.get("pinned")),
        "content": _fallback(message) if system else message.get("content", ""),
        "author": author,
        "attachments": [
            {"id": a["id"], "url": asset(a["url"], a["size"]), "fileName": a["filename"],
             "fileSizeBytes": a["size"]}
            for a in message.get("attachments", [])
        ],
        "embeds": [], "stickers": [], "reactions": [],
        "mentions": [dce_user(u) for u in message.get("mentions", [])],
    }  # fmt: skip
    if reference := message.get("message_reference"):
        out["reference"] = {
            "type": "Forward" if reference.get("type") == 1 else "Default",
            "messageId": reference.get("message_id"), "channelId": reference.get("channel_id"),
            "guildId": reference.get("guild_id"),
        }  # fmt: skip
    out["inlineEmojis"] = []
    return out


def _dumps(value: Any) -> str:
    """``Utf8JsonWriter`` with relaxed escaping: raw UTF-8, astral characters as surrogates."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _ASTRAL.sub(lambda m: _surrogates(m.group()), text)


def _surrogates(char: str) -> str:
    code = ord(char) - 0x10000
    return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}"


class JsonExport:
    """Writes an export's parts; ``add`` starts a new part when the partition limit is hit."""

    def __init__(
        self, first: Path, head: Json, *, limit_messages: int | None, limit_bytes: int | None
    ) -> None:
        self._first = first
        self._head = head
        self._limit_messages = limit_messages
        self._limit_bytes = limit_bytes
        self._file: TextIO | None = None
        self._part = 0
        self._count = 0
        self._bytes = 0
        self.total = 0

    def _path(self) -> Path:
        if self._part == 1:
            return self._first
        return self._first.with_name(f"{self._first.stem} [part {self._part}]{self._first.suffix}")

    def _open(self) -> TextIO:
        self._part += 1
        path = self._path()
        path.parent.mkdir(parents=True, exist_ok=True)
        file = path.open("w", encoding="utf-8", newline="\n")
        preamble = _dumps(self._head)[: -len("\n}")] + ',\n  "messages": ['
        file.write(preamble)
        self._count, self._bytes = 0, len(preamble.encode())
        return file

    def _full(self) -> bool:
        if self._limit_messages is not None and self._count >= self._limit_messages:
            return True
        return self._limit_bytes is not None and self._bytes >= self._limit_bytes

    def begin(self) -> None:
        """Make sure a part is open (its preamble written)."""
        if self._file is None:
            self._file = self._open()

    def add(self, message: Json) -> None:
        if self._file is not None and self._full():
            self.close()
        if self._file is None:
            self._file = self._open()
        text = "\n".join("    " + line for line in _dumps(message).split("\n"))
        chunk = ("," if self._count else "") + "\n" + text
        self._file.write(chunk)
        self._file.flush()
        self._count += 1
        self.total += 1
        self._bytes += len(chunk.encode())

    def close(self, *, empty_file: bool = True) -> None:
        """Finish the current part (``empty_file``: an export of nothing writes one)."""
        if self._file is None and self._part == 0 and empty_file:
            self._file = self._open()
        if self._file is None:
            return
        closing = "\n  ]" if self._count else "]"
        self._file.write(f'{closing},\n  "messageCount": {self._count}\n}}')
        self._file.close()
        self._file = None

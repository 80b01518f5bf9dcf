"""The owner's messages in a data package, one channel's file at a time.

Each channel folder holds the messages the owner sent there: ``messages.json`` (since
~2024-03: a JSON array of ``{"ID": <number>, "Timestamp", "Contents", "Attachments"}``) or
``messages.csv`` (before: a header ``ID,Timestamp,Contents,Attachments``, then one row per
message). A file is read and decoded whole, one at a time, so a package of any size costs
the memory of its largest channel. A file that cannot be read is a ``problem`` of that
channel (a sentence naming the file, what is wrong and what to do), never an exception: the
other channels are still read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Protocol, TypeVar

import msgspec
from dmj.machine.errors import PackageError
from dmj.machine.package import ChannelIds, ChannelMessages, PackageMessage

__all__ = ["MessageFiles", "read_channel_ids", "read_channel_messages"]

_T = TypeVar("_T")
_FIX = "download the package again, or pass a newer one with --package"


class MessageFiles(Protocol):
    """Where the messages files are and how to read one (``_package_tree``'s tree)."""

    def message_file(self, channel_id: str) -> str | None: ...

    def read(self, name: str) -> bytes: ...

    @property
    def label(self) -> str: ...


class _JsonMessage(msgspec.Struct, gc=False, rename={
    "id": "ID", "timestamp": "Timestamp", "contents": "Contents", "attachments": "Attachments",
}):  # fmt: skip
    id: int | str
    timestamp: str = ""
    contents: str | None = ""
    attachments: str | None = ""


class _JsonId(msgspec.Struct, gc=False, rename={"id": "ID"}):
    id: int | str


class _JsonNumberId(msgspec.Struct, gc=False, rename={"id": "ID"}):
    id: int


_MESSAGES = msgspec.json.Decoder(list[_JsonMessage])
_IDS = msgspec.json.Decoder(list[_JsonId])
_NUMBER_IDS = msgspec.json.Decoder(list[_JsonNumberId])
_COLUMNS = ("id", "timestamp", "contents", "attachments")


class _Unreadable(Exception):
    """Why a messages file cannot be used (the channel's problem)."""


def read_channel_messages(files: MessageFiles, channel_id: str) -> ChannelMessages:
    """The owner's messages in ``channel_id``'s file, or the problem that kept it unread."""
    path, messages, problem = _read_file(files, channel_id, _json_messages, _csv_messages)
    return ChannelMessages(channel_id=channel_id, path=path, messages=messages, problem=problem)


def read_channel_ids(files: MessageFiles, channel_id: str) -> ChannelIds:
    """The ids of the owner's messages in ``channel_id``'s file (only the ids are decoded)."""
    path, ids, problem = _read_file(files, channel_id, _json_ids, _csv_ids)
    return ChannelIds(channel_id=channel_id, path=path, ids=ids, problem=problem)


def _read_file(
    files: MessageFiles, channel_id: str, from_json: Callable[[bytes], tuple[_T, ...]],
    from_csv: Callable[[bytes], tuple[_T, ...]],
) -> tuple[str, tuple[_T, ...], str | None]:  # fmt: skip
    """The channel's messages file (its path inside the package), decoded by ``from_json``
    or ``from_csv``, or the problem that kept it unread."""
    name = files.message_file(channel_id)
    if name is None:
        return "", (), _no_file(files, channel_id)
    try:
        decode = from_json if name.lower().endswith(".json") else from_csv
        return name, decode(_read(files, name)), None
    except _Unreadable as exc:
        return name, (), _problem(files, name, exc)


def _json_messages(data: bytes) -> tuple[PackageMessage, ...]:
    return tuple([_from_json(m) for m in _decode(_MESSAGES, data)])


def _csv_ids(data: bytes) -> tuple[int, ...]:
    return tuple([m.id for m in _csv_messages(data)])


def _json_ids(data: bytes) -> tuple[int, ...]:
    """The ids of a ``messages.json``: JSON numbers, as packages write them (fast), else any
    id a string of digits holds."""
    try:
        return tuple([m.id for m in _NUMBER_IDS.decode(data)])
    except msgspec.ValidationError:
        return tuple(_integer(m.id) for m in _decode(_IDS, data))
    except msgspec.DecodeError as exc:
        raise _Unreadable(str(exc)) from exc


def _read(files: MessageFiles, name: str) -> bytes:
    """The file's bytes; a damaged zip entry or a file the system cannot read is unreadable."""
    try:
        return files.read(name)
    except PackageError as exc:  # a zip entry that does not unpack: its message says it all
        raise _Unreadable(str(exc)) from exc
    except OSError as exc:
        raise _Unreadable(exc.strerror or str(exc)) from exc


def _problem(files: MessageFiles, name: str, error: _Unreadable) -> str:
    if isinstance(error.__cause__, PackageError):
        return str(error)
    return f"{files.label}: {name} cannot be read ({error}); {_FIX}."


def _no_file(files: MessageFiles, channel_id: str) -> str:
    return (
        f"{files.label}: channel {channel_id} has no messages.json or messages.csv beside its "
        f"channel.json, so the messages you sent there cannot be compared; {_FIX}."
    )


def _decode(decoder: msgspec.json.Decoder[list[_T]], data: bytes) -> list[_T]:
    try:
        return decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise _Unreadable(str(exc)) from exc


def _integer(value: int | str) -> int:
    """A message id: the package writes a JSON number; a string of digits is taken too."""
    if isinstance(value, int):
        return value
    if value.isascii() and value.isdigit():
        return int(value)
    raise _Unreadable(f"the message id {value!r} is not a number")


def _from_json(message: _JsonMessage) -> PackageMessage:
    return PackageMessage(
        id=_integer(message.id), timestamp=message.timestamp,
        contents=message.contents or "", attachments=message.attachments or "",
    )  # fmt: skip


def _csv_messages(data: bytes) -> tuple[PackageMessage, ...]:
    """The rows of a ``messages.csv`` (columns found by the header's names, any case)."""
    try:
        rows = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        header = [name.strip().lower() for name in next(rows, [])]
        if "id" not in header:
            raise _Unreadable("its first line is not the header ID,Timestamp,Contents,Attachments")
        where = [header.index(c) if c in header else None for c in _COLUMNS]
        return tuple(
            [_csv_message(row, where, line) for line, row in enumerate(rows, start=2) if row]
        )
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _Unreadable(str(exc)) from exc


def _csv_message(row: list[str], where: list[int | None], line: int) -> PackageMessage:
    fields = [row[i] if i is not None and i < len(row) else "" for i in where]
    try:
        message_id = _integer(fields[0])
    except _Unreadable as exc:
        raise _Unreadable(f"line {line}: {exc}") from None
    return PackageMessage(
        id=message_id, timestamp=fields[1], contents=fields[2], attachments=fields[3]
    )

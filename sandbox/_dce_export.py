"""Exporting channels as DCE 2.47 does (dce.md §1.4-1.8, §2, §4.3). Stdlib only."""

from __future__ import annotations

import hashlib
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ._dce_http import DceError, DceHttp
from ._dce_json import DM_GUILD, Json, JsonExport, channel_name, dce_message, dce_timestamp
from ._snowflake import snowflake_ms

__all__ = ["ChannelEmpty", "CommandError", "DiskFull", "ExportSettings", "export_channels"]

_KIND_NAMES = {1: "DirectTextChat", 3: "DirectGroupTextChat"}
_UNSAFE = re.compile(r'[\0/\\:*?"<>|]')


class CommandError(Exception):
    """CliFx's ``CommandException``: its message alone on stderr, exit 1."""


class ChannelEmpty(Exception):
    """DCE's ``ChannelEmptyException``: a warning; the empty file is written anyway."""


class DiskFull(Exception):
    """.NET's ``IOException`` for a full disk: not a DCE exception, so it escapes the
    per-channel loop and CliFx prints it as a crash (``ERROR`` and a stack trace, exit 1)."""


@dataclass(frozen=True)
class ExportSettings:
    """The export options of the command line, converted."""

    output: str
    after: int | None
    before: int | None
    partition_messages: int | None
    partition_bytes: int | None
    utc: bool
    media: bool
    reuse_media: bool
    media_dir: str | None
    reverse: bool
    faults: dict[str, str] = field(default_factory=dict)
    """Channel id → the sandbox's fault for this attempt: crash, disk-full, forbidden
    (not-found is applied while resolving)."""

    @property
    def zone(self) -> tzinfo | None:
        return UTC if self.utc else None


def _date(snowflake: int | None, zone: tzinfo | None) -> str | None:
    if snowflake is None:
        return None
    return dce_timestamp(datetime.fromtimestamp(snowflake_ms(snowflake) / 1000, tz=UTC), zone)


def _local_day(snowflake: int) -> str:
    return datetime.fromtimestamp(snowflake_ms(snowflake) / 1000).strftime("%Y-%m-%d")


def default_file_name(channel: Json, settings: ExportSettings) -> str:
    name = f"{DM_GUILD['name']} - {channel_name(channel)} [{channel['id']}]"
    after, before = settings.after, settings.before
    if after is not None and before is not None:
        name += f" ({_local_day(after)} to {_local_day(before)})"
    elif after is not None:
        name += f" (after {_local_day(after)})"
    elif before is not None:
        name += f" (before {_local_day(before)})"
    return _UNSAFE.sub("_", name + ".json")


def _expand(path: str, channel: Json, settings: ExportSettings) -> str:
    tokens = {
        "g": "0", "G": "Direct Messages", "t": "", "T": "", "c": channel["id"],
        "C": channel_name(channel), "p": "0", "P": "0", "%": "%",
        "a": _local_day(settings.after) if settings.after is not None else "",
        "b": _local_day(settings.before) if settings.before is not None else "",
        "d": datetime.now().strftime("%Y-%m-%d"),
    }  # fmt: skip
    return re.sub(r"%(.)", lambda m: _UNSAFE.sub("_", tokens.get(m[1], m[0])), path)


def output_file(channel: Json, settings: ExportSettings) -> Path:
    """Where the export of ``channel`` goes (its first part)."""
    path = os.path.abspath(os.path.expanduser(_expand(settings.output, channel, settings)))
    if settings.output.endswith("/") or os.path.isdir(path) or not os.path.splitext(path)[1]:
        return Path(path) / default_file_name(channel, settings)
    return Path(path)


class _Assets:
    """``--media``: assets land in the media dir; JSON points at them (no network here).

    An asset of known size (an attachment) is written at that size (sparse: a few bytes and
    a hole), so its file matches the ``fileSizeBytes`` of the export as a download would.
    """

    def __init__(self, output: Path, settings: ExportSettings) -> None:
        self._output = output
        self._settings = settings
        self._dir = Path(settings.media_dir) if settings.media_dir else Path(f"{output}_Files")

    def __call__(self, url: str, size: int | None = None) -> str:
        if not self._settings.media:
            return url
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("ex", "is", "hm")]
        stable = urlunsplit(parts._replace(query=urlencode(query)))
        stem, extension = os.path.splitext(unquote(parts.path.rsplit("/", 1)[-1]))
        digest = hashlib.sha256(stable.encode()).hexdigest()[:16]
        target = self._dir / f"{stem[:42]}-{digest}{extension}"
        if not (self._settings.reuse_media and target.exists()):
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as file:
                file.write(b"dmj sandbox stand-in asset for " + stable.encode() + b"\n")
                if size is not None:
                    file.truncate(size)
        if target.resolve().is_relative_to(self._output.parent.resolve()):
            return os.path.relpath(target, self._output.parent)
        return str(target.resolve())


def _forward(
    http: DceHttp, channel_id: str, after: int | None, before: int | None
) -> Iterator[Json]:
    base = f"channels/{channel_id}/messages"
    last = http.get(f"{base}?limit=1" + (f"&before={before}" if before is not None else ""))
    if not last or (after is not None and int(last[-1]["id"]) <= after):
        return
    end = int(last[-1]["id"])
    cursor = after or 0
    while True:
        page = http.get(f"{base}?limit=100&after={cursor}")
        if not page:
            return
        for message in reversed(page):
            if int(message["id"]) > end:
                return
            yield message
            cursor = int(message["id"])


def _backward(
    http: DceHttp, channel_id: str, after: int | None, before: int | None
) -> Iterator[Json]:
    base = f"channels/{channel_id}/messages"
    first = http.get(f"{base}?limit=1&after={after or 0}")
    if not first or (before is not None and int(first[-1]["id"]) >= before):
        return
    start = int(first[-1]["id"])
    cursor = before
    while True:
        page = http.get(f"{base}?limit=100" + (f"&before={cursor}" if cursor is not None else ""))
        if not page:
            return
        for message in page:
            if int(message["id"]) < start:
                return
            yield message
            cursor = int(message["id"])


def _head(channel: Json, settings: ExportSettings, assets: _Assets) -> Json:
    zone = settings.zone
    return {
        "guild": {**DM_GUILD, "iconUrl": assets(DM_GUILD["iconUrl"], None)},
        "channel": {
            "id": channel["id"], "type": _KIND_NAMES.get(channel["type"], str(channel["type"])),
            "categoryId": None, "category": None, "name": channel_name(channel), "topic": None,
        },
        "dateRange": {"after": _date(settings.after, zone), "before": _date(settings.before, zone)},
        "exportedAt": dce_timestamp(datetime.now(tz=UTC), zone),
    }  # fmt: skip


def _empty(channel: Json, period: bool) -> ChannelEmpty:
    within = " within the specified period" if period else ""
    return ChannelEmpty(
        f"Channel '{channel_name(channel)}' of guild 'Direct Messages' does not contain any "
        f"messages{within}; an empty file will be created."
    )


def _messages(http: DceHttp, channel: Json, settings: ExportSettings) -> Iterator[Json]:
    """The channel's messages in range, in export order (the ``forbidden`` fault answers for
    the API at the first request, as a closed DM would)."""
    if settings.faults.get(channel["id"]) == "forbidden":
        first = "limit=1&after=0" if settings.reverse else "limit=1"
        raise DceError(f"Request to 'channels/{channel['id']}/messages?{first}' failed: forbidden.")
    walk = _backward if settings.reverse else _forward
    return walk(http, channel["id"], settings.after, settings.before)


def _oldest_half(messages: Iterator[Json]) -> Iterator[Json]:
    """The sandbox's truncate fault: DCE stops part-way yet exits 0, its file complete and
    consistent (``messageCount`` agrees), holding only the first half (rounded down) of what
    it should."""
    every = list(messages)
    return iter(every[: len(every) // 2])


def _die() -> None:
    """The sandbox's crash fault: killed mid-file, as by the OOM killer (no output, no exit)."""
    os.kill(os.getpid(), signal.SIGKILL)


def export_channel(http: DceHttp, channel: Json, settings: ExportSettings, out: TextIO) -> None:
    """Export one channel; raises ``ChannelEmpty`` (warning) or ``DceError``."""
    http.get("users/@me/channels")
    target = output_file(channel, settings)
    assets = _Assets(target, settings)
    writer = JsonExport(
        target, _head(channel, settings, assets),
        limit_messages=settings.partition_messages, limit_bytes=settings.partition_bytes,
    )  # fmt: skip
    last = channel.get("last_message_id")
    after, before = settings.after, settings.before
    if (
        last is None
        or (after is not None and after >= int(last))
        or (before is not None and int(channel["id"]) >= before)
    ):
        writer.close()
        raise _empty(channel, period=last is not None)
    out.write(f"{channel_name(channel)}: 0%\n")
    out.flush()
    fault = settings.faults.get(channel["id"])
    crash = fault == "crash"
    if fault == "disk-full":
        writer.begin()
        raise DiskFull(f"No space left on device : '{target}'")
    messages = _messages(http, channel, settings)
    if fault == "truncate":
        messages = _oldest_half(messages)
    try:
        for message in messages:
            writer.add(dce_message(message, settings.zone, assets))
            if crash and writer.total >= 2:
                _die()
    except DceError:
        writer.close(empty_file=False)  # what was written still parses; no empty file
        raise
    if crash:
        writer.begin()
        _die()
    writer.close()
    if writer.total == 0:
        raise _empty(channel, period=True)


def export_channels(
    http: DceHttp, channels: list[Json], settings: ExportSettings, out: TextIO, err: TextIO
) -> int:
    """DCE's ``ExportAsync``: every channel, then the summary; 1 if all of them failed."""
    if len(channels) > 1 and not (
        "%" in settings.output or os.path.isdir(settings.output) or settings.output.endswith("/")
    ):
        raise CommandError(
            "Attempted to export multiple channels, but the output path is neither a directory "
            "nor a template. If the provided output path is meant to be treated as a directory, "
            "make sure it ends with a slash. "
            f"Provided output path: '{os.path.abspath(settings.output)}'."
        )
    out.write(f"Exporting {len(channels)} channel(s)...\n")
    out.flush()
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    for channel in channels:
        try:
            export_channel(http, channel, settings, out)
        except ChannelEmpty as warning:
            warnings[channel_name(channel)] = str(warning)
        except DceError as error:
            if error.fatal:
                raise
            errors[channel_name(channel)] = str(error)
    out.write(f"Successfully exported {len(channels) - len(errors)} channel(s).\n")
    for title, found in (("Warnings reported for", warnings), ("Failed to export", errors)):
        if found:
            out.write("\n")
            err.write(f"{title} the following channel(s):\n")
            err.writelines(f"{name}: {message}\n" for name, message in found.items())
            err.write("\n")
    out.flush()
    if channels and len(errors) >= len(channels):
        raise CommandError("Export failed.")
    return 0

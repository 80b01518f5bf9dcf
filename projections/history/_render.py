"""What the export formats share: the meta, local time, one-line names, sizes (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Literal

import msgspec

from ._model import Gap, Message, Order

__all__ = [
    "BATCH",
    "ExportMeta",
    "Format",
    "LocalClock",
    "Names",
    "Writer",
    "one_line",
    "size_text",
]

Format = Literal["json", "md", "txt"]
BATCH = 512
"""Messages per chunk a writer yields."""


class ExportMeta(msgspec.Struct, frozen=True, kw_only=True):
    """What an export says about itself: the dmj that wrote it (``app``, ``dmj X.Y.Z``),
    when (UTC), the command line it came from, the order and the number of messages."""

    app: str
    generated_at: datetime
    filter_input: str
    order: Order
    count: int

    @property
    def generated(self) -> str:
        return self.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")


Writer = Callable[[ExportMeta, Iterable[Message], Sequence[Gap], tzinfo], Iterator[bytes]]


class LocalClock:
    """``YYYY-MM-DD HH:MM`` in a zone, for a UTC time in microseconds, fast.

    The zone's offset is looked up once per hour of UTC time (and used for the whole hour
    when it is the same at both ends of it), the date text once per local day."""

    def __init__(self, zone: tzinfo) -> None:
        self._zone = zone
        self._offsets: dict[int, int | None] = {}
        self._days: dict[int, str] = {}

    def __call__(self, ts: int) -> str:
        seconds = ts // 1_000_000
        hour = seconds // 3600
        offset = self._offsets.get(hour, -1)
        if offset == -1:
            offset = self._offsets[hour] = self._steady_offset(hour)
        if offset is None:
            moment = datetime.fromtimestamp(seconds, self._zone)
            return f"{moment:%Y-%m-%d %H:%M}"
        local = seconds + offset
        day, rest = divmod(local, 86400)
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
        return f"{date} {rest // 3600:02d}:{rest // 60 % 60:02d}"

    def _steady_offset(self, hour: int) -> int | None:
        """The zone's offset in seconds all through ``hour``, or None if it changes in it."""
        ends = (datetime.fromtimestamp(hour * 3600 + s, UTC) for s in (0, 3599))
        first, last = (self._zone.utcoffset(end.astimezone(self._zone)) for end in ends)
        if first is None or first != last:
            return None
        return int(first.total_seconds())


class Names:
    """Channel paths and author names on one line, remembered per channel and author."""

    def __init__(self) -> None:
        self._paths: dict[int, str] = {}

    def path(self, m: Message) -> str:
        path = self._paths.get(m.channel_id)
        if path is None:
            path = self._paths[m.channel_id] = one_line(m.channel_path)
        return path

    @staticmethod
    def author(m: Message) -> str:
        name = m.author_display
        return name if "\n" not in name and "\r" not in name else one_line(name)


def one_line(text: str) -> str:
    """``text`` on one line (names and reasons never break a heading)."""
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text


def size_text(size: int) -> str:
    """``812 bytes``, ``2.5 MB``: decimal units, one decimal."""
    if size < 1000:
        return f"{size} bytes"
    value, unit = float(size), "bytes"
    for unit in ("kB", "MB", "GB", "TB"):  # noqa: B007 (the last unit is the answer)
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"

"""What ``dmj show`` and ``dmj export`` share: local time, notices, the query's words.

Local time is the system's (``TZ``, else ``/etc/localtime``), as the C library computes it,
daylight saving included: query dates are local days and the Markdown and text formats show
local times. JSON keeps each time as archived, with its offset.
"""

from __future__ import annotations

import calendar
import time
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Annotated

import typer

from ._errors import stderr_console

__all__ = ["HISTORY_COMMAND", "LocalTime", "OrderChoice", "OrderOption", "QueryArgument", "notice"]

HISTORY_COMMAND = {"ignore_unknown_options": True, "help_option_names": ["--help"]}
"""Click settings for commands taking a query: ``-word``, ``-from:x`` (even ``-hello``) are
query words, so these commands have no short options (``--help``, not ``-h``)."""


class OrderChoice(StrEnum):
    """The order of the selected messages (docs/export-format.md)."""

    TIME = "time"
    CHANNEL = "channel"


OrderOption = Annotated[
    OrderChoice,
    typer.Option(
        "--order",
        help="time: chronological across conversations; channel: conversations by name, "
        "chronological inside each.",
    ),
]

QueryArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[QUERY]...",
        help='Discord\'s search syntax: words, "exact phrase", from:NAME, in:NAME, '
        "has:attachment|image|video|file|link|embed, before:/after:/during:DATE, is:edited, "
        "source:discord|package, -negation, last:N (docs/index.md). Nothing: every message.",
        show_default=False,
    ),
]


class LocalTime(tzinfo):
    """The system's local time zone, as the C library sees it (``TZ``, DST included)."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(seconds=self._local(dt).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return self._local(dt).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        stamp = calendar.timegm(dt.replace(tzinfo=None).timetuple())
        return dt + timedelta(seconds=time.localtime(stamp).tm_gmtoff)

    def __repr__(self) -> str:
        return "LocalTime()"

    @staticmethod
    def _local(dt: datetime | None) -> time.struct_time:
        if dt is None:
            return time.localtime()
        wall = (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, 0, 0, -1)
        return time.localtime(time.mktime(wall))


def notice(text: str) -> None:
    """A one-line notice on stderr (the index was rebuilt, an export could not be read)."""
    from rich.markup import escape  # noqa: PLC0415

    stderr_console().print(f"[yellow]Note:[/] {escape(text)}")

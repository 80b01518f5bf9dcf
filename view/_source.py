"""Where the browser's data comes from: the ``Archive`` port and the values it answers with.

The app never reads the archive's files itself. For each request it opens one ``Reader`` (a
consistent snapshot: with the message index, one read transaction) and asks it a few small,
keyset-shaped questions; the pages, cursors and JSON are built on top of those answers
(``_pages``, ``_wire``), the same for every source. Two sources: ``IndexArchive`` (the
message index, ``_index``) and ``MemoryArchive`` (a list of records, for tests); one
contract test holds both to the same answers. docs/view.md says what each method must do,
with the SQL it maps to.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Literal, Protocol

import msgspec

from ._records import Conversation, Message

__all__ = [
    "EXPORT_FORMATS",
    "Archive",
    "Cursor",
    "Download",
    "ExportFormat",
    "Reader",
    "SearchHits",
]

ExportFormat = Literal["json", "md", "txt"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("json", "md", "txt")

_CURSOR = re.compile(r"(-?\d{1,19})_(\d{1,20})")


class Cursor(msgspec.Struct, frozen=True, order=True, gc=False):
    """A place in a conversation's order ``(ts, id)``: keyset pagination, never OFFSET.

    Written ``<ts>_<id>`` in URLs. A cursor names a position, not a message: the one at it
    may be gone, and paging from it still works.
    """

    ts: int
    id: int

    @classmethod
    def of(cls, message: Message) -> Cursor:
        return cls(message.ts, message.id)

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """The cursor ``text`` writes, or None if it is not one."""
        match = _CURSOR.fullmatch(text)
        return cls(int(match[1]), int(match[2])) if match else None

    def __str__(self) -> str:
        return f"{self.ts}_{self.id}"


class SearchHits(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a search: ``count`` matches in all (``at_least``: the source stopped
    counting there), these ``messages`` (newest first, all before the page's cursor), and
    the ``terms`` to mark in them."""

    count: int
    messages: tuple[Message, ...]
    terms: tuple[str, ...] = ()
    at_least: bool = False


class Download(msgspec.Struct, frozen=True, kw_only=True):
    """An export as the browser downloads it: a file name, a type, the bytes in chunks."""

    filename: str
    media_type: str
    chunks: Iterator[bytes]


class Reader(Protocol):
    """One consistent snapshot of the archive, open for the length of a request."""

    def notices(self) -> Sequence[str]:
        """Sentences the page shows above everything (exports the index could not read)."""
        ...

    def conversations(self) -> Sequence[Conversation]:
        """Every conversation the archive remembers (gaps included), by name."""
        ...

    def older(self, channel_id: int, before: Cursor | None, limit: int) -> Sequence[Message]:
        """Up to ``limit`` messages of the conversation just before ``before`` (the newest
        ones when None), in chronological order."""
        ...

    def newer(self, channel_id: int, after: Cursor, limit: int) -> Sequence[Message]:
        """Up to ``limit`` messages of the conversation just after ``after``, chronological."""
        ...

    def locate(self, channel_id: int, message_id: int) -> Cursor | None:
        """Where message ``message_id`` of the conversation stands, or None if it is not there."""
        ...

    def messages(self, ids: Collection[int]) -> Mapping[int, Message]:
        """The messages among ``ids`` that the archive holds (what replies answer)."""
        ...

    def search(self, query: str, before: Cursor | None, limit: int) -> SearchHits:
        """The ``limit`` newest matches of ``query`` before ``before`` (from the newest when
        None), across conversations, and how many there are (a source may stop counting at
        a bound: ``at_least``). A malformed query raises a ``UsageError`` whose message is
        the CLI's (``BadQuery`` adds where the problem is)."""
        ...

    def export(self, query: str, fmt: ExportFormat) -> Download:
        """What ``dmj export fmt query`` would write, as a download."""
        ...


class Archive(Protocol):
    """An archive the browser can read: each ``read()`` is a fresh snapshot."""

    def refresh(self) -> None:
        """Catch up with what the archive holds now (the index with the journal): at launch
        and each time the page is loaded, never per request. Raises a ``DmjError`` when it
        cannot."""
        ...

    def read(self) -> AbstractContextManager[Reader]: ...

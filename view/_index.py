"""``IndexArchive``: the ``Archive`` port over the archive's message index (``index.sqlite``).

What ``dmj show`` and ``dmj export`` read, read the same way: the same records, the same
query language (``parse_query``: a malformed query is the CLI's ``BadQuery``), the same
writers (an export download is ``dmj export``'s bytes but for ``generatedAt`` and
``filterInput``).

When the index catches up with the journal is decided here, in one place: ``refresh()``,
which the viewer calls at launch and each time the page is loaded (docs/view.md, "When the
page shows new messages"). Every other request reads the index as it stands, one snapshot
each (``read()``), so paging through a conversation never waits for an ingest and its
cursors never move under it. Neither ever takes the journal's lock: ``dmj view`` runs while
``dmj run`` archives, and a reload shows what the run has added since.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path

from dmj.machine.package import PackageOpener
from dmj.projections.history import (
    FORMATS,
    INDEX,
    MANY,
    Conversation,
    ExportMeta,
    History,
    Message,
    Notice,
    Storage,
    default_export_name,
    open_history,
    parse_query,
    refresh_index,
)

from ._source import Cursor, Download, ExportFormat, Reader, SearchHits

__all__ = ["MEDIA_TYPES", "IndexArchive"]

MEDIA_TYPES: dict[ExportFormat, str] = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}

_BUILDING = "Building the message index "
"""How ``refresh_index`` says it builds the index (tests/cli/test_view.py checks it)."""

_Listing = tuple[tuple[int, str], tuple[Conversation, ...]]
"""The conversation list and the index state it was counted in."""


class IndexArchive:
    """The archive at ``root`` through its message index.

    ``zone``: the local time zone (query dates, the times of md and txt exports); ``app``
    and ``clock``: what an export says wrote it, and when; ``notice``: where the notices of
    a refresh go as well as to the page (the terminal); ``packages`` and ``storage``: how a
    refresh reads the data package and writes the index's files (``refresh_index``).
    """

    def __init__(
        self, root: Path, *, zone: tzinfo, app: str, clock: Callable[[], datetime],
        notice: Notice, packages: PackageOpener, storage: Storage | None = None,
    ) -> None:  # fmt: skip
        self.root = root
        self.zone = zone
        self.app = app
        self.clock = clock
        self._notice = notice
        self._packages = packages
        self._storage = storage
        self._notices: tuple[str, ...] = ()
        self._refreshing = threading.Lock()
        self._listing: _Listing | None = None

    def refresh(self) -> None:
        """Bring the index up to date with the journal (built if it is missing), one at a
        time in this process; its notices are shown on the page from now on."""
        with self._refreshing:
            refresh_index(self.root, self._noted, packages=self._packages, storage=self._storage)

    def _noted(self, text: str) -> None:
        """A notice of a refresh: to the terminal; to the page too, unless it only says the
        index is being built (done by the time anyone reads it)."""
        self._notice(text)
        if not text.startswith(_BUILDING) and text not in self._notices:
            self._notices = (*self._notices, text)

    @contextmanager
    def read(self) -> Iterator[Reader]:
        if not (self.root / INDEX).exists():
            self.refresh()
        with open_history(
            self.root, zone=self.zone, notice=_quiet, packages=self._packages,
            storage=self._storage, refresh=False,
        ) as history:  # fmt: skip
            yield _IndexReader(self, history)

    def notices(self) -> tuple[str, ...]:
        return self._notices

    def listing(self, history: History) -> tuple[Conversation, ...]:
        """``history``'s conversations, counted once per state of the index (counting a
        million messages takes tens of milliseconds; a reload that finds nothing new should
        not pay it again)."""
        state = (history.through_seq, history.through_at)
        known = self._listing
        if known is not None and known[0] == state:
            return known[1]
        conversations = tuple(history.conversations())
        self._listing = (state, conversations)
        return conversations


def _quiet(text: str) -> None:
    """Each request's snapshot: its problems are the page's notices, not the terminal's."""


class _IndexReader:
    """One snapshot of the index, answering the ``Reader`` port (docs/view.md)."""

    def __init__(self, archive: IndexArchive, history: History) -> None:
        self._archive = archive
        self._history = history

    def notices(self) -> Sequence[str]:
        problems = [p for p in self._history.problems() if p not in self._archive.notices()]
        return [*self._archive.notices(), *problems]

    def conversations(self) -> Sequence[Conversation]:
        return self._archive.listing(self._history)

    def older(self, channel_id: int, before: Cursor | None, limit: int) -> Sequence[Message]:
        edge = (before.ts, before.id) if before is not None else None
        return self._history.older(channel_id, edge, limit)

    def newer(self, channel_id: int, after: Cursor, limit: int) -> Sequence[Message]:
        return self._history.newer(channel_id, (after.ts, after.id), limit)

    def locate(self, channel_id: int, message_id: int) -> Cursor | None:
        place = self._history.locate(channel_id, message_id)
        return Cursor(*place) if place is not None else None

    def messages(self, ids: Collection[int]) -> Mapping[int, Message]:
        return self._history.messages_by_id(ids)

    def search(self, query: str, before: Cursor | None, limit: int) -> SearchHits:
        parsed = parse_query(query)
        edge = (before.ts, before.id) if before is not None else None
        count, found = self._history.search(parsed, edge, limit, count_up_to=MANY)
        return SearchHits(
            count=count, messages=tuple(found), terms=parsed.highlights, at_least=count >= MANY
        )

    def export(self, query: str, fmt: ExportFormat) -> Download:
        """``dmj export FMT QUERY``'s file: the same selection, order and writer."""
        parsed = parse_query(query)
        archive = self._archive
        now = archive.clock()
        selection = self._history.select(parsed, "time")
        meta = ExportMeta(
            app=archive.app, generated_at=now, filter_input=f"export {fmt} {query}".strip(),
            order="time", count=selection.count,
        )  # fmt: skip
        chunks = FORMATS[fmt](meta, selection.messages(), selection.gaps, archive.zone)
        return Download(
            filename=default_export_name(fmt, now, archive.zone),
            media_type=MEDIA_TYPES[fmt],
            chunks=chunks,
        )

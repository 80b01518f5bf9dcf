"""Pages of a conversation, assembled from a ``Reader``'s keyset answers (no I/O of its own).

A page is a run of consecutive messages, chronological, with a cursor on each side: ``older``
asks for the page before it (None: it starts the conversation) and ``newer`` for the page
after it (None: it ends the conversation). Each side is known by asking for one message
more than shown, or one message past the edge: every question is an index seek, so a page
deep in a 200,000-message conversation costs what the newest one does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from ._records import Message
from ._source import Cursor, Reader

__all__ = ["Page", "page_after", "page_around", "page_before"]


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """Consecutive messages, their neighbouring pages' cursors, the message to show first
    (``focus``), and the messages their replies answer (``replies``, by id)."""

    messages: tuple[Message, ...]
    older: Cursor | None
    newer: Cursor | None
    focus: int | None = None
    replies: Mapping[int, Message] = msgspec.field(default_factory=dict)


def page_before(reader: Reader, channel_id: int, before: Cursor | None, limit: int) -> Page:
    """The ``limit`` messages before ``before``, or the newest ``limit`` when None."""
    got = reader.older(channel_id, before, limit + 1)
    has_older = len(got) > limit
    shown = got[1:] if has_older else got
    has_newer = before is not None and _any_newer(reader, channel_id, shown, before)
    return _page(reader, shown, has_older=has_older, has_newer=has_newer)


def page_after(reader: Reader, channel_id: int, after: Cursor, limit: int) -> Page:
    """The ``limit`` messages after ``after``."""
    got = reader.newer(channel_id, after, limit + 1)
    has_newer = len(got) > limit
    shown = got[:limit]
    has_older = bool(shown) and bool(reader.older(channel_id, Cursor.of(shown[0]), 1))
    return _page(reader, shown, has_older=has_older, has_newer=has_newer)


def page_around(reader: Reader, channel_id: int, at: Cursor, limit: int) -> Page:
    """About ``limit`` messages around ``at``: the message there (or, if there is none, the
    first one after it) in the middle, and focused."""
    half = limit // 2
    before = reader.older(channel_id, at, half + 1)
    rest = reader.newer(channel_id, Cursor(at.ts, at.id - 1), limit - half + 1)
    has_older = len(before) > half
    has_newer = len(rest) > limit - half
    shown = [*before[max(0, len(before) - half) :], *rest[: limit - half]]
    focus = rest[0] if rest else (before[-1] if before else None)
    page = _page(reader, shown, has_older=has_older, has_newer=has_newer)
    return msgspec.structs.replace(page, focus=focus.id if focus is not None else None)


def _any_newer(reader: Reader, channel_id: int, shown: Sequence[Message], before: Cursor) -> bool:
    edge = Cursor.of(shown[-1]) if shown else Cursor(before.ts, before.id - 1)
    return bool(reader.newer(channel_id, edge, 1))


def _page(reader: Reader, shown: Sequence[Message], *, has_older: bool, has_newer: bool) -> Page:
    answered = {m.reply_to for m in shown if m.reply_to is not None}
    return Page(
        messages=tuple(shown),
        older=Cursor.of(shown[0]) if has_older and shown else None,
        newer=Cursor.of(shown[-1]) if has_newer and shown else None,
        replies=reader.messages(answered) if answered else {},
    )

"""``MemoryArchive``: the ``Archive`` port over lists of records held in memory.

The browser's tests read it (worlds built in a line, hostile ones included). Paging is
exact (the keyset order of the index: ``(ts, id)`` inside a conversation), held to the
index's answers by a contract test. Search and export are stand-ins that keep the browser's
plumbing testable: a search is bare words (every one must appear as a whole word, ignoring
case; ``key:value`` terms are refused like a malformed query), and an export lists the
matches one per line. ``IndexArchive`` answers both with the query language and the
writers of ``dmj export``.
"""

from __future__ import annotations

import bisect
import contextlib
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager

import msgspec
from dmj.machine.errors import UsageError

from ._records import Conversation, Message
from ._source import Cursor, Download, ExportFormat, Reader, SearchHits

__all__ = ["MemoryArchive"]

_MEDIA_TYPES = {"json": "application/json", "md": "text/markdown", "txt": "text/plain"}


class MemoryArchive:
    """An archive of ``conversations`` and ``messages`` (any order), read-only."""

    def __init__(
        self,
        conversations: Iterable[Conversation],
        messages: Iterable[Message],
        *,
        notices: Sequence[str] = (),
    ) -> None:
        self._by_channel: dict[int, list[Message]] = {}
        for message in sorted(messages, key=Cursor.of):
            self._by_channel.setdefault(message.channel_id, []).append(message)
        self._keys = {c: [Cursor.of(m) for m in ms] for c, ms in self._by_channel.items()}
        self._by_id = {m.id: m for ms in self._by_channel.values() for m in ms}
        self._newest_first = sorted(self._by_id.values(), key=Cursor.of, reverse=True)
        self._conversations = sorted(
            (self._counted(c) for c in conversations), key=lambda c: (c.name.casefold(), c.id)
        )
        self._notices = tuple(notices)

    def _counted(self, conversation: Conversation) -> Conversation:
        held = self._by_channel.get(conversation.id, [])
        return msgspec.structs.replace(
            conversation, messages=len(held), last_ts=held[-1].ts if held else None
        )

    def refresh(self) -> None:
        """Nothing to catch up with: the lists are all there is."""

    def read(self) -> AbstractContextManager[Reader]:
        return contextlib.nullcontext(self)

    def notices(self) -> Sequence[str]:
        return self._notices

    def conversations(self) -> Sequence[Conversation]:
        return self._conversations

    def older(self, channel_id: int, before: Cursor | None, limit: int) -> Sequence[Message]:
        keys = self._keys.get(channel_id, [])
        end = len(keys) if before is None else bisect.bisect_left(keys, before)
        return self._by_channel.get(channel_id, [])[max(0, end - limit) : end]

    def newer(self, channel_id: int, after: Cursor, limit: int) -> Sequence[Message]:
        start = bisect.bisect_right(self._keys.get(channel_id, []), after)
        return self._by_channel.get(channel_id, [])[start : start + limit]

    def locate(self, channel_id: int, message_id: int) -> Cursor | None:
        message = self._by_id.get(message_id)
        if message is None or message.channel_id != channel_id:
            return None
        return Cursor.of(message)

    def messages(self, ids: Collection[int]) -> Mapping[int, Message]:
        return {i: self._by_id[i] for i in ids if i in self._by_id}

    def search(self, query: str, before: Cursor | None, limit: int) -> SearchHits:
        terms = _terms(query)
        matches = [m for m in self._newest_first if _matches(m, terms)]
        after_cursor = [m for m in matches if before is None or Cursor.of(m) < before]
        return SearchHits(count=len(matches), messages=tuple(after_cursor[:limit]), terms=terms)

    def export(self, query: str, fmt: ExportFormat) -> Download:
        terms = _terms(query)
        chosen = [m for m in reversed(self._newest_first) if _matches(m, terms)]
        return Download(
            filename=f"export_dm.{fmt}", media_type=_MEDIA_TYPES[fmt], chunks=_listing(chosen)
        )


def _terms(query: str) -> tuple[str, ...]:
    words = query.split()
    for word in words:
        if ":" in word:
            start = query.index(word)
            caret = " " * start + "^" * len(word)
            raise UsageError(
                f"The query cannot be read: this archive understands only plain words.\n"
                f"  {query}\n  {caret}"
            )
    return tuple(words)


def _matches(message: Message, terms: tuple[str, ...]) -> bool:
    return all(
        re.search(rf"(?<!\w){re.escape(t)}(?!\w)", message.content, re.IGNORECASE) for t in terms
    )


def _listing(messages: list[Message]) -> Iterator[bytes]:
    for message in messages:
        yield f"{message.id}\t{message.channel_id}\t{message.content}\n".encode()

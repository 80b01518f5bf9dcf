"""What goes into ``index.sqlite``: the exports' messages, and the conversations (I/O).

A ``Loader`` adds what ``_frames.export_frames`` reads from the recorded exports (in this
process, or in ``_worker``'s), replacing older copies of a message; ``store_conversations``
replaces the conversation table and the keys queries match it by.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec
from dmj.machine.state import Outcome, State

from ._conversations import build_conversations, conversation_keys
from ._dce import DceMessage, Rows, rows_of, searchable
from ._frames import Batch, Begin, End, Frame, Title
from ._model import Conversation
from ._sql import CLEAR_CONVERSATIONS, SQL
from ._text import fold

__all__ = ["Loader", "conversations_of", "exported_after", "forget_rows", "store_conversations"]


def exported_after(state: State, *, after: int) -> Iterable[Outcome]:
    """The exports the journal recorded after record ``after`` (any order)."""
    for run in state.runs:
        for record in run.finished_batches():
            if record.finished_seq > after:
                yield from (o for o in record.outcomes if o.kind == "exported" and o.seq > after)
    if state.batch is not None:
        yield from (o for o in state.batch.outcomes() if o.kind == "exported" and o.seq > after)


class Loader:
    """Adds messages to an index: numbers their rows in order, replaces older copies.

    ``fresh``: the index is being built and has no secondary indexes yet, so it remembers
    each channel's newest message id: only a batch reaching back to it can hold a message
    already loaded (an export that overlaps an earlier one), and only then is the table
    searched. Otherwise every batch is looked up by id (``messages_id``).
    """

    def __init__(self, conn: sqlite3.Connection, *, fresh: bool) -> None:
        self.conn = conn
        self.fresh = fresh
        self.next_row: int = conn.execute(SQL.next_row).fetchone()[0]
        self._newest: dict[int, int] = {}
        self._authors: set[tuple[str, str, str]] = set()
        self._begun: tuple[int, dict[int, int]] | None = None

    def apply(self, frame: Frame) -> None:
        """Add what ``frame`` says: a channel's title, a batch of rows, an export's problem
        (undoing what the export added since its ``Begin``)."""
        if isinstance(frame, Batch):
            self.insert(frame.rows, frame.channel)
        elif isinstance(frame, Title):
            self.conn.execute(SQL.title, (frame.channel, frame.name, frame.seq))
        elif isinstance(frame, Begin):
            self.conn.execute(SQL.savepoint)
            self._begun = (self.next_row, dict(self._newest))
        elif isinstance(frame, End):
            self.conn.execute(SQL.release)
            self._begun = None
        else:
            if self._begun is not None:
                self.conn.execute(SQL.undo)
                self.conn.execute(SQL.release)
                self.next_row, self._newest = self._begun
                self._begun = None
            self.conn.execute(SQL.problem, (frame.seq, frame.path, frame.reason))

    def add(self, messages: list[DceMessage], channel: int) -> None:
        """Add ``messages`` of ``channel``; a message already in the index is replaced."""
        self.insert(rows_of(messages, channel, self.next_row, self._authors), channel)

    def insert(self, rows: Rows, channel: int) -> None:
        """Add the rows of messages of ``channel`` (numbered from ``next_row`` on)."""
        if not rows.messages:
            return
        self.next_row = rows.messages[-1][0] + 1
        ids = [row[1] for row in rows.messages]
        if self._may_hold(channel, ids):
            self._forget(ids)
        self.conn.executemany(SQL.messages, rows.messages)
        self.conn.executemany(SQL.words, rows.words())
        self.conn.executemany(SQL.people, rows.people)

    def _may_hold(self, channel: int, ids: list[int]) -> bool:
        if not self.fresh:
            return True
        newest = self._newest.get(channel)
        self._newest[channel] = max(newest or 0, *ids)
        return newest is not None and min(ids) <= newest

    def _forget(self, ids: list[int]) -> None:
        forget_rows(self.conn, self.conn.execute(SQL.present, (msgspec.json.encode(ids),)))


def forget_rows(conn: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Remove messages (their row numbers and contents) from the index, and their text from
    the full-text index, which must be told the very text it was given (``searchable``)."""
    old = list(rows)
    conn.executemany(SQL.forget_words, [(row, searchable(text)) for row, text in old])
    conn.executemany(SQL.remove, [(row,) for row, _ in old])


def conversations_of(state: State, titles: dict[int, str]) -> list[Conversation]:
    """The journal's conversations, plus any channel with messages it does not name."""
    conversations = build_conversations(state, titles)
    known = {c.id for c in conversations}
    extra = [Conversation(id=i, kind="dm", name=t) for i, t in titles.items() if i not in known]
    return conversations + extra


def store_conversations(conn: sqlite3.Connection, conversations: Iterable[Conversation]) -> None:
    """Replace the index's conversations (and the keys ``in:`` and gaps match them by)."""
    for statement in CLEAR_CONVERSATIONS:
        conn.execute(statement)
    rows, names, people = [], [], []
    for c in conversations:
        recipients = msgspec.json.encode(c.recipients).decode()
        at = c.at.isoformat() if c.at else None
        rows.append((c.id, c.kind, c.name, fold(c.name), recipients, c.verdict, c.reason, at,
                     c.dm_key, c.package_channel_id, c.refused_channel_id))  # fmt: skip
        in_names, participants = conversation_keys(c)
        names += [(key, c.id) for key in in_names]
        people += [(key, c.id) for key in participants]
    conn.executemany(SQL.conversation, rows)
    conn.executemany(SQL.conversation_name, names)
    conn.executemany(SQL.recipient, people)

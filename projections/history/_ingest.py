"""What goes into ``index.sqlite``: an export's messages, and the conversations (I/O).

``ingest_export`` reads one recorded export (every JSON part, checked before anything is
added); a ``Loader`` numbers rows in ingest order and replaces older copies of a message;
``store_conversations`` replaces the conversation table and the keys queries match it by.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import msgspec
from dmj.machine.state import Outcome, State

from ._conversations import build_conversations, conversation_keys
from ._dce import DceMessage, decode_export, rows_of, searchable
from ._model import Conversation
from ._sql import CLEAR_CONVERSATIONS, SQL
from ._text import fold

__all__ = [
    "Loader",
    "conversations_of",
    "export_files",
    "exported_after",
    "ingest_export",
    "store_conversations",
]

_PART = re.compile(r" \[part (\d+)\]\.json$")
_CHUNK = 5_000


def exported_after(state: State, *, after: int) -> Iterable[Outcome]:
    """The exports the journal recorded after record ``after`` (any order)."""
    for run in state.runs:
        for record in run.finished_batches():
            if record.finished_seq > after:
                yield from (o for o in record.outcomes if o.kind == "exported" and o.seq > after)
    if state.batch is not None:
        yield from (o for o in state.batch.outcomes() if o.kind == "exported" and o.seq > after)


def ingest_export(archive: Path, outcome: Outcome, loader: Loader) -> None:
    """Add one export's messages: all of them or, if any part cannot be read, none (the
    export is recorded as a problem). Every part is read and checked before anything is
    added, so no savepoint is needed (FTS5 writes a segment at each one). An export with no
    folder (an incremental one that found nothing new) adds nothing."""
    if not outcome.path:
        return
    try:
        files = export_files(archive, outcome)
        parts = [decode_export(file.read_bytes()) for file in files]
        for part in parts:
            if not part.channel.id.isdigit():
                raise ValueError(f"its channel id {part.channel.id!r} is not a number")
            for message in part.messages:
                if not (message.id.isdigit() and message.author.id.isdigit()):
                    raise ValueError(f"message {message.id!r} has an id that is not a number")
    except (OSError, ValueError, msgspec.DecodeError) as exc:
        loader.conn.execute(SQL.problem, (outcome.seq, outcome.path, str(exc)))
        return
    for part in parts:
        channel = int(part.channel.id)
        loader.conn.execute(SQL.title, (channel, part.channel.name, outcome.seq))
        for start in range(0, len(part.messages), _CHUNK):
            loader.add(part.messages[start : start + _CHUNK], channel)


def export_files(archive: Path, outcome: Outcome) -> list[Path]:
    """The JSON parts of an export in part order: the files its record lists (``files``),
    or, for records older than that list, the JSON files in its folder."""
    folder = archive / outcome.path
    names = [f.name for f in outcome.files if f.name.endswith(".json")]
    files = [folder / name for name in names] if names else list(folder.glob("*.json"))
    if not files:
        raise OSError(f"{outcome.path} holds no JSON file")
    return sorted(files, key=_part_number)


def _part_number(path: Path) -> int:
    match = _PART.search(path.name)
    return int(match[1]) if match else 1


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

    def add(self, messages: list[DceMessage], channel: int) -> None:
        """Add ``messages`` of ``channel``; a message already in the index is replaced."""
        rows = rows_of(messages, channel, self.next_row, self._authors)
        self.next_row += len(rows.messages)
        ids = [row[1] for row in rows.messages]
        if ids and self._may_hold(channel, ids):
            self._forget(ids)
        self.conn.executemany(SQL.messages, rows.messages)
        self.conn.executemany(SQL.words, rows.words)
        self.conn.executemany(SQL.people, rows.people)

    def _may_hold(self, channel: int, ids: list[int]) -> bool:
        if not self.fresh:
            return True
        newest = self._newest.get(channel)
        self._newest[channel] = max(newest or 0, *ids)
        return newest is not None and min(ids) <= newest

    def _forget(self, ids: list[int]) -> None:
        old = self.conn.execute(SQL.present, (msgspec.json.encode(ids),)).fetchall()
        self.conn.executemany(SQL.forget_words, [(row, searchable(text)) for row, text in old])
        self.conn.executemany(SQL.remove, [(row,) for row, _ in old])


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

"""Reading the history index: one consistent snapshot per reader (I/O).

``open_history`` refreshes the index, then holds one read transaction: in WAL mode that is a
snapshot, so a selection's count, its messages and its gaps agree even while another
process refreshes the index. A selection streams its messages from SQLite one row at a
time: memory stays flat whatever its size.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import msgspec

from ._dce import Extra
from ._index import INDEX, Notice, connect, refresh_index
from ._model import Conversation, Gap, Message, Order, Person
from ._query import Query
from ._sql import INSERT, compile_query, count_sql, gaps_sql, select_sql

__all__ = ["History", "Selection", "open_history"]

_EXTRA = msgspec.json.Decoder(Extra)
_NOTHING = Extra()
_PEOPLE = msgspec.json.Decoder(tuple[Person, ...])


class Selection(msgspec.Struct, frozen=True, kw_only=True):
    """What a query selects: ``count`` messages (streamed by ``messages()``), and the
    ``gaps`` in its scope. Valid while its ``History`` is open."""

    count: int
    gaps: tuple[Gap, ...]
    sql: str
    params: tuple[object, ...]
    conn: sqlite3.Connection

    def messages(self) -> Iterator[Message]:
        """The selected messages in the selection's order, one at a time."""
        cursor = self.conn.execute(self.sql, self.params)
        cursor.arraysize = 500
        while rows := cursor.fetchmany():
            for row in rows:
                yield _message(row)


class History:
    """A snapshot of the archive's history index (see ``open_history``)."""

    def __init__(self, conn: sqlite3.Connection, zone: tzinfo) -> None:
        self._conn = conn
        self._zone = zone
        meta = dict(conn.execute(INSERT.meta_all).fetchall())
        owner = meta.get("owner")
        self.owner: int | None = int(str(owner)) if owner is not None else None
        self.through_seq = int(str(meta.get("through_seq", 0)))

    def select(self, query: Query, order: Order = "time") -> Selection:
        """The messages ``query`` selects in ``order``, their count and the gaps in scope."""
        compiled = compile_query(query, zone=self._zone, owner=self.owner)
        count_text, count_params = count_sql(compiled)
        count = self._conn.execute(count_text, count_params).fetchone()[0]
        gaps_text, gaps_params = gaps_sql(compiled)
        gaps = tuple(
            Gap(channel_id=row[0], channel_kind=row[1], channel_name=row[2], verdict=row[3],
                reason=row[4])
            for row in self._conn.execute(gaps_text, gaps_params)
        )  # fmt: skip
        sql, params = select_sql(compiled, order)
        return Selection(count=count, gaps=gaps, sql=sql, params=tuple(params), conn=self._conn)

    def conversations(self) -> list[Conversation]:
        """Every conversation the archive remembers, by name, with what the index holds."""
        return [
            Conversation(
                id=row[0],
                kind=row[1],
                name=row[2],
                recipients=_PEOPLE.decode(row[3]),
                verdict=row[4],
                reason=row[5],
                at=datetime.fromisoformat(row[6]) if row[6] else None,
                dm_key=row[7],
                package_channel_id=row[8],
                messages=row[9],
                last_ts=row[10],
            )
            for row in self._conn.execute(INSERT.conversations)
        ]

    def problems(self) -> list[str]:
        """Exports the index could not read, one sentence each."""
        return [
            f"The export {path} (journal record {seq}) could not be read ({problem}); its "
            "messages are missing from the index."
            for seq, path, problem in self._conn.execute(INSERT.problems)
        ]


@contextlib.contextmanager
def open_history(archive: Path, *, zone: tzinfo, notice: Notice) -> Iterator[History]:
    """The archive's history, brought up to date first, as one read snapshot.

    Never takes the journal's lock. ``zone`` is the local time zone of dates in queries.
    Each export the index cannot read is reported once through ``notice``.
    """
    refresh_index(archive, notice)
    with contextlib.closing(connect(archive / INDEX)) as conn:
        conn.execute("PRAGMA query_only = 1")
        conn.execute("BEGIN")
        try:
            history = History(conn, zone)
            for problem in history.problems():
                notice(problem)
            yield history
        finally:
            conn.execute("ROLLBACK")


def _message(row: Any) -> Message:
    (id_, channel, name, kind, ts, created, author, username, display, content, extra,
     source) = row  # fmt: skip
    more = _EXTRA.decode(extra) if extra is not None else _NOTHING
    return Message(
        id=id_, channel_id=channel, channel_name=name, channel_kind=kind, ts=ts,
        created_at=created, edited_at=more.edited_at, author_id=author, author_name=username,
        author_display=display, content=content, kind=more.kind, attachments=more.attachments,
        mentions=more.mentions, reply_to=more.reply_to, source=source,
    )  # fmt: skip

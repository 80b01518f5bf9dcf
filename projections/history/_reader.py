"""Reading the history index: one consistent snapshot per reader (I/O).

``open_history`` refreshes the index, then holds one read transaction: in WAL mode that is a
snapshot, so a selection's count, its messages and its gaps agree even while another
process refreshes the index. A selection streams its messages from SQLite one row at a
time: memory stays flat whatever its size.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import msgspec
from dmj.journal import Storage
from dmj.machine.events import DmKind, PackageInfo
from dmj.machine.package import PackageOpener, PackageSnapshot

from ._dce import Extra
from ._index import INDEX, Notice, connect, refresh_index
from ._model import Conversation, Gap, Message, Order, Person
from ._query import Query
from ._sql import (
    FEW,
    MANY,
    SQL,
    Compiled,
    Position,
    by_ids_sql,
    compile_query,
    count_sql,
    gaps_sql,
    page_sql,
    probe_sql,
    search_count_sql,
    search_sql,
    select_sql,
)

__all__ = ["History", "Selection", "open_history"]

_EXTRA = msgspec.json.Decoder(Extra)
_PEOPLE = msgspec.json.Decoder(tuple[Person, ...])
_PACKAGE = msgspec.json.Decoder(PackageInfo)
_SNAPSHOT = msgspec.json.Decoder(PackageSnapshot)
_CACHE_KB = 32_000
"""A reader's page cache: a selection in time order reads every conversation's rows at
once, each in ingest order, so the current page of each is read again and again (SQLite's
default 2 MB holds too few of them: a million messages in time order cost a fifth more;
the index's 16 KB pages need twice what 4 KB pages did)."""


class Selection(msgspec.Struct, frozen=True, kw_only=True):
    """What a query selects: ``count`` messages (streamed by ``messages()``), and the
    ``gaps`` in its scope. Valid while its ``History`` is open."""

    count: int
    gaps: tuple[Gap, ...]
    sql: str
    params: tuple[object, ...]
    conn: sqlite3.Connection
    channels: dict[int, tuple[str, DmKind]]

    def messages(self) -> Iterator[Message]:
        """The selected messages in the selection's order, one at a time."""
        cursor = self.conn.execute(self.sql, self.params)
        cursor.arraysize = 500
        while rows := cursor.fetchmany():
            yield from _messages(rows, self.channels)


def _messages(rows: Iterable[Any], channels: dict[int, tuple[str, DmKind]]) -> Iterator[Message]:
    """``Message`` values from rows in ``_sql._SELECTED``'s order (built positionally: a
    million of them take a tenth of what keywords take; most have no ``extra``)."""
    decode, named = _EXTRA.decode, channels.get
    for id_, channel, ts, created, author, username, display, content, extra, source in rows:
        name, kind = named(channel) or (str(channel), "dm")
        if extra is None:
            yield Message(id_, channel, name, kind, ts, created, None, author, username,
                          display, content, None, (), (), None, source)  # fmt: skip
        else:
            more = decode(extra)
            yield Message(
                id_, channel, name, kind, ts, created, more.edited_at, author, username,
                display, content, more.kind, more.attachments, more.mentions, more.reply_to,
                source,
            )  # fmt: skip


class History:
    """A snapshot of the archive's history index (see ``open_history``)."""

    def __init__(self, conn: sqlite3.Connection, zone: tzinfo) -> None:
        self._conn = conn
        self._zone = zone
        meta = dict(conn.execute(SQL.meta_all).fetchall())
        owner = meta.get("owner")
        self.owner: int | None = int(str(owner)) if owner is not None else None
        self.through_seq = int(str(meta.get("through_seq", 0)))
        self.through_at = str(meta.get("through_at", ""))
        package = meta.get("package")  # the data package the newest run read
        self.package: PackageInfo | None = (
            _PACKAGE.decode(package) if isinstance(package, str) else None
        )
        self._names: dict[int, tuple[str, DmKind]] | None = None

    def select(self, query: Query, order: Order = "time") -> Selection:
        """The messages ``query`` selects in ``order``, their count and the gaps in scope."""
        compiled, probe = self._compile(query)
        count_text, count_params = count_sql(compiled, probe=probe)
        count = self._conn.execute(count_text, count_params).fetchone()[0]
        gaps_text, gaps_params = gaps_sql(compiled)
        gaps = tuple(
            Gap(channel_id=row[0], channel_kind=row[1], channel_name=row[2], verdict=row[3],
                reason=row[4], partial=bool(row[5]))
            for row in self._conn.execute(gaps_text, gaps_params)
        )  # fmt: skip
        sql, params = select_sql(compiled, order, probe=probe)
        return Selection(
            count=count, gaps=gaps, sql=sql, params=tuple(params), conn=self._conn,
            channels=self._channels(),
        )  # fmt: skip

    def older(self, channel_id: int, before: Position | None, limit: int) -> list[Message]:
        """Up to ``limit`` messages of the conversation just before ``before`` (the newest
        when None), chronological: one index seek, however deep."""
        sql, params = page_sql(channel_id, before, older=True, limit=limit)
        return list(_messages(self._conn.execute(sql, params), self._channels()))[::-1]

    def newer(self, channel_id: int, after: Position | None, limit: int) -> list[Message]:
        """Up to ``limit`` messages of the conversation just after ``after`` (the oldest when
        None), chronological."""
        sql, params = page_sql(channel_id, after, older=False, limit=limit)
        return list(_messages(self._conn.execute(sql, params), self._channels()))

    def locate(self, channel_id: int, message_id: int) -> Position | None:
        """Where message ``message_id`` of the conversation stands, or None."""
        row = self._conn.execute(SQL.locate, (message_id, channel_id)).fetchone()
        return (row[0], row[1]) if row is not None else None

    def messages_by_id(self, ids: Collection[int]) -> dict[int, Message]:
        """The messages among ``ids`` the index holds (what replies answer)."""
        if not ids:
            return {}
        sql, params = by_ids_sql(sorted(ids))
        found = _messages(self._conn.execute(sql, params), self._channels())
        return {m.id: m for m in found}

    def search(
        self, query: Query, before: Position | None, limit: int, *, count_up_to: int | None = None
    ) -> tuple[int, list[Message]]:
        """How many messages ``query`` selects (counting no further than ``count_up_to``
        when given), and the ``limit`` newest of them before ``before`` (from the newest
        when None), newest first: a page of search results."""
        compiled, probe = self._compile(query)
        if count_up_to is None:
            count_text, count_params = count_sql(compiled, probe=probe)
        else:
            count_text, count_params = search_count_sql(compiled, probe=probe, up_to=count_up_to)
        count = self._conn.execute(count_text, count_params).fetchone()[0]
        sql, params = search_sql(compiled, before, limit, probe=probe, many=count >= MANY)
        return count, list(_messages(self._conn.execute(sql, params), self._channels()))

    def _compile(self, query: Query) -> tuple[Compiled, bool]:
        """``query`` compiled, and whether its words are best checked per candidate."""
        compiled = compile_query(query, zone=self._zone, owner=self.owner)
        probing = probe_sql(compiled)
        probe = probing is not None and self._conn.execute(*probing).fetchone()[0] < FEW
        return compiled, probe

    def _channels(self) -> dict[int, tuple[str, DmKind]]:
        if self._names is None:
            rows = self._conn.execute(SQL.channels)
            self._names = {id_: (name, kind) for id_, name, kind in rows}
        return self._names

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
                from_package=row[11],
                archived_last_ts=row[12],
                refused_channel_id=row[13],
            )
            for row in self._conn.execute(SQL.conversations)
        ]

    def look_up(self, ids: Sequence[int], *, refused: bool) -> tuple[int, int, list[int]]:
        """How many of ``ids`` the index holds from Discord and from the package, and, only
        when some are not there, those it does not hold (in ``ids``' order): the common case,
        all of them archived, costs one counting query. Package rows exist only in
        conversations Discord refuses (``refused``): elsewhere the count reads the id index
        alone."""
        if not ids:
            return 0, 0, []
        listed = msgspec.json.encode(ids)
        if refused:
            discord, package = self._conn.execute(SQL.count_sources, (listed,)).fetchone()
        else:
            discord, package = self._conn.execute(SQL.count_ids, (listed,)).fetchone()[0], 0
        if discord + package == len(ids):
            return discord, package, []
        return discord, package, [row[0] for row in self._conn.execute(SQL.absent_ids, (listed,))]

    def known_package(self) -> PackageSnapshot | None:
        """What the last check read of a data package, if the index keeps it (a cache: one
        this dmj cannot decode is none)."""
        if not self._conn.execute(SQL.snapshot_kept).fetchone()[0]:
            return None
        row = self._conn.execute(SQL.snapshot_get).fetchone()
        try:
            return _SNAPSHOT.decode(row[0]) if row is not None else None
        except msgspec.DecodeError:
            return None

    def problems(self) -> list[str]:
        """Exports the index could not read, one sentence each."""
        return [
            f"The export {path} (journal record {seq}) could not be read ({problem}); its "
            "messages are missing from the index."
            for seq, path, problem in self._conn.execute(SQL.problems)
        ]


@contextlib.contextmanager
def open_history(
    archive: Path, *, zone: tzinfo, notice: Notice, packages: PackageOpener,
    storage: Storage | None = None, refresh: bool = True,
) -> Iterator[History]:  # fmt: skip
    """The archive's history, brought up to date first, as one read snapshot.

    Never takes the journal's lock. ``zone`` is the local time zone of dates in queries.
    Each export the index cannot read is reported once through ``notice``. ``refresh``
    False reads the index as it stands (a reader that refreshes it at moments of its own
    choosing: the archive browser); one that is missing is built all the same. A refresh
    reads the data package through ``packages`` and writes the index's files through
    ``storage`` (``refresh_index``).
    """
    if refresh or not (archive / INDEX).exists():
        refresh_index(archive, notice, packages=packages, storage=storage)
    with contextlib.closing(connect(archive / INDEX)) as conn:
        conn.execute("PRAGMA query_only = 1")
        conn.execute(f"PRAGMA cache_size = -{_CACHE_KB}")
        conn.execute("BEGIN")
        try:
            history = History(conn, zone)
            for problem in history.problems():
                notice(problem)
            yield history
        finally:
            conn.execute("ROLLBACK")

"""All of the history index's SQL: the schema, the statements, and the query compiler.

The one module that spells a table name (pure: it builds SQL text and parameters; ``_index``,
``_ingest`` and ``_reader`` run them). ``compile_query`` turns a parsed ``Query`` into WHERE
clauses; docs/index.md ("How a term is matched") says how each kind of term is matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

import msgspec

from ._dce import FLAGS
from ._model import GAP_VERDICTS, REFUSED_VERDICTS, Order
from ._query import Author, Conversation, DateBound, Edited, Has, Origin, Query, Term, Text
from ._text import fold, words

__all__ = [
    "CLEAR_CONVERSATIONS",
    "FRESH_INDEXES",
    "MESSAGE_COLUMNS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SQL",
    "Compiled",
    "Position",
    "by_ids_sql",
    "compile_query",
    "count_sql",
    "gaps_sql",
    "page_sql",
    "probe_sql",
    "search_count_sql",
    "search_sql",
    "select_sql",
]

SCHEMA_VERSION = 2
"""``PRAGMA user_version`` of the index; another value means: rebuild it."""

MESSAGE_COLUMNS = (
    "row", "id", "channel_id", "ts", "created_at", "author_id", "author_name",
    "author_display", "content", "flags", "extra",
)  # fmt: skip
"""The columns an ingested row fills (``_dce.MessageRow``); ``source`` keeps its default."""

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT",
    """CREATE TABLE messages (
        row INTEGER PRIMARY KEY, id INTEGER NOT NULL, channel_id INTEGER NOT NULL,
        ts INTEGER NOT NULL, created_at TEXT NOT NULL, author_id INTEGER NOT NULL,
        author_name TEXT NOT NULL, author_display TEXT NOT NULL, content TEXT NOT NULL,
        flags INTEGER NOT NULL, extra BLOB, source TEXT NOT NULL DEFAULT 'discord') STRICT""",
    "CREATE VIRTUAL TABLE message_words USING fts5(body, content='', columnsize=0, "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TABLE people (key TEXT NOT NULL, user_id INTEGER NOT NULL, "
    "PRIMARY KEY (key, user_id)) WITHOUT ROWID, STRICT",
    "CREATE TABLE channel_titles (channel_id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "seq INTEGER NOT NULL) STRICT",
    """CREATE TABLE conversations (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL,
        sort_key TEXT NOT NULL, recipients TEXT NOT NULL, verdict TEXT,
        reason TEXT NOT NULL, at TEXT, dm_key TEXT, package_channel_id TEXT,
        refused_channel_id TEXT) STRICT""",
    "CREATE INDEX conversations_order ON conversations (sort_key, id)",
    "CREATE TABLE conversation_names (key TEXT NOT NULL, channel_id INTEGER NOT NULL, "
    "PRIMARY KEY (key, channel_id)) WITHOUT ROWID, STRICT",
    "CREATE TABLE recipients (key TEXT NOT NULL, channel_id INTEGER NOT NULL, "
    "PRIMARY KEY (key, channel_id)) WITHOUT ROWID, STRICT",
    "CREATE TABLE problems (seq INTEGER PRIMARY KEY, path TEXT NOT NULL, "
    "problem TEXT NOT NULL) STRICT",
    "INSERT INTO message_words (message_words, rank) VALUES ('hashsize', 8388608)",
)
"""The tables (a fresh build adds ``FRESH_INDEXES`` after loading). FTS5 gathers up to 8 MB
of new words in memory before it writes them (its default, 1 MB, makes a million messages
cost a fifth more in merges). ``messages.row``: the
order of ingest (appending is what SQLite and FTS5 do fastest); ``message_words`` is
contentless, its rowid ``messages.row``, its text ``_dce.searchable``'s."""

FRESH_INDEXES = (
    "CREATE UNIQUE INDEX messages_id ON messages (id)",
    "CREATE INDEX messages_time ON messages (ts, id)",
    "CREATE INDEX messages_channel ON messages (channel_id, ts, id)",
    "CREATE INDEX messages_author ON messages (author_id, ts, id)",
)


_REFUSED = "(" + ", ".join(f"'{v}'" for v in REFUSED_VERDICTS) + ")"
"""The verdicts of conversations Discord refuses for good, as SQL."""
_KEEPS = f"(c.verdict IN {_REFUSED} OR c.refused_channel_id IS NOT NULL)"
"""A conversation that may hold the owner's messages from the package (``_own``)."""


class _Statements:
    """Every fixed statement, by name (``SQL.messages`` inserts a message row …)."""

    messages = (
        f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * (len(MESSAGE_COLUMNS) - 1))}, nullif(?, 0))"
    )
    """``extra`` comes as a ``bytearray``, or 0 for none (NULL): ``sqlite3`` binds ints, str
    and bytearray directly, but looks ``None`` and ``bytes`` up in its adapter registry first,
    which costs a third of a row's insert."""
    words = "INSERT INTO message_words (rowid, body) VALUES (?, ?)"
    forget_words = "INSERT INTO message_words (message_words, rowid, body) VALUES ('delete', ?, ?)"
    present = "SELECT row, content FROM messages WHERE id IN (SELECT value FROM json_each(?))"
    remove = "DELETE FROM messages WHERE row = ?"
    savepoint = "SAVEPOINT export"
    release = "RELEASE export"
    undo = "ROLLBACK TO export"
    next_row = "SELECT coalesce(max(row), 0) + 1 FROM messages"
    people = "INSERT OR IGNORE INTO people (key, user_id) VALUES (?, ?)"
    title = (
        "INSERT INTO channel_titles (channel_id, name, seq) VALUES (?, ?, ?) "
        "ON CONFLICT (channel_id) DO UPDATE SET name = excluded.name, seq = excluded.seq "
        "WHERE excluded.seq >= channel_titles.seq"
    )
    titles = "SELECT channel_id, name FROM channel_titles"
    conversation = "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    conversation_name = "INSERT OR IGNORE INTO conversation_names (key, channel_id) VALUES (?, ?)"
    recipient = "INSERT OR IGNORE INTO recipients (key, channel_id) VALUES (?, ?)"
    problem = "INSERT OR REPLACE INTO problems (seq, path, problem) VALUES (?, ?, ?)"
    problems = "SELECT seq, path, problem FROM problems ORDER BY seq"
    meta_set = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"
    meta_get = "SELECT value FROM meta WHERE key = ?"
    meta_all = "SELECT key, value FROM meta"
    snapshot_kept = (
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'package_snapshot'"
    )
    snapshot_get = "SELECT snapshot FROM package_snapshot"
    snapshot_table = "CREATE TABLE IF NOT EXISTS package_snapshot (snapshot BLOB NOT NULL) STRICT"
    snapshot_clear = "DELETE FROM package_snapshot"
    snapshot_set = "INSERT INTO package_snapshot (snapshot) VALUES (?)"
    """What the last ``dmj status`` read of a data package (a ``PackageSnapshot``, JSON), so
    the next need not read every ``channel.json`` again: one row, in a table made when first
    needed (an index without it has none; a rebuild starts without it)."""
    conversations = (
        "SELECT c.id, c.kind, c.name, c.recipients, c.verdict, c.reason, c.at, c.dm_key, "
        "c.package_channel_id, (SELECT count(*) FROM messages m WHERE m.channel_id = c.id), "
        "(SELECT max(ts) FROM messages m WHERE m.channel_id = c.id), "
        f"CASE WHEN {_KEEPS} THEN (SELECT count(*) FROM messages m "
        "WHERE m.channel_id = c.id AND m.source = 'package') ELSE 0 END, "
        f"CASE WHEN {_KEEPS} THEN (SELECT max(ts) FROM messages m "
        "WHERE m.channel_id = c.id AND m.source = 'discord') "
        "ELSE (SELECT max(ts) FROM messages m WHERE m.channel_id = c.id) END, "
        "c.refused_channel_id FROM conversations c ORDER BY c.sort_key, c.id"
    )
    """Package rows exist only in conversations Discord refuses, or whose package channel it
    refused (``_own``): only there is the source looked at (the others are counted on the
    ``messages_channel`` index alone)."""
    refused = (
        f"SELECT c.id, c.dm_key, CASE WHEN c.verdict IN {_REFUSED} THEN NULL "
        f"ELSE c.refused_channel_id END FROM conversations c WHERE {_KEEPS} "
        "AND c.dm_key IS NOT NULL ORDER BY c.id"
    )
    """Where the owner's package messages go: (conversation, DM key, the one package channel
    Discord refused, or NULL: every channel of the DM, Discord refusing the conversation)."""
    own_messages = (
        f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}, source) "
        f"VALUES ({', '.join('?' * (len(MESSAGE_COLUMNS) - 1))}, nullif(?, 0), 'package')"
    )
    """The same rows as ``messages``, from the data package."""
    own_rows = "SELECT row, content FROM messages WHERE source = 'package'"
    present_ids = "SELECT id FROM messages WHERE id IN (SELECT value FROM json_each(?))"
    count_ids = "SELECT count(*) FROM json_each(?) WHERE value IN (SELECT id FROM messages)"
    count_sources = (
        "SELECT count(*) - count(nullif(m.source, 'discord')), count(nullif(m.source, 'discord')) "
        "FROM json_each(?) AS j JOIN messages AS m ON m.id = j.value"
    )
    absent_ids = "SELECT value FROM json_each(?) WHERE value NOT IN (SELECT id FROM messages)"
    """The ids of a list (JSON) the index does not hold, and how many it holds (by source):
    each scans the list once and looks every id up in ``messages_id`` (building the list
    into a temporary b-tree first, as ``id IN (list)`` makes SQLite do, costs half as much
    again). An id listed twice counts twice."""
    channels = "SELECT id, name, kind FROM conversations"
    locate = "SELECT ts, id FROM messages WHERE id = ? AND channel_id = ?"
    sizes = "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM conversations)"


SQL = _Statements()

CLEAR_CONVERSATIONS = (
    "DELETE FROM conversations",
    "DELETE FROM conversation_names",
    "DELETE FROM recipients",
)

_SELECTED = (
    "m.id, m.channel_id, m.ts, m.created_at, m.author_id, m.author_name, m.author_display, "
    "m.content, m.extra, m.source"
)
"""The columns a selection yields, in ``_reader``'s order."""

_WORDS = "(SELECT rowid FROM message_words WHERE message_words MATCH ?)"
_PROBED = "EXISTS (SELECT 1 FROM message_words w WHERE w.message_words MATCH ? AND w.rowid = m.row)"
FEW = 20_000
"""Up to this many candidates, the full-text match is checked message by message."""
MANY = 1_000
"""From this many matches on, a search page walks the time index newest first, checking
each message against the full-text match, instead of sorting every match by time."""


class Compiled(msgspec.Struct, frozen=True, kw_only=True):
    """A query as SQL over ``messages m``: ``filters`` (everything but words, and their
    ``params``), the full-text terms (``words``: positive or negated FTS5 queries), the
    plain-text terms (``spelled``: text without letters or digits, found with ``instr``),
    ``last``, and the gaps in scope (``gaps`` over ``conversations c``)."""

    filters: tuple[str, ...]
    params: tuple[Any, ...]
    words: tuple[tuple[bool, str], ...]
    spelled: tuple[tuple[bool, str], ...]
    last: int | None
    gaps: str
    gap_params: tuple[Any, ...]

    def where(
        self, *, probe: bool, in_order: bool = False, matched: bool = False
    ) -> tuple[str, list[Any]]:
        """The WHERE clause: full-text terms as one lookup (``probe`` False: right for many
        candidates) or checked per candidate (``probe``: right for few). ``in_order``: the
        lookup is a set each message is checked against, so that SQLite can walk an index
        in the order asked (``+`` keeps it from looking rows up by the set instead).
        ``matched``: leave out the positive full-text term (the caller joins on it)."""
        clauses, params = list(self.filters), list(self.params)
        for negated, match in self.words:
            if matched and not negated:
                continue
            if probe:
                clauses.append(f"{'NOT ' if negated else ''}{_PROBED}")
            else:
                row = "+m.row" if in_order else "m.row"
                clauses.append(f"{row} {'NOT IN' if negated else 'IN'} {_WORDS}")
            params.append(match)
        for negated, text in self.spelled:
            clauses.append(f"instr(m.content, ?) {'=' if negated else '>'} 0")
            params.append(text)
        return " AND ".join(clauses) or "1", params


def compile_query(query: Query, *, zone: tzinfo, owner: int | None) -> Compiled:
    """``query`` as SQL; dates are local days, months or years in ``zone``."""
    clauses: list[str] = []
    params: list[Any] = []
    _authors([t for t in query.terms if isinstance(t, Author)], owner, clauses, params)
    conversations = [t for t in query.terms if isinstance(t, Conversation)]
    _any_of(conversations, "m.channel_id", clauses, params)
    for term in query.terms:
        _simple(term, zone, clauses, params)
    texts = [t for t in query.terms if isinstance(t, Text)]
    found = [_phrase(t.text) for t in texts if not t.negated and words(t.text)]
    excluded = [_phrase(t.text) for t in texts if t.negated and words(t.text)]
    matches = [(False, " AND ".join(found))] if found else []
    matches += [(True, " OR ".join(excluded))] if excluded else []
    gap_clauses: list[str] = []
    gap_params: list[Any] = []
    _any_of(conversations, "c.id", gap_clauses, gap_params)
    _gap_authors(query.terms, gap_clauses, gap_params)
    return Compiled(
        filters=tuple(clauses), params=tuple(params), words=tuple(matches),
        spelled=tuple((t.negated, t.text) for t in texts if not words(t.text)),
        last=query.last, gaps=" AND ".join(gap_clauses) or "1", gap_params=tuple(gap_params),
    )  # fmt: skip


def _phrase(text: str) -> str:
    """An FTS5 phrase of ``text``'s words (only letters and digits: nothing to escape)."""
    return '"' + " ".join(words(text)) + '"'


def _authors(terms: list[Author], owner: int | None, clauses: list[str], params: list[Any]) -> None:
    """``from:``: any of the positive names; none of the negated ones."""
    for negated in (False, True):
        chosen = [t for t in terms if t.negated == negated]
        if not chosen:
            continue
        keys = [fold(t.name) for t in chosen if t.name.lower() != "me"]
        parts = []
        if keys:
            marks = ", ".join("?" * len(keys))
            parts.append(f"m.author_id IN (SELECT user_id FROM people WHERE key IN ({marks}))")
            params.extend(keys)
        if len(keys) < len(chosen):
            parts.append("m.author_id = ?")
            params.append(owner if owner is not None else -1)
        either = " OR ".join(parts)
        clauses.append(f"NOT ({either})" if negated else f"({either})")


def _any_of(terms: list[Conversation], column: str, clauses: list[str], params: list[Any]) -> None:
    """``in:``: any of the positive conversations; none of the negated ones."""
    for negated in (False, True):
        keys = [fold(t.name) for t in terms if t.negated == negated]
        if keys:
            marks = ", ".join("?" * len(keys))
            inside = "NOT IN" if negated else "IN"
            clauses.append(
                f"{column} {inside} (SELECT channel_id FROM conversation_names "
                f"WHERE key IN ({marks}))"
            )
            params.extend(keys)


def _gap_authors(terms: Sequence[Term], clauses: list[str], params: list[Any]) -> None:
    """A positive ``from:`` (other than ``from:me``) keeps the gaps those people are in."""
    named = [t for t in terms if isinstance(t, Author) and not t.negated]
    if not named or any(t.name.lower() == "me" for t in named):
        return
    keys = [fold(t.name) for t in named]
    marks = ", ".join("?" * len(keys))
    clauses.append(f"c.id IN (SELECT channel_id FROM recipients WHERE key IN ({marks}))")
    params.extend(keys)


def _simple(term: Term, zone: tzinfo, clauses: list[str], params: list[Any]) -> None:
    """``has:``, ``is:edited``, ``source:`` and the dates."""
    if isinstance(term, Origin):
        clauses.append(f"m.source {'!=' if term.negated else '='} ?")
        params.append(term.source)
    elif isinstance(term, Has | Edited):
        clauses.append(f"m.flags & ? {'=' if term.negated else '!='} 0")
        params.append(FLAGS[term.what if isinstance(term, Has) else "edited"])
    elif isinstance(term, DateBound):
        start, end = term.bounds(zone)
        bounds = {"before": ("m.ts < ?", (start,)), "after": ("m.ts >= ?", (end,)),
                  "during": ("m.ts >= ? AND m.ts < ?", (start, end))}  # fmt: skip
        clause, values = bounds[term.relation]
        clauses.append(clause)
        params.extend(values)


def probe_sql(compiled: Compiled) -> tuple[str, list[Any]] | None:
    """How many candidates the filters leave (up to ``FEW``), if there are filters and words:
    few means the words are best checked per candidate."""
    if not compiled.filters or not compiled.words:
        return None
    where = " AND ".join(compiled.filters)
    return f"SELECT count(*) FROM (SELECT 1 FROM messages m WHERE {where} LIMIT {FEW})", list(
        compiled.params
    )


def select_sql(compiled: Compiled, order: Order, *, probe: bool) -> tuple[str, list[Any]]:
    """The selection, ordered, as (SQL, parameters); rows in ``_SELECTED``'s order."""
    where, params = _limited(compiled, probe=probe)
    if order == "time":
        return f"SELECT {_SELECTED} FROM messages m WHERE {where} ORDER BY m.ts, m.id", params
    return (
        f"SELECT {_SELECTED} FROM messages m JOIN conversations c ON c.id = m.channel_id "
        f"WHERE {where} ORDER BY c.sort_key, c.id, m.ts, m.id",
        params,
    )


def count_sql(compiled: Compiled, *, probe: bool) -> tuple[str, list[Any]]:
    """How many messages the selection holds, as (SQL, parameters)."""
    where, params = _limited(compiled, probe=probe)
    return f"SELECT count(*) FROM messages m WHERE {where}", params


def search_count_sql(compiled: Compiled, *, probe: bool, up_to: int) -> tuple[str, list[Any]]:
    """How many messages the selection holds, counting no further than ``up_to``.

    With a positive full-text term (and no ``last:``), the count follows the full-text
    matches as they stream and stops at ``up_to``: the common word of a million messages
    costs what a rare one does."""
    positive = [match for negated, match in compiled.words if not negated]
    if positive and not probe and compiled.last is None:
        rest, params = compiled.where(probe=False, matched=True)
        return (
            "SELECT count(*) FROM (SELECT 1 FROM message_words w CROSS JOIN messages m "
            f"ON m.row = w.rowid WHERE w.message_words MATCH ? AND {rest} LIMIT ?)",
            [positive[0], *params, up_to],
        )
    where, params = _limited(compiled, probe=probe)
    return f"SELECT count(*) FROM (SELECT 1 FROM messages m WHERE {where} LIMIT ?)", [
        *params,
        up_to,
    ]


def _limited(compiled: Compiled, *, probe: bool, in_order: bool = False) -> tuple[str, list[Any]]:
    where, params = compiled.where(probe=probe, in_order=in_order)
    if compiled.last is None:
        return where, params
    return (
        f"m.row IN (SELECT m.row FROM messages m WHERE {where} "
        "ORDER BY m.ts DESC, m.id DESC LIMIT ?)",
        [*params, compiled.last],
    )


Position = tuple[int, int]
"""A place in time order: ``(ts, id)`` (keyset pagination; never OFFSET)."""


def page_sql(
    channel: int, edge: Position | None, *, older: bool, limit: int
) -> tuple[str, list[Any]]:
    """Up to ``limit`` messages of ``channel`` just before (``older``) or after ``edge`` (the
    newest or oldest when None), nearest first: a seek on ``messages_channel``."""
    after = f" AND (m.ts, m.id) {'<' if older else '>'} (?, ?)" if edge is not None else ""
    way = "DESC" if older else "ASC"
    return (
        f"SELECT {_SELECTED} FROM messages m WHERE m.channel_id = ?{after} "
        f"ORDER BY m.ts {way}, m.id {way} LIMIT ?",
        [channel, *(edge or ()), limit],
    )


def search_sql(
    compiled: Compiled, before: Position | None, limit: int, *, probe: bool, many: bool = False
) -> tuple[str, list[Any]]:
    """The ``limit`` newest messages of the selection before ``before``, newest first.
    ``many``: the selection holds ``MANY`` or more (walk the time index, see ``MANY``)."""
    where, params = _limited(compiled, probe=probe, in_order=many)
    if before is not None:
        where += " AND (m.ts, m.id) < (?, ?)"
        params.extend(before)
    sql = f"SELECT {_SELECTED} FROM messages m WHERE {where} ORDER BY m.ts DESC, m.id DESC LIMIT ?"
    return sql, [*params, limit]


def by_ids_sql(ids: Sequence[int]) -> tuple[str, list[Any]]:
    """The messages among ``ids`` (a JSON array keeps the statement one, whatever the count)."""
    return (
        f"SELECT {_SELECTED} FROM messages m WHERE m.id IN (SELECT value FROM json_each(?))",
        [msgspec.json.encode(list(ids)).decode()],
    )


def gaps_sql(compiled: Compiled) -> tuple[str, list[Any]]:
    """The gaps in the query's scope, by conversation name, as (SQL, parameters): refused or
    failed conversations without a message from Discord; ``partial`` when the index holds the
    owner's own messages there, from the package."""
    verdicts = ", ".join(f"'{v}'" for v in GAP_VERDICTS)
    return (
        "SELECT c.id, c.kind, c.name, c.verdict, c.reason, EXISTS (SELECT 1 FROM messages m "
        "WHERE m.channel_id = c.id AND m.source = 'package') FROM conversations c "
        f"WHERE c.verdict IN ({verdicts}) AND NOT EXISTS (SELECT 1 FROM messages m "
        "WHERE m.channel_id = c.id AND m.source = 'discord') "
        f"AND {compiled.gaps} ORDER BY c.sort_key, c.id",
        list(compiled.gap_params),
    )

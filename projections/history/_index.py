"""``index.sqlite``: building the history index and bringing it up to date (I/O).

The index is a projection of the journal: every message of every export a
``ChannelExported`` records, one row per message id (a later export's copy wins), and every
conversation the journal remembers. ``meta`` records the journal record it reflects
(``through_seq``, and that record's time, which tells a replaced journal apart).

- Up to date: the journal file is the size and age ``meta`` noted: nothing is read.
- Behind: the journal is folded (read without its lock, so it works while ``dmj run``
  appends) and the exports recorded after ``through_seq`` are ingested, with the new
  conversations and ``through_seq``, in one transaction (``BEGIN IMMEDIATE``: a second
  reader waits, then finds nothing left to do). A crash leaves the previous index.
- Missing, unreadable, of another schema, or not matching the journal: built afresh in a
  private file (no journal, no sync: fast) that is linked in place only when complete, and
  in WAL mode, so readers never wait for a writer.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec
from dmj.machine.errors import FileWriteFailed
from dmj.machine.state import Outcome, State
from dmj.projections._atomic import fsync_path

from ._conversations import build_conversations, conversation_keys
from ._dce import DceMessage, decode_export, rows_of, searchable
from ._journal import JournalView, journal_stamp, read_journal
from ._model import Conversation
from ._sql import CLEAR_CONVERSATIONS, FRESH_INDEXES, INSERT, SCHEMA, SCHEMA_VERSION
from ._text import fold

__all__ = [
    "INDEX",
    "Loader",
    "Notice",
    "Refresh",
    "connect",
    "rebuild_index",
    "refresh_index",
    "store_conversations",
]

INDEX = "index.sqlite"
_PART = re.compile(r" \[part (\d+)\]\.json$")
_CHUNK = 5_000
_BUSY_MS = 60_000

Notice = Callable[[str], None]
"""Where one-line notices go (the CLI prints them on stderr)."""


class Refresh(msgspec.Struct, frozen=True, kw_only=True):
    """What a refresh did: ``built`` (from scratch, and why) or the exports it ingested;
    a build also says how many messages and conversations the index holds."""

    through_seq: int
    exports: int = 0
    built: str | None = None
    messages: int = 0
    conversations: int = 0


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the index at ``path`` in autocommit mode (transactions explicit)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
    return conn


def refresh_index(archive: Path, notice: Notice) -> Refresh:
    """Bring ``archive``'s index up to date with its journal (building it if need be)."""
    path = archive / INDEX
    stamp = journal_stamp(archive)
    why = "it is missing" if not path.exists() else None
    if why is None:
        meta, why = _meta_of(path)
        if why is None and meta.get("journal") == stamp:
            return Refresh(through_seq=int(str(meta["through_seq"])))
    at_seq = None if why else int(str(meta["through_seq"]))
    view = read_journal(archive, at_seq=at_seq, notice=notice)
    if why is None and view.at_mark != meta.get("through_at"):
        why = "it does not match journal.jsonl (was the journal replaced?)"
    if why is not None:
        return _build(archive, view, stamp, why, notice)
    with contextlib.closing(connect(path)) as conn:
        conn.execute("PRAGMA synchronous = NORMAL")  # derived data: a lost commit is redone
        conn.execute("BEGIN IMMEDIATE")
        try:
            exports = _catch_up(conn, archive, view, stamp, fresh=False)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return Refresh(through_seq=view.state.through_seq, exports=exports)


def rebuild_index(archive: Path, notice: Notice) -> Refresh:
    """Build ``archive``'s index from scratch (``dmj replay``), replacing any it had."""
    view = read_journal(archive, at_seq=None, notice=notice)
    return _build(archive, view, journal_stamp(archive), None, notice)


def _meta_of(path: Path) -> tuple[dict[str, object], str | None]:
    """The index's ``meta``, or why it cannot be used as it is."""
    try:
        with contextlib.closing(connect(path)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                return {}, f"it was written by another dmj (index schema {version})"
            meta = dict(conn.execute(INSERT.meta_all).fetchall())
    except sqlite3.DatabaseError as exc:
        return {}, f"it cannot be read ({exc})"
    if meta.get("unicode") != unicodedata.unidata_version:
        return meta, "it folds text with another Unicode version"
    if "through_seq" not in meta:
        return meta, "it was never finished"
    return meta, None


def _build(
    archive: Path, view: JournalView, stamp: str, why: str | None, notice: Notice
) -> Refresh:
    if why is not None:
        notice(f"Building the message index {archive / INDEX}: {why}.")
    _remove_stale_builds(archive)
    temp = archive / f".{INDEX}.{os.getpid()}.build"
    _create_private(temp)
    try:
        with contextlib.closing(connect(temp)) as conn:
            for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -32000"):
                conn.execute(f"PRAGMA {pragma}")
            conn.execute("BEGIN")
            for statement in SCHEMA:
                conn.execute(statement)
            exports = _catch_up(conn, archive, view, stamp, fresh=True)
            for statement in FRESH_INDEXES:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
            messages, conversations = conn.execute(INSERT.sizes).fetchone()
            conn.execute("PRAGMA journal_mode = WAL")
        _install(temp, archive / INDEX)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return Refresh(
        through_seq=view.state.through_seq, exports=exports, built=why or "rebuilt",
        messages=messages, conversations=conversations,
    )  # fmt: skip


def _create_private(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise FileWriteFailed(
            f"The message index cannot be written in {path.parent} ({exc.strerror or exc}); "
            "check the archive's permissions and free space."
        ) from exc


def _install(temp: Path, target: Path) -> None:
    """Put the finished index at ``target``: replace what is there, never a half-built file."""
    fsync_path(temp)
    for suffix in ("-wal", "-shm", ""):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{target}{suffix}")
    with contextlib.suppress(FileExistsError):  # another reader installed one meanwhile
        os.link(temp, target)
    fsync_path(target.parent)


def _remove_stale_builds(archive: Path) -> None:
    """Remove the private files of builds whose process is gone (a crash mid-build)."""
    for leftover in archive.glob(f".{INDEX}.*.build"):
        pid = leftover.name.split(".")[-2]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _catch_up(conn: sqlite3.Connection, archive: Path, view: JournalView, stamp: str, *,
              fresh: bool) -> int:  # fmt: skip
    """Ingest the exports after the index's ``through_seq``; conversations and meta."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'through_seq'").fetchone()
    through = int(row[0]) if row else 0
    state = view.state
    if state.through_seq < through:
        return 0  # another reader got further while this one read the journal
    pending = sorted(_exported(state, after=through), key=lambda o: o.seq)
    loader = Loader(conn, fresh=fresh)
    for outcome in pending:
        _ingest(archive, outcome, loader)
    titles = dict(conn.execute(INSERT.titles).fetchall())
    store_conversations(conn, _conversations(state, titles))
    owner = state.runs[-1].started if state.runs else None
    meta = {
        "through_seq": state.through_seq, "through_at": view.at_end, "journal": stamp,
        "unicode": unicodedata.unidata_version,
        "owner": (owner.user.id if owner.user else owner.package.self_id) if owner else None,
    }  # fmt: skip
    conn.executemany(INSERT.meta_set, meta.items())
    return len(pending)


def _exported(state: State, *, after: int) -> Iterable[Outcome]:
    for run in state.runs:
        for record in run.finished_batches():
            if record.finished_seq > after:
                yield from (o for o in record.outcomes if o.kind == "exported" and o.seq > after)
    if state.batch is not None:
        yield from (o for o in state.batch.outcomes() if o.kind == "exported" and o.seq > after)


def _ingest(archive: Path, outcome: Outcome, loader: Loader) -> None:
    """Add one export's messages: all of them or, if any part cannot be read, none (the
    export is recorded as a problem). Every part is read and checked before anything is
    added, so no savepoint is needed (FTS5 writes a segment at each one)."""
    try:
        files = sorted((archive / outcome.path).glob("*.json"), key=_part_number)
        if not files:
            raise OSError(f"{outcome.path} holds no JSON file")
        parts = [decode_export(file.read_bytes()) for file in files]
        for part in parts:
            if not part.channel.id.isdigit():
                raise ValueError(f"its channel id {part.channel.id!r} is not a number")
            for message in part.messages:
                if not (message.id.isdigit() and message.author.id.isdigit()):
                    raise ValueError(f"message {message.id!r} has an id that is not a number")
    except (OSError, ValueError, msgspec.DecodeError) as exc:
        loader.conn.execute(INSERT.problem, (outcome.seq, outcome.path, str(exc)))
        return
    for part in parts:
        channel = int(part.channel.id)
        loader.conn.execute(INSERT.title, (channel, part.channel.name, outcome.seq))
        for start in range(0, len(part.messages), _CHUNK):
            loader.add(part.messages[start : start + _CHUNK], channel)


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
        self.next_row: int = conn.execute(INSERT.next_row).fetchone()[0]
        self._newest: dict[int, int] = {}
        self._authors: set[tuple[str, str, str]] = set()

    def add(self, messages: list[DceMessage], channel: int) -> None:
        """Add ``messages`` of ``channel``; a message already in the index is replaced."""
        rows = rows_of(messages, channel, self.next_row, self._authors)
        self.next_row += len(rows.messages)
        ids = [row[1] for row in rows.messages]
        if ids and self._may_hold(channel, ids):
            self._forget(ids)
        self.conn.executemany(INSERT.messages, rows.messages)
        self.conn.executemany(INSERT.words, rows.words)
        self.conn.executemany(INSERT.people, rows.people)

    def _may_hold(self, channel: int, ids: list[int]) -> bool:
        if not self.fresh:
            return True
        newest = self._newest.get(channel)
        self._newest[channel] = max(newest or 0, *ids)
        return newest is not None and min(ids) <= newest

    def _forget(self, ids: list[int]) -> None:
        old = self.conn.execute(INSERT.present, (msgspec.json.encode(ids),)).fetchall()
        self.conn.executemany(INSERT.forget_words, [(row, searchable(text)) for row, text in old])
        self.conn.executemany(INSERT.remove, [(row,) for row, _ in old])


def _conversations(state: State, titles: dict[int, str]) -> list[Conversation]:
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
                     c.dm_key, c.package_channel_id))  # fmt: skip
        in_names, participants = conversation_keys(c)
        names += [(key, c.id) for key in in_names]
        people += [(key, c.id) for key in participants]
    conn.executemany(INSERT.conversation, rows)
    conn.executemany(INSERT.conversation_name, names)
    conn.executemany(INSERT.recipient, people)

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

The build's file-level steps (creating the private file, syncing it, removing the index it
replaces, linking it in place, syncing the folder, removing a dead build's file) go through
the command's ``Storage``; SQLite's own page I/O cannot. The owner's package messages are
read through the ``PackageOpener`` the caller passes in (``_own``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import unicodedata
from collections.abc import Callable
from pathlib import Path

import msgspec
from dmj.journal import OsStorage, Storage, process_alive
from dmj.machine.errors import FileWriteFailed
from dmj.machine.package import PackageOpener
from dmj.projections._atomic import remove_durably

from ._ingest import Loader, conversations_of, exported_after, store_conversations
from ._journal import JournalView, journal_stamp, read_journal
from ._own import keep_own_messages, own_is_current
from ._sql import FRESH_INDEXES, SCHEMA, SCHEMA_VERSION, SQL
from ._worker import ingest_frames

__all__ = [
    "INDEX",
    "Notice",
    "Refresh",
    "connect",
    "rebuild_index",
    "refresh_index",
]

INDEX = "index.sqlite"
_BUSY_MS = 60_000
_BUILD_PRAGMAS = ("page_size = 16384", "journal_mode = MEMORY", "synchronous = OFF",
                  "cache_size = -32000")  # fmt: skip
"""A build's private file: no journal, no sync (it is linked in place only when complete);
16 KB pages (SQLite's default is 4 KB): a quarter as many pages to fill and to sort the
four indexes' entries into, a tenth less for the whole build."""

_SORT_PRAGMAS = ("cache_size = -4000", "threads = 2")
"""While ``FRESH_INDEXES`` are made: SQLite's sorter cuts its input into runs of the page
cache's size, sorts them in up to two helper threads while the table is read on, and merges
them (temporary files, gone when done). With the build's 32 MB cache, a million messages'
entries make a single run, sorted by one thread at the end."""
_UNSORT_PRAGMAS = ("cache_size = -32000", "threads = 0")

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


def refresh_index(
    archive: Path, notice: Notice, *, packages: PackageOpener, storage: Storage | None = None
) -> Refresh:
    """Bring ``archive``'s index up to date with its journal (building it if need be)."""
    storage = storage or OsStorage()
    path = archive / INDEX
    stamp = journal_stamp(archive)
    why = "it is missing" if not path.exists() else None
    if why is None:
        meta, why = _meta_of(path)
        if why is None and meta.get("journal") == stamp and own_is_current(meta):
            return Refresh(through_seq=int(str(meta["through_seq"])))
    at_seq = None if why else int(str(meta["through_seq"]))
    view = read_journal(archive, at_seq=at_seq, notice=notice)
    if why is None and view.at_mark != meta.get("through_at"):
        why = "it does not match journal.jsonl (was the journal replaced?)"
    if why is not None:
        return _build(archive, view, stamp, why, notice, packages=packages, storage=storage)
    with contextlib.closing(connect(path)) as conn:
        conn.execute("PRAGMA synchronous = NORMAL")  # derived data: a lost commit is redone
        conn.execute("BEGIN IMMEDIATE")
        try:
            exports = _catch_up(
                conn, archive, view, stamp, fresh=False, notice=notice, packages=packages
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return Refresh(through_seq=view.state.through_seq, exports=exports)


def rebuild_index(
    archive: Path, notice: Notice, *, packages: PackageOpener, storage: Storage | None = None
) -> Refresh:
    """Build ``archive``'s index from scratch (``dmj replay``), replacing any it had."""
    view = read_journal(archive, at_seq=None, notice=notice)
    stamp = journal_stamp(archive)
    return _build(
        archive, view, stamp, None, notice, packages=packages, storage=storage or OsStorage()
    )


def _meta_of(path: Path) -> tuple[dict[str, object], str | None]:
    """The index's ``meta``, or why it cannot be used as it is."""
    try:
        with contextlib.closing(connect(path)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                return {}, f"it was written by another dmj (index schema {version})"
            meta = dict(conn.execute(SQL.meta_all).fetchall())
    except sqlite3.DatabaseError as exc:
        return {}, f"it cannot be read ({exc})"
    if meta.get("unicode") != unicodedata.unidata_version:
        return meta, "it folds text with another Unicode version"
    if "through_seq" not in meta:
        return meta, "it was never finished"
    return meta, None


def _build(
    archive: Path, view: JournalView, stamp: str, why: str | None, notice: Notice, *,
    packages: PackageOpener, storage: Storage,
) -> Refresh:  # fmt: skip
    if why is not None:
        notice(f"Building the message index {archive / INDEX}: {why}.")
    _remove_stale_builds(archive, storage)
    temp = archive / f".{INDEX}.{os.getpid()}.build"
    _create_private(temp, storage)
    try:
        with contextlib.closing(connect(temp)) as conn:
            for pragma in _BUILD_PRAGMAS:
                conn.execute(f"PRAGMA {pragma}")
            conn.execute("BEGIN")
            for statement in SCHEMA:
                conn.execute(statement)
            exports = _catch_up(
                conn, archive, view, stamp, fresh=True, notice=notice, packages=packages
            )
            _create_indexes(conn)
            keep_own_messages(conn, view.state, notice, packages)  # looks ids up: after the indexes
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
            messages, conversations = conn.execute(SQL.sizes).fetchone()
            conn.execute("PRAGMA journal_mode = WAL")
        _install(temp, archive / INDEX, storage)
    except BaseException:
        _discard(temp, storage)
        raise
    return Refresh(
        through_seq=view.state.through_seq, exports=exports, built=why or "rebuilt",
        messages=messages, conversations=conversations,
    )  # fmt: skip


def _create_indexes(conn: sqlite3.Connection) -> None:
    """``FRESH_INDEXES``, each sorted in 4 MB runs by helper threads (the worker is done by
    now: its core is free): a quarter less time than one run of 32 MB (~1.05 s instead of
    ~1.45 s for a million messages)."""
    for pragma in _SORT_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    for statement in FRESH_INDEXES:
        conn.execute(statement)
    for pragma in _UNSORT_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")


def _create_private(path: Path, storage: Storage) -> None:
    try:
        storage.close(storage.create_new(path))
    except OSError as exc:
        raise FileWriteFailed(
            f"The message index cannot be written in {path.parent} ({exc.strerror or exc}); "
            "check the archive's permissions and free space."
        ) from exc


def _install(temp: Path, target: Path, storage: Storage) -> None:
    """Put the finished index at ``target``: replace what is there, never a half-built file.
    The private name is removed before the folder's one sync makes both durable."""
    storage.sync_file(temp)
    for suffix in ("-wal", "-shm", ""):
        with contextlib.suppress(FileNotFoundError):
            storage.remove(Path(f"{target}{suffix}"))
    with contextlib.suppress(FileExistsError):  # another reader installed one meanwhile
        storage.link(temp, target)
    storage.remove(temp)
    storage.sync_dir(target.parent)


def _discard(temp: Path, storage: Storage) -> None:
    """Remove the private file of a build that failed; what it failed with is what matters
    (a file left behind is a dead build's, removed by the next build)."""
    with contextlib.suppress(OSError):
        storage.remove(temp)
        storage.sync_dir(temp.parent)


def _remove_stale_builds(archive: Path, storage: Storage) -> None:
    """Remove the private files of builds whose process is gone (a crash mid-build)."""
    for leftover in archive.glob(f".{INDEX}.*.build"):
        pid = leftover.name.split(".")[-2]
        if pid.isdigit() and not process_alive(int(pid)):
            remove_durably(leftover, storage=storage)


def _catch_up(conn: sqlite3.Connection, archive: Path, view: JournalView, stamp: str, *,
              fresh: bool, notice: Notice, packages: PackageOpener) -> int:  # fmt: skip
    """Ingest the exports after the index's ``through_seq``; conversations and meta; the
    owner's package messages of refused conversations (a fresh build adds those later)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'through_seq'").fetchone()
    through = int(row[0]) if row else 0
    state = view.state
    if state.through_seq < through:
        return 0  # another reader got further while this one read the journal
    pending = sorted(exported_after(state, after=through), key=lambda o: o.seq)
    loader = Loader(conn, fresh=fresh)
    for frame in ingest_frames(archive, pending, loader.next_row):
        loader.apply(frame)
    titles = dict(conn.execute(SQL.titles).fetchall())
    store_conversations(conn, conversations_of(state, titles))
    owner = state.runs[-1].started if state.runs else None
    meta = {
        "through_seq": state.through_seq, "through_at": view.at_end, "journal": stamp,
        "unicode": unicodedata.unidata_version,
        "owner": (owner.user.id if owner.user else owner.package.self_id) if owner else None,
        "package": msgspec.json.encode(owner.package).decode() if owner else None,
    }  # fmt: skip
    conn.executemany(SQL.meta_set, meta.items())
    if not fresh:
        keep_own_messages(conn, state, notice, packages)
    return len(pending)

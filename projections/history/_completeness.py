"""The package as a witness: every message the owner sent, looked up in the archive (I/O).

``check_archive`` is ``dmj status``'s work (and the figure ``dmj run``'s summary and ``dmj
replay --inspect`` print): the index's conversations, and the data package — the one given,
else the newest run's, checked against its fingerprint — read one channel's messages file at a
time, only the ids decoded, each DM's ids looked up in the index (as integers: the package
writes JSON numbers). Memory holds one DM's ids at a time. The package is read through the
``PackageOpener`` the caller passes in (``dmj.adapters.open_package``).

What was read of the package (its ``PackageSnapshot``: the DMs, the stamp of the files they
came from) is kept in the index and handed to the next check's opener: while the package is
as it was, its 5,000 ``channel.json`` files are not read again, only its messages files.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC
from pathlib import Path

import msgspec
from dmj.journal import Storage
from dmj.machine.errors import DmjError, UsageError
from dmj.machine.package import PackageOpener, PackageReader, PackageSnapshot

from ._index import INDEX, Notice
from ._model import Conversation, id_ts, moment
from ._reader import History, open_history
from ._sql import SQL
from ._status import OwnMessages, PackageUsed, StatusReport, build_report, dm_key

__all__ = ["check_archive"]

_BRIEF_MS = 100
"""How long keeping the snapshot waits for another writer of the index before it gives up."""


def check_archive(
    archive: Path, *, package: Path | None, notice: Notice, packages: PackageOpener,
    storage: Storage | None = None,
) -> StatusReport:  # fmt: skip
    """Every conversation of ``archive`` and where it stands, with the owner's messages in
    ``package`` (None: the newest run's package) compared with what the archive holds;
    ``packages`` opens a package; the index is brought up to date first through ``storage``
    (``open_history``).

    A package given that cannot be read is a ``PackageError`` (exit 2), as for ``dmj run``;
    the run's package being gone, changed or unreadable is said in the report instead."""
    with (
        open_history(
            archive, zone=UTC, notice=notice, packages=packages, storage=storage
        ) as history,
        _witness(archive, history, package, packages) as (used, opened),
    ):
        conversations = history.conversations()
        compared = _compare(history, opened, conversations) if opened is not None else {}
        dms = opened.contents.dms if opened is not None else ()
        return build_report(str(archive), conversations, used, dms, compared)


@contextlib.contextmanager
def _witness(
    archive: Path, history: History, given: Path | None, packages: PackageOpener
) -> Iterator[tuple[PackageUsed, PackageReader | None]]:
    """The package to compare with, opened, and what the report says of it."""
    known = history.known_package()
    if given is not None:
        with packages(str(given), known=known) as opened:
            _keep(archive, known, opened.snapshot)
            _same_owner(opened, history.owner, given)
            yield _used(str(given), opened, given=True), opened
        return
    run = history.package
    if run is None:
        yield PackageUsed(), None
        return
    if not Path(run.path).exists():
        yield PackageUsed(path=run.path, state="gone"), None
        return
    with contextlib.ExitStack() as stack:
        try:
            opened = stack.enter_context(packages(run.path, known=known))
        except DmjError as error:
            yield PackageUsed(path=run.path, state="unreadable", problem=str(error)), None
            return
        _keep(archive, known, opened.snapshot)
        if opened.contents.fingerprint != run.fingerprint:
            yield PackageUsed(path=run.path, state="changed"), None
            return
        yield _used(run.path, opened, given=False), opened


def _keep(archive: Path, known: PackageSnapshot | None, read: PackageSnapshot) -> None:
    """Keep what was read in the index for the next check, unless it is what it knew. A
    cache: when the index is busy or cannot be written, the next check reads it all again."""
    if known is not None and (known.path, known.stamp) == (read.path, read.stamp):
        return
    index = f"{(archive / INDEX).absolute().as_uri()}?mode=rw"  # one removed meanwhile stays so
    with (
        contextlib.suppress(sqlite3.Error),
        contextlib.closing(sqlite3.connect(index, uri=True, isolation_level=None)) as conn,
    ):
        conn.execute(f"PRAGMA busy_timeout = {_BRIEF_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")  # a cache: a lost commit is read again
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(SQL.snapshot_table)
        conn.execute(SQL.snapshot_clear)
        conn.execute(SQL.snapshot_set, (msgspec.json.encode(read),))
        conn.execute("COMMIT")


def _same_owner(opened: PackageReader, owner: int | None, path: Path) -> None:
    if owner is not None and opened.contents.owner.id != str(owner):
        raise UsageError(
            f"The data package {path} belongs to account {opened.contents.owner.id}, but this "
            f"archive is account {owner}'s; pass that account's package with --package."
        )


def _used(path: str, opened: PackageReader, *, given: bool) -> PackageUsed:
    problems = opened.contents.problems
    return PackageUsed(
        path=path, given=given, state="compared",
        problems=tuple(p.message for p in problems),
        left_out=sum(p.path.lower().endswith("channel.json") for p in problems),
    )  # fmt: skip


def _compare(
    history: History, opened: PackageReader, conversations: Sequence[Conversation]
) -> dict[str, OwnMessages]:
    """Each package DM (by ``dm_key``): its messages in the package, looked up by id."""
    newest: dict[str, int] = {}
    archived_in: dict[str, set[str]] = {}
    refused: set[str] = set()
    for c in conversations:
        if c.dm_key is not None:
            archived_in.setdefault(c.dm_key, set()).add(str(c.id))
            if c.archived_last_ts is not None:
                newest[c.dm_key] = max(newest.get(c.dm_key, 0), c.archived_last_ts)
            if c.from_package:
                refused.add(c.dm_key)
    return {
        key: _one_dm(history, opened, (dm.channel_id, *dm.other_channel_ids),
                     archived_in.get(key, set()), newest.get(key), refused=key in refused)
        for dm in opened.contents.dms
        if (key := dm_key(dm))
    }  # fmt: skip


def _one_dm(
    history: History, opened: PackageReader, channels: Sequence[str], archived_in: set[str],
    newest: int | None, *, refused: bool,
) -> OwnMessages:  # fmt: skip
    """One DM's comparison (see ``OwnMessages``); ``refused``: the index holds some of the
    owner's messages there from the package."""
    unreadable: list[str] = []
    in_package = archived = kept = newer = elsewhere = 0
    first: int | None = None
    last: int | None = None
    for channel in channels:
        found = opened.message_ids(channel)
        if found.problem is not None:
            unreadable.append(found.problem)
            continue
        from_discord, from_package, absent = history.look_up(found.ids, refused=refused)
        in_package += len(found.ids)
        archived += from_discord
        kept += from_package
        for message_id in absent:
            ts = id_ts(message_id)
            first = ts if first is None else min(first, ts)
            last = ts if last is None else max(last, ts)
            if channel not in archived_in:
                elsewhere += 1
            elif newest is not None and ts > newest:
                newer += 1
    return OwnMessages(
        in_package=in_package, archived=archived, kept=kept,
        missing=in_package - archived - kept, missing_from=moment(first),
        missing_to=moment(last), newer=newer, elsewhere=elsewhere, unreadable=tuple(unreadable),
    )  # fmt: skip

"""Your own messages where Discord says no: from the data package into the index (I/O).

For a conversation Discord refuses for good (``_model.REFUSED_VERDICTS``: ``skipped`` or
``unreachable``), and for the package channel of an archived DM that Discord refused before
reopening the DM handed back another channel (``Conversation.refused_channel_id``: that
channel only), and only for those, the messages the owner sent there are read from the data
package of the newest run (``RunStarted.package``: its path, checked against its fingerprint;
read through the ``PackageOpener`` the caller passes in, ``dmj.adapters.open_package``) and
added to the index as rows with ``source = 'package'``: one-sided, the other side is not
available. A message the index already holds from a DCE export is never added (same id: the
DCE copy wins), and a later export of the same id replaces the package's copy
(``_ingest.Loader``).

The index does not copy the package: it reads it again whenever the set of refused
conversations or the package itself changes (``meta.own``: what the rows were made from,
with the package's size, time and inode, so moving the package back is noticed by the next
reader). A package that is gone, changed, or whose file for a conversation cannot be read,
adds nothing for it and is said once in a notice.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import msgspec
from dmj.machine.errors import DmjError
from dmj.machine.events import PackageInfo, UserInfo
from dmj.machine.package import PackageMessage, PackageOpener
from dmj.machine.state import State

from ._dce import DceMessage, rows_of
from ._dce import _Attachment as DceAttachment
from ._dce import _User as DceUser
from ._ingest import forget_rows
from ._model import id_ts, moment
from ._sql import SQL
from ._status import dm_key

__all__ = ["keep_own_messages", "own_is_current", "package_stamp"]

_CHUNK = 5_000


class _Made(msgspec.Struct, frozen=True, kw_only=True):
    """What the package rows were made from (``meta.own``)."""

    path: str
    stamp: str
    fingerprint: str
    refused: list[tuple[int, str, str | None]]


_MADE = msgspec.json.Decoder(_Made)


def package_stamp(path: str) -> str:
    """The package's size, modification time and inode (``missing`` when it is gone)."""
    try:
        info = os.stat(path)
    except OSError:
        return "missing"
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"


def own_is_current(meta: dict[str, object]) -> bool:
    """Whether the package the rows were made from is where and as it was (one ``stat``)."""
    made = meta.get("own")
    if not isinstance(made, str):
        return True
    recorded = _MADE.decode(made)
    return not recorded.refused or package_stamp(recorded.path) == recorded.stamp


def keep_own_messages(
    conn: sqlite3.Connection, state: State, notice: Callable[[str], None],
    packages: PackageOpener,
) -> None:  # fmt: skip
    """Make the index's package rows those of the refused conversations, if anything they
    depend on changed since they were made (``packages`` opens the package when it must be
    read again)."""
    refused = [(cid, key, only) for cid, key, only in conn.execute(SQL.refused)]
    package = state.runs[-1].started.package if state.runs else None
    made = _Made(
        path=package.path if package else "", stamp=package_stamp(package.path) if package else "",
        fingerprint=package.fingerprint if package else "", refused=refused,
    )  # fmt: skip
    row = conn.execute(SQL.meta_get, ("own",)).fetchone()
    if row is not None and row[0] == msgspec.json.encode(made).decode():
        return
    forget_rows(conn, conn.execute(SQL.own_rows))
    if refused and package is not None:
        owner = state.runs[-1].started.user or UserInfo(id=package.self_id)
        _add_own(conn, package, refused, owner, notice, packages=packages)
    conn.execute(SQL.meta_set, ("own", msgspec.json.encode(made).decode()))


def _add_own(
    conn: sqlite3.Connection,
    package: PackageInfo,
    refused: list[tuple[int, str, str | None]],
    owner: UserInfo,
    notice: Callable[[str], None],
    *,
    packages: PackageOpener,
) -> None:
    count = len(refused)
    which = f"your own messages in {count} conversation{'s' * (count != 1)} Discord refuses"
    if not Path(package.path).exists():
        notice(
            f"The data package {package.path} the last run read is gone, so {which} are not "
            "in the message index; put it back, or run `dmj run --package PATH` with it."
        )
        return
    try:
        with packages(package.path) as opened:
            if opened.contents.fingerprint != package.fingerprint:
                notice(
                    f"The data package at {package.path} is not the one the last run read (it "
                    f"changed since), so {which} are not in the message index; put that "
                    "package back, or run `dmj run --package PATH` with this one."
                )
                return
            dms = {dm_key(dm): dm for dm in opened.contents.dms}
            adder = _Adder(conn, owner)
            for conversation, key, only in refused:
                dm = dms.get(key)
                channels = (dm.channel_id, *dm.other_channel_ids) if dm else ()
                for channel in (c for c in channels if only is None or c == only):
                    found = opened.messages(channel)
                    if found.problem is not None:
                        notice(f"{found.problem} Its messages are not in the message index.")
                    adder.add(found.messages, conversation)
    except DmjError as error:
        notice(f"{error} So {which} are not in the message index.")


class _Adder:
    """Adds the owner's package messages as one-sided rows, skipping ids already archived."""

    def __init__(self, conn: sqlite3.Connection, owner: UserInfo) -> None:
        self.conn = conn
        self.author = DceUser(
            id=owner.id, name=owner.username or owner.id, nickname=owner.global_name
        )
        self.authors: set[tuple[str, str, str]] = set()

    def add(self, messages: Iterable[PackageMessage], channel: int) -> None:
        batch = list(messages)
        for start in range(0, len(batch), _CHUNK):
            chunk = batch[start : start + _CHUNK]
            ids = msgspec.json.encode([m.id for m in chunk])
            present = {row[0] for row in self.conn.execute(SQL.present_ids, (ids,))}
            fresh = [_dce(m, self.author) for m in chunk if m.id not in present]
            first = self.conn.execute(SQL.next_row).fetchone()[0]
            rows = rows_of(fresh, channel, first, self.authors)
            self.conn.executemany(SQL.own_messages, rows.messages)
            self.conn.executemany(SQL.words, rows.words())
            self.conn.executemany(SQL.people, rows.people)


def _dce(message: PackageMessage, author: DceUser) -> DceMessage:
    """A package message as the index's DCE rows are made from."""
    return DceMessage(
        id=str(message.id), timestamp=_timestamp(message), author=author,
        content=message.contents,
        attachments=[
            DceAttachment(url=url, file_name=_file_name(url))
            for url in message.attachments.split()
        ],
    )  # fmt: skip


def _timestamp(message: PackageMessage) -> str:
    """ISO 8601 with an offset: the package's time (UTC), or the id's when it has none."""
    try:
        when = datetime.fromisoformat(message.timestamp.strip())
    except ValueError:
        when = moment(id_ts(message.id))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat()


def _file_name(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or url

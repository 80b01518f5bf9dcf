"""``dmj status``'s report: every conversation, its status, and the package as a witness (pure).

Built from the index's conversations, the package's DMs and, per DM, the comparison of the
package's message ids with the index's (``_completeness``). The report is a Struct, so
``dmj status --json`` prints it as it is (docs/status.md).

Statuses are the verdicts (``Outcome.verdict``) in the words of the question "what did I
miss?": ``exported`` → ``archived``; ``skipped`` and ``unreachable`` → ``unreachable``
(Discord refuses the conversation for good); ``failed`` → ``failed``; a DM a run planned but
has not finished → ``never attempted``; a conversation no run planned (seen open, or only in
the package given) → ``not in any run``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

import msgspec
from dmj.machine.events import DmKind
from dmj.machine.package import PackageDm
from dmj.machine.plan import display_name
from dmj.machine.state import Verdict

from ._model import Conversation, moment

__all__ = [
    "STATUSES",
    "OwnMessages",
    "OwnTotals",
    "PackageUsed",
    "Status",
    "StatusReport",
    "StatusRow",
    "Totals",
    "build_report",
    "dm_key",
]

Status = Literal["archived", "unreachable", "failed", "never attempted", "not in any run"]
STATUSES: tuple[Status, ...] = (
    "archived", "unreachable", "failed", "never attempted", "not in any run",
)  # fmt: skip
"""The statuses in the order people read them."""
_STATUS: dict[Verdict, Status] = {
    "exported": "archived", "skipped": "unreachable", "unreachable": "unreachable",
    "failed": "failed",
}  # fmt: skip


class _Doc(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """Base of the report's parts: frozen values, camelCase in ``--json``; ``gc=False``: they
    hold no cycles, and a report holds thousands (the collector need not walk them)."""


class OwnMessages(_Doc, frozen=True, kw_only=True):
    """One DM's messages in the package compared with the archive, by id.

    ``in_package``: the owner's messages the package holds (every channel of the DM);
    ``archived``: of those, the ones the index holds from Discord; ``kept``: the ones it holds
    from the package (a conversation Discord refuses, or the package channel of an archived
    DM that Discord refused before handing back another one); ``missing``: the rest, dated
    ``missing_from`` to ``missing_to``: ``newer`` of them are newer than the newest archived
    message (DCE stopped part-way: a new run fetches them), ``elsewhere`` are in a package
    channel other than the archived one (Discord no longer serves it), the others Discord did
    not return (deleted after the package was made, or hidden). ``unreadable``: why package
    files could not be read (a sentence each): their messages are not counted, so the DM is
    never complete."""

    in_package: int = 0
    archived: int = 0
    kept: int = 0
    missing: int = 0
    missing_from: datetime | None = None
    missing_to: datetime | None = None
    newer: int = 0
    elsewhere: int = 0
    unreadable: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.missing == 0 and not self.unreadable


class StatusRow(_Doc, frozen=True, kw_only=True):
    """One conversation: what it is, where it stands, and what to do if it is not complete.

    ``messages``: archived from Discord; ``newest``: the newest of them; ``exported_at``: the
    latest export (for an archived one). ``why``: the journaled reason, in words, or for an
    archived one with messages kept from the package, why they are. ``own``: the package
    comparison (None: no package to compare with, or the conversation is not in it).
    ``missing``: not fully archived; ``todo`` says what to do then."""

    channel_id: str
    name: str
    kind: DmKind
    status: Status
    why: str = ""
    messages: int = 0
    newest: datetime | None = None
    exported_at: datetime | None = None
    own: OwnMessages | None = None
    missing: bool = False
    todo: str = ""


PackageState = Literal["compared", "gone", "changed", "unreadable", "none"]


class PackageUsed(_Doc, frozen=True, kw_only=True):
    """The package the archive was compared with: the one given (``given``) or the last run's.

    ``state``: ``compared``; ``gone`` (the last run's is not there any more); ``changed`` (its
    fingerprint differs from the run's); ``unreadable`` (``problem`` says why); ``none`` (no
    run yet, no package given). ``problems``: the package's own problems (a channel left
    out…), as ``dmj run`` reports them."""

    path: str | None = None
    given: bool = False
    state: PackageState = "none"
    problem: str | None = None
    problems: tuple[str, ...] = ()
    left_out: int = 0
    """How many of ``problems`` leave a conversation of the package out (a ``channel.json``
    that cannot be used): something may be missing that no row can show."""


class OwnTotals(_Doc, frozen=True, kw_only=True):
    """ "N of your M messages archived": ``archived`` of ``in_package``; ``kept`` from the
    package where Discord refuses; ``missing`` neither; ``unreadable``: conversations whose
    package file could not be read (their messages are not counted)."""

    in_package: int = 0
    archived: int = 0
    kept: int = 0
    missing: int = 0
    unreadable: int = 0


class Totals(_Doc, frozen=True, kw_only=True):
    """How many conversations, by status; how many are not fully archived (``missing``)."""

    conversations: int
    statuses: dict[str, int]
    missing: int
    own: OwnTotals | None = None


class StatusReport(_Doc, frozen=True, kw_only=True):
    """``dmj status``: totals first, then one row per conversation (by name)."""

    schema_version: str = "1"
    archive: str
    package: PackageUsed
    totals: Totals
    conversations: tuple[StatusRow, ...]

    @property
    def something_missing(self) -> bool:
        """A conversation is not fully archived, or the package left one out."""
        return self.totals.missing > 0 or self.package.left_out > 0


def dm_key(dm: PackageDm) -> str:
    """A package DM's key in the plan: the other user's id, or the channel's (groups, deleted)."""
    return dm.user_id or dm.channel_id


def build_report(
    archive: str,
    conversations: Sequence[Conversation],
    package: PackageUsed,
    dms: Sequence[PackageDm],
    compared: dict[str, OwnMessages],
) -> StatusReport:
    """The report: ``conversations`` from the index, ``dms`` of the package compared (by
    ``dm_key``), ``compared`` their comparison (empty when no package was compared)."""
    leads = _leads(conversations)
    rows = [
        _row(c, compared.get(c.dm_key) if c.dm_key and leads[c.dm_key] is c else None, package)
        for c in conversations
    ]
    known = {c.dm_key for c in conversations if c.dm_key}
    rows += [
        _unplanned(dm, compared.get(dm_key(dm)), package) for dm in dms if dm_key(dm) not in known
    ]
    rows.sort(key=lambda r: (r.name.casefold(), int(r.channel_id)))
    return StatusReport(
        archive=archive, package=package, totals=_totals(rows, package, compared.values()),
        conversations=tuple(rows),
    )  # fmt: skip


def _leads(conversations: Sequence[Conversation]) -> dict[str, Conversation]:
    """Per DM key, the conversation its package comparison goes with: the latest decided."""
    leads: dict[str, Conversation] = {}
    for c in conversations:
        if c.dm_key is None:
            continue
        lead = leads.get(c.dm_key)
        if lead is None or (c.at is not None and (lead.at is None or c.at > lead.at)):
            leads[c.dm_key] = c
    return leads


def _row(c: Conversation, own: OwnMessages | None, package: PackageUsed) -> StatusRow:
    status: Status = _STATUS[c.verdict] if c.verdict else (
        "never attempted" if c.dm_key else "not in any run"
    )  # fmt: skip
    missing = status != "archived" or (own is not None and not own.complete)
    why = _kept_older(own) if status == "archived" and own is not None and own.kept else c.reason
    return StatusRow(
        channel_id=str(c.id), name=c.name, kind=c.kind, status=status, why=why,
        messages=c.archived, newest=moment(c.archived_last_ts),
        exported_at=c.at if c.verdict == "exported" else None, own=own, missing=missing,
        todo=_todo(status, own, package, seen_only=c.dm_key is None) if missing else "",
    )  # fmt: skip


def _unplanned(dm: PackageDm, own: OwnMessages | None, package: PackageUsed) -> StatusRow:
    """A conversation of the package no run planned (a newer package than the runs')."""
    return StatusRow(
        channel_id=dm.channel_id, name=display_name(dm.name),
        kind=dm.kind, status="not in any run", own=own, missing=True,
        todo=_todo("not in any run", own, package, seen_only=False),
    )  # fmt: skip


def _todo(status: Status, own: OwnMessages | None, package: PackageUsed, *, seen_only: bool) -> str:
    """What to do about a conversation that is not fully archived, in a sentence."""
    path = package.path if package.state == "compared" and package.path else "PATH"
    unreadable = list(own.unreadable) if own is not None else []
    if status == "failed":
        said = "`dmj resume` tries it again."
    elif status == "never attempted":
        said = "`dmj resume` carries on the run."
    elif status == "not in any run" and seen_only:
        said = (
            "It is not in your data package (you never wrote there), so no run plans it; a "
            "newer package lists it once you have."
        )
    elif status == "not in any run":
        said = f"`dmj run --package {path}` archives it."
    elif status == "unreachable":
        kept = own.kept if own is not None else 0
        mine = f"; {_count(kept, 'message')} of yours kept from the package" if kept else ""
        said = f"Nothing can be done: Discord refuses it for good{mine}."
    else:
        said = _missing_messages(own, path) if own is not None else ""
    return " ".join(part for part in (said, *unreadable) if part)


def _kept_older(own: OwnMessages) -> str:
    """The owner's messages of an archived DM kept from the package: a refused older channel."""
    return (
        f"{_count(own.kept, 'message')} of yours kept from the package: an older channel of "
        "this DM Discord no longer serves"
    )


def _missing_messages(own: OwnMessages, path: str) -> str:
    """Why an archived conversation misses some of the owner's messages, and what helps."""
    parts = [_kept_older(own)] if own.kept else []
    if own.newer:
        parts.append(
            f"{_count(own.newer, 'message')} newer than the newest archived one: `dmj run "
            f"--package {path}` fetches what still exists"
        )
    if own.elsewhere:
        parts.append(
            f"{_count(own.elsewhere, 'message')} in an older channel of this DM that no run "
            "reads (dmj archives the newest): only your data package has them"
        )
    if rest := own.missing - own.newer - own.elsewhere:
        parts.append(
            f"{_count(rest, 'message')} Discord did not return (deleted after the package was "
            "made, or hidden by Discord): nothing can be done"
        )
    return "; ".join(parts) + "." if parts else ""


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _totals(rows: Sequence[StatusRow], package: PackageUsed, own: Iterable[OwnMessages]) -> Totals:
    statuses = Counter(row.status for row in rows)
    compared = list(own)
    figures = (
        OwnTotals(
            in_package=sum(o.in_package for o in compared),
            archived=sum(o.archived for o in compared),
            kept=sum(o.kept for o in compared),
            missing=sum(o.missing for o in compared),
            unreadable=sum(bool(o.unreadable) for o in compared),
        )
        if package.state == "compared"
        else None
    )
    return Totals(
        conversations=len(rows), statuses={s: statuses[s] for s in STATUSES},
        missing=sum(row.missing for row in rows), own=figures,
    )  # fmt: skip

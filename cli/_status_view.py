"""What ``dmj status`` prints: the package it compared with, the totals, then the table.

Also the one sentence the run's summary and ``dmj replay --inspect`` print about your messages
(``own_messages_line``). Times are local (``LocalTime``); ``--json`` keeps them in UTC.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

import msgspec
from dmj.journal import Storage
from dmj.machine.errors import DmjError
from dmj.projections.history import (
    STATUSES,
    Advice,
    OwnTotals,
    PackageUsed,
    StatusReport,
    StatusRow,
    missing_by_advice,
)
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._tables import plain_table

__all__ = [
    "ELSEWHERE",
    "only_missing",
    "own_messages_figure",
    "own_messages_line",
    "package_line",
    "render_status",
]

_KINDS = {"dm": "DM", "group": "group DM", "deleted": "deleted user"}
ELSEWHERE = "`dmj status --package PATH` compares the archive with your package"
"""The remedy where no --package can be given (the run's summary, ``replay --inspect``)."""


def only_missing(report: StatusReport) -> StatusReport:
    """The report with only the conversations that are not fully archived (totals as they are)."""
    rows = tuple(row for row in report.conversations if row.missing)
    return msgspec.structs.replace(report, conversations=rows)


def render_status(
    console: Console, report: StatusReport, *, missing: bool, fill: Callable[[str], str],
    zone: tzinfo,
) -> None:  # fmt: skip
    """The report as people read it; ``missing``: only what is not fully archived, with what
    to do; ``fill`` names the archive in the commands it advises."""
    console.print(f"[bold]Archive[/]        {escape(report.archive)}")
    console.print(f"[bold]Package[/]        {escape(package_line(report.package))}")
    for problem in report.package.problems:
        console.print(f"  Package problem: {escape(problem)}")
    console.print(f"[bold]Conversations[/]  {escape(_totals_line(report))}")
    if report.totals.own is not None:
        console.print(f"[bold]Your messages[/]  {escape(own_messages_line(report.totals.own))}")
    if not missing:
        if report.conversations:
            console.print(_table(report.conversations, zone))
        return
    groups = missing_by_advice(report)
    if not groups:
        console.print(_nothing_missing(report))
        return
    console.print("[bold]What is missing[/], by what to do")
    for group in groups:
        console.print()
        console.print(escape(fill(group.text)), soft_wrap=False)
        console.print(_missing_table(group))


def package_line(package: PackageUsed, *, remedy: str = "pass your package with --package") -> str:
    """Which package the archive was compared with, or why it was not (then ``remedy``)."""
    whose = "given" if package.given else "the last run's"
    path = package.path or ""
    match package.state:
        case "compared":
            return f"{path} ({whose}): every message you sent is looked up in the archive."
        case "gone":
            return (
                f"{path} (the last run's) is gone, so your messages cannot be compared; {remedy}."
            )
        case "changed":
            return (
                f"{path} (the last run's) has changed since the run read it (its fingerprint "
                f"differs), so it is not used; {remedy}."
            )
        case "unreadable":
            return f"{path} (the last run's) cannot be read: {package.problem}"
        case _:
            return f"none: no run has read one yet; {remedy}."


def own_messages_line(own: OwnTotals) -> str:
    """ "N of your M messages archived", and what became of the others."""
    line = f"{own.archived:,} of your {own.in_package:,} messages archived"
    if own.kept:
        line += f"; {own.kept:,} kept from the package where Discord refuses them"
    if own.missing:
        line += f"; {own.missing:,} missing (`dmj status --missing` says where)"
    if own.unreadable:
        them = "conversation" if own.unreadable == 1 else "conversations"
        line += f"; the package files of {own.unreadable} {them} cannot be read"
    return line + "."


def own_messages_figure(archive: Path, storage: Storage) -> str:
    """ "Your messages: N of your M messages archived…" for ``dmj run``'s summary: the archive
    compared with the last run's package, or why it was not (that package is gone or
    changed); the index is brought up to date through the run's ``storage``. Never raises:
    the figure must not fail what it ends."""
    from dmj.adapters import open_package  # noqa: PLC0415 (reads the package)
    from dmj.projections.history import check_archive  # noqa: PLC0415 (reads the index)

    try:
        report = check_archive(
            archive, package=None, notice=lambda _: None, packages=open_package, storage=storage
        )
    except (DmjError, OSError, sqlite3.Error) as error:
        return f"Your messages: not compared with the package ({error})."
    if report.totals.own is None:
        return f"Your messages: not compared: {package_line(report.package, remedy=ELSEWHERE)}"
    return f"Your messages: {own_messages_line(report.totals.own)}"


def _totals_line(report: StatusReport) -> str:
    totals = report.totals
    counts = ", ".join(f"{totals.statuses.get(s, 0)} {s}" for s in STATUSES)
    missing = f"{totals.missing} not fully archived" if totals.missing else "all fully archived"
    return f"{totals.conversations}: {counts}; {missing}."


def _nothing_missing(report: StatusReport) -> str:
    if report.package.left_out:
        return (
            "Every conversation listed is fully archived, but the package left some out "
            "(see the package problems above)."
        )
    if report.totals.own is None:
        return "Nothing is missing: every conversation is archived (no package to compare with)."
    return "Nothing is missing: every conversation is archived, and every message you sent."


def _table(rows: tuple[StatusRow, ...], zone: tzinfo) -> Table:
    columns = ("conversation", "kind", "status", "msgs", "newest", "exported", "yours", "why")
    table = _unwrapped(plain_table(*columns, title="Conversations"))
    for row in rows:
        table.add_row(
            escape(row.name), _KINDS[row.kind], row.status, f"{row.messages:,}",
            _day(row.newest, zone), _minute(row.exported_at, zone), _yours(row),
            escape(_why(row, zone)),
        )  # fmt: skip
    return table


def _missing_table(group: Advice) -> Table:
    """The conversations one piece of advice applies to, each on one line (a long name
    folds, never cut), with how many of your messages it is about when it says."""
    counted = any(count is not None for _, count in group.rows)
    columns = ("conversation", "kind", "status", "yours", *(["missing"] * counted))
    table = plain_table(*columns, title="")
    table.title = None
    table.columns[0].overflow = "fold"
    for column in table.columns[1:]:
        column.no_wrap = True
    for row, count in group.rows:
        concerns = ["-" if count is None else f"{count:,}"] * counted
        table.add_row(escape(row.name), _KINDS[row.kind], row.status, _yours(row), *concerns)
    return table


def _unwrapped(table: Table) -> Table:
    """Every column on one line but the last (the sentences), which takes what is left."""
    table.columns[0].min_width = len("conversation")
    for column in table.columns[1:-1]:
        column.no_wrap = True
    return table


def _yours(row: StatusRow) -> str:
    """The owner's messages: archived of those in the package (+ kept from it), or ? / -."""
    own = row.own
    if own is None:
        return "-"
    if own.unreadable:
        return "?"
    kept = f" +{own.kept:,} kept" if own.kept else ""
    return f"{own.archived:,}/{own.in_package:,}{kept}"


def _why(row: StatusRow, zone: tzinfo) -> str:
    own = row.own
    if row.status != "archived" or own is None or own.complete:
        return row.why
    if own.unreadable:
        return "its package file cannot be read"
    dates = _day(own.missing_from, zone)
    if own.missing_to is not None and _day(own.missing_to, zone) != dates:
        dates += f" to {_day(own.missing_to, zone)}"
    return f"{own.missing:,} of yours missing, {dates}"


def _day(moment: datetime | None, zone: tzinfo) -> str:
    return "-" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d}"


def _minute(moment: datetime | None, zone: tzinfo) -> str:
    return "-" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"

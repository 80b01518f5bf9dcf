"""``dmj replay``: rebuild the projections from the journal, or audit it (``--inspect``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import app
from ._errors import ExitCode
from ._hints import META_KEY, NextSteps
from ._options import DEFAULT_ARCHIVE, ArchiveOption, archive_source

if TYPE_CHECKING:
    from dmj.journal import Storage
    from dmj.projections import MessagesCheck
    from rich.console import Console

__all__ = ["replay", "replay_command"]


@app.command()
def replay(
    ctx: typer.Context,
    archive: ArchiveOption = DEFAULT_ARCHIVE,
    inspect: Annotated[
        bool,
        typer.Option(
            "--inspect",
            help="Audit the journal read-only (works while another dmj runs): integrity, "
            "runs, batches, the next step, the projections' freshness, the archived exports.",
        ),
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help="With --inspect: print the report as JSON.")
    ] = False,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="With --inspect: check the archived exports' file sizes only, not their digests.",
        ),
    ] = False,
) -> None:
    """Rebuild batch-state.json, id-history.json and index.sqlite from the journal, or audit it."""
    for flag, given in (("--json", json), ("--quick", quick)):
        if given and not inspect:
            raise typer.BadParameter(
                f"{flag} goes with --inspect: run `dmj replay --inspect {flag}`.",
                param_hint=flag,
            )
    steps = NextSteps(archive, archive_source(ctx), run_exists=True)
    ctx.meta[META_KEY] = steps
    raise typer.Exit(replay_command(archive, inspect=inspect, json=json, quick=quick, steps=steps))


def replay_command(
    archive: Path, *, inspect: bool, json: bool, steps: NextSteps, quick: bool = False
) -> ExitCode:
    """Rebuild, or audit (``inspect``; ``quick``: exports by size only), the archive's
    projections; the exit code (1 for an archive the audit finds unhealthy, or a damaged
    export that no later whole export superseded). The menu calls it too."""
    import msgspec  # noqa: PLC0415 (loaded when the command runs: keeps dmj quick to start)
    from dmj.projections import inspect_archive, rebuild_projections  # noqa: PLC0415
    from rich.console import Console  # noqa: PLC0415

    from ._archive import command_storage  # noqa: PLC0415
    from ._replay_view import render_inspection, render_rebuild  # noqa: PLC0415

    console = Console(highlight=False, soft_wrap=True)
    storage = command_storage()
    if not inspect:
        rebuild = rebuild_projections(archive, storage=storage)
        render_rebuild(console, rebuild)
        if rebuild.changes:
            _rebuild_index(console, archive, storage)
        return ExitCode.OK
    report = msgspec.structs.replace(
        inspect_archive(archive, quick=quick), messages=_messages_check(archive, storage)
    )
    if json:
        typer.echo(msgspec.json.format(msgspec.json.encode(report), indent=2).decode())
    else:
        render_inspection(console, report, fill=steps.fill)
    damaged = report.exports is not None and report.exports.damaged
    return ExitCode.OK if report.healthy and not damaged else ExitCode.FAILURE


def _messages_check(archive: Path, storage: Storage) -> MessagesCheck | None:
    """Your messages in the last run's package compared with the archive (``dmj status``'s
    figure); None when the archive cannot say (no run, a journal damaged from its start)."""
    import sqlite3  # noqa: PLC0415

    import msgspec  # noqa: PLC0415
    from dmj.adapters import open_package  # noqa: PLC0415
    from dmj.machine.errors import DmjError  # noqa: PLC0415
    from dmj.projections import MessagesCheck  # noqa: PLC0415
    from dmj.projections.history import check_archive  # noqa: PLC0415

    try:
        report = check_archive(
            archive, package=None, notice=lambda _: None, packages=open_package, storage=storage
        )
    except (DmjError, OSError, sqlite3.Error):
        return None
    if report.package.state == "none":
        return None
    own = report.totals.own
    counts = msgspec.structs.asdict(own) if own is not None else {}
    return MessagesCheck(package=report.package.path, package_state=report.package.state, **counts)


def _rebuild_index(console: Console, archive: Path, storage: Storage) -> None:
    """``index.sqlite`` from scratch: the message index is a projection too."""
    from dmj.adapters import open_package  # noqa: PLC0415
    from dmj.projections.history import INDEX, rebuild_index  # noqa: PLC0415

    from ._history import notice  # noqa: PLC0415

    built = rebuild_index(archive, notice=notice, packages=open_package, storage=storage)
    console.print(
        f"Rebuilt the message index {INDEX}: {built.messages:,} messages in "
        f"{built.conversations:,} conversations (throughSeq {built.through_seq})."
    )

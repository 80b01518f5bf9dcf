"""``dmj replay``: rebuild the projections from the journal, or audit it (``--inspect``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import app
from ._errors import ExitCode
from ._options import DEFAULT_ARCHIVE, ArchiveOption

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["replay"]


@app.command()
def replay(
    archive: ArchiveOption = DEFAULT_ARCHIVE,
    inspect: Annotated[
        bool,
        typer.Option(
            "--inspect",
            help="Audit the journal read-only (works while another dmj runs): integrity, "
            "runs, batches, the next step, the projections' freshness.",
        ),
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help="With --inspect: print the report as JSON.")
    ] = False,
) -> None:
    """Rebuild batch-state.json, id-history.json and index.sqlite from the journal, or audit it."""
    if json and not inspect:
        raise typer.BadParameter(
            "--json goes with --inspect: run `dmj replay --inspect --json`.", param_hint="--json"
        )
    import msgspec  # noqa: PLC0415 (loaded when the command runs: keeps dmj quick to start)
    from dmj.projections import inspect_archive, rebuild_projections  # noqa: PLC0415
    from rich.console import Console  # noqa: PLC0415

    from ._replay_view import render_inspection, render_rebuild  # noqa: PLC0415

    console = Console(highlight=False, soft_wrap=True)
    if not inspect:
        rebuild = rebuild_projections(archive)
        render_rebuild(console, rebuild)
        if rebuild.changes:
            _rebuild_index(console, archive)
        return
    report = inspect_archive(archive)
    if json:
        typer.echo(msgspec.json.format(msgspec.json.encode(report), indent=2).decode())
    else:
        render_inspection(console, report)
    if not report.healthy:
        raise typer.Exit(ExitCode.FAILURE)


def _rebuild_index(console: Console, archive: Path) -> None:
    """``index.sqlite`` from scratch: the message index is a projection too."""
    from dmj.projections.history import INDEX, rebuild_index  # noqa: PLC0415

    from ._history import notice  # noqa: PLC0415

    built = rebuild_index(archive, notice=notice)
    console.print(
        f"Rebuilt the message index {INDEX}: {built.messages:,} messages in "
        f"{built.conversations:,} conversations (throughSeq {built.through_seq})."
    )

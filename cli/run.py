"""``dmj run``: archive every DM of a data package, batch by batch (docs/run.md).

The command parses and asks; the work lives in ``_new_run`` and is imported only when a run
starts, so ``dmj --help`` and ``dmj --version`` stay quick.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from dmj.machine.errors import UsageError

from ._app import app
from ._hints import META_KEY, NextSteps
from ._options import (
    DEFAULT_ARCHIVE,
    DEFAULT_STALL_TIMEOUT,
    ArchiveOption,
    DceOption,
    StallTimeoutOption,
    archive_source,
)

__all__ = ["RECOMMENDED_BATCH_SIZE", "run"]

RECOMMENDED_BATCH_SIZE = 40
"""Above this, dmj asks first: a batch touches this many DMs before it checkpoints."""


class StrategyChoice(StrEnum):
    """How a closed 1-on-1 DM is read (design.md §2)."""

    DIRECT_FIRST = "direct-first"
    REOPEN = "reopen"


class PaceChoice(StrEnum):
    """How fast dmj talks to Discord (docs/adapters.md, "Pacing")."""

    CAREFUL = "careful"
    FAST = "fast"


OnlyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--only",
        metavar="<name|id>",
        help="Archive only this conversation: its name, user id or channel id. Repeat it for "
        "several.",
        show_default=False,
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Check everything that needs no token and print the plan and an estimate; touch "
        "neither Discord nor the archive.",
    ),
]


@app.command()
def run(
    ctx: typer.Context,
    *,
    package: Annotated[
        Path,
        typer.Option(
            "--package",
            help="Your Discord data package: the .zip as Discord sent it, or its folder.",
            show_default=False,
        ),
    ],
    archive: ArchiveOption = DEFAULT_ARCHIVE,
    dce: DceOption = None,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            min=1,
            help=f"DMs per batch; dmj checkpoints after each. Above {RECOMMENDED_BATCH_SIZE} "
            "it asks first.",
        ),
    ] = 20,
    strategy: Annotated[
        StrategyChoice,
        typer.Option(
            help="direct-first: read a closed DM by its id and reopen it only if that fails; "
            "reopen: always reopen closed DMs."
        ),
    ] = StrategyChoice.DIRECT_FIRST,
    pace: Annotated[
        PaceChoice,
        typer.Option(help="careful for a real account; fast only against the sandbox."),
    ] = PaceChoice.CAREFUL,
    media: Annotated[
        bool, typer.Option("--media", help="Also download attachments and avatars.")
    ] = False,
    stall_timeout: StallTimeoutOption = DEFAULT_STALL_TIMEOUT,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", help=f"Do not ask: accept a batch size above {RECOMMENDED_BATCH_SIZE}."
        ),
    ] = False,
    only: OnlyOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Archive every DM in your data package with DiscordChatExporter, batch by batch.

    The token comes from DISCORD_TOKEN or a hidden prompt, never from the command line.
    """
    confirm_batch_size(batch_size, yes=yes)
    from ._new_run import RunRequest, run_command  # noqa: PLC0415 (keeps --help quick)

    request = RunRequest(
        package=package, archive=archive, dce=dce, batch_size=batch_size,
        strategy=strategy.value, pace=pace.value, media=media, only=tuple(only or ()),
        dry_run=dry_run, stall_timeout=stall_timeout,
    )  # fmt: skip
    steps = NextSteps(archive, archive_source(ctx), run_exists=False)
    ctx.meta[META_KEY] = steps
    raise typer.Exit(run_command(request, steps))


def confirm_batch_size(batch_size: int, *, yes: bool) -> None:
    """Ask before a batch size above the recommended one (``--yes``: don't ask)."""
    if batch_size <= RECOMMENDED_BATCH_SIZE or yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            f"--batch-size {batch_size} is above the recommended {RECOMMENDED_BATCH_SIZE} and "
            "there is no terminal to ask; pass --yes to accept it, or choose a batch size of "
            f"{RECOMMENDED_BATCH_SIZE} or less."
        )
    question = (
        f"Recommended batch size < {RECOMMENDED_BATCH_SIZE}. "
        f"Proceed with batch size > {RECOMMENDED_BATCH_SIZE}? (y/n)"
    )
    answer = str(typer.prompt(question, default="n", show_default=False, prompt_suffix=" "))
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError(
            f"Not started. Choose a batch size of {RECOMMENDED_BATCH_SIZE} or less "
            "(20 is the default), or answer y."
        )

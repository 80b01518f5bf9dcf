"""``dmj repair``: the way out of a damaged journal (a dry run unless ``--apply``).

The work lives in ``dmj.projections`` (``plan_repair``, ``apply_repair``) and the rendering in
``_repair_view``, both imported only when the command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import app
from ._hints import META_KEY, NextSteps
from ._options import DEFAULT_ARCHIVE, ArchiveOption, archive_source

__all__ = ["repair"]


@app.command()
def repair(
    ctx: typer.Context,
    archive: ArchiveOption = DEFAULT_ARCHIVE,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Do it: set the damaged end aside and rebuild the projections (without it, "
            "only say what a repair would do).",
        ),
    ] = False,
) -> None:
    """Keep a damaged journal's valid records and set the rest aside: nothing is deleted.

    Says what the journal loses and what `dmj resume` then does again.
    """
    steps = NextSteps(archive, archive_source(ctx), run_exists=True)
    ctx.meta[META_KEY] = steps
    from dmj.machine.errors import JournalCorrupt  # noqa: PLC0415 (keeps --help quick)
    from dmj.projections import apply_repair, plan_repair  # noqa: PLC0415
    from rich.console import Console  # noqa: PLC0415

    from ._archive import archive_storage  # noqa: PLC0415
    from ._env import read_environment  # noqa: PLC0415
    from ._repair_view import render_done, render_plan  # noqa: PLC0415

    console = Console(highlight=False, soft_wrap=True)
    plan = plan_repair(archive)
    if plan.action == "refuse":
        raise JournalCorrupt(f"{plan.reason} (A repair never cuts records it cannot judge.)")
    render_plan(console, plan, steps, applying=apply)
    if apply and plan.action != "nothing":
        storage = archive_storage(read_environment().failpoints)
        render_done(console, apply_repair(archive, plan, storage=storage), plan, steps)

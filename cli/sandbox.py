"""``dmj sandbox world|serve``: an offline Discord to run dmj against (docs/sandbox.md)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ._app import app

__all__ = ["sandbox_app"]

sandbox_app = typer.Typer(
    name="sandbox",
    help="An offline Discord: synthetic worlds, data packages, an API emulator, a DCE stand-in.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app)


class LayoutChoice(StrEnum):
    """The package layouts by era (docs/sandbox.md)."""

    L2025 = "2025"
    L2024 = "2024"
    L2021 = "2021"
    L2020 = "2020"
    LOCALIZED = "localized"


@sandbox_app.command("world")
def world_command(
    *,
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write the sandbox into.", show_default=False)
    ],
    users: Annotated[int, typer.Option(min=0, help="Other users, one 1-on-1 DM each.")] = 12,
    seed: Annotated[int, typer.Option(help="Same seed, same world, byte for byte.")] = 1,
    layout: Annotated[
        LayoutChoice, typer.Option(help="Data package layout by era.")
    ] = LayoutChoice.L2025,
    as_zip: Annotated[
        bool, typer.Option("--zip", help="Write package.zip instead of a package/ folder.")
    ] = False,
    groups: Annotated[
        int | None, typer.Option(min=0, help="Group DMs (default: max(3, users/10)).")
    ] = None,
    messages: Annotated[int, typer.Option(min=0, help="Mean messages per DM.")] = 30,
) -> None:
    """Write a world: world.json, its data package, a DCE launcher and the token."""
    # The sandbox loads only when used: keeps dmj quick to start.
    from dmj.sandbox import LAYOUTS, WorldSpec, create_sandbox  # noqa: PLC0415

    spec = WorldSpec.sized(users, seed=seed, messages=messages, groups=groups)
    sandbox = create_sandbox(out, spec, layout=LAYOUTS[layout.value], as_zip=as_zip)
    world = sandbox.world
    total = sum(c.message_count for c in world.channels)
    typer.echo(
        f"Wrote a sandbox world (seed {seed}): {len(world.users)} users, "
        f"{len(world.channels)} channels, {total} messages."
    )
    typer.echo(f"  world    {sandbox.world_file}")
    typer.echo(f"  package  {sandbox.package} (layout {layout.value})")
    typer.echo(f"  DCE      {sandbox.dce}")
    typer.echo(f"  token    {sandbox.token_file}")
    typer.echo(f"Next: dmj sandbox serve --world {sandbox.world_file}")


@sandbox_app.command("serve")
def serve_command(
    *,
    world: Annotated[
        Path,
        typer.Option("--world", help="The world.json to serve.", show_default=False),
    ],
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")] = 0,
    faults: Annotated[
        str, typer.Option(help="Fault plan, e.g. 'captcha@5,mode=bot' (docs/sandbox.md).")
    ] = "",
) -> None:
    """Serve Discord's API for a world on 127.0.0.1 until interrupted.

    The first line of output is DMJ_API_BASE=<url>. Opened and closed DMs persist next to
    the world, so a restarted server carries on where it stopped.
    """
    from dmj.sandbox import FaultPlan, serve  # noqa: PLC0415 (see world_command)

    serve(world, port=port, faults=FaultPlan.parse(faults), announce=typer.echo)
    typer.echo("The sandbox stopped.", err=True)

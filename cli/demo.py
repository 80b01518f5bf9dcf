"""``dmj demo``: the whole story offline, with real commands against a sandboxed Discord.

The story and its steps live in ``dmj.sandbox`` (``_demo_story.STORY``); this module gives it
a directory, an environment and a terminal to tell it on, and picks the exit code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import app
from ._errors import ExitCode, stderr_console

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["RichNarrator", "demo", "demo_command", "demo_env"]

_NOT_INHERITED = (
    "DISCORD_TOKEN", "DMJ_API_BASE", "DMJ_ARCHIVE", "DMJ_FAILPOINT", "DMJ_DCE_STALL_TIMEOUT",
)  # fmt: skip
"""Never handed to the demo's commands: the sandbox brings its own token and API base."""


@app.command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR",
            help="A new or empty directory for the world and the archive (default: a fresh "
            "temporary one). It is kept afterwards.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Tell the whole story offline: a sandboxed Discord, a run killed mid-batch, the resume.

    Every command is printed before it runs, so you can repeat it by hand. Nothing but
    127.0.0.1 is contacted; every process the demo starts is stopped at the end, on Ctrl-C too.
    """
    from rich.console import Console  # noqa: PLC0415 (keeps `dmj --help` quick)

    raise typer.Exit(demo_command(directory, Console(highlight=False)))


def demo_command(directory: Path | None, console: Console) -> ExitCode:
    """Tell the story into ``directory`` (a temporary one if None) on ``console``."""
    from dmj.sandbox import STORY, prepare_places, tell  # noqa: PLC0415

    root = Path(tempfile.mkdtemp(prefix="dmj-demo-")) if directory is None else directory
    places = prepare_places(root)
    console.print(
        "[bold]dmj demo[/]: the whole story, offline, with real dmj commands against a "
        f"sandboxed Discord. Each command is printed first ([bold]$[/] …) so you can repeat "
        f"it by hand. Everything goes into {places.root}."
    )
    try:
        tell(places, RichNarrator(console), STORY, demo_env(console.width))
    except KeyboardInterrupt:
        stderr_console().print(
            "[bold red]Interrupted:[/] the demo stopped every process it started; "
            f"{places.root} keeps what it made so far."
        )
        return ExitCode.INTERRUPTED
    return ExitCode.OK


def demo_env(width: int) -> dict[str, str]:
    """The demo's commands' environment: this one, without dmj's own variables, and the
    terminal's width so their tables fit it."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env["COLUMNS"] = str(width)
    return env


class RichNarrator:
    """Tells the demo on a rich ``Console``: chapters, the demo's words, commands, output."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def chapter(self, number: int, title: str) -> None:
        self.console.print()
        self.console.rule(f"[bold]{number}. {_escape(title)}", align="left")

    def say(self, text: str) -> None:
        self.console.print(_escape(text), style="cyan")

    def command(self, line: str) -> None:
        self.console.print(f"[bold green]$[/] [bold]{_escape(line)}[/]", soft_wrap=True)

    def output(self, line: str) -> None:
        self.console.print(line, markup=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape  # noqa: PLC0415

    return escape(text)

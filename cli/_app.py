"""The typer application: the root command, ``--version`` and error handling.

Each command lives in a module of its own and registers itself on ``app`` when that module is
imported below; a command parses and renders, then calls one function that does the work.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from dmj.machine.errors import DmjError
from typer.core import TyperGroup
from typer.exceptions import TyperException

from ._errors import ExitCode, exit_code_for, render_bug, render_error
from ._help import reflow_helps
from ._hints import META_KEY
from ._options import DEFAULT_ARCHIVE

__all__ = ["app", "main"]


def dmj_version() -> str:
    """The installed dmj version (from the distribution's metadata)."""
    from importlib.metadata import version  # noqa: PLC0415 (only for --version: 15 ms)

    return version("dmj")


class _DmjGroup(TyperGroup):
    """Turns dmj's errors into a rendered message and the exit code of their class, and
    reflows every command's help (``_help``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reflow_helps(self)

    # typer's own Context base is private (typer._click), so the override takes Any.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except DmjError as error:
            steps = ctx.meta.get(META_KEY)
            render_error(error, fill=steps.fill if steps is not None else None)
            raise typer.Exit(exit_code_for(error)) from None
        except BrokenPipeError:
            # Whoever read our output left (`dmj … | head`): not a bug, nothing to say. Point
            # stdout at /dev/null so the interpreter's last flush stays quiet, as rich does.
            _silence_stdout()
            raise typer.Exit(ExitCode.FAILURE) from None
        except Exception as error:
            render_bug(error)
            raise typer.Exit(ExitCode.FAILURE) from None


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


app = typer.Typer(
    name="dmj",
    cls=_DmjGroup,
    help=(
        "dmj archives every Discord DM you ever had, from your data package, with "
        "DiscordChatExporter, batch by batch, in a crash-safe journal."
    ),
    add_completion=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dmj {dmj_version()}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print dmj's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    if ctx.invoked_subcommand is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            from ._menu import run_menu  # noqa: PLC0415 (only for the menu)

            raise typer.Exit(run_menu(Path(os.environ.get("DMJ_ARCHIVE") or DEFAULT_ARCHIVE)))
        typer.echo(ctx.get_help())


def main() -> None:
    """The ``dmj`` console script."""
    app(prog_name="dmj")

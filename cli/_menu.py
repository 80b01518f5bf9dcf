"""Bare ``dmj`` on a terminal: a numbered menu over the functions the commands call.

The choices are a table (``ACTIONS``). Numbers are stable: a choice keeps its number for good,
so scripts and habits that name one keep working. "Resume previous export" is always listed,
with where the archive's run stands. Every choice prints the equivalent command first. Ctrl-C
(or Ctrl-D) in a prompt goes back to the menu; at the menu it quits.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import typer
from dmj.machine.errors import DmjError
from rich.console import Console
from rich.markup import escape

from ._errors import ExitCode, exit_code_for, render_error
from ._menu_actions import (
    MenuSession,
    browse_archive,
    export_all,
    inspect_journal,
    menu_status,
    resume_previous,
    what_is_missing,
)
from ._menu_export import export_history_menu

__all__ = ["ACTIONS", "Action", "run_menu"]


class Action(NamedTuple):
    """One choice of the menu; ``act`` None quits. ``status`` adds a note after the label."""

    key: str
    label: str
    act: Callable[[MenuSession], None] | None
    status: Callable[[Path], str] | None = None


ACTIONS: tuple[Action, ...] = (
    Action("1", "Export all direct messages", export_all),
    Action("2", "Resume previous export", resume_previous, menu_status),
    Action("3", "Inspect the journal", inspect_journal),
    Action("4", "What is missing", what_is_missing),
    Action("5", "Export history", export_history_menu),
    Action("6", "Browse the archive", browse_archive),
    Action("7", "Quit", None),
)


def run_menu(archive: Path) -> ExitCode:
    """Show the menu until the user quits; the exit code (0)."""
    console = Console(highlight=False, soft_wrap=True)
    session = MenuSession(console=console, archive=archive)
    keys = "/".join(action.key for action in ACTIONS)
    while True:
        try:
            _show(session)
            choice = typer.prompt(f"Choose [{keys}]", prompt_suffix=" ").strip().lower()
        except (typer.Abort, KeyboardInterrupt):  # Ctrl-C or Ctrl-D at the menu: quit
            console.print()
            return ExitCode.OK
        action = next((a for a in ACTIONS if choice in (a.key, a.label.lower())), None)
        if choice == "q" or (action is not None and action.act is None):
            return ExitCode.OK
        if action is None or action.act is None:
            console.print(f"Choose one of {', '.join(keys.split('/'))}.")
            continue
        _act(session, action.act)


def _show(session: MenuSession) -> None:
    console = session.console
    console.print()
    console.print(f"[bold]dmj[/] — Discord DM Journal. Archive: {escape(str(session.archive))}")
    for action in ACTIONS:
        note = f"  ({escape(action.status(session.archive))})" if action.status else ""
        console.print(f"  [bold]{action.key}[/]  {escape(action.label)}{note}")


def _act(session: MenuSession, act: Callable[[MenuSession], None]) -> None:
    """Run one choice; whatever happens, the menu comes back."""
    session.steps = None
    try:
        act(session)
    except typer.Abort:  # Ctrl-C or Ctrl-D in one of its prompts
        session.console.print("\nBack to the menu.")
    except KeyboardInterrupt:
        session.console.print("\nInterrupted; back to the menu.")
    except DmjError as error:
        steps = session.steps
        render_error(error, fill=steps.fill if steps is not None else None)
        session.console.print(f"(exit code {exit_code_for(error)}; back to the menu)")

"""Every command's ``--help`` reads as prose at any width: paragraphs wrap at the terminal,
never at the docstring's source lines, and every command and option says what it does."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import pytest
import typer
from dmj.cli import app
from dmj.cli._app import _DmjGroup
from dmj.cli._help import reflow
from typer.testing import CliRunner

from tests.cli.test_reference import commands

COMMANDS = list(commands())
WIDTHS = (80, 120)
_BOX = ("│", "╭", "╰")
_LAID_OUT = re.compile(r"^ (\s|[-*•] |\d+[.)] |\$ )")


def rendered(target: typer.Typer, path: tuple[str, ...], width: int) -> str:
    result = CliRunner().invoke(
        target, [*path, "--help"], prog_name="dmj", env={"COLUMNS": str(width)}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def source_breaks(help_text: str, width: int) -> list[str]:
    """Pairs of prose lines (outside the panels) where the next line's first word would have
    fitted on the line before it: a wrapper never breaks there, a docstring's newline does."""
    prose = [line.rstrip() for line in help_text.splitlines() if not line.startswith(_BOX)]
    found = []
    for line, after in pairwise(prose):
        if not line.strip() or not after.strip() or _LAID_OUT.match(after):
            continue
        # rich pads the text one column on each side of the terminal's width
        if len(line) + 1 + len(after.split()[0]) <= width - 1:
            found.append(f"{line.strip()!r} / {after.strip()!r}")
    return found


def command_at(path: tuple[str, ...]) -> Any:
    """The command at ``path`` (typer's own click types are private, hence Any)."""
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(("dmj", *path)))
def test_help_paragraphs_wrap_at_the_terminal_not_at_the_docstring_lines(
    path: tuple[str, ...], width: int
) -> None:
    assert source_breaks(rendered(app, path, width), width) == []


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(("dmj", *path)))
def test_help_says_what_the_command_does_in_a_sentence_shown_in_full(
    path: tuple[str, ...],
) -> None:
    command = command_at(path)
    assert command.help, f"dmj {' '.join(path)} has no help"
    summary = command.help.split("\n\n")[0]
    assert summary.endswith("."), summary
    shown = " ".join(rendered(app, path, 80).split())
    assert f"Usage: {' '.join(('dmj', *path))} [OPTIONS]" in shown
    assert " ".join(command.help.split()) in shown


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(("dmj", *path)))
def test_every_option_and_argument_says_what_it_is_in_one_sentence(
    path: tuple[str, ...],
) -> None:
    for param in command_at(path).params:
        text = getattr(param, "help", None) or ""
        assert text.endswith("."), f"dmj {' '.join(path)} {param.name}: {text!r}"
        assert "\n" not in text, f"dmj {' '.join(path)} {param.name}: a source line break"


def test_a_source_break_is_what_the_check_finds() -> None:
    """The check above catches the old way: typer alone keeps a later paragraph's newlines."""
    plain = typer.Typer()

    @plain.command()
    def one() -> None:
        """Do one thing.

        A second paragraph that is wrapped in the source, as docstrings are, right
        here, mid-sentence.
        """

    @plain.command()
    def two() -> None:
        """Do another."""

    assert source_breaks(rendered(plain, ("one",), 120), 120) == [
        "'A second paragraph that is wrapped in the source, as docstrings are, right' / "
        "'here, mid-sentence.'"
    ]


def test_lists_examples_and_hidden_text_keep_their_lines_while_prose_is_joined() -> None:
    text = """Summary line
    wrapped.

    Prose that goes on
    and on.

    - a list item
    - another one

    Examples:
        dmj show from:ana
        dmj export md in:ana

    $ dmj status
    $ dmj resume
    \f
    For the code's readers
    only."""
    assert reflow(text) == (
        "Summary line wrapped.\n\nProse that goes on and on.\n\n"
        "- a list item\n- another one\n\n"
        "Examples:\n    dmj show from:ana\n    dmj export md in:ana\n\n"
        "$ dmj status\n$ dmj resume\n\f\nFor the code's readers\nonly."
    )


def test_a_list_in_a_command_help_prints_one_item_a_line() -> None:
    listed = typer.Typer(cls=_DmjGroup, rich_markup_mode="rich")

    @listed.command()
    def one() -> None:
        """Do one thing.

        It does, in
        order:

        - this first
        - that next
        """

    @listed.command()
    def two() -> None:
        """Do another."""

    lines = [line.strip() for line in rendered(listed, ("one",), 80).splitlines()]
    assert lines[lines.index("It does, in order:") :][:4] == [
        "It does, in order:",
        "",
        "- this first",
        "- that next",
    ]

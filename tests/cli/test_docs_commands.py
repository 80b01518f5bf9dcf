"""The ``dmj`` commands README.md and docs/*.md show exist, with the options they are shown with.

A command in a fenced code block is parsed by dmj's own command line, as typed (no world is
needed: parsing checks the command, every option, its value's type or choices and the
required options, and runs nothing). A command in inline code (``dmj status --missing``) names
a command that exists and only options that command has; its placeholders and ``[…]`` are the
doc's own.
"""

from __future__ import annotations

import re
import shlex
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import typer
from dmj.cli import app

from tests.support import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
COMMAND_LINE = re.compile(r"^\s*(?P<prompt>\$ )?(?:[A-Z_]+=\S* )*(?P<argv>dmj(?: .*)?)$")
OUTPUT = "text"
"""A ``text`` block is output: only its ``$ dmj …`` lines are commands."""
PARTIAL = {"dmj re", "dmj run --pa"}
"""Inline code that is half typed on purpose (docs/cli.md: what shell completion completes)."""
INLINE = re.compile(r"(?<!`)`(?:[A-Z_]+=\S* )*(?P<argv>dmj(?: [^`]*)?)`(?!`)")
LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
LITERAL = re.compile(r"[a-z0-9][a-z0-9.-]*")


def where(doc: Path, text: str, offset: int) -> str:
    return f"{doc.relative_to(REPO_ROOT)}:{text.count(chr(10), 0, offset) + 1}"


def code_block_commands() -> list[Any]:
    """(place, argv) of every ``dmj …`` line in a fenced code block of the docs."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in FENCE.finditer(text):
            for line in re.finditer(r"^.*$", block["body"], re.MULTILINE):
                command = COMMAND_LINE.match(line[0])
                if command is None or (block["lang"] == OUTPUT and not command["prompt"]):
                    continue
                words = shlex.split(command["argv"], comments=True)
                argv = words[1 : len(words) - (words[-1] == "&")]
                place = where(doc, text, block.start("body") + line.start())
                found.append(pytest.param(argv, id=place))
    return found


def inline_commands() -> list[Any]:
    """(place, words) of every ``dmj …`` in inline code of the docs."""
    found = []
    for doc in DOCS:
        text = FENCE.sub(lambda block: "\n" * block[0].count("\n"), doc.read_text("utf-8"))
        for span in INLINE.finditer(text):
            if span["argv"] in PARTIAL:
                continue
            found.append(pytest.param(span["argv"].split()[1:], id=where(doc, text, span.start())))
    return found


def resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The command the leading words name, and the words after them."""
    command: Any = typer.main.get_command(app)
    taken = 0
    while taken < len(words) and words[taken] in getattr(command, "commands", {}):
        command = command.commands[words[taken]]
        taken += 1
    return command, words[taken:]


def test_the_docs_show_commands_in_code_blocks_and_inline() -> None:
    """The lists below are not empty (a regex that stopped matching would pass everything)."""
    assert len(code_block_commands()) >= 20
    assert len(inline_commands()) >= 100


@pytest.mark.parametrize("argv", code_block_commands())
def test_a_command_in_a_docs_code_block_parses_as_typed(argv: list[str]) -> None:
    command, rest = resolve(argv)
    assert not hasattr(command, "commands") or not rest, f"no such command: dmj {' '.join(argv)}"
    # Parsing alone: types, choices, ranges, required options; nothing is invoked.
    with command.make_context(" ".join(["dmj", *argv[: len(argv) - len(rest)]]), rest):
        pass


@pytest.mark.parametrize("words", inline_commands())
def test_a_command_in_inline_code_names_options_its_command_has(words: list[str]) -> None:
    command, rest = resolve(words)
    if hasattr(command, "commands") and rest and re.fullmatch(r"[a-z]+", rest[0]):
        pytest.fail(f"no such command: dmj {' '.join(words)}")
    options = {name: param for param in command.params for name in param.opts}
    # long options only: a single - in a query negates a filter (`dmj show -from:me`)
    shown = set(LONG_OPTION.findall(" ".join(rest)))
    assert shown <= {*options, "--help"}, f"dmj {' '.join(words)}: no option {shown - {*options}}"
    context = command.make_context("dmj", [], resilient_parsing=True)
    for option, value in pairwise(word.strip("[]") for word in rest):
        if option not in options or options[option].is_flag:
            continue
        # `--pace careful|fast`, `--batch-size 5`: a literal value must be one the option takes
        for literal in re.split(r"\\?\|", value):
            if LITERAL.fullmatch(literal):
                options[option].process_value(context, literal)

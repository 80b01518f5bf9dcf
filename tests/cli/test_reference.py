"""docs/cli.md holds every command's ``--help``, exactly as dmj prints it.

Each help block follows a marker ``<!-- help: dmj COMMAND -->``; the prose around the blocks
is the doc's own. ``DMJ_REGEN_GOLDEN=1`` rewrites the blocks from the code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import typer
from dmj.cli import app
from typer.testing import CliRunner

from tests.support import REPO_ROOT

DOC = REPO_ROOT / "docs" / "cli.md"
BLOCK = re.compile(r"<!-- help: (?P<command>[a-z ]+) -->\n```text\n(?P<help>.*?)```", re.DOTALL)


def commands(group: object = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path of the app: (), ("run",), ("sandbox", "world"), …"""
    group = group or typer.main.get_command(app)
    yield path
    for name, command in sorted(getattr(group, "commands", {}).items()):
        yield from commands(command, (*path, name))


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], prog_name="dmj")
    assert result.exit_code == 0, result.output
    return "\n".join(line.rstrip() for line in result.stdout.splitlines()).strip("\n") + "\n"


def test_every_command_has_its_help_in_docs_cli_md_as_dmj_prints_it() -> None:
    expected = {" ".join(("dmj", *path)): help_text(path) for path in commands()}
    text = DOC.read_text(encoding="utf-8")
    if os.environ.get("DMJ_REGEN_GOLDEN") == "1":
        text = BLOCK.sub(
            lambda m: f"<!-- help: {m['command']} -->\n```text\n{expected[m['command']]}```", text
        )
        DOC.write_text(text, encoding="utf-8")
    documented = {m["command"]: m["help"] for m in BLOCK.finditer(text)}
    assert sorted(documented) == sorted(expected), "a command is missing from docs/cli.md"
    for command, help_now in expected.items():
        assert documented[command] == help_now, (
            f"docs/cli.md shows an old `{command} --help`; rerun with DMJ_REGEN_GOLDEN=1"
        )

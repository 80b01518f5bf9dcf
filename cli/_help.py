"""Help texts as prose: each paragraph of a command's docstring is reflowed to the terminal.

typer's ``rich_markup_mode="rich"`` joins the lines of a help text's first paragraph but keeps
the source line breaks of every later one, so a docstring wrapped at 100 columns prints
broken mid-sentence ("Nothing but" / "127.0.0.1 is contacted"). ``"markdown"`` would reflow,
but it also reads ``<url>`` as HTML and drops it. So dmj joins the lines itself, once, for
every command (``reflow_helps``), and leaves alone what is laid out on purpose: a paragraph
with an indented line (an example, a code block), a list item (``-``, ``*``, ``1.``), a
``$ `` command line, or click's ``\\b`` marker.
"""

from __future__ import annotations

import inspect
import re
from typing import Protocol

__all__ = ["reflow", "reflow_helps"]

_LAID_OUT = re.compile(r"^(\s|[-*•] |\d+[.)] |\$ |\x08)", re.MULTILINE)
"""A line that starts like this makes its paragraph verbatim."""


def reflow(text: str) -> str:
    """``text`` dedented, each prose paragraph on one line; laid-out ones and what follows a
    ``\\f`` (click's "no further help") as written."""
    shown, cut, hidden = inspect.cleandoc(text).partition("\f")
    paragraphs = [
        paragraph if _LAID_OUT.search(paragraph) else " ".join(paragraph.split("\n"))
        for paragraph in shown.split("\n\n")
    ]
    return "\n\n".join(paragraphs) + cut + hidden


class _Command(Protocol):
    """A command or group of typer's (whose click is its own, private copy)."""

    help: str | None


def reflow_helps(command: _Command) -> None:
    """Reflow the help of ``command`` and of every command under it, in place."""
    if command.help:
        command.help = reflow(command.help)
    for sub in getattr(command, "commands", {}).values():
        reflow_helps(sub)

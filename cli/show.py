"""``dmj show [QUERY]...``: what ``dmj export`` would write, in the terminal.

The same selection and order as ``dmj export`` with the same arguments, shown as the text
format's messages under a header with the query and the count; through a pager on a
terminal, plain when piped.
"""

from __future__ import annotations

import sys

from ._app import app
from ._history import HISTORY_COMMAND, LocalTime, OrderChoice, OrderOption, QueryArgument, notice
from ._options import DEFAULT_ARCHIVE, ArchiveOption

__all__ = ["show"]


@app.command(context_settings=HISTORY_COMMAND)
def show(
    words: QueryArgument = None,
    *,
    order: OrderOption = OrderChoice.TIME,
    archive: ArchiveOption = DEFAULT_ARCHIVE,
) -> None:
    """Show the messages a query selects (what `dmj export` would write)."""
    from dmj.adapters import open_package  # noqa: PLC0415 (loaded when the command runs)
    from dmj.projections.history import (  # noqa: PLC0415
        open_history,
        parse_query,
        write_listing,
    )

    from ._archive import command_storage  # noqa: PLC0415

    query = parse_query(" ".join(words or []))
    zone = LocalTime()
    with open_history(
        archive, zone=zone, notice=notice, packages=open_package, storage=command_storage()
    ) as history:
        selection = history.select(query, order.value)
        chunks = write_listing(
            selection.messages(), selection.gaps, query=query.text, order=order.value,
            count=selection.count, zone=zone,
        )  # fmt: skip
        if _on_terminal():
            _page(b"".join(chunks).decode())
        else:
            out = sys.stdout.buffer
            for chunk in chunks:
                out.write(chunk)
            out.flush()


def _on_terminal() -> bool:
    return sys.stdout.isatty()


def _page(text: str) -> None:
    """``text`` through rich's pager (``$PAGER``, else ``less``)."""
    from rich.console import Console  # noqa: PLC0415

    console = Console(highlight=False)
    with console.pager(styles=False):
        console.out(text, highlight=False, end="")

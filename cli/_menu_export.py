"""The menu's option 5, "Export history": ``dmj export`` asked for step by step.

It asks for the archive, the format, the query (read at once: a query that cannot be read is
the command's error, caret and all, and the menu comes back), the order and the file name
(default: the name ``dmj export`` would choose now), prints the equivalent command line, and
calls ``export_command``, the function the command calls.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape

from ._history import OrderChoice
from ._menu_actions import MenuSession
from .export import FORMATS, default_filename, export_command

__all__ = ["export_history_menu", "export_line"]


def export_history_menu(session: MenuSession) -> None:
    """Option 5: some of the archive's messages as a JSON, Markdown or text file."""
    from dmj.projections.history import parse_query  # noqa: PLC0415 (loaded when it runs)

    archive = session.ask_archive()
    fmt: str = typer.prompt(
        f"Format ({', '.join(FORMATS[:-1])} or {FORMATS[-1]})", default=FORMATS[0],
        value_proc=_format,
    )  # fmt: skip
    query: str = typer.prompt(
        "Query (Discord's search syntax, e.g. from:me in:alice last:20; empty: every message)",
        default="",
        show_default=False,
    ).strip()
    parse_query(query)  # a query that cannot be read says so now, before more questions
    order: OrderChoice = typer.prompt(
        "Order (time: chronological; channel: by conversation)",
        default=OrderChoice.TIME.value,
        value_proc=_order,
    )
    default = default_filename(fmt, datetime.now(UTC))
    name = typer.prompt("File name", default=default).strip() or default
    name = str(Path(name).expanduser())  # as a shell would read ~, so the line below says it
    force = Path(name).exists()
    if force and not typer.confirm(f"{name} exists. Replace it?", default=False):
        session.console.print(f"{escape(name)} is left as it is; nothing was exported.")
        return
    selection, argv = export_line(archive, fmt, query, order, name, force=force)
    session.show(*argv)
    session.next_steps(archive, run_exists=True)
    export_command(
        archive, fmt, query, order=order, filename=name, force=force,
        filter_input=" ".join(selection),
    )  # fmt: skip


def export_line(
    archive: Path, fmt: str, query: str, order: OrderChoice, name: str, *, force: bool
) -> tuple[list[str], list[str]]:
    """The ``dmj export`` arguments that do what the menu was asked: the words that select
    (what the export's meta calls ``filterInput``), and the whole command line.

    The query goes as words when none needs quoting in a shell, else as one argument (the
    command joins its words with spaces, so both read the same); ``--order`` only when it is
    not the default, as on the command line.
    """
    words = query.split()
    terms = words if shlex.join(words) == " ".join(words) else [query]
    ordered = ["--order", order.value] if order is not OrderChoice.TIME else []
    selection = ["export", fmt, *terms, *ordered]
    forced = ["--force"] if force else []
    return selection, [*selection, "--filename", name, *forced, "--archive", str(archive)]


def _format(answer: str) -> str:
    fmt = answer.strip().lower()
    if fmt not in FORMATS:
        raise typer.BadParameter(f"the format is {', '.join(FORMATS[:-1])} or {FORMATS[-1]}.")
    return fmt


def _order(answer: str) -> OrderChoice:
    try:
        return OrderChoice(answer.strip().lower())
    except ValueError:
        raise typer.BadParameter("the order is time or channel.") from None

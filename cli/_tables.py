"""dmj's one table style: a bold title on the left, a rule under the header, no frame."""

from __future__ import annotations

from rich import box
from rich.table import Table

__all__ = ["plain_table"]


def plain_table(*columns: str, title: str) -> Table:
    """A table with ``columns`` under ``title`` (markup: escape what comes from outside)."""
    return Table(
        *columns,
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )

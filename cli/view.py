"""``dmj view``: browse the archive in a local web page, private to this launch (docs/view.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._app import app
from ._options import DEFAULT_ARCHIVE, ArchiveOption

__all__ = ["has_display", "view"]


@app.command()
def view(
    archive: ArchiveOption = DEFAULT_ARCHIVE,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=1,
            max=65535,
            help="Listen on this port of 127.0.0.1 (default: a free one).",
            show_default=False,
        ),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the address only; open no browser.")
    ] = False,
) -> None:
    """Browse and search the archive in your web browser: read-only, on this computer only.

    The address it prints holds a secret made for this launch. Ctrl-C stops it.
    """
    from ._view import serve_view  # noqa: PLC0415 (the web stack loads only when it runs)

    show = not no_browser and has_display(os.environ, sys.platform)
    serve_view(Path(archive), port=port, open_browser=show)


def has_display(environ: dict[str, str] | os._Environ[str], platform: str) -> bool:
    """Whether a browser window can be shown: always on macOS and Windows; elsewhere only
    with an X11 or Wayland display (a text browser would take over the terminal)."""
    if platform == "darwin" or platform.startswith(("win", "cygwin")):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))

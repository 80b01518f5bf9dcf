"""The work of ``dmj view``: check the archive, serve the viewer, open the browser, stop.

The address holds a secret made for this launch. It is printed for the user, and the browser
gets it through a private redirect file (0600, in a 0700 temporary folder), never on a
command line: another user of the machine could read a ``xdg-open`` argv, not that file.
"""

from __future__ import annotations

import secrets
import signal
import tempfile
import threading
import webbrowser
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from types import FrameType

import typer
from dmj.machine.errors import JournalNotFound
from dmj.projections import JOURNAL
from dmj.view import IndexArchive, build_app, listen, serving

from ._app import dmj_version
from ._history import LocalTime, notice

__all__ = ["open_in_browser", "serve_view", "view_source"]


def serve_view(archive: Path, *, port: int | None, open_browser: bool) -> None:
    """Serve ``archive`` on 127.0.0.1 until SIGINT or SIGTERM.

    The message index is brought up to date before the address is printed (built, the first
    time), then each time the page is loaded: never by the requests that page through it.
    """
    root = _existing_archive(archive)
    sock = listen(port)
    try:
        source = view_source(root)
        source.refresh()
    except BaseException:
        sock.close()
        raise
    actual = sock.getsockname()[1]
    secret = secrets.token_urlsafe(32)
    media = root / "media"
    app = build_app(source, port=actual, secret=secret, media=media if media.is_dir() else None)
    url = f"http://127.0.0.1:{actual}/?key={secret}"
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with serving(app, sock), tempfile.TemporaryDirectory(prefix="dmj-view-") as private:
            typer.echo(f"Browsing {root} (read-only) at\n  {url}")
            typer.echo("The address holds a secret for this launch only. Press Ctrl-C to stop.")
            if open_browser and not open_in_browser(url, Path(private), webbrowser.open):
                typer.echo("No browser could be opened: open the address above yourself.")
            while not stop.wait(timeout=0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("dmj view stopped.")


def open_in_browser(url: str, private: Path, opener: Callable[[str], bool]) -> bool:
    """Open ``url`` through a redirect file in the private folder ``private``."""
    page = private / "open.html"
    target = escape(url, quote=True)
    page.write_text(
        f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url='
        f'{target}"><title>dmj view</title><a href="{target}">Open dmj view</a>\n',
        encoding="utf-8",
    )
    page.chmod(0o600)
    return opener(page.as_uri())


def _existing_archive(path: Path) -> Path:
    root = path.absolute()
    if not (root / JOURNAL).is_file():
        where = "no such directory" if not root.is_dir() else f"it has no {JOURNAL}"
        raise JournalNotFound(
            f"There is no dmj archive at {path} ({where}), so there is nothing to browse; "
            "check --archive or DMJ_ARCHIVE, or start one with `dmj run --package PATH`."
        )
    return root


def view_source(root: Path) -> IndexArchive:
    """What the viewer reads: the archive's message index, in the system's local time; a
    refresh reads the data package with the adapters' reader and writes through the
    command's seam (view imports neither)."""
    from dmj.adapters import open_package  # noqa: PLC0415

    from ._archive import command_storage  # noqa: PLC0415

    return IndexArchive(
        root, zone=LocalTime(), app=f"dmj {dmj_version()}", clock=lambda: datetime.now(UTC),
        notice=notice, packages=open_package, storage=command_storage(),
    )  # fmt: skip

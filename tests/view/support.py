"""A viewer served on loopback for a test (importable as ``tests.view.support``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dmj.view import Archive, build_app, listen, serving

SECRET = "test-secret-for-this-launch"


class Viewer:
    """A viewer serving an archive on 127.0.0.1 for the length of a test."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.url = f"{self.origin}/?key={SECRET}"
        """The address ``dmj view`` prints: the page, with the launch's secret."""


@contextmanager
def serve_viewer(archive: Archive, media: Path | None = None) -> Iterator[Viewer]:
    """``archive`` served as ``dmj view`` serves it, on a free port, with ``SECRET``."""
    sock = listen(None)
    port = sock.getsockname()[1]
    with serving(build_app(archive, port=port, secret=SECRET, media=media), sock):
        yield Viewer(port)


def without_when_and_where_from(document: bytes) -> bytes:
    """An export (json, md or txt) with its ``generatedAt`` and ``filterInput`` values
    blanked: the only two fields a download and ``dmj export``'s file may differ in."""
    head, rest = document[:400], document[400:]
    for field in (b"generatedAt", b"filterInput"):
        head, found = re.subn(rb'(%s"?: "?)[^"\n]*' % field, rb"\1-", head, count=1)
        assert found == 1, field
    return head + rest

"""The viewer over the message index, through HTTP: what ``dmj export`` selects is what a
search finds, a malformed query reads as the CLI's error, and "Export these results" is the
file ``dmj export`` writes, byte for byte but for when and from which command line.

The source is the one ``dmj view`` builds (``view_source``: local time, the app's version);
``dmj export`` runs in this process, in the same time zone.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from dmj.cli import app
from dmj.cli._view import view_source
from typer.testing import CliRunner

from tests.view.sandbox_archive import sandbox_archive
from tests.view.support import Viewer, serve_viewer, without_when_and_where_from

NEW_YORK = "EST5EDT,M3.2.0,M11.1.0"
"""Local time that is not UTC (dates in queries, times in md and txt), as a POSIX rule."""

QUERIES = [
    "",
    "coffee",
    "Coffee LUNCH",
    '"coffee pier"',
    "from:alice",
    "from:me lunch",
    "from:Дмитрий",
    "in:carol before:2019",
    'in:"✨ Nova ✨"',
    "has:image",
    "has:video -coffee",
    "has:file from:carol",
    "is:edited",
    "-from:me pier after:2023-06",
    "during:2020-03",
    "🎉",
    "كيف",
    "last:30",
    "coffee last:5",
    "nobody-writes-this",
]
"""Every kind of term, words in several scripts, and queries matching thousands."""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sandbox_archive(tmp_path_factory.mktemp("index-app"), messages=3_000, longest=1_500)


@pytest.fixture(scope="module")
def viewer(root: Path) -> Iterator[Viewer]:
    source = view_source(root)
    source.refresh()
    with serve_viewer(source) as running:
        yield running


@pytest.fixture
def client(viewer: Viewer, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """Signed in, in New York time (the viewer's local time is the process's, as the CLI's)."""
    monkeypatch.setenv("TZ", NEW_YORK)
    time.tzset()
    transport = httpx.HTTPTransport(verify=False)
    with httpx.Client(base_url=viewer.origin, transport=transport) as signed_in:
        assert signed_in.get(viewer.url).status_code == 303
        yield signed_in
    monkeypatch.undo()
    time.tzset()


def body(response: httpx.Response) -> Any:
    return msgspec.json.decode(response.content)


def dmj_export(root: Path, fmt: str, query: str, target: Path) -> bytes:
    result = CliRunner().invoke(
        app, ["export", fmt, *query.split(), "--filename", str(target), "--archive", str(root)]
    )
    assert result.exit_code == 0, result.output
    return target.read_bytes()


def searched(client: httpx.Client, query: str) -> tuple[list[str], int, bool]:
    """Every result of ``query``, page after page (newest first), and the count shown."""
    found: list[str] = []
    params = {"q": query, "limit": "200"}
    while True:
        page = body(client.get("/api/search", params=params))
        found += [m["id"] for m in page["messages"]]
        if page["next"] is None:
            return found, page["count"], page["atLeast"]
        params["before"] = page["next"]


@pytest.mark.parametrize("query", QUERIES)
def test_a_search_finds_what_dmj_export_selects_newest_first(
    client: httpx.Client, root: Path, tmp_path: Path, query: str
) -> None:
    exported = json.loads(dmj_export(root, "json", query, tmp_path / "out.json"))
    selected = [m["id"] for m in reversed(exported["messages"])]
    found, count, at_least = searched(client, query)
    assert found == selected
    assert (count, at_least) == ((1000, True) if len(selected) >= 1000 else (len(selected), False))


def test_the_table_reaches_every_kind_of_answer(client: httpx.Client) -> None:
    """The queries above are worth comparing: none, a few, and more than the count's bound."""
    counts = {q: body(client.get("/api/search", params={"q": q}))["count"] for q in QUERIES}
    assert counts["nobody-writes-this"] == 0
    assert counts[""] == 1000
    assert 100 < counts["coffee"] < 1000
    assert all(counts[q] > 0 for q in QUERIES if q != "nobody-writes-this")


def test_the_words_are_marked_as_the_index_matched_them(client: httpx.Client) -> None:
    page = body(client.get("/api/search", params={"q": "COFFEE -pier", "limit": "5"}))
    for message in page["messages"]:
        assert re.search(r"<mark>[Cc]offee</mark>", message["html"])
        assert "pier" not in message["html"].lower()


@pytest.mark.parametrize("query", ["coffee frm:alice", 'from:alice "lunch', "during:2023-13"])
def test_a_malformed_query_reads_as_the_cli_error(
    client: httpx.Client, root: Path, query: str
) -> None:
    response = client.get("/api/search", params={"q": query})
    assert response.status_code == 400
    refused = body(response)
    cli = CliRunner().invoke(app, ["export", "json", *query.split(), "--archive", str(root)])
    assert cli.exit_code == 2
    assert cli.stderr == f"Error: {refused['error']}\n"
    assert refused["error"].startswith("The query cannot be read: ")
    assert (refused["start"], refused["end"]) != (None, None)
    download = client.get("/api/export", params={"q": query, "format": "md"})
    assert (download.status_code, body(download)) == (400, refused)


@pytest.mark.parametrize("fmt", ["json", "md", "txt"])
@pytest.mark.parametrize("query", ["from:carol has:attachment", ""])
def test_export_these_results_downloads_the_bytes_dmj_export_writes(
    client: httpx.Client, root: Path, tmp_path: Path, fmt: str, query: str
) -> None:
    written = dmj_export(root, fmt, query, tmp_path / f"out.{fmt}")
    response = client.get("/api/export", params={"q": query, "format": fmt})
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(rf'attachment; filename="export_dm-\d{{8}}-\d{{6}}\.{fmt}"', disposition)
    assert without_when_and_where_from(response.content) == without_when_and_where_from(written)

"""``dmj show [QUERY]...``: what ``dmj export`` would write, in the terminal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dmj.cli import app
from typer.testing import CliRunner, Result

from tests.projections.history.archives import one_sided_archive, two_run_archive

runner = CliRunner()


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TZ", "EST5EDT,M3.2.0,M11.1.0")
    time.tzset()
    yield two_run_archive(tmp_path / "archive")
    monkeypatch.undo()
    time.tzset()


def dmj(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    "query", [[], ["from:alice", "-hello"], ['in:"trip crew"', "last:1"], ["8"]]
)
@pytest.mark.parametrize("order", ["time", "channel"])
def test_show_lists_what_export_writes_in_the_same_order(
    archive: Path, query: list[str], order: str
) -> None:
    shown = dmj("show", *query, "--order", order, "--archive", str(archive))
    exported = dmj("export", "txt", *query, "--order", order, "--filename", "-",
                   "--archive", str(archive))  # fmt: skip
    assert shown.exit_code == exported.exit_code == 0, shown.output + exported.output
    header, _, entries = shown.stdout.partition("\n\n")
    assert entries == exported.stdout.partition("\n---\n")[2]
    assert header.splitlines()[0] == f"Query: {' '.join(query) or '(everything)'}"


def test_the_header_says_the_count_the_gaps_and_the_order(archive: Path) -> None:
    shown = dmj("show", "--archive", str(archive))
    assert shown.stdout.splitlines()[:3] == [
        "Query: (everything)",
        "7 messages, 3 without messages, order: time",
        "",
    ]
    assert (
        shown.stdout.splitlines()[3] == "#1 Direct Messages > Alice W — Alice W — 2023-05-01 08:00"
    )


def test_the_owner_s_messages_from_the_package_are_shown_marked_and_selectable(
    archive: Path,
) -> None:
    one_sided = one_sided_archive(archive.parent / "one-sided")
    shown = dmj("show", "in:erin", "--archive", str(one_sided))
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[1:4] == [
        "2 messages, 1 without messages, order: time",
        "",
        "#1 Direct Messages > erin — Me — 2023-05-05 22:00 (from your data package)",
    ]
    assert shown.stdout.endswith(
        "Only your own messages are kept here, from your data package: the other side of this "
        "conversation is not available.\n"
    )
    only_archived = dmj("show", "source:discord", "--archive", str(one_sided))
    assert only_archived.stdout.splitlines()[1] == "2 messages, 3 without messages, order: time"


def test_on_a_terminal_the_listing_goes_through_the_pager(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paged: list[str] = []
    monkeypatch.setattr("dmj.cli.show._on_terminal", lambda: True)
    monkeypatch.setattr("dmj.cli.show._page", paged.append)
    shown = dmj("show", 'in:"Trip crew"', "--archive", str(archive))
    assert shown.exit_code == 0
    assert shown.stdout == ""
    assert paged[0].startswith(
        'Query: in:"Trip crew"\n2 messages, order: time\n\n#1 Group DMs > Trip crew'
    )


def test_query_words_may_start_with_a_dash_and_even_with_h(archive: Path) -> None:
    shown = dmj("show", "-hello", "-from:me", "--archive", str(archive))
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[:2] == [
        "Query: -hello -from:me",
        "4 messages, 3 without messages, order: time",
    ]


def test_a_malformed_query_is_a_usage_error(archive: Path) -> None:
    shown = dmj("show", "before:yesterday", "--archive", str(archive))
    assert shown.exit_code == 2
    assert shown.stderr.splitlines()[1:3] == ["  before:yesterday", "  ^^^^^^^^^^^^^^^^"]

"""``dmj export [json|md|txt] [QUERY]...``: files, names, formats, errors, golden output."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dmj.cli import app
from freezegun import freeze_time
from typer.testing import CliRunner, Result

from tests.projections.golden import assert_golden_bytes
from tests.projections.history.archives import one_sided_archive, two_run_archive

runner = CliRunner()
NEW_YORK = "EST5EDT,M3.2.0,M11.1.0"
"""Local time for these tests, as a POSIX rule (no time zone database needed): the golden
files show local times that differ from UTC and follow daylight saving."""


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TZ", NEW_YORK)
    time.tzset()
    yield two_run_archive(tmp_path / "archive")
    monkeypatch.undo()
    time.tzset()


def dmj(archive: Path, *args: str) -> Result:
    return runner.invoke(app, ["export", *args, "--archive", str(archive)])


@freeze_time("2024-01-02 03:04:05")
def test_the_default_file_is_named_after_the_local_time_and_the_summary_says_where(
    archive: Path,
) -> None:
    result = dmj(archive)
    assert result.exit_code == 0, result.output
    name = "export_dm-20240101-220405.json"
    assert result.stdout == (
        f"Exported 7 messages and 3 conversations without messages to {name}.\n"
    )
    index = archive / "index.sqlite"
    assert result.stderr == f"Note: Building the message index {index}: it is missing.\n"
    document = json.loads(Path(name).read_text(encoding="utf-8"))
    assert (document["generatedAt"], document["count"]) == ("2024-01-02T03:04:05Z", 7)
    assert document["filterInput"] == "export"
    assert (Path(name).stat().st_mode & 0o777) == 0o600


@freeze_time("2024-01-02 03:04:05")
@pytest.mark.parametrize("fmt", ["json", "md", "txt"])
def test_each_format_matches_its_golden_file(
    archive: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dmj.cli.export.dmj_version", lambda: "9.8.7")
    result = dmj(archive, fmt, "--order", "channel", "--filename", f"out.{fmt}")
    assert result.exit_code == 0, result.output
    written = Path(f"out.{fmt}").read_bytes()
    assert b"\r\n" in written or fmt == "json", "a CRLF inside a message is kept"
    assert_golden_bytes(f"two-runs.{fmt}", written, area="export")


@freeze_time("2024-01-02 03:04:05")
@pytest.mark.parametrize("fmt", ["json", "md", "txt"])
def test_one_sided_messages_and_partial_gaps_match_their_golden_file(
    archive: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Erin's and Frank's DMs are refused: the owner's messages there come from the package
    (JSON ``"source": "package"``, a marked heading) and their gaps are partial."""
    monkeypatch.setattr("dmj.cli.export.dmj_version", lambda: "9.8.7")
    one_sided = one_sided_archive(archive.parent / "one-sided")
    result = dmj(one_sided, fmt, "--filename", f"out.{fmt}")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Exported 5 messages and 3 conversations without messages to out.{fmt}.\n"
    )
    assert_golden_bytes(f"one-sided.{fmt}", Path(f"out.{fmt}").read_bytes(), area="export")


def test_the_filename_is_used_exactly_as_given(archive: Path) -> None:
    result = dmj(archive, "md", "--filename", "notes")
    assert result.exit_code == 0, result.output
    assert Path("notes").read_text("utf-8").startswith("```json meta\n")
    assert not Path("notes.md").exists()
    assert result.stdout == "Exported 7 messages and 3 conversations without messages to notes.\n"


def test_an_existing_file_is_never_overwritten_without_force(archive: Path) -> None:
    Path("mine.json").write_text("precious", encoding="utf-8")
    refused = dmj(archive, "--filename", "mine.json")
    assert refused.exit_code == 2
    assert refused.stderr.endswith(
        "Error: mine.json already exists; dmj never overwrites a file unless you add --force "
        "(or choose another --filename).\n"
    )
    assert Path("mine.json").read_text("utf-8") == "precious"
    forced = dmj(archive, "--filename", "mine.json", "--force")
    assert forced.exit_code == 0, forced.output
    assert json.loads(Path("mine.json").read_text("utf-8"))["count"] == 7
    assert sorted(p.name for p in Path().iterdir()) == ["archive", "mine.json"], "no temp file"


def test_a_dash_writes_the_export_to_stdout_and_the_summary_to_stderr(archive: Path) -> None:
    result = dmj(archive, "json", "in:alice", "--filename", "-")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["count"] == 5
    assert result.stderr.endswith("Note: Exported 5 messages to stdout.\n")
    assert list(Path().iterdir()) == [Path("archive")]


def test_the_order_is_chronological_across_conversations_or_grouped_by_name(
    archive: Path,
) -> None:
    def paths(*args: str) -> list[str]:
        result = dmj(archive, "json", *args, "--filename", "-")
        assert result.exit_code == 0, result.output
        return [m["channelPath"] for m in json.loads(result.stdout)["messages"]]

    alice, crew = "Direct Messages > Alice W", "Group DMs > Trip crew"
    assert paths() == [alice, crew, alice, alice, alice, crew, alice]
    assert paths("--order", "channel") == [alice] * 5 + [crew] * 2


def test_the_filter_input_is_the_command_line_that_chose_the_messages(archive: Path) -> None:
    result = dmj(archive, "json", "from:alice", "-hello", "--order", "channel", "--filename", "-")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["filterInput"] == "export json from:alice -hello --order channel"
    assert document["orderApplied"] == "channel"
    assert [m["content"] for m in document["messages"]] == ["", "``````", "`start` and end`"]


def test_an_unknown_format_is_a_usage_error_naming_the_three(archive: Path) -> None:
    result = dmj(archive, "html", "from:alice")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: 'html' is not an export format: use json, md or txt. A first plain word is "
        "always the format; to search for it, name the format first: `dmj export json html`.\n"
    )


def test_a_malformed_query_is_quoted_with_a_caret_and_the_valid_keys(archive: Path) -> None:
    result = dmj(archive, "md", "flat", "frm:alice")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: The query cannot be read: frm: is not a key of the query.",
        "  flat frm:alice",
        "       ^^^^",
        "Valid keys: from: in: has: before: after: during: is: source: last: — plus words, "
        '"exact phrases" and -negation; see docs/index.md.',
    ]
    assert list(Path().iterdir()) == [Path("archive")]


def test_a_missing_archive_is_a_usage_error(tmp_path: Path) -> None:
    result = dmj(tmp_path / "typo")
    assert result.exit_code == 2
    assert "There is no dmj archive at" in result.stderr


def test_a_filename_in_a_missing_folder_is_a_usage_error(archive: Path) -> None:
    result = dmj(archive, "--filename", "nowhere/out.json")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: --filename nowhere/out.json: the folder nowhere does not exist; create it or "
        "name a file in an existing folder.\n"
    )

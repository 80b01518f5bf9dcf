"""``dmj status`` on a sandbox world: every row, figure and exit code as the world's truth says.

The world has every fate (deleted and gone users, unreadable closed DMs, a left group, a
moved DM, a duplicate), a DM in which the owner deleted messages after the package was made,
and DCE truncates one export (exit 0, half its messages). The expected rows come from
``world_facts`` and the world's own message logs, never from dmj.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dmj.cli import app
from dmj.sandbox import LAYOUTS, MessageLog, Sandbox, WorldFacts, WorldSpec, create_sandbox
from dmj.sandbox import write_package as write_world_package
from typer.testing import CliRunner, Result

from tests.cli.runs import invoke
from tests.e2e.support import Archive, Served, serving
from tests.projections.history.archives import (
    DAN,
    DAN_DM,
    DAN_HI,
    DAN_MINE,
    ONE_SIDED,
    T,
    one_sided_archive,
)
from tests.projections.history.chats import (
    ME,
    Chat,
    dce_message,
    person,
    snowflake,
    write_archive,
    write_package,
)

SPEC = WorldSpec(users=12, groups=3, messages=10, seed=3, duplicates=1, empty=1, deleted_later=1)


@dataclass
class Checked:
    served: Served
    facts: WorldFacts
    truncated: str
    """The channel whose export DCE cut in half (exit 0)."""
    summary: str
    """What ``dmj run`` printed."""


def truncation_target(sandbox: Sandbox, facts: WorldFacts) -> str:
    """An open or readable DM with enough of the owner's messages in its second half."""
    for channel in sandbox.world.channels:
        log = MessageLog(sandbox.world, channel)
        late = [i for i in range(len(log) // 2, len(log)) if log.package_row(i) is not None]
        if channel.fate in ("open", "readable") and channel.id not in facts.deleted_later and late:
            return channel.id
    raise AssertionError("the world has no DM to truncate")


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checked]:
    root = tmp_path_factory.mktemp("status")
    sandbox = create_sandbox(root / "sbx", SPEC)
    from dmj.sandbox import world_facts  # noqa: PLC0415

    facts = world_facts(sandbox.world)
    target = truncation_target(sandbox, facts)
    with serving(sandbox, root / "archive", faults=f"dce-truncate={target}x1") as served:
        done = invoke(served, *served.run_args(batch_size=6))
        assert done.exit_code == 0, done.stderr
        yield Checked(served, facts, target, done.stdout)


def status(checked: Checked, *args: str) -> tuple[int, dict[str, Any]]:
    archive = str(checked.served.archive.path)
    result = invoke(checked.served, "status", "--json", *args, "--archive", archive)
    return result.exit_code, json.loads(result.stdout)


def own_rows_kept_by_truncation(sandbox: Sandbox, channel_id: str) -> tuple[int, int]:
    """(messages, the owner's messages) in the first half of ``channel_id``: what DCE kept."""
    channel = next(c for c in sandbox.world.channels if c.id == channel_id)
    log = MessageLog(sandbox.world, channel)
    half = len(log) // 2
    return half, sum(log.package_row(i) is not None for i in range(half))


Row = tuple[str, int, int | None, int | None, int | None, int | None]


def expected_rows(checked: Checked) -> dict[str, Row]:
    """Channel id → (status, messages archived, in package, archived, kept, missing)."""
    facts, sandbox = checked.facts, checked.served.sandbox
    rows: dict[str, Row] = {}
    for dm, mine in facts.own_messages.items():
        if dm in facts.exports:
            target = facts.exports[dm]
            messages, archived = facts.expected_messages[target], facts.own_archivable[dm]
            if target == checked.truncated:
                messages, archived = own_rows_kept_by_truncation(sandbox, target)
            kept = facts.own_kept[dm]
            rows[target] = ("archived", messages, mine, archived, kept, mine - archived - kept)
        else:
            rows[dm] = ("unreachable", 0, mine, 0, mine, 0)
    for channel in facts.not_in_package:
        rows[channel] = ("not in any run", 0, None, None, None, None)
    return rows


def test_every_row_and_figure_is_the_world_s_truth_and_something_missing_exits_3(
    checked: Checked,
) -> None:
    code, report = status(checked)
    assert code == 3, "unreachable DMs, a truncated export, messages deleted later: missing"
    got = {}
    for row in report["conversations"]:
        own = row["own"] or {}
        got[row["channelId"]] = (
            row["status"], row["messages"], own.get("inPackage"), own.get("archived"),
            own.get("kept"), own.get("missing"),
        )  # fmt: skip
    expected = expected_rows(checked)
    assert got == expected
    own = report["totals"]["own"]
    assert own == {
        "inPackage": sum(r[2] for r in expected.values() if r[2] is not None),
        "archived": sum(r[3] for r in expected.values() if r[3] is not None),
        "kept": sum(r[4] for r in expected.values() if r[4] is not None),
        "missing": sum(r[5] for r in expected.values() if r[5] is not None),
        "unreadable": 0,
    }
    assert own["kept"] > 0
    assert own["missing"] > 0
    statuses = report["totals"]["statuses"]
    assert statuses["unreachable"] == len(checked.facts.unreachable) >= 3
    assert report["package"]["state"] == "compared"


def test_the_run_s_summary_and_replay_inspect_give_the_same_figure(checked: Checked) -> None:
    _, report = status(checked)
    own = report["totals"]["own"]
    archive = checked.served.archive.path
    figure = (
        f"{own['archived']} of your {own['inPackage']} messages archived; {own['kept']} kept from "
        f"the package where Discord refuses them; {own['missing']} missing (`dmj "
        f"status --missing --archive {archive}` says where)."
    )
    assert f"Your messages: {figure}" in " ".join(checked.summary.split())
    inspected = invoke(checked.served, "replay", "--inspect", "--archive", str(archive))
    assert f"Your messages {figure}" in " ".join(inspected.stdout.split())
    as_json = invoke(checked.served, "replay", "--inspect", "--json", "--archive", str(archive))
    assert json.loads(as_json.stdout)["messages"] == {
        "package": str(checked.served.sandbox.package), "package_state": "compared",
        "in_package": own["inPackage"], "archived": own["archived"], "kept": own["kept"],
        "missing": own["missing"], "unreadable": 0,
    }  # fmt: skip


def test_each_missing_conversation_says_why_and_what_to_do(checked: Checked) -> None:
    _, report = status(checked, "--missing")
    facts = checked.facts
    todo = {row["channelId"]: row["todo"] for row in report["conversations"]}
    assert all(row["missing"] for row in report["conversations"])
    truncated = todo[checked.truncated]
    assert "newer than the newest archived one: `dmj run --package " in truncated
    (deleted_in,) = facts.deleted_later
    assert todo[facts.exports[deleted_in]] == (
        "2 messages Discord did not return (deleted after the package was made, or hidden by "
        "Discord): nothing can be done."
    )
    assert any(facts.own_kept[moved] for moved in facts.reopens_elsewhere)
    for moved, target in facts.reopens_elsewhere.items():
        assert moved not in todo
        assert target not in todo, "Discord refused its package channel: those are kept"
    for newest in facts.duplicates:
        assert "in an older channel of this DM that no run reads" in todo[facts.exports[newest]], (
            "dmj never asked Discord for an older duplicate: missing, not kept"
        )
    for refused in facts.unreachable:
        assert todo[refused].startswith("Nothing can be done: Discord refuses it for good; ")
    for silent in facts.not_in_package:
        assert todo[silent].startswith("It is not in your data package (you never wrote there)")


def test_a_package_of_another_era_zipped_gives_the_same_figures(
    checked: Checked, tmp_path: Path
) -> None:
    world = checked.served.sandbox.world
    old = write_world_package(world, tmp_path / "2020.zip", LAYOUTS["2020"], as_zip=True)
    code, report = status(checked, "--package", str(old))
    _, usual = status(checked)
    assert code == 3
    assert (report["package"]["given"], report["package"]["path"]) == (True, str(old))
    assert report["totals"] == usual["totals"]
    assert report["conversations"] == [
        {**row, "todo": row["todo"].replace(usual["package"]["path"], str(old))}
        for row in usual["conversations"]
    ]


def test_a_second_run_fetches_what_the_truncated_export_missed(
    checked: Checked, tmp_path: Path
) -> None:
    """As its advice says: an incremental run exports after the newest archived message (in
    a copy of the archive: the other tests read the first run's)."""
    served = dataclasses.replace(checked.served, archive=Archive(tmp_path / "archive"))
    shutil.copytree(checked.served.archive.path, served.archive.path)
    done = invoke(served, *served.run_args(batch_size=6))
    assert done.exit_code == 0, done.stderr
    _, report = status(dataclasses.replace(checked, served=served))
    row = next(r for r in report["conversations"] if r["channelId"] == checked.truncated)
    own = row["own"]
    assert (row["messages"], own["archived"], own["missing"], row["missing"]) == (
        checked.facts.expected_messages[checked.truncated], own["inPackage"], 0, False,
    )  # fmt: skip


# --- the one-sided archive: exact output, the package as given, bad input --------------------


@pytest.fixture
def one_sided(tmp_path: Path) -> Path:
    return one_sided_archive(tmp_path / "archive")


def dmj(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_missing_lists_what_is_not_fully_archived_under_each_piece_of_advice(
    one_sided: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # nothing wraps, whatever the temporary path
    result = dmj("status", "--missing", "--archive", str(one_sided))
    assert result.exit_code == 3
    a = str(one_sided)
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    rules = [n for n, line in enumerate(lines) if line and set(line) == {"─"}]
    for n in rules:
        lines[n] = "(rule)"
    assert lines == [
        f"Archive        {a}",
        f"Package        {a}/package (the last run's): every message you sent is looked up in "
        "the archive.",
        "Conversations  4: 1 archived, 2 unreachable, 1 failed, 0 never attempted, 0 not in any "
        "run; 4 not fully archived.",
        "Your messages  1 of your 6 messages archived; 3 kept from the package where Discord "
        "refuses them; 2 missing (`dmj status --missing` says where).",
        "What is missing, by what to do",
        "",
        f"`dmj resume --archive {a}` tries these again.",
        "conversation  kind      status  yours",
        "(rule)",
        "Band          group DM  failed  0/1",
        "",
        f"Messages of yours newer than the newest archived one: `dmj run --package {a}/package "
        f"--archive {a}` fetches what still exists.",
        "conversation  kind  status    yours  missing",
        "(rule)",
        "Dan           DM    archived  1/2    1",
        "",
        "Nothing can be done: Discord refuses these for good. Your own messages there are kept "
        "from the package.",
        "conversation  kind  status       yours",
        "(rule)",
        "erin          DM    unreachable  0/2 +2 kept",
        "frank         DM    unreachable  0/1 +1 kept",
    ]
    assert result.stderr == f"Note: Building the message index {a}/index.sqlite: it is missing.\n"


def test_missing_reads_well_at_80_columns_each_advice_once_each_conversation_on_one_line(
    one_sided: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = dmj("status", "--missing", "--archive", str(one_sided))
    assert result.exit_code == 3
    shown = result.stdout.split("What is missing", 1)[1]
    lines = [line.rstrip() for line in shown.splitlines()]
    assert all(len(line) <= 80 for line in lines), "nothing wider than the terminal"
    for name in ("erin", "frank", "Dan", "Band"):
        (at,) = [n for n, line in enumerate(lines) if line.startswith(f"{name} ")]
        assert lines[at + 1 : at + 2] in ([], [""]) or not lines[at + 1].startswith(" "), (
            f"{name}'s row holds on one line: no cell wraps"
        )
    flowing = " ".join(" ".join(lines).split())
    assert flowing.count("Nothing can be done") == 1, "advice shared by two is said once"
    rows = {line.split()[0]: line.split()[1:] for line in lines if line[:1].isalpha()}
    assert rows["erin"] == ["DM", "unreachable", "0/2", "+2", "kept"]
    assert rows["frank"] == ["DM", "unreachable", "0/1", "+1", "kept"]
    assert rows["Dan"] == ["DM", "archived", "1/2", "1"]
    assert rows["Band"] == ["group", "DM", "failed", "0/1"]


def test_the_full_table_has_every_conversation_with_its_figures(one_sided: Path) -> None:
    result = dmj("status", "--archive", str(one_sided))
    assert result.exit_code == 3
    table = [line.rstrip() for line in result.stdout.splitlines()][4:]
    assert table[:3] == [
        "Conversations",
        "conversation  kind      status       msgs  newest      exported          yours        why",
        "─" * 100,
    ]  # fmt: skip
    dan = next(n for n, line in enumerate(table) if line.startswith("Dan "))
    assert table[dan : dan + 3] == [
        "Dan           DM        archived     2     2023-05-05  2024-05-01 12:00  1/2          "
        "1 of yours",
        " " * 86 + "missing,",
        " " * 86 + "2023-05-05",
    ]


def test_the_json_report_is_the_document_docs_status_md_describes(one_sided: Path) -> None:
    result = dmj("status", "--json", "--archive", str(one_sided))
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert list(report) == ["schemaVersion", "archive", "package", "totals", "conversations"]
    dan = next(row for row in report["conversations"] if row["name"] == "Dan")
    assert dan == {
        "channelId": DAN_DM, "name": "Dan", "kind": "dm", "status": "archived", "why": "",
        "messages": 2, "newest": "2023-05-05T17:00:00Z", "exportedAt": "2024-05-01T12:00:05Z",
        "own": {"inPackage": 2, "archived": 1, "kept": 0, "missing": 1,
                "missingFrom": "2023-05-05T18:00:00Z", "missingTo": "2023-05-05T18:00:00Z",
                "newer": 1, "elsewhere": 0, "unreadable": []},
        "missing": True,
        "todo": f"1 message newer than the newest archived one: `dmj run --package "
                f"{one_sided}/package` fetches what still exists.",
    }  # fmt: skip
    assert report["totals"]["own"] == {
        "inPackage": 6, "archived": 1, "kept": 3, "missing": 2, "unreadable": 0,
    }  # fmt: skip


def test_a_complete_archive_exits_0_and_says_nothing_is_missing(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "archive", [Chat(DAN_DM, (DAN,), [DAN_HI, DAN_MINE])])
    result = dmj("status", "--missing", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "Nothing is missing: every conversation is archived, and every message you sent."
    )


def test_a_package_file_that_cannot_be_read_is_reported_and_never_complete(
    one_sided: Path,
) -> None:
    (one_sided / "package" / "Messages" / f"c{DAN_DM}" / "messages.json").write_text("[{")
    result = dmj("status", "--json", "--archive", str(one_sided))
    report = json.loads(result.stdout)
    dan = next(row for row in report["conversations"] if row["name"] == "Dan")
    assert result.exit_code == 3
    assert (dan["missing"], dan["own"]["inPackage"]) == (True, 0)
    assert dan["own"]["unreadable"] == [
        f"{one_sided}/package: Messages/c{DAN_DM}/messages.json cannot be read (Input data was "
        "truncated); download the package again, or pass a newer one with --package."
    ]
    assert dan["todo"] == dan["own"]["unreadable"][0]
    assert report["totals"]["own"]["unreadable"] == 1


def test_when_the_run_s_package_is_gone_or_changed_the_status_says_so_and_compares_nothing(
    one_sided: Path, tmp_path: Path
) -> None:
    package = one_sided / "package"
    package.rename(tmp_path / "moved")
    gone = dmj("status", "--archive", str(one_sided))
    assert gone.exit_code == 3, "the refused conversations are still missing"
    assert gone.stdout.splitlines()[1] == (
        f"Package        {package} (the last run's) is gone, so your messages cannot be "
        "compared; pass your package with --package."
    )
    assert "Your messages" not in gone.stdout
    (tmp_path / "moved").rename(package)
    (package / "Messages" / f"c{DAN_DM}" / "channel.json").write_text(
        json.dumps({"id": DAN_DM, "type": "DM", "recipients": ["42", "999"]})
    )
    changed = json.loads(dmj("status", "--json", "--archive", str(one_sided)).stdout)
    assert changed["package"] == {
        "path": str(package), "given": False, "state": "changed", "problem": None,
        "problems": [], "leftOut": 0,
    }  # fmt: skip
    assert changed["totals"].get("own") is None


def test_a_second_status_reads_no_channel_json_of_an_unchanged_package_and_says_the_same(
    one_sided: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the first check read of the package is kept in the index (docs/status.md)."""
    from dmj.adapters import _package  # noqa: PLC0415
    from dmj.adapters._package_files import decode_channel  # noqa: PLC0415

    decoded: list[bytes] = []

    def counting(data: bytes) -> object:
        decoded.append(data)
        return decode_channel(data)

    monkeypatch.setattr(_package, "decode_channel", counting)
    first = dmj("status", "--json", "--archive", str(one_sided))
    assert decoded, "the first check reads the package whole"
    decoded.clear()
    second = dmj("status", "--json", "--archive", str(one_sided))
    assert decoded == []
    assert (second.exit_code, second.stdout) == (first.exit_code, first.stdout)


def test_a_package_changed_after_a_status_is_seen_as_changed(one_sided: Path) -> None:
    package = one_sided / "package"
    assert json.loads(dmj("status", "--json", "--archive", str(one_sided)).stdout)[
        "package"]["state"] == "compared"  # fmt: skip
    (package / "Messages" / f"c{DAN_DM}" / "channel.json").write_text(
        json.dumps({"id": DAN_DM, "type": "DM", "recipients": ["42", "999"]})
    )
    changed = json.loads(dmj("status", "--json", "--archive", str(one_sided)).stdout)
    assert changed["package"]["state"] == "changed"
    assert changed["totals"].get("own") is None


def test_a_newer_package_shows_the_conversations_no_run_has_archived(
    one_sided: Path, tmp_path: Path
) -> None:
    grace = Chat("710000000000000009", (person("800", "grace"),), [dce_message(
        snowflake(T + timedelta(days=30)), ME, "hello grace")])  # fmt: skip
    info = write_package(tmp_path / "newer", [*ONE_SIDED, grace])
    result = dmj("status", "--json", "--missing", "--package", info.path,
                 "--archive", str(one_sided))  # fmt: skip
    assert result.exit_code == 3
    row = next(r for r in json.loads(result.stdout)["conversations"] if r["name"] == "grace#0")
    assert (row["status"], row["own"]["inPackage"], row["own"]["missing"]) == (
        "not in any run", 1, 1,
    )  # fmt: skip
    assert row["todo"] == f"`dmj run --package {info.path}` archives it."


@pytest.mark.parametrize(
    ("package", "problem"),
    [
        (
            "nowhere",
            "The data package {path} does not exist. Pass the folder or .zip Discord sent.",
        ),
        ("file.txt", "{path} is neither a folder nor a readable .zip file"),
    ],
)
def test_a_package_given_that_cannot_be_read_is_a_usage_error(
    one_sided: Path, tmp_path: Path, package: str, problem: str
) -> None:
    path = tmp_path / package
    if package.endswith(".txt"):
        path.write_text("not a zip")
    result = dmj("status", "--package", str(path), "--archive", str(one_sided))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("Error: " + problem.format(path=path))
    assert result.stdout == ""


def test_a_package_of_another_account_is_refused(one_sided: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(one_sided / "package", other)
    (other / "Account" / "user.json").write_text(json.dumps({"id": "77", "username": "x"}))
    result = dmj("status", "--package", str(other), "--archive", str(one_sided))
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"Error: The data package {other} belongs to account 77, but this archive is account "
        "42's; pass that account's package with --package.\n"
    )

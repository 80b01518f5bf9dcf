"""``dmj demo`` as a newcomer runs it (``make demo``): the real console script, real processes.

The assertions are the story's facts, read from the journal and the files, not the wording of
the commands the demo runs (their output is theirs to change).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import pytest
from dmj.cli import app
from dmj.journal import read_events
from dmj.machine.events import BatchFinished, BatchStarted, ChannelExported, RunFinished
from dmj.machine.state import fold
from dmj.sandbox import load_world, world_facts
from typer.testing import CliRunner

from tests.e2e.support import DMJ, exported_messages, wait_until
from tests.promises import broken_promises
from tests.support import REPO_ROOT

pytestmark = pytest.mark.slow

NOT_THE_SANDBOX = {"DISCORD_TOKEN": "a-real-token-the-demo-must-not-use",
                   "DMJ_API_BASE": "http://192.0.2.1/api/v9"}  # fmt: skip
"""A user's own settings (192.0.2.1 is TEST-NET-1: never routed): the demo ignores both."""


def demo_env() -> dict[str, str]:
    return {**os.environ, **NOT_THE_SANDBOX}


def processes_mentioning(directory: Path) -> list[str]:
    """Command lines of live processes that name ``directory`` (the demo's children do)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes()
        except OSError:
            continue
        if str(directory).encode() in argv:
            found.append(argv.replace(b"\0", b" ").decode(errors="replace"))
    return found


def name_of(command: str) -> str:
    """``dmj export md`` for ``dmj export md in:x --archive a``: the words before the first
    option or query term."""
    return " ".join(itertools.takewhile(str.isalpha, command.split()))


@pytest.mark.timeout(120)
def test_the_demo_tells_the_whole_story_and_the_journal_proves_it(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    done = subprocess.run(
        [str(DMJ), "demo", str(directory)], env=demo_env(), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=110, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    commands = [line[2:] for line in done.stdout.splitlines() if line.startswith("$ ")]
    archive, sandbox = directory / "archive", directory / "sandbox"
    assert [name_of(c) for c in commands if c.startswith("dmj ")] == [
        "dmj sandbox world", "dmj sandbox serve", "dmj run", "dmj replay", "dmj resume",
        "dmj show", "dmj export md", "dmj status", "dmj sandbox serve", "dmj view",
    ]  # fmt: skip
    assert commands[-1] == f"dmj view --archive {archive}", "it ends with how to browse it"
    assert f"dmj run --package {sandbox}/package --dce {sandbox}/dce --archive {archive}" in (
        "\n".join(commands)
    )
    loopback = r"DMJ_API_BASE=http://127\.0\.0\.1:\d+/api/v9"
    token = re.escape(f"DISCORD_TOKEN=$(cat {sandbox}/token)")
    assert any(re.fullmatch(f"export {loopback} {token}", c) for c in commands), (
        "the variables to repeat a step by hand, on loopback"
    )
    assert any(re.fullmatch(r"kill -9 \d+", c) for c in commands)

    events = list(read_events(archive / "journal.jsonl"))
    said = re.search(r"Its journal holds (\d+)\s+records", done.stdout)
    assert said is not None
    records_at_kill = int(said[1])
    at_kill = fold(events[:records_at_kill])
    assert at_kill.batch is not None, "killed mid-batch"
    assert at_kill.batch.batch >= 1, "after a batch had finished"
    finished_before = {e.batch for e in events[:records_at_kill] if isinstance(e, BatchFinished)}
    started_after = {e.batch for e in events[records_at_kill:] if isinstance(e, BatchStarted)}
    assert not finished_before & started_after, "resume started no finished batch again"
    assert isinstance(events[-1], RunFinished)
    facts = world_facts(load_world(sandbox / "world.json"))
    assert broken_promises(events, facts) == []
    assert len(facts.exports) + len(facts.unreachable) >= 40, "about 50 conversations"
    assert set(exported_messages(archive)) == set(facts.exports.values())
    archived = sum(facts.own_archivable[dm] for dm in facts.exports)
    kept = sum(facts.own_kept.values())
    shown = " ".join(done.stdout.split())
    assert (
        f"Your messages {archived:,} of your {sum(facts.own_messages.values()):,} messages "
        f"archived; {kept:,} kept from the package where Discord refuses them"
    ) in shown, "dmj status --missing: the world's own messages, archived or kept"
    logs = sorted(p.name.split("-")[1] for p in (archive / "logs").glob("*.log"))
    assert logs == ["resume", "run"], "one killed run and one resume, as real processes"

    shown = next(c for c in commands if c.startswith("dmj show "))
    assert re.fullmatch(rf"dmj show from:me in:\S+ last:5 --archive {archive}", shown), shown
    exported = next(c for c in commands if c.startswith("dmj export "))
    assert_the_markdown_export_holds_the_conversation(exported, archive, sandbox, done.stdout)

    for argv in readme_examples(archive):
        done_by_hand = CliRunner().invoke(app, argv)
        assert done_by_hand.exit_code == 0, (argv, done_by_hand.output)
        assert not re.search(r"^(Exported )?0 messages", done_by_hand.stdout, re.M), argv

    for path in (p for p in directory.rglob("*") if p.is_file()):
        assert NOT_THE_SANDBOX["DISCORD_TOKEN"].encode() not in path.read_bytes(), path
    assert processes_mentioning(directory) == []


def readme_examples(archive: Path) -> list[list[str]]:
    """The README's ``dmj show``/``dmj export`` examples against the demo's archive
    (``/tmp/d/archive`` there), as arguments naming ``archive``."""
    lines = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    examples = [
        [str(archive) if word == "/tmp/d/archive" else word for word in shlex.split(line, True)]
        for line in lines
        if line.startswith(("dmj show ", "dmj export ")) and "/tmp/d/archive" in line
    ]
    assert len(examples) >= 4, "the README shows a few queries on the demo's archive"
    return [argv[1:] for argv in examples]


def assert_the_markdown_export_holds_the_conversation(
    command: str, archive: Path, sandbox: Path, output: str
) -> None:
    """``command`` (``dmj export md in:NAME --filename FILE …``) wrote a Markdown file holding
    every message the journal records for the DM with NAME, and the demo printed its path."""
    found = re.fullmatch(
        rf"dmj export md in:(\S+) --filename (\S+\.md) --archive {archive}", command
    )
    assert found is not None, command
    name, path = found[1], Path(found[2])
    assert path.parent == archive.parent, "next to the archive, in the demo's directory"
    text = path.read_bytes().decode()  # CRLF inside a message stays CRLF
    user = next(u for u in load_world(sandbox / "world.json").users if u.username == name)
    recorded = [
        e for e in read_events(archive / "journal.jsonl")
        if isinstance(e, ChannelExported) and e.user_id == user.id
    ]  # fmt: skip
    assert len(recorded) == 1, "one conversation, exported once"
    folder = archive / recorded[0].path
    messages = [m for part in sorted(folder.glob("*.json")) for m in dce_messages(part)]
    assert len(messages) == recorded[0].message_count > 0
    assert f"Exported {len(messages)} messages to {path}." in output.splitlines()
    meta = json.loads(text.split("```json meta\n", 1)[1].split("\n```\n", 1)[0])
    assert meta["count"] == len(messages)
    assert meta["filterInput"] == f"export md in:{name}"
    headings = re.findall(r"^## (\d+)\. ", text, flags=re.MULTILINE)
    assert headings == [str(n) for n in range(1, len(messages) + 1)], "every message, once"
    for message in messages:
        assert message["content"] in text, message["id"]


def dce_messages(path: Path) -> list[dict[str, str]]:
    """The messages of a DCE JSON file (their ``id`` and ``content``, as DCE wrote them)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return [{"id": m["id"], "content": m["content"]} for m in document["messages"]]


@pytest.mark.timeout(90)
def test_ctrl_c_stops_every_process_the_demo_started_and_exits_130(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    with subprocess.Popen(
        [str(DMJ), "demo", str(directory)], env=demo_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        journal = directory / "archive" / "journal.jsonl"
        wait_until(lambda: journal.exists() and journal.stat().st_size > 0, what="a run")
        assert len(processes_mentioning(directory)) >= 2, "the emulator and dmj run are up"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Interrupted" in stderr
    assert processes_mentioning(directory) == []
    assert list(read_events(journal)), "the journal reads"


def test_the_demo_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    done = subprocess.run(
        [str(DMJ), "demo", str(tmp_path)], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "is not an empty directory" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]

"""One writer per journal: a second one fails at once, naming the first; readers never wait."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dmj.journal import JournalWriter, LockHolder, probe_writer, read_events
from dmj.machine.errors import JournalLocked
from dmj.machine.events import RunPaused

from tests.journal.support import RUN
from tests.support import REPO_ROOT


def test_a_second_writer_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with JournalWriter.open(path), pytest.raises(JournalLocked) as caught:
        JournalWriter.open(path)
    assert caught.value.pid == os.getpid()
    assert str(caught.value) == (
        f"another dmj (pid {os.getpid()}) is writing to {path}; wait for it to finish or stop "
        "it, then try again."
    )


def test_the_lock_file_names_the_holder_while_held_and_is_emptied_after(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with JournalWriter.open(path):
        assert (tmp_path / "journal.lock").read_text() == f"{os.getpid()}\n"
    assert (tmp_path / "journal.lock").read_text() == ""
    with JournalWriter.open(path):
        pass  # released


def test_a_lock_file_left_by_a_dead_writer_does_not_block(tmp_path: Path) -> None:
    """Only the flock counts (the kernel drops it with its holder), never the file."""
    (tmp_path / "journal.lock").write_text("4242\n")
    with JournalWriter.open(tmp_path / "journal.jsonl") as journal:
        assert journal.last_seq == 0


def test_a_failed_open_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"not":"sealed"}\n' * 3)
    for _ in range(2):
        with pytest.raises(Exception, match="is corrupt"):
            JournalWriter.open(path)
    path.unlink()
    with JournalWriter.open(path):
        pass


def holder(journal: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.journal.child", "hold", str(journal)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    return child


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_two_processes_racing_to_write_one_wins_and_the_other_names_it(
    tmp_path: Path, round_: int
) -> None:
    journal = tmp_path / "journal.jsonl"
    racers = [holder(journal), holder(journal)]
    try:
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        said = {racer.pid: racer.stdout.readline().split() for racer in racers if racer.stdout}
        winners = [pid for pid, words in said.items() if words[0] == "won"]
        losers = [words for words in said.values() if words[0] == "locked"]
        assert len(winners) == 1, said
        assert len(losers) == 1, said
        assert said[winners[0]] == ["won", str(winners[0])]
        assert losers[0] == ["locked", str(winners[0])]
        with pytest.raises(JournalLocked):
            JournalWriter.open(journal)
        assert list(read_events(journal)) == [], "a reader does not wait for the writer"
    finally:
        for racer in racers:
            racer.communicate("", timeout=60)
    assert [racer.returncode for racer in racers] == [0, 0]
    with JournalWriter.open(journal) as journal_writer:
        assert journal_writer.last_seq == 0, RUN


def test_a_probe_names_the_writer_holding_the_journal_and_nothing_once_it_is_gone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.jsonl"
    assert probe_writer(path) is None
    assert not (tmp_path / "journal.lock").exists(), "a probe creates nothing"
    with JournalWriter.open(path) as writer:
        assert probe_writer(path) == LockHolder(pid=os.getpid())
        assert writer.append(RunPaused(run=RUN, reason="probed")).seq == 1, "undisturbed"
    assert probe_writer(path) is None


def test_a_probe_sees_a_writer_in_another_process_and_not_after_it_died(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    child = holder(journal)
    assert child.stdin is not None
    assert child.stdout is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline() == f"won {child.pid}\n"
    assert probe_writer(journal) == LockHolder(pid=child.pid)
    child.kill()  # kill -9: the kernel drops its lock; its pid stays in the file
    child.communicate(timeout=60)
    assert (tmp_path / "journal.lock").read_text() == f"{child.pid}\n"
    assert probe_writer(journal) is None


def test_a_writer_locking_during_a_probe_waits_for_it_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader's probe holds a shared lock for an instant: a writer must not take that for
    another dmj (here the 'instant' ends at the writer's first wait)."""
    path = tmp_path / "journal.jsonl"
    with JournalWriter.open(path):
        pass
    probe = os.open(tmp_path / "journal.lock", os.O_RDONLY)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    waits: list[float] = []

    def probe_ends(seconds: float) -> None:
        waits.append(seconds)
        os.close(probe)

    monkeypatch.setattr(time, "sleep", probe_ends)
    with JournalWriter.open(path) as writer:
        assert writer.last_seq == 0
    assert len(waits) == 1

"""Crash tests with real processes: a child journals and is SIGKILLed at every storage
operation (SQLite's crash_on_write enumeration), or halfway through a write, or right after
an acknowledgement; the parent recovers and finds every acknowledged record intact.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from dmj.journal import DMJ_SCHEMA, JournalWriter, encode_line, read_events
from dmj.machine.events import AnyEvent

from tests.journal.support import START, TickingClock, sample_events, torn_files
from tests.support import REPO_ROOT

pytestmark = pytest.mark.slow

FRESH_OPS = 16
"""More storage operations than opening a new journal and appending 3 records takes."""

RECOVERY_OPS = 18
"""More than recovering a torn tail and appending 2 records takes."""


@dataclass(frozen=True)
class Outcome:
    returncode: int
    acked: list[int]
    stderr: str


def run_child(journal: Path, count: int, spec: str) -> Outcome:
    done = subprocess.run(
        [sys.executable, "-m", "tests.journal.child", "append", str(journal), str(count), spec],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    acked = [int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("ack")]
    return Outcome(done.returncode, acked, done.stderr)


def run_children(cases: list[tuple[Path, int, str]]) -> list[Outcome]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda case: run_child(*case), cases))


def written_by_child(count: int, *, after: int = 0, readings_before: int = 0) -> list[AnyEvent]:
    """The records a child appends to a journal of ``after`` records: sample events, one
    clock second apart, after ``readings_before`` clock readings (one per torn tail it set
    aside)."""
    return [
        msgspec.structs.replace(
            event, v=1, seq=after + n + 1, at=START + timedelta(seconds=readings_before + n)
        )
        for n, event in enumerate(sample_events(after + count)[after:])
    ]


def lines_of(events: list[AnyEvent]) -> list[bytes]:
    return [encode_line(DMJ_SCHEMA.encoder, event) for event in events]


def recover(journal: Path) -> list[AnyEvent]:
    """What the next dmj sees: open for writing (recovering), then read."""
    if not journal.exists():
        return []
    with JournalWriter.open(journal, clock=TickingClock()):
        pass
    return list(read_events(journal))


def assert_enumeration_ran_to_completion(outcomes: list[Outcome]) -> None:
    """Every failpoint before the run's end killed the child; the rest let it finish."""
    codes = [outcome.returncode for outcome in outcomes]
    finished = codes.index(0)
    assert finished > 5, f"the child finished too early: {codes}"
    assert codes[:finished] == [-signal.SIGKILL] * finished, codes
    assert set(codes[finished:]) == {0}, [o.stderr for o in outcomes]


@pytest.mark.parametrize("action", ["crash", "tear"])
def test_a_crash_at_any_operation_of_a_new_journal_loses_no_acknowledged_record(
    tmp_path: Path, action: str
) -> None:
    cases = []
    for op in range(1, FRESH_OPS + 1):
        (tmp_path / str(op)).mkdir()
        cases.append((tmp_path / str(op) / "journal.jsonl", 3, f"{action}-at-op={op}"))
    outcomes = run_children(cases)
    assert_enumeration_ran_to_completion(outcomes)
    expected = written_by_child(3)
    for (journal, _, spec), outcome in zip(cases, outcomes, strict=True):
        recovered = recover(journal)
        assert recovered == expected[: len(recovered)], spec
        assert len(outcome.acked) <= len(recovered) <= len(outcome.acked) + 1, spec
        assert outcome.acked == [event.seq for event in recovered][: len(outcome.acked)], spec


def test_a_torn_write_is_found_and_set_aside_by_the_next_writer(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    outcome = run_child(journal, 3, "tear-at-op=6")  # the write of record 2
    assert (outcome.returncode, outcome.acked) == (-signal.SIGKILL, [1])
    record_1, record_2 = lines_of(written_by_child(2))
    half = record_2[: len(record_2) // 2]
    assert journal.read_bytes() == record_1 + half
    assert recover(journal) == written_by_child(1)
    assert list(torn_files(tmp_path).values()) == [half]


@pytest.mark.parametrize("action", ["crash", "tear"])
def test_a_crash_at_any_operation_of_recovery_loses_neither_records_nor_the_torn_tail(
    tmp_path: Path, action: str
) -> None:
    *first_two, third = lines_of(written_by_child(3))
    intact, torn = b"".join(first_two), third[:50]
    cases = []
    for op in range(1, RECOVERY_OPS + 1):
        (tmp_path / str(op)).mkdir()
        journal = tmp_path / str(op) / "journal.jsonl"
        journal.write_bytes(intact + torn)
        cases.append((journal, 2, f"{action}-at-op={op}"))
    outcomes = run_children(cases)
    assert_enumeration_ran_to_completion(outcomes)
    expected = written_by_child(2) + written_by_child(2, after=2, readings_before=1)
    for (journal, _, spec), outcome in zip(cases, outcomes, strict=True):
        recovered = recover(journal)
        assert recovered == expected[: len(recovered)], spec
        assert len(recovered) >= 2 + len(outcome.acked), spec
        assert torn in torn_files(journal.parent).values(), f"{spec}: the torn tail was lost"


def test_a_kill_right_after_an_acknowledgement_keeps_exactly_the_acknowledged_records(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.jsonl"
    outcome = run_child(journal, 5, "after-record=2")
    assert outcome.returncode == -signal.SIGKILL
    assert outcome.acked == [1], "record 2 was durable when the kill came, before the caller saw it"
    assert recover(journal) == written_by_child(2)
    assert torn_files(tmp_path) == {}

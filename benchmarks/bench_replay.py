"""Replay benchmark: journal → state → both projections, against the journal's decode floor.

    .venv/bin/python -m benchmarks.bench_replay [--events 1000000] [--rounds 3] [--dir DIR]

Builds a valid journal of about ``--events`` records by driving ``decide`` against a
simulated world with a realistic mix (most closed DMs export directly by channel id; some
need a reopen, a few fail transiently or are gone), written with the journal's own line
format. Then, in alternating rounds in this process:

- floor: the journal's bare typed decode of the same file (``decode_lines`` over the same
  blocks, every event touched), as ``benchmarks/bench_journal.py`` measures it;
- replay: ``read_events`` (checksums, seq and version checks) + ``fold`` (every rule of the
  run checked) + building both projections and writing them (``write_projections``), which is
  what ``dmj replay`` does.

Goal: replay <= 2.5x the floor and <= ~2 s for 1M events. Prints the medians, the ratio and
the machine's load average (other processes share the 2 cores).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dmj.journal import DMJ_SCHEMA, encode_line, read_events
from dmj.journal._scan import BLOCK_SIZE
from dmj.machine.events import DmKind
from dmj.machine.state import fold
from dmj.projections import write_projections

from tests.machine.simulate import Simulation, World, package_dm, run_started

WEIGHTS = {
    "exported": 90.0, "transient": 4.0, "permanent": 6.0, "fatal": 0.02,
    "opened": 80.0, "opened-elsewhere": 10.0, "skipped": 10.0,
}  # fmt: skip
"""How often the simulated world gives each answer (relative weights)."""

EVENTS_PER_DM = 2.5
"""About how many records one DM costs with ``WEIGHTS`` (measured on the generated journal)."""


def realistic_choice(rng: random.Random) -> Callable[[Sequence[str]], str]:
    def choose(options: Sequence[str]) -> str:
        return rng.choices(options, [WEIGHTS.get(o, 1.0) for o in options])[0]

    return choose


def write_run(path: Path, events: int, seed: int = 1) -> int:
    """Write a journal of one finished run of about ``events`` records; return the count."""
    rng = random.Random(seed)
    kinds: list[DmKind] = rng.choices(
        ["dm", "group", "deleted"], [90, 7, 3], k=int(events / EVENTS_PER_DM)
    )
    dms = [package_dm(str(10**17 + i * 7919), kind) for i, kind in enumerate(kinds)]
    sim = Simulation(world=World(choose=realistic_choice(rng), fatal_budget=10**9))
    sim.start(run_started(dms, run="run-bench", batch_size=20))
    sim.run_to_end(limit=10**8)
    encoder = DMJ_SCHEMA.encoder
    with path.open("wb") as out:
        for start in range(0, len(sim.events), 10_000):
            out.write(b"".join(encode_line(encoder, e) for e in sim.events[start : start + 10_000]))
    return len(sim.events)


def floor(path: Path) -> int:
    """The journal's bare typed decode: same block reads, ``decode_lines``, every event.

    As ``benchmarks/bench_journal.py``'s floor, except that a line longer than a block (the
    ``RunStarted`` of a big plan: ~80 bytes per planned DM) is gathered in a list rather than
    by repeated concatenation, which would make the floor quadratic in that line's length.
    """
    decoder, count = DMJ_SCHEMA.decoder, 0
    pending: list[bytes] = []
    with path.open("rb", buffering=0) as file:
        while data := file.read(BLOCK_SIZE):
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                pending.append(data)
                continue
            block = b"".join([*pending, data[:cut]])
            pending = [data[cut:]]
            for _event in decoder.decode_lines(block):
                count += 1
    return count


def read(path: Path) -> int:
    """``read_events`` alone (the journal's checked read), every event touched."""
    count = 0
    for _event in read_events(path):
        count += 1
    return count


def read_fold(path: Path) -> int:
    """``read_events`` + ``fold``: the state, no projections."""
    return fold(read_events(path)).through_seq


def replay(path: Path, archive: Path) -> int:
    """What ``dmj replay`` does: read, fold, build and write both projections."""
    state = fold(read_events(path))
    write_projections(archive, state, past_runs=True)
    return state.through_seq


def timed(fn: Callable[[], int]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


STAGES = {
    "floor": "bare typed decode (the floor)",
    "read": "read_events (checked read)",
    "read+fold": "read_events + fold",
    "replay": "read + fold + project (dmj replay)",
}


def report(records: int, median: dict[str, float]) -> None:
    for name, label in STAGES.items():
        seconds = median[name]
        print(
            f"{label:36} {seconds:6.3f} s  {records / seconds / 1e6:5.2f} M events/s  "
            f"{seconds / median['floor']:5.2f}x floor"
        )
    print(f"ratio replay/floor: {median['replay'] / median['floor']:.2f}x (goal <= 2.5x, <= ~2 s)")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dmj-bench-replay-", dir=args.dir))
    try:
        journal = work / "journal.jsonl"
        started = time.perf_counter()
        records = write_run(journal, args.events)
        size = journal.stat().st_size
        print(f"journal: {records:,} records, {size / 1e6:.1f} MB "
              f"(generated in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        timings: dict[str, list[float]] = {name: [] for name in STAGES}
        for round_ in range(args.rounds):
            archive = work / f"archive-{round_}"
            archive.mkdir()
            timings["floor"].append(timed(lambda: floor(journal)))
            timings["read"].append(timed(lambda: read(journal)))
            timings["read+fold"].append(timed(lambda: read_fold(journal)))
            timings["replay"].append(timed(lambda: replay(journal, archive)))  # noqa: B023
        report(records, {name: statistics.median(times) for name, times in timings.items()})
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

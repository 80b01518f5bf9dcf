"""Replay benchmark: journal → state → both projections, against the journal's decode floor.

    .venv/bin/python -m benchmarks.bench_replay [--events 1000000] [--dms 10000]
        [--rounds 3] [--only archive|stress] [--dir DIR]

Two journals of about ``--events`` records each (``benchmarks/replay_workload.py``):

- archive (the goal applies here): what a large real archive looks like after a while, one
  data package of ``--dms`` DMs (a few open at the start) archived again and again by
  incremental re-runs until the journal holds ``--events`` records (~40 runs of 10,000 DMs);
- stress: one run planning ``--events / 2.5`` DMs (~400,000): one huge plan, one huge
  batch-state.json and id-history.json.

For each, in alternating rounds, each stage in a fresh process (as ``dmj replay`` runs):

- floor: the journal's bare typed decode of the same file (``decode_lines`` over the same
  blocks, every event touched), as ``benchmarks/bench_journal.py`` measures it;
- read: ``read_events`` (checksums, seq and version checks), every event touched;
- read+fold: ``fold(read_events(path))``, every rule of the run checked;
- replay: what ``dmj replay`` does: read, fold, build both projections and every finished
  run's archived batch-state.json, encode them and bring the files in line
  (``write_projections``) in an archive whose projections lag the journal by ``BEHIND``
  records, as a crash leaves them (the changed files are rewritten, the others compared);
- replay-empty: the same into an archive without projections (every file and directory
  created and fsynced).

Then, once, the projections of the final state on their own: building the documents,
encoding them (JSON, 2-space indent), writing them; and the driver's write after a batch.

Goal: replay <= 2.5x the floor and <= ~2 s for 1M events of the archive workload. Prints the
medians, the ratios and the machine's load average (other processes share the 2 cores: run
it when the machine is quiet).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

from dmj.journal import read_events
from dmj.machine.state import State, fold
from dmj.projections import (
    BatchStateDoc,
    IdHistoryDoc,
    build_batch_state,
    build_id_history,
    encode_document,
    write_projections,
)

from benchmarks import child_output
from benchmarks.bench_journal import floor_blocks as floor
from benchmarks.replay_workload import write_archive, write_stress


def read(path: Path) -> int:
    """``read_events`` alone (the journal's checked read), every event touched."""
    count = 0
    with read_events(path) as events:
        for _event in events:
            count += 1
    return count


def read_fold(path: Path) -> int:
    """``read_events`` + ``fold``: the state, no projections."""
    with read_events(path) as events:
        return fold(events).through_seq


def replay(path: Path, archive: Path) -> int:
    """What ``dmj replay`` does: read, fold, build and write every projection."""
    with read_events(path) as events:
        state = fold(events)
    write_projections(archive, state, past_runs=True)
    return state.through_seq


STAGES: dict[str, str] = {
    "floor": "bare typed decode (the floor)",
    "read": "read_events (checked read)",
    "read+fold": "read_events + fold",
    "replay": "read + fold + project (dmj replay)",
    "replay-empty": "  the same, no projections yet",
}

BEHIND = 50
"""How many records the prepared archive's projections lag: as a crash leaves them."""


def child(stage: str, journal: Path, archive: Path) -> None:
    """Run one stage in this (fresh) process and print its seconds."""
    stages: dict[str, Callable[[], int]] = {
        "floor": lambda: floor(journal),
        "read": lambda: read(journal),
        "read+fold": lambda: read_fold(journal),
        "replay": lambda: replay(journal, archive),
        "replay-empty": lambda: replay(journal, archive),
    }
    print(_timed(stages[stage]))


def measure(journal: Path, prepared: Path, work: Path, rounds: int) -> dict[str, list[float]]:
    """The seconds of each stage in ``rounds`` rounds, each stage in a fresh process (as
    ``dmj replay`` runs), the stages alternating so that machine load hits them alike.

    ``replay`` rebuilds an archive whose projections are ``BEHIND`` records behind (a copy of
    ``prepared``): every finished run's batch-state.json is current and compared, id-history
    and the live batch-state are rewritten. ``replay-empty`` creates every file (and its
    directory), each fsynced.
    """
    timings: dict[str, list[float]] = {name: [] for name in STAGES}
    for round_ in range(rounds):
        for stage in STAGES:
            archive = work / f"archive-{journal.stem}-{round_}"
            if stage == "replay":
                shutil.copytree(prepared, archive)
            else:
                archive.mkdir()
            timings[stage].append(_run_child(stage, journal, archive))
            shutil.rmtree(archive)
    return timings


def _run_child(stage: str, journal: Path, archive: Path) -> float:
    return float(child_output("bench_replay", stage, str(journal), str(archive)))


def prepare(journal: Path, work: Path, records: int) -> Path:
    """An archive holding the projections ``BEHIND`` records before the journal's end."""
    prepared = work / f"prepared-{journal.stem}"
    prepared.mkdir()
    write_projections(prepared, _prefix(journal, records - BEHIND), past_runs=True)
    return prepared


def project(journal: Path, prepared: Path, work: Path, records: int) -> dict[str, float]:
    """The projections on their own (seconds): building, encoding and writing all of them
    for the final state into an empty archive; and the driver's write after a batch (the
    live batch-state.json and id-history.json of a run in progress, replacing older ones)."""
    with read_events(journal) as events:
        state = fold(events)
    started = time.perf_counter()
    docs = _documents(state)
    built = time.perf_counter()
    encoded = [encode_document(doc) for doc in docs]
    done = time.perf_counter()
    archive = work / f"project-{journal.stem}"
    archive.mkdir()
    written = _timed(lambda: write_projections(archive, state, past_runs=True))
    shutil.rmtree(archive)
    shutil.copytree(prepared, archive)
    later = _prefix(journal, records - 1)  # all but RunFinished: the last batch just finished
    after_batch = _timed(lambda: write_projections(archive, later))
    shutil.rmtree(archive)
    return {
        "build": built - started,
        "encode": done - built,
        "write": written - (done - started),
        "files": len(docs),
        "bytes": sum(map(len, encoded)),
        "after_batch": after_batch,
    }


def _prefix(journal: Path, records: int) -> State:
    with read_events(journal) as events:
        return fold(islice(events, records))


def _documents(state: State) -> list[BatchStateDoc | IdHistoryDoc]:
    """The documents ``projection_files`` builds: every finished run's batch-state, the live
    one if a run is in progress, and id-history."""
    run = state.run
    assert run is not None, "the workloads hold at least one run"
    docs: list[BatchStateDoc | IdHistoryDoc] = [
        build_batch_state(r, None, r.finished.seq, r.finished.at)
        for r in (*state.memory.runs, run)
        if r.finished is not None
    ]
    if run.finished is None:
        docs.append(build_batch_state(run, state.batch, state.through_seq, state.at))
    history = build_id_history(state)
    if history is not None:
        docs.append(history)
    return docs


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def report(
    name: str, records: int, timings: dict[str, list[float]], parts: dict[str, float]
) -> None:
    """Each stage's median and best time, and both ratios to the floor's.

    Other processes only ever add time, so the best of the rounds is the steadier estimate on
    a shared machine; the median says what a run is likely to take.
    """
    median = {stage: statistics.median(times) for stage, times in timings.items()}
    best = {stage: min(times) for stage, times in timings.items()}
    for stage, label in STAGES.items():
        seconds = median[stage]
        print(
            f"  {label:36} {seconds:6.3f} s  {records / seconds / 1e6:5.2f} M events/s  "
            f"{seconds / median['floor']:5.2f}x floor   (best {best[stage]:6.3f} s, "
            f"{best[stage] / best['floor']:5.2f}x)"
        )
    print(
        f"  projections alone: build {parts['build']:.3f} s, encode {parts['encode']:.3f} s, "
        f"write {parts['write']:.3f} s ({parts['files']:.0f} files, "
        f"{parts['bytes'] / 1e6:.1f} MB); the driver's write after a batch: "
        f"{parts['after_batch']:.3f} s"
    )
    print(f"  (replay: projections {BEHIND} records behind, as a crash leaves them)")
    goal = " (goal <= 2.5x, <= ~2 s)" if name == "archive" else " (stress case: no goal)"
    print(
        f"RATIO {name} replay/floor: {median['replay'] / median['floor']:.2f}x median, "
        f"{best['replay'] / best['floor']:.2f}x best of {len(timings['floor'])}{goal}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dms", type=int, default=10_000, help="DMs of the archive workload")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["archive", "stress"], default=None)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    writers: dict[str, Callable[[Path], tuple[int, int]]] = {
        "archive": lambda path: write_archive(path, args.events, args.dms),
        "stress": lambda path: write_stress(path, args.events),
    }
    work = Path(tempfile.mkdtemp(prefix="dmj-bench-replay-", dir=args.dir))
    print(f"load average before (1, 5, 15 min): {_load()} on {os.cpu_count()} CPUs")
    try:
        for name, write in writers.items():
            if args.only not in (None, name):
                continue
            journal = work / f"{name}.jsonl"
            started = time.perf_counter()
            records, runs = write(journal)
            size = journal.stat().st_size
            print(
                f"{name}: {records:,} records in {runs} run(s), {size / 1e6:.1f} MB "
                f"(generated in {time.perf_counter() - started:.1f} s)"
            )
            prepared = prepare(journal, work, records)
            parts = project(journal, prepared, work, records)
            report(name, records, measure(journal, prepared, work, args.rounds), parts)
            shutil.rmtree(prepared)
            journal.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after (1, 5, 15 min): {_load()}")


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()

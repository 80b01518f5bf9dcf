"""Journal benchmark: durable appends and replay, each against its floor, in the same run.

    .venv/bin/python -m benchmarks.bench_journal [--dir DIR] [--events 1000000]

Append: ``JournalWriter.append`` (stamp, encode, seal, one write, fdatasync) against a bare
loop of ``os.write`` + ``os.fdatasync`` of same-sized lines to a file in the same directory,
in alternating blocks of 100. Goal: >= 0.9x the raw loop's rate.

Replay: ``read_events`` (block reads, per-line CRC, typed decode, seq/version checks) of a
1,000,000-event journal against a bare typed msgspec decode of the same bytes: the faster of
``decode_lines`` over the same blocks and a line-by-line ``Decoder.decode``. Goal: <= 1.5x
the floor, under ~1.5 s, peak RSS < 100 MB. Every replay runs in a fresh process (so its
peak RSS is its own); rounds alternate so that machine load hits both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dmj.journal import DMJ_SCHEMA, JournalWriter, encode_line, read_events
from dmj.journal._scan import BLOCK_SIZE
from dmj.machine.events import AnyEvent

from benchmarks.journal_workload import run_events, stamped, write_journal

REPLAYS: dict[str, Callable[[Path], int]] = {}


def replay(name: str) -> Callable[[Callable[[Path], int]], Callable[[Path], int]]:
    def register(fn: Callable[[Path], int]) -> Callable[[Path], int]:
        REPLAYS[name] = fn
        return fn

    return register


@replay("floor-blocks")
def floor_blocks(path: Path) -> int:
    """Bare typed decode: the same block reads, ``decode_lines``, every event touched."""
    decoder, count = DMJ_SCHEMA.decoder, 0
    with path.open("rb", buffering=0) as file:
        pending = b""
        while data := file.read(BLOCK_SIZE):
            data = pending + data
            cut = data.rfind(b"\n") + 1
            pending = data[cut:]
            for _event in decoder.decode_lines(data[:cut]):
                count += 1
    return count


@replay("floor-lines")
def floor_lines(path: Path) -> int:
    """Bare typed decode, line by line through a buffered file."""
    decode, count = DMJ_SCHEMA.decoder.decode, 0
    with path.open("rb") as file:
        for line in file:
            decode(line)
            count += 1
    return count


@replay("journal")
def journal_replay(path: Path) -> int:
    """What dmj does: ``read_events`` with every check."""
    count = 0
    for _event in read_events(path):
        count += 1
    return count


def child(kind: str, path: Path) -> None:
    started = time.perf_counter()
    events = REPLAYS[kind](path)
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "events": events, "rss_mb": rss_mb}))


def run_child(kind: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_journal", "--child", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def bench_replay(workdir: Path, events: int, rounds: int) -> None:
    path = workdir / f"replay-{events}.jsonl"
    started = time.perf_counter()
    size = write_journal(path, events)
    print(
        f"replay: wrote {events:,} events, {size / 1e6:.1f} MB "
        f"({size / events:.0f} B/line) in {time.perf_counter() - started:.1f} s"
    )
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in REPLAYS}
    for kind in REPLAYS:  # warm the page cache and the imports once
        run_child(kind, path)
    for _ in range(rounds):
        for kind in REPLAYS:
            results[kind].append(run_child(kind, path))
    medians = {kind: statistics.median(r["seconds"] for r in rs) for kind, rs in results.items()}
    for kind, rs in results.items():
        assert all(r["events"] == events for r in rs), f"{kind} did not see every event"
        rss = max(r["rss_mb"] for r in rs)
        times = ", ".join(f"{r['seconds']:.3f}" for r in rs)
        print(
            f"  {kind:13} median {medians[kind]:.3f} s  ({events / medians[kind] / 1e6:.2f} M "
            f"events/s; runs {times}; peak RSS {rss:.0f} MB)"
        )
    floor_kind = min(("floor-blocks", "floor-lines"), key=medians.__getitem__)
    ratio = medians["journal"] / medians[floor_kind]
    print(
        f"REPLAY RATIO journal / bare typed decode ({floor_kind}) = {ratio:.2f}x "
        f"(goal <= 1.5x); journal {medians['journal']:.2f} s for {events:,} events"
    )
    for kind in ("floor-blocks", "floor-lines"):
        if kind != floor_kind:
            print(f"  (against {kind}: {medians['journal'] / medians[kind]:.2f}x)")
    path.unlink()


def bench_append(workdir: Path, appends: int, rounds: int) -> None:
    """Interleave blocks of raw and journal appends on two files in one directory.

    Alternating in small blocks (and swapping which goes first) spreads disk hiccups and
    machine load evenly over both sides.
    """
    block = 100
    blocks = max(2, appends // block) * rounds
    lines = [encode_line(DMJ_SCHEMA.encoder, event) for event in stamped(blocks * block)]
    source = run_events(seed=2)
    raw_seconds = journal_seconds = 0.0
    raw_fd = os.open(workdir / "raw.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with JournalWriter.open(workdir / "journal.jsonl") as journal:
        for warm in range(200):
            journal.append(next(source))
            os.write(raw_fd, lines[warm])
            os.fdatasync(raw_fd)
        for index in range(blocks):
            events = [next(source) for _ in range(block)]
            chunk = lines[index * block : (index + 1) * block]
            if index % 2:
                journal_seconds += _journal_block(journal, events)
                raw_seconds += _raw_block(raw_fd, chunk)
            else:
                raw_seconds += _raw_block(raw_fd, chunk)
                journal_seconds += _journal_block(journal, events)
    os.close(raw_fd)
    count = blocks * block
    raw, ours = count / raw_seconds, count / journal_seconds
    print(f"append: {count:,} durable appends each, in alternating blocks of {block}")
    print(f"  raw os.write+fdatasync  {raw:,.0f}/s  ({raw_seconds / count * 1e6:.0f} µs each)")
    print(f"  JournalWriter.append    {ours:,.0f}/s  ({journal_seconds / count * 1e6:.0f} µs each)")
    print(f"APPEND RATIO journal / raw loop = {ours / raw:.2f}x (goal >= 0.9x)")


def _raw_block(fd: int, lines: list[bytes]) -> float:
    started = time.perf_counter()
    for line in lines:
        os.write(fd, line)
        os.fdatasync(fd)
    return time.perf_counter() - started


def _journal_block(journal: JournalWriter[AnyEvent], events: list[AnyEvent]) -> float:
    started = time.perf_counter()
    for event in events:
        journal.append(event)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write (same disk as archives)"
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} (cpus: {os.cpu_count()})")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="dmj-bench-") as tmp:
        bench_append(Path(tmp), args.appends, args.rounds)
        bench_replay(Path(tmp), args.events, max(3, args.rounds // 2 + 1))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

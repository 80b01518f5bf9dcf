"""Journal benchmark: durable appends and replay, each against its floor, in the same run.

    .venv/bin/python -m benchmarks.bench_journal [--dir DIR] [--events 1000000]

Append: ``JournalWriter.append`` (stamp, encode, seal, one write, fdatasync) against a bare
loop of ``os.write`` + ``os.fdatasync`` of same-sized lines to files in the same directory,
in rotating blocks of 100. Goal: >= 0.9x the raw loop's rate. Two raw files are measured:
their ratio to each other is the noise floor of this disk.

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
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from dmj.journal import DMJ_SCHEMA, JournalWriter, encode_line, read_events
from dmj.journal._scan import BLOCK_SIZE
from dmj.machine.events import AnyEvent

from benchmarks import child_output
from benchmarks.journal_workload import run_events, stamped, write_journal


def floor_blocks(path: Path) -> int:
    """Bare typed decode: the same block reads, ``decode_lines``, every event touched.

    A line longer than a block (the ``RunStarted`` of a big plan) is gathered in a list, not
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


def floor_lines(path: Path) -> int:
    """Bare typed decode, line by line through a buffered file."""
    decode, count = DMJ_SCHEMA.decoder.decode, 0
    with path.open("rb") as file:
        for line in file:
            decode(line)
            count += 1
    return count


def journal_replay(path: Path) -> int:
    """What dmj does: ``read_events`` with every check."""
    count = 0
    for _event in read_events(path):
        count += 1
    return count


REPLAYS: Mapping[str, Callable[[Path], int]] = {
    "floor-blocks": floor_blocks,
    "floor-lines": floor_lines,
    "journal": journal_replay,
}


def child(kind: str, path: Path) -> None:
    started = time.perf_counter()
    events = REPLAYS[kind](path)
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "events": events, "rss_mb": rss_mb}))


def run_child(kind: str, path: Path) -> dict[str, float]:
    out = child_output("bench_journal", kind, str(path))
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
    """Rotate blocks of 100 appends among the journal and two raw loops on two files.

    Small blocks in a rotating order spread disk hiccups and machine load evenly. Two raw
    files, not one: how far apart they land (same code, same disk) is the noise floor that
    the journal's ratio should be read against.
    """
    block = 100
    blocks = max(3, appends // block) * rounds
    lines = [encode_line(DMJ_SCHEMA.encoder, event) for event in stamped(2 * blocks * block)]
    source = run_events(seed=2)
    seconds = {"raw A": 0.0, "journal": 0.0, "raw B": 0.0}
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    raw = {
        "raw A": os.open(workdir / "raw-a.jsonl", flags, 0o600),
        "raw B": os.open(workdir / "raw-b.jsonl", flags, 0o600),
    }
    with JournalWriter.open(workdir / "journal.jsonl") as journal:
        for warm in range(200):
            journal.append(next(source))
            for fd in raw.values():
                os.write(fd, lines[warm])
                os.fdatasync(fd)
        for index in range(blocks):
            events = [next(source) for _ in range(block)]
            chunk = lines[index * block : (index + 1) * block]
            sides = list(seconds)
            for side in sides[index % 3 :] + sides[: index % 3]:
                if side == "journal":
                    seconds[side] += _journal_block(journal, events)
                else:
                    seconds[side] += _raw_block(raw[side], chunk)
    for fd in raw.values():
        os.close(fd)
    count = blocks * block
    rate = {side: count / spent for side, spent in seconds.items()}
    raw_rate = 2 * count / (seconds["raw A"] + seconds["raw B"])
    print(f"append: {count:,} durable appends per side, rotating blocks of {block}")
    for side, per_second in rate.items():
        print(f"  {side:8} {per_second:,.0f}/s  ({1e6 / per_second:.0f} µs each)")
    print(f"  noise floor: raw B / raw A = {rate['raw B'] / rate['raw A']:.2f}x")
    print(f"APPEND RATIO journal / raw loop = {rate['journal'] / raw_rate:.2f}x (goal >= 0.9x)")


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

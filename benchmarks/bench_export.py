"""History benchmark: the message index and the exports, against decoding the same files.

    .venv/bin/python -m benchmarks.bench_export [--messages 1000000] [--conversations 2000]
        [--rounds 3] [--cache DIR] [--only STAGE,...]

An archive of ``--messages`` messages in ``--conversations`` conversations, as the sandbox's
DCE stand-in writes them (``benchmarks/export_workload.py``; built once, ~1.5 min for a
million messages, and kept under ``--cache``, default ``~/.cache/dmj/bench-export``). Each
stage runs in a fresh process, the stages alternating in ``--rounds`` rounds so that the
machine's load hits them alike; each reports its median time and its peak RSS (the
process's; with a worker process, the two together, sampled every 5 ms):

- decode (the baseline): read every DCE file and decode it with msgspec into the typed
  structs the index reads (the fields it keeps; msgspec skips the rest);
- decode, generic: the same files decoded into Python objects (``msgspec.json.decode``);
- build: ``index.sqlite`` from scratch (``rebuild_index``, what ``dmj replay`` does);
- refresh: bringing an index that lacks the last export up to date (what a reader does
  after a run exported one more DM);
- export json/md/txt, in time and in channel order: ``export_history`` of every message
  into a file (what ``dmj export`` does);
- queries: the median of 21 counts of ``from:NAME word``, ``in:NAME before:DATE`` and
  ``"phrase"`` (one process, the index open).

``--only build`` (or any comma-separated stages, ``queries`` among them) runs those stages and
the baseline alone, for iterating on one of them; without it, every stage runs.

Goals (issue 12): build <= 3x decode, refresh < 0.2 s, export json <= 2x decode, md and txt
<= 3x, peak RSS < 200 MB exporting, each query < 50 ms. Prints the load average: other
processes share the 2 cores; run it when the machine is quiet.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from dmj.adapters import open_package
from dmj.projections.history import (
    INDEX,
    ExportRequest,
    export_history,
    open_history,
    parse_query,
    rebuild_index,
    refresh_index,
)
from dmj.projections.history._dce import decode_export

from benchmarks import child_output, status_mb
from benchmarks.export_workload import Workload, ensure_archive, workload

STAGES = {
    "decode": "decode, typed (the baseline)",
    "decode-generic": "decode, generic",
    "build": "index build from scratch",
    "refresh": "refresh after one more export",
    **{
        f"export-{fmt}-{order}": f"export {fmt}, {order} order"
        for fmt in ("json", "md", "txt")
        for order in ("time", "channel")
    },
}
GOALS = {"build": 3.0, "export-json-time": 2.0, "export-md-time": 3.0, "export-txt-time": 3.0}
RSS_LIMIT_MB = 200


def _files(archive: Path) -> list[Path]:
    return sorted(archive.glob("exports/*/*/*.json"))


def child(stage: str, archive: Path, work: Path) -> None:
    """Run one stage in this (fresh) process; print its seconds and peak RSS (MB, with the
    processes it starts: a large build reads the exports in a worker process)."""
    sampler = _Sampler()
    if stage in ("build", "refresh"):  # the others start no process: VmHWM says it all
        sampler.start()
    started = time.perf_counter()
    if stage == "decode":
        for path in _files(archive):
            decode_export(path.read_bytes())
    elif stage == "decode-generic":
        for path in _files(archive):
            msgspec.json.decode(path.read_bytes())
    elif stage == "build":
        rebuild_index(work, notice=lambda _: None, packages=open_package)
    elif stage == "refresh":
        refresh_index(work, notice=lambda _: None, packages=open_package)
    else:
        _, fmt, order = stage.split("-")
        request = ExportRequest(
            query=parse_query(""), order=order, format=fmt,  # type: ignore[arg-type]
            target=work / f"out.{fmt}", overwrite=True, app="dmj bench",
            generated_at=datetime.now(UTC), filter_input=f"export {fmt}",
        )  # fmt: skip
        export_history(
            work,
            request,
            zone=UTC,
            notice=lambda _: None,
            stream=sys.stdout.buffer,
            packages=open_package,
        )
    seconds = time.perf_counter() - started
    sampler.stop()
    print(seconds, max(status_mb("self", "VmHWM"), sampler.peak))


class _Sampler(threading.Thread):
    """The peak of this process's resident set plus its children's, every 5 ms (a child's
    own ``VmHWM`` is gone with it, and ``ru_maxrss`` counts the parent's pages in)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        children = Path(f"/proc/self/task/{os.getpid()}/children")
        while not self._done.wait(0.005):
            pids = children.read_text(encoding="ascii").split()
            total = status_mb("self", "VmRSS") + sum(status_mb(p, "VmRSS") for p in pids)
            self.peak = max(self.peak, total)

    def stop(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join()


def _run_child(stage: str, archive: Path, work: Path) -> tuple[float, float]:
    out = child_output("bench_export", stage, str(archive), str(work)).split()
    return float(out[-2]), float(out[-1])


def working_copy(archive: Path, work: Path, *, drop_last_export: bool) -> None:
    """``work``: the archive's exports (a link) and its journal (a copy), ``drop_last_export``:
    without the last export and the records after it."""
    work.mkdir()
    (work / "exports").symlink_to(archive / "exports")
    lines = (archive / "journal.jsonl").read_bytes().splitlines(keepends=True)
    if drop_last_export:
        last = max(i for i, line in enumerate(lines) if b'"type":"ChannelExported"' in line)
        lines = lines[:last]
    (work / "journal.jsonl").write_bytes(b"".join(lines))


def measure(
    archive: Path, root: Path, rounds: int, stages: list[str]
) -> dict[str, list[tuple[float, float]]]:
    """The ``stages``, ``rounds`` times, alternating (see the module docstring)."""
    behind = root / "behind"
    if "refresh" in stages:
        working_copy(archive, behind, drop_last_export=True)
        rebuild_index(behind, notice=lambda _: None, packages=open_package)
    full = root / "full"
    working_copy(archive, full, drop_last_export=False)
    results: dict[str, list[tuple[float, float]]] = {stage: [] for stage in stages}
    for _ in range(rounds):
        for stage in stages:
            work = full
            if stage == "refresh":
                work = root / "refresh"
                shutil.rmtree(work, ignore_errors=True)
                working_copy(archive, work, drop_last_export=False)
                shutil.copy(behind / INDEX, work / INDEX)
            results[stage].append(_run_child(stage, archive, work))
    return results


def queries(archive: Path, work: Path) -> list[tuple[str, int, float]]:
    """Each query's count and median seconds over 21 runs, the index open."""
    with open_history(work, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        conversations = sorted(history.conversations(), key=lambda c: c.messages)
        typical = next(c for c in conversations[len(conversations) // 2 :] if c.kind == "dm")
        name = typical.recipients[0].username
        middle = datetime.fromtimestamp((typical.last_ts or 0) / 1e6 - 86400 * 120, UTC)
        texts = [
            f"from:{name} coffee",
            f"in:{name} before:{middle:%Y-%m-%d}",
            '"coffee deadline"',
        ]
        found = []
        for text in texts:
            query = parse_query(text)
            times = []
            for _ in range(21):
                started = time.perf_counter()
                count = history.select(query).count
                times.append(time.perf_counter() - started)
            found.append((text, count, statistics.median(times)))
    return found


def report(results: dict[str, list[tuple[float, float]]], found: list[tuple[str, int, float]],
           messages: int) -> None:  # fmt: skip
    median = {stage: statistics.median(t for t, _ in runs) for stage, runs in results.items()}
    peak = {stage: max(rss for _, rss in runs) for stage, runs in results.items()}
    base = median["decode"]
    for stage, label in STAGES.items():
        if stage not in results:
            continue
        goal = GOALS.get(stage)
        ratio = median[stage] / base
        verdict = (
            ""
            if goal is None
            else f"  goal <= {goal:.0f}x: {'met' if ratio <= goal else 'NOT met'}"
        )
        if stage.startswith("export"):
            verdict += (
                f"; RSS < {RSS_LIMIT_MB} MB: {'met' if peak[stage] < RSS_LIMIT_MB else 'NOT met'}"
            )
        if stage == "refresh":
            verdict = f"  goal < 0.2 s: {'met' if median[stage] < 0.2 else 'NOT met'}"
        print(f"  {label:32} {median[stage]:7.3f} s  {ratio:5.2f}x  peak RSS {peak[stage]:5.0f} MB"
              f"{verdict}")  # fmt: skip
    if "build" in median:
        print(f"  ({messages / median['build'] / 1e3:.0f} k messages/s indexed)")
    for text, count, seconds in found:
        met = "met" if seconds < 0.05 else "NOT met"
        print(
            f"  query {text!r:44} {count:8,} matches  {seconds * 1000:7.2f} ms  goal < 50 ms: {met}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/dmj/bench-export")
    parser.add_argument("--only", type=_stages, help="comma-separated stages (and queries)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    chosen = args.only or [*STAGES, "queries"]
    stages = [stage for stage in STAGES if stage == "decode" or stage in chosen]
    work: Workload = workload(args.messages, args.conversations)
    if args.messages == 1_000_000 and args.conversations == 2_000:
        work = Workload()
    started = time.perf_counter()
    archive = ensure_archive(args.cache, work)
    size = sum(p.stat().st_size for p in _files(archive))
    print(f"archive: {args.messages:,} messages in {args.conversations:,} conversations, "
          f"{size / 1e6:.0f} MB of DCE JSON ({archive}; ready in "
          f"{time.perf_counter() - started:.1f} s)")  # fmt: skip
    print(f"load average before (1, 5, 15 min): {_load()} on {os.cpu_count()} CPUs")
    root = Path(tempfile.mkdtemp(prefix="dmj-bench-export-", dir=args.cache))
    try:
        results = measure(archive, root, args.rounds, stages)
        found = queries(archive, root / "full") if "queries" in chosen else []
        report(results, found, args.messages)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average after (1, 5, 15 min): {_load()}")


def _stages(text: str) -> list[str]:
    stages = text.split(",")
    unknown = [s for s in stages if s not in STAGES and s != "queries"]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown stage {unknown[0]!r}; the stages: {', '.join([*STAGES, 'queries'])}"
        )
    return stages


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()

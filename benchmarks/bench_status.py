"""Status benchmark: the completeness check against only reading the package's message files.

    .venv/bin/python -m benchmarks.bench_status [--conversations 5000] [--per 100]
        [--rounds 3] [--cache DIR]

A data package of ``--conversations`` 1-on-1 DMs holding ``--per`` messages of the owner each
(500,000 by default), and an archive holding every one of them, its message index built
(``benchmarks/status_workload.py``; built once and kept under ``--cache``, default
``~/.cache/dmj/bench-status``). Each stage runs in a fresh process, the stages alternating in
``--rounds`` rounds; each reports its median time and its peak RSS:

- read (the baseline): every channel's ``messages.json`` read and its ids decoded with msgspec
  (the least any check must do: the ids are what is compared);
- read, every field: the same files decoded into Python objects (``msgspec.json.decode``),
  as a tool that reads the messages would;
- check: ``check_archive`` with the last run's package, what ``dmj status`` does: the index
  brought up to date (nothing to do) and its conversations read, the package's DMs as the
  previous check read them (kept in the index: the stamp of every ``channel.json``,
  ``index.json``, ``user.json`` and of the folders holding them checked, nothing read), then
  every DM's ids decoded and looked up in the index;
- check, package read whole: the same, the first time after the package changed (its
  ``index.json`` is touched before each): every ``channel.json`` read and the DMs checked
  against the run's fingerprint (a run's summary checks as it ends, so the ``dmj status``
  after a run finds the package kept);
- status: the ``dmj status --json`` command as a user runs it (the check and the report).

Goal (issue 13): check <= 2x read, peak RSS < 150 MB, judged on the check as ``dmj status``
runs it every time but the first after the package changed (reported beside it). Prints the
load average: other processes share the 2 cores; run it when the machine is quiet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import msgspec
from dmj.adapters import open_package
from dmj.projections.history import check_archive

from benchmarks import child_output, status_mb
from benchmarks.status_workload import ensure_workload

STAGES = {
    "read": "read the message files (the baseline)",
    "read-all": "read them, every field decoded",
    "check-cold": "completeness check, package read whole",
    "check": "completeness check",
    "status": "dmj status --json",
}
GOAL = 2.0
RSS_LIMIT_MB = 150


class _Id(msgspec.Struct, rename={"id": "ID"}):
    id: int


_IDS = msgspec.json.Decoder(list[_Id])


def child(stage: str, package: Path, archive: Path) -> None:
    """Run one stage in this (fresh) process; print its seconds and peak RSS (MB)."""
    if stage == "check-cold":  # as if the package had been extracted again
        os.utime(package / "Messages" / "index.json")
    started = time.perf_counter()
    if stage == "read":
        count = 0
        for path in sorted((package / "Messages").glob("*/messages.json")):
            count += len(_IDS.decode(path.read_bytes()))
        assert count > 0
    elif stage == "read-all":
        count = 0
        for path in sorted((package / "Messages").glob("*/messages.json")):
            count += len(msgspec.json.decode(path.read_bytes()))
        assert count > 0
    elif stage in ("check", "check-cold"):
        report = check_archive(archive, package=None, notice=lambda _: None, packages=open_package)
        assert report.totals.own is not None
        assert report.totals.own.missing == 0
    else:
        subprocess.run(
            [str(Path(sys.executable).parent / "dmj"), "status", "--json", "--archive",
             str(archive)],
            check=False, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    print(seconds, _peak_rss_mb(stage))


def _peak_rss_mb(stage: str) -> float:
    """Peak resident set of this process (``VmHWM``), or of the ``dmj`` child it ran."""
    if stage == "status":
        import resource  # noqa: PLC0415

        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return status_mb("self", "VmHWM")


def _run_child(stage: str, package: Path, archive: Path) -> tuple[float, float]:
    out = child_output("bench_status", stage, str(package), str(archive)).split()
    return float(out[-2]), float(out[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5_000)
    parser.add_argument("--per", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/dmj/bench-status")
    parser.add_argument("--child", nargs=3, metavar=("STAGE", "PACKAGE", "ARCHIVE"))
    args = parser.parse_args()
    if args.child:
        stage, package, archive = args.child
        child(stage, Path(package), Path(archive))
        return
    started = time.perf_counter()
    layout = ensure_workload(args.cache, args.conversations, args.per)
    print(f"workload ready in {time.perf_counter() - started:.1f} s: {layout.package}")
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}
    peaks: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    for _ in range(args.rounds):
        for stage in STAGES:
            seconds, peak = _run_child(stage, layout.package, layout.archive)
            times[stage].append(seconds)
            peaks[stage] = max(peaks[stage], peak)
    median = {stage: statistics.median(values) for stage, values in times.items()}
    base = median["read"]
    print(f"{args.conversations * args.per:,} messages in {args.conversations:,} conversations; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    for stage, label in STAGES.items():
        ratio = median[stage] / base
        print(
            f"  {label:<40} {median[stage]:7.3f} s  {ratio:5.2f}x  peak RSS {peaks[stage]:5.0f} MB"
        )
    ratio = median["check"] / base
    met = ratio <= GOAL and peaks["check"] < RSS_LIMIT_MB
    print(f"goal: check <= {GOAL}x read and < {RSS_LIMIT_MB} MB: {'met' if met else 'NOT met'} "
          f"({ratio:.2f}x, {peaks['check']:.0f} MB; the first check after the package "
          f"changed: {median['check-cold'] / base:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()

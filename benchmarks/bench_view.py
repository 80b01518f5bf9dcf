"""Archive browser benchmark: ``dmj view`` answering the page's requests on a big archive.

    .venv/bin/python -m benchmarks.bench_view [--rounds 21] [--cache DIR]

The archive of the export benchmark (``benchmarks/export_workload.py``: 1,000,000 messages
in 2,000 conversations, one of them 200,000 long; built once and kept under ``--cache``,
default ``~/.cache/dmj/bench-export``). A working copy (its exports linked, its journal
copied) is served by the real ``dmj view --no-browser`` process, whose launch builds the
message index; then the requests the page makes are timed over loopback HTTP, each
``--rounds`` times, the cases alternating so that the machine's load hits them alike.
Times are round trips from the request to the last byte (the server's work: the index
seek, the records, markdown to HTML, JSON; plus loopback HTTP, ~0.3 ms):

- the first page of a typical conversation and of the 200,000-message one (its newest);
- pages deep in the long one: before its 100,000th and its 60th message, and a permalink
  (``around``) to its 100,000th;
- searches: a common word (every message counted up to the browser's bound), a phrase,
  ``from:NAME word``, ``in:NAME``, ``has:image``, and the second page of the common word;
- the conversation list (``/api/conversations``) and a reload of the page (``/``: the
  index's freshness checked, 2,000 conversations rendered), and the first list after the
  launch (counting a million messages);
- the server's resident memory (``VmRSS``) after the launch, after the timed requests,
  and after 2,000 more pages scrolled from the newest message of the long conversation to
  its 100,000th; and its peak (``VmHWM``).

The first launch builds the index (its time and memory are reported); the requests are
timed on a second launch, the index current, as most launches find it.

Goals (issue 14): each median < 30 ms, and a deep page no slower than the newest. Prints
the load average: other processes share the 2 cores; run it when the machine is quiet.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import msgspec
from dmj.adapters import open_package
from dmj.projections.history import open_history

from benchmarks.bench_export import working_copy
from benchmarks.export_workload import Workload, ensure_archive

GOAL_MS = 30.0
URL = re.compile(r"^  ((http://127\.0\.0\.1:\d+)/\?key=\S+)$", re.MULTILINE)


class Served:
    """``dmj view`` on the working copy, and a client signed in to it."""

    def __init__(self, work: Path) -> None:
        started = time.perf_counter()
        dmj = Path(sys.executable).parent / "dmj"
        self.process = subprocess.Popen(
            [str(dmj), "view", "--archive", str(work), "--no-browser"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "TZ": "UTC"},
        )  # fmt: skip
        assert self.process.stdout is not None
        banner = "".join(self.process.stdout.readline() for _ in range(3))
        self.launch = time.perf_counter() - started
        match = URL.search(banner)
        if match is None:
            raise SystemExit(f"dmj view did not start:\n{banner}{self.process.communicate()[1]}")
        self.client = httpx.Client(base_url=match[2], transport=httpx.HTTPTransport(verify=False))
        self.client.get(match[1])

    def memory(self) -> tuple[float, float]:
        """The server's resident and peak resident memory, in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def get(self, path: str, **params: str) -> Any:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return msgspec.json.decode(response.content) if path.startswith("/api/") else None

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGINT)
        self.process.communicate(timeout=30)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def cases(work: Path, served: Served) -> dict[str, Callable[[], object]]:
    """The requests to time, by label (ids and cursors picked from the index)."""
    with open_history(work, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        conversations = sorted(history.conversations(), key=lambda c: c.messages)
        long = conversations[-1]
        typical = next(c for c in conversations[len(conversations) // 2 :] if c.kind == "dm")
        name = typical.recipients[0].username
        deep = history.newer(long.id, None, 100_000)[-1]
        early = history.newer(long.id, None, 60)[-1]
    channel = f"/api/c/{long.id}"
    first = served.get("/api/search", q="coffee")
    return {
        "first page, typical conversation": lambda: served.get(f"/api/c/{typical.id}/messages"),
        "first page, 200,000-message one": lambda: served.get(f"{channel}/messages"),
        "page before its 100,000th message": lambda: served.get(
            f"{channel}/messages", before=f"{deep.ts}_{deep.id}"
        ),
        "page before its 60th message": lambda: served.get(
            f"{channel}/messages", before=f"{early.ts}_{early.id}"
        ),
        "permalink to its 100,000th": lambda: served.get(f"{channel}/around", message=str(deep.id)),
        "search coffee": lambda: served.get("/api/search", q="coffee"),
        "search coffee, second page": lambda: served.get(
            "/api/search", q="coffee", before=first["next"]
        ),
        'search "coffee deadline"': lambda: served.get("/api/search", q='"coffee deadline"'),
        f"search from:{name} coffee": lambda: served.get("/api/search", q=f"from:{name} coffee"),
        f"search in:{name}": lambda: served.get("/api/search", q=f"in:{name}"),
        "search has:image": lambda: served.get("/api/search", q="has:image"),
        "conversation list (2,000)": lambda: served.get("/api/conversations"),
        "reload of the page": lambda: served.get("/"),
    }


def scroll(served: Served, channel: int, pages: int) -> None:
    """``pages`` pages from the newest message of ``channel`` back, as the page asks."""
    older = None
    for _ in range(pages):
        page = served.get(f"/api/c/{channel}/messages", **({"before": older} if older else {}))
        older = page["older"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/dmj/bench-export")
    args = parser.parse_args()
    archive = ensure_archive(args.cache, Workload())
    print(f"load average before (1, 5, 15 min): {_load()} on {os.cpu_count()} CPUs")
    root = Path(tempfile.mkdtemp(prefix="dmj-bench-view-", dir=args.cache))
    try:
        work = root / "archive"
        working_copy(archive, work, drop_last_export=False)
        building = Served(work)
        built = building.memory()
        building.stop()
        print(
            f"first launch: {building.launch:.1f} s (the message index of 1,000,000 "
            f"messages built), server RSS then {built[0]:.0f} MB, peak {built[1]:.0f} MB"
        )
        served = Served(work)
        try:
            measure(work, served, args.rounds)
        finally:
            served.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average after (1, 5, 15 min): {_load()}")


def measure(work: Path, served: Served, rounds: int) -> None:
    print(f"next launch (the index current): {served.launch:.2f} s")
    launched = served.memory()[0]
    print(f"  first conversation list after the launch: {timed(lambda: served.get('/')):.1f} ms")
    todo = cases(work, served)
    times: dict[str, list[float]] = {label: [] for label in todo}
    for _ in range(rounds):
        for label, call in todo.items():
            times[label].append(timed(call))
    median = {label: statistics.median(t) for label, t in times.items()}
    for label, ms in median.items():
        verdict = "met" if ms < GOAL_MS else "NOT met"
        print(f"  {label:36} {ms:7.2f} ms  (max {max(times[label]):6.1f})  < {GOAL_MS:.0f} ms: "
              f"{verdict}")  # fmt: skip
    newest = median["first page, 200,000-message one"]
    deepest = max(median["page before its 100,000th message"],
                  median["page before its 60th message"])  # fmt: skip
    print(f"  deep page / newest page: {deepest / newest:.2f}x")
    timed_rss = served.memory()[0]
    with open_history(work, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        channel = max(history.conversations(), key=lambda c: c.messages).id
    scrolled = timed(lambda: scroll(served, channel, 2_000)) / 2_000
    rss, peak = served.memory()
    print(f"  2,000 pages scrolled back: {scrolled:.2f} ms a page")
    print(
        f"server RSS: {launched:.0f} MB after the launch, {timed_rss:.0f} MB after the timed "
        f"requests, {rss:.0f} MB after scrolling 100,000 messages; peak {peak:.0f} MB"
    )


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()

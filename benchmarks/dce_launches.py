"""How many DCE runs a ``dmj run`` starts, and how many of them fail: the read probe's saving.

    .venv/bin/python -m benchmarks.dce_launches [--users 120] [--seed 7] [--batch-size 20]

Builds a sandbox world, serves it in a thread of this process, runs the real ``dmj run --pace
fast`` on it as a process, and counts from the emulator (the DCE stand-in asks it once per
run) and from the journal:

- **DCE runs**: every start of the stand-in, and those that ended in a failure;
- **probe refusals**: exports Discord refused before DCE was started (``ExportFailed`` whose
  message says "so DCE was not started"); before the probe existed each was a failed DCE run;
- **requests**: dmj's own and DCE's, by the emulator's log.

Real DCE pays .NET's start-up and its own requests (``users/@me``, ``channels/{id}``,
``users/@me/channels``, ``messages?limit=1``) per run; a probe is one request, paced.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dmj.journal import read_events
from dmj.machine.events import ChannelExported, ExportFailed, ExportRequested
from dmj.sandbox import Emulator, WorldSpec, create_sandbox, run_emulator

DMJ = Path(sys.executable).parent / "dmj"


def count(folder: Path, args: argparse.Namespace) -> None:
    sandbox = create_sandbox(folder / "sbx", WorldSpec.sized(args.users, seed=args.seed))
    emulator = Emulator(sandbox.world)
    archive = folder / "archive"
    with run_emulator(emulator) as server:
        env = {**os.environ, "DMJ_API_BASE": server.base_url, "DISCORD_TOKEN": sandbox.world.token}
        argv = [
            str(DMJ), "run", "--package", str(sandbox.package), "--dce", str(sandbox.dce),
            "--archive", str(archive), "--pace", "fast", "--batch-size", str(args.batch_size),
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
        wall = time.perf_counter() - started
        stats = server.stats()
        launches = sum(emulator.faults.dce_attempts(c) for c in emulator.book.channels)
    if done.returncode != 0:
        sys.exit(f"dmj run failed ({done.returncode}):\n{done.stderr.decode()}")
    events = list(read_events(archive / "journal.jsonl"))
    requested = sum(isinstance(e, ExportRequested) for e in events)
    exported = sum(isinstance(e, ChannelExported) for e in events)
    failures = [e for e in events if isinstance(e, ExportFailed)]
    refused = sum("so DCE was not started" in e.message for e in failures)
    print(f"world: {args.users} users, {len(sandbox.world.channels)} channels (seed {args.seed})")
    print(f"exports asked for: {requested}; exported: {exported}; failed: {len(failures)}")
    print(f"DCE runs: {launches}, of which failed: {launches - exported}")
    print(f"refused by the probe before DCE: {refused}")
    print(
        f"requests: dmj {stats.by_client.get('dmj', 0)}, DCE {stats.by_client.get('dce', 0)}; "
        f"wall {wall:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        count(Path(folder), args)


if __name__ == "__main__":
    main()

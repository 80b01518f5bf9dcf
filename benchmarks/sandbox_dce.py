"""The sandbox's costs, measured on demand: ``.venv/bin/python -m benchmarks.sandbox_dce``.

- DCE stand-in start-up: wall time of one small export through the launcher, against the
  bare interpreter start (``python -c pass``) measured in the same run.
- DCE stand-in throughput: messages per second exporting one large channel.
- Emulator: pages of 100 messages served per second over HTTP, and the cost of a DM
  open + close (the state file is replaced each time).
- ``--large``: a benchmark-sized world (about 10,000 DMs and 1,000,000 messages): time to
  build it and write its zipped package, and the peak memory of doing so.

Prints ratios and absolute numbers; asserts nothing (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from dmj.adapters import Dce, export_argv
from dmj.sandbox import (
    Emulator,
    RunningEmulator,
    Sandbox,
    WorldSpec,
    create_sandbox,
    run_emulator,
)


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)
    return time.perf_counter() - started


def _export(sandbox: Sandbox, channel_id: str, out: Path) -> list[str]:
    """The command line dmj runs DCE with, built by dmj's own ``export_argv``."""
    dce = Dce(path=str(sandbox.dce), argv=(str(sandbox.dce),), version="v2.47.0")
    return export_argv(dce, channel_id, out)


def _env(sandbox: Sandbox, running: RunningEmulator) -> dict[str, str]:
    return {**os.environ, "DMJ_API_BASE": running.base_url, "DISCORD_TOKEN": sandbox.world.token}


def startup(root: Path, runs: int) -> None:
    sandbox = create_sandbox(root / "small", WorldSpec(users=24, messages=20))
    channels = [c.id for c in sandbox.world.channels if c.open and c.message_count]
    with run_emulator(Emulator(sandbox.world)) as running:
        env = _env(sandbox, running)
        bare = [_timed([sys.executable, "-c", "pass"], env) for _ in range(runs)]
        dce = [
            _timed(_export(sandbox, channels[i % len(channels)], root / "out"), env)
            for i in range(runs)
        ]
    base, stand_in = statistics.median(bare), statistics.median(dce)
    print(f"python -c pass (baseline):      {base * 1000:7.1f} ms  (median of {runs})")
    ratio = stand_in / base
    print(f"DCE stand-in, one small export: {stand_in * 1000:7.1f} ms  = {ratio:.2f}x baseline")


def throughput(root: Path) -> None:
    sandbox = create_sandbox(root / "big-channel", WorldSpec(users=4, groups=0, messages=4000))
    channel = max(sandbox.world.channels, key=lambda c: c.message_count if c.open else 0)
    with run_emulator(Emulator(sandbox.world)) as running:
        seconds = _timed(_export(sandbox, channel.id, root / "big"), _env(sandbox, running))
    rate = channel.message_count / seconds
    print(
        f"DCE stand-in, {channel.message_count} messages: {seconds:.2f} s = {rate:,.0f} messages/s"
    )


def emulator_speed(root: Path, pages: int) -> None:
    sandbox = create_sandbox(root / "pages", WorldSpec(users=12, messages=1000))
    channel = max(sandbox.world.channels, key=lambda c: c.message_count if c.open else 0)
    reopen = [c.recipients[0] for c in sandbox.world.channels if c.fate == "reopen"]
    emulator = Emulator(sandbox.world, state_file=sandbox.state_file)
    headers = {"Authorization": sandbox.world.token}
    with (
        run_emulator(emulator) as running,
        httpx.Client(base_url=running.base_url, headers=headers) as client,
    ):
        started = time.perf_counter()
        for _ in range(pages):
            client.get(f"/channels/{channel.id}/messages", params={"limit": 100})
        per_page = (time.perf_counter() - started) / pages
        started = time.perf_counter()
        for user in reopen * 10:
            opened = client.post("/users/@me/channels", json={"recipients": [user]}).json()
            client.delete(f"/channels/{opened['id']}")
        per_pair = (time.perf_counter() - started) / (len(reopen) * 10)
    print(f"emulator: a page of 100 messages {per_page * 1000:.1f} ms ({1 / per_page:,.0f}/s)")
    print(f"emulator: a DM open + close     {per_pair * 1000:.1f} ms")


def large(root: Path) -> None:
    started = time.perf_counter()
    sandbox = create_sandbox(root / "large", WorldSpec.sized(9000, messages=90), as_zip=True)
    seconds = time.perf_counter() - started
    world = sandbox.world
    total = sum(c.message_count for c in world.channels)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"large world: {len(world.channels):,} channels, {total:,} messages, built and zipped in "
        f"{seconds:.1f} s; package {sandbox.package.stat().st_size / 1e6:.1f} MB; "
        f"peak RSS {peak_mb:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--large", action="store_true", help="also build a 1M-message world")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        startup(root, args.runs)
        throughput(root)
        emulator_speed(root, pages=200)
        if args.large:
            large(root)


if __name__ == "__main__":
    main()

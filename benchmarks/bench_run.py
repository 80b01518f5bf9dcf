"""``dmj run`` on a 2,000-DM world against the emulator: how much of the wall time is dmj's own.

    .venv/bin/python -m benchmarks.bench_run [--users 2000] [--messages 20] [--batch-size 20]
                                             [--faults SPEC] [--dir DIR]

Builds a sandbox world, serves it (in a thread of this process, over loopback) with rate
limits the emulator *announces* (bot mode: ``X-RateLimit-Remaining``/``Reset-After`` on
every answer), and runs the real ``dmj run --pace fast`` on it as a process. In that same run
it measures:

- **wall**: the ``dmj run`` process, start to exit;
- **DCE**: the time of every DCE stand-in run, from dmj's log (the ``exporting channel …``
  line to that channel's result line; millisecond stamps);
- **waits**: what the emulator enforced on dmj: the waits for announced limits and 429s that
  dmj actually slept (its log's ``pacing: waiting`` / ``rate limited: waiting`` / ``retry``
  lines). The emulator's own ``enforced_wait_seconds`` (every ``Reset-After`` it announced
  with ``Remaining: 0``, plus every 429's ``retry_after``) is printed beside it: it is an upper
  bound, since a client whose next request comes after the reset anyway waits less.

dmj's overhead is ``wall - DCE - waits``: its start-up, validation, journal fsyncs,
projections, and the HTTP round trips of its own requests (the emulator runs in this
process). Goal: at most 10% of ``DCE + waits``, and no 429 at all when limits are announced.
The limits are on the routes only dmj uses (reopen, close), so DCE's own advisory waits
(inside the DCE time) are not counted twice.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from dmj.sandbox import Emulator, FaultPlan, WorldSpec, create_sandbox, run_emulator

DMJ = Path(sys.executable).parent / "dmj"
DEFAULT_FAULTS = "mode=bot,limit:open=3/1,limit:close=3/1"
_LINE = re.compile(r"^(\S+ \S+) \w+ dmj\.adapters\.dce: (.*)$")
_START = re.compile(r"exporting channel (\d+) with DCE")
_END = re.compile(r"channel (\d+)(?::| failed)")
_WAIT = re.compile(r"(?:pacing: waiting|rate limited: waiting|retry \d+ of .* in) ([0-9.]+) s")


def dce_seconds(log: Path) -> tuple[float, int]:
    """Total seconds of DCE runs in ``log`` and how many there were."""
    started: dict[str, datetime] = {}
    total, runs = 0.0, 0
    for line in log.read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        at = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f")
        if start := _START.match(match[2]):
            started[start[1]] = at
        elif (end := _END.match(match[2])) and end[1] in started:
            total += (at - started.pop(end[1])).total_seconds()
            runs += 1
    return total, runs


def waited_seconds(log: Path) -> float:
    """Seconds dmj slept for Discord's limits, 429s and retries, by its log."""
    text = log.read_text(encoding="utf-8")
    return sum(float(match[1]) for match in _WAIT.finditer(text))


def bench(folder: Path, args: argparse.Namespace) -> None:
    spec = WorldSpec.sized(args.users, seed=7, messages=args.messages)
    sandbox = create_sandbox(folder / "sbx", spec)
    emulator = Emulator(sandbox.world, faults=FaultPlan.parse(args.faults))
    archive = folder / "archive"
    with run_emulator(emulator) as server:
        env = {**os.environ, "DMJ_API_BASE": server.base_url, "DISCORD_TOKEN": sandbox.world.token}
        argv = [
            str(DMJ), "run", "--package", str(sandbox.package), "--dce", str(sandbox.dce),
            "--archive", str(archive), "--pace", "fast", "--batch-size", str(args.batch_size),
            "--yes",
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
        wall = time.perf_counter() - started
        stats = server.stats()
    if done.returncode != 0:
        sys.exit(f"dmj run failed ({done.returncode}):\n{done.stderr.decode()}")
    (log,) = (archive / "logs").glob("*.log")
    dce, runs = dce_seconds(log)
    waits = waited_seconds(log)
    overhead = wall - dce - waits
    channels = len(sandbox.world.channels)
    print(f"world: {args.users} users, {channels} channels; faults {args.faults}")
    each = dce / runs * 1000
    print(f"dmj run wall {wall:.1f} s = DCE {dce:.1f} s ({runs} runs, {each:.0f} ms each)")
    announced = stats.enforced_wait_seconds
    print(
        f"  + enforced waits {waits:.1f} s (the emulator announced {announced:.1f} s) "
        f"+ dmj's own {overhead:.1f} s"
    )
    print(
        f"dmj overhead ratio: {overhead / (dce + waits):.3f} of DCE + waits "
        f"(wall / (DCE + waits) = {wall / (dce + waits):.3f}); goal <= 0.10"
    )
    print(
        f"429s: {stats.rate_limited} (requests {stats.requests}: "
        f"dmj {stats.by_client.get('dmj', 0)}, DCE {stats.by_client.get('dce', 0)}); "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--faults", default=DEFAULT_FAULTS)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        bench(Path(tempfile.mkdtemp(dir=args.dir)), args)
        return
    with tempfile.TemporaryDirectory() as folder:
        bench(Path(folder), args)


if __name__ == "__main__":
    main()

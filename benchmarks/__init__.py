"""Speed targets, run on demand (``python -m benchmarks.bench_NAME``): ratios against a
baseline measured in the same run, each stage in a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["child_output", "status_mb"]


def child_output(module: str, *args: str) -> str:
    """What ``python -m benchmarks.MODULE --child ARGS`` printed, run from the checkout."""
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--child", *args],
        check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent,
    ).stdout  # fmt: skip


def status_mb(pid: str, key: str) -> float:
    """A size from ``/proc/PID/status``: ``VmHWM`` (this process's peak resident set: unlike
    ``ru_maxrss``, it does not carry the parent's peak over ``fork`` and ``exec``), ``VmRSS``
    (its resident set now); 0 for a process gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    kilobytes = next((line.split()[1] for line in status.splitlines() if line.startswith(key)), 0)
    return int(kilobytes) / 1024

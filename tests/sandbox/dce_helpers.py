"""Running the DCE stand-in in tests: in-process (fast, exact) or through its launcher."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dmj.sandbox import Sandbox, World, WorldChannel
from dmj.sandbox._dce import main


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def run_in_process(argv: list[str], env: dict[str, str]) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env, out, err)
    return Ran(code, out.getvalue(), err.getvalue())


def run_launcher(sandbox: Sandbox, argv: list[str], env: dict[str, str]) -> Ran:
    done = subprocess.run(
        [str(sandbox.dce), *argv],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def export_argv(channel_id: str, out: Path, *extra: str) -> list[str]:
    """The argv dmj uses (design.md §9)."""
    return [
        "export", "-c", channel_id, "-f", "Json", "-o", f"{out}/", "--utc",
        "--markdown", "false", "--fuck-russia", *extra,
    ]  # fmt: skip


def exported(out: Path) -> list[Path]:
    """The JSON files an export wrote into ``out``, sorted by name."""
    return sorted(out.glob("*.json"))


def fate(world: World, name: str, access: str | None = None) -> WorldChannel:
    return next(
        c
        for c in world.channels
        if c.fate == name and (access is None or c.closed_access == access) and c.message_count
    )

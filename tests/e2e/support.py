"""Running the real ``dmj`` against the sandbox: a served world, the DCE stand-in, an archive.

Every test here starts ``dmj`` (the console script) as a process, with the emulator served
over loopback from a thread of the test process and the DCE stand-in as ``--dce``. Time is
real (processes cannot share trio's MockClock), so the world is small, the pace is ``fast``
and the stall timeout short where a test needs one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dmj.journal import read_events
from dmj.machine.events import AnyEvent, ChannelExported
from dmj.sandbox import (
    Emulator,
    FaultPlan,
    RunningEmulator,
    Sandbox,
    WorldFacts,
    run_emulator,
    world_facts,
)
from dmj.sandbox._demo_processes import stray_exporters

__all__ = [
    "DMJ",
    "Archive",
    "Served",
    "dce_processes",
    "exported_messages",
    "journal_so_far",
    "serving",
    "wait_until",
]

DMJ = Path(sys.executable).parent / "dmj"
"""The console script of this checkout's venv."""

TIMEOUT = 120.0
"""A dmj process that takes longer than this is stuck (the runs here take seconds)."""


def wait_until(condition: Callable[[], bool], *, timeout: float = 60.0, what: str) -> None:
    """Poll ``condition`` (real time: it waits on other processes) until true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def exported_messages(archive: Path) -> dict[str, int]:
    """Channel id → messages in its export folders, read from the DCE JSON files; 0 for a
    channel the journal records as exported without a folder (it held no message)."""
    counts: dict[str, int] = {
        e.channel_id: 0
        for e in read_events(archive / "journal.jsonl")
        if isinstance(e, ChannelExported) and not e.path
    }
    for path in sorted((archive / "exports").glob("*/*/*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        channel = document["channel"]["id"]
        counts[channel] = counts.get(channel, 0) + document["messageCount"]
    return counts


def journal_so_far(served: Served) -> list[AnyEvent]:
    """The run's journal as far as it is written (none before it starts)."""
    path = served.archive.path / "journal.jsonl"
    return list(read_events(path)) if path.exists() else []


def dce_processes(served: Served) -> list[int]:
    """Pids of DCE stand-ins writing into this test's archive (other tests export the same
    channels into theirs)."""
    return stray_exporters(served.archive.path)


@dataclass
class Archive:
    """An archive directory and what is in it."""

    path: Path

    def events(self) -> list[AnyEvent]:
        return list(read_events(self.path / "journal.jsonl"))

    def exported(self) -> dict[str, int]:
        return exported_messages(self.path)

    def export_folders(self) -> list[str]:
        return sorted(p.relative_to(self.path).as_posix() for p in self.path.glob("exports/*/*"))

    def json(self, relative: str) -> dict[str, object]:
        loaded: dict[str, object] = json.loads((self.path / relative).read_text("utf-8"))
        return loaded


@dataclass
class Served:
    """A sandbox world served by an emulator, and ``dmj`` runs against it."""

    sandbox: Sandbox
    server: RunningEmulator
    archive: Archive
    dce: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator

    @property
    def facts(self) -> WorldFacts:
        return world_facts(self.sandbox.world)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DMJ_API_BASE": self.server.base_url,
            "DISCORD_TOKEN": self.sandbox.world.token,
            **self.extra_env,
            **extra,
        }

    def dmj(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``dmj ARGS`` to its end; stdin is not a terminal."""
        return subprocess.run(
            [str(DMJ), *args],
            env=self.env(**env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def run_args(
        self,
        *extra: str,
        batch_size: int = 4,
        package: Path | str | None = None,
        dce: Path | str | None = None,
    ) -> list[str]:
        """``dmj run`` on this world (or on another ``package``, with another ``dce``)."""
        return [
            "run", "--package", str(package or self.sandbox.package), "--dce", str(dce or self.dce),
            "--archive", str(self.archive.path), "--pace", "fast",
            "--batch-size", str(batch_size), *extra,
        ]  # fmt: skip

    def run(self, *extra: str, batch_size: int = 4, **env: str) -> subprocess.CompletedProcess[str]:
        return self.dmj(*self.run_args(*extra, batch_size=batch_size), **env)

    def resume(self, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.dmj("resume", "--archive", str(self.archive.path), *extra, **env)

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """Start ``dmj ARGS`` without waiting (for Ctrl-C tests)."""
        return subprocess.Popen(
            [str(DMJ), *args],
            env=self.env(**env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def open_now(self) -> set[str]:
        return set(self.emulator.book.open)


@contextmanager
def serving(
    sandbox: Sandbox, archive: Path, *, faults: str = "", dce: Path | None = None
) -> Iterator[Served]:
    """Serve ``sandbox``'s world (fresh state) with ``faults``; the archive goes to ``archive``."""
    emulator = Emulator(sandbox.world, faults=FaultPlan.parse(faults))
    with run_emulator(emulator) as server:
        yield Served(sandbox, server, Archive(archive), dce or sandbox.dce)


def interrupt(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a terminal sends it to the foreground program."""
    process.send_signal(signal.SIGINT)

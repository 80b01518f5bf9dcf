"""``dmj demo``: the whole story offline, told with real ``dmj`` commands against the sandbox.

The story (``_demo_steps.STORY``) is a list of steps. Each shows the command it runs, exactly as
a reader would type it against the same world, then runs it as a real process and relays its
real output: nothing is printed on a command's behalf. The demo's own words (``Narrator.say``)
only say what is about to happen and what the journal shows afterwards.

Everything lives under one directory: ``sandbox/`` (world, data package, DCE stand-in, token)
and ``archive/``. Discord is the emulator, a ``dmj sandbox serve`` process on 127.0.0.1; every
child gets ``DMJ_API_BASE`` pointing there and the sandbox's token, so nothing but loopback is
contacted. Whatever happens, Ctrl-C included, every process the demo started is stopped.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dmj.machine.errors import DemoFailed, UsageError
from dmj.machine.events import AnyEvent

from ._demo_processes import DMJ_ARGV, Children, end_strays

__all__ = ["Narrator", "Places", "Stage", "Step", "prepare_places", "tell"]


class Narrator(Protocol):
    """Where the story goes: the cli renders it on a terminal (or records it)."""

    def chapter(self, number: int, title: str) -> None:
        """A step begins."""

    def say(self, text: str) -> None:
        """The demo's own words: what is about to happen, what the journal shows."""

    def command(self, line: str) -> None:
        """A command line, exactly as the reader would type it."""

    def output(self, line: str) -> None:
        """One line a command printed, verbatim."""


@dataclass(frozen=True)
class Places:
    """Where the demo's files go, all under ``root``."""

    root: Path

    @property
    def sandbox(self) -> Path:
        return self.root / "sandbox"

    @property
    def world(self) -> Path:
        return self.sandbox / "world.json"

    @property
    def package(self) -> Path:
        return self.sandbox / "package"

    @property
    def dce(self) -> Path:
        return self.sandbox / "dce"

    @property
    def token(self) -> Path:
        return self.sandbox / "token"

    @property
    def archive(self) -> Path:
        return self.root / "archive"


def prepare_places(root: Path) -> Places:
    """``root`` made ready for a demo: new or empty (``UsageError`` otherwise)."""
    root = root.absolute()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UsageError(
            f"{root} is not an empty directory; give `dmj demo` a new or empty directory, or "
            "none for a fresh temporary one."
        )
    root.mkdir(parents=True, exist_ok=True)
    return Places(root)


class Step(Protocol):
    """One chapter of the story."""

    @property
    def title(self) -> str: ...

    def run(self, stage: Stage) -> None: ...


@dataclass
class Stage:
    """What the steps share: the places, the narrator, the children and their environment.

    ``fields`` fill the ``{name}`` placeholders of a step's command (``{archive}``,
    ``{package}``, ``{dce}``, ``{world}``, ``{root}``, and what earlier steps add, such as
    ``{someone}``); ``env`` is every child's environment (``DMJ_API_BASE`` and
    ``DISCORD_TOKEN`` once Discord is served).
    """

    places: Places
    narrator: Narrator
    env: dict[str, str]
    children: Children = field(default_factory=Children)
    fields: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    discord: subprocess.Popen[str] | None = None
    """The emulator's process (``ServeDiscord``)."""
    at_kill: tuple[AnyEvent, ...] = ()
    """The journal as a killed ``dmj`` left it (``RunAndKill``), for the resume's check."""

    def __post_init__(self) -> None:
        places = self.places
        self.fields.update(
            root=str(places.root), archive=str(places.archive), package=str(places.package),
            dce=str(places.dce), world=str(places.world), sandbox=str(places.sandbox),
        )  # fmt: skip

    def say(self, text: str) -> None:
        self.narrator.say(text)

    def fill(self, template: Sequence[str]) -> list[str]:
        """``template`` with its placeholders filled in."""
        return [part.format_map(self.fields) for part in template]

    def show(self, argv: Sequence[str], suffix: str = "") -> None:
        """Print ``dmj ARGV`` as the reader would type it."""
        self.narrator.command(shlex.join(["dmj", *argv]) + suffix)

    def start(self, argv: Sequence[str]) -> subprocess.Popen[str]:
        """Start ``dmj ARGV`` (its output relayed); the process."""
        return self.children.start([*DMJ_ARGV, *argv], env=self.env, output=self.narrator.output)

    def dmj(self, argv: Sequence[str], *, codes: tuple[int, ...] = (0,)) -> int:
        """Show ``dmj ARGV``, run it to its end with its output relayed; its exit code, which
        must be one of ``codes`` (``DemoFailed`` otherwise)."""
        self.show(argv)
        code = self.children.finish(self.start(argv))
        expect(argv, code, codes)
        return code


def expect(argv: Sequence[str], code: int, codes: tuple[int, ...]) -> None:
    """``DemoFailed`` unless ``code`` is one of ``codes``."""
    if code not in codes:
        wanted = " or ".join(str(c) for c in codes)
        raise DemoFailed(
            f"`{shlex.join(['dmj', *argv])}` ended with exit code {code}, not {wanted}; its "
            "output is above. The demo stopped there; please report it with that output."
        )


def tell(places: Places, narrator: Narrator, story: Sequence[Step], env: Mapping[str, str]) -> None:
    """Tell ``story`` in ``places``; every process it started is stopped before this returns,
    also on Ctrl-C and on errors."""
    stage = Stage(places=places, narrator=narrator, env=dict(env))
    try:
        for number, step in enumerate(story, 1):
            narrator.chapter(number, step.title)
            step.run(stage)
    finally:
        with _ctrl_c_held():
            stage.children.stop_all()
            end_strays(places.archive)


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Ignore Ctrl-C while the children are stopped, so a second one cannot cut that short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

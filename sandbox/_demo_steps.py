"""The kinds of step ``dmj demo`` tells its story with (the story itself: ``_demo_story``).

``Command`` runs one ``dmj`` command and shows its output; ``Hint`` only shows one for the
reader to run; ``MarkdownExport`` runs ``dmj export md`` and checks the file it wrote.
``BuildWorld`` and ``ServeDiscord`` set the stage; ``Recap`` closes the story.
The crash and the resume are in ``_demo_crash``.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dmj.machine.errors import DemoFailed
from dmj.projections.history import fold

from ._demo import Stage
from ._demo_processes import DMJ_ARGV
from ._workspace import load_world
from ._world import World, WorldUser

__all__ = ["BuildWorld", "Command", "Hint", "MarkdownExport", "Recap", "ServeDiscord"]

WAIT = 60.0
"""Seconds the demo waits for the sandbox's Discord to listen."""


@dataclass(frozen=True)
class Command:
    """Say why, then run ``dmj ARGV`` and show its output (placeholders filled in both)."""

    title: str
    why: str
    argv: tuple[str, ...]
    codes: tuple[int, ...] = (0,)

    def run(self, stage: Stage) -> None:
        stage.say(self.why.format_map(stage.fields))
        stage.dmj(stage.fill(self.argv), codes=self.codes)


@dataclass(frozen=True)
class Hint:
    """Say why and show ``dmj ARGV`` for the reader to run (a browser, a long server)."""

    title: str
    why: str
    argv: tuple[str, ...]

    def run(self, stage: Stage) -> None:
        stage.say(self.why)
        stage.show(stage.fill(self.argv))


@dataclass(frozen=True)
class MarkdownExport:
    """Say why, run ``dmj export md ARGV`` (placeholders filled in both), then check that the
    file ``path`` names is there and not empty, and say where it is."""

    title: str
    why: str
    argv: tuple[str, ...]
    path: str

    def run(self, stage: Stage) -> None:
        stage.say(self.why.format_map(stage.fields))
        stage.dmj(stage.fill(("export", "md", *self.argv)))
        path = Path(self.path.format_map(stage.fields))
        size = path.stat().st_size if path.is_file() else 0
        if not size:
            raise DemoFailed(
                f"`dmj export md` ended well but {path} is missing or empty; its output is above. "
                "Please report it with that output."
            )
        stage.say(
            f"{path} holds {size:,} bytes of Markdown: open it in any editor or Markdown "
            "viewer, or hand it to someone."
        )


@dataclass(frozen=True)
class BuildWorld:
    """``dmj sandbox world``: a seeded account, its data package, a DCE stand-in, a token."""

    title: str
    users: int
    seed: int
    messages: int

    def run(self, stage: Stage) -> None:
        stage.say(
            "No Discord account needed: the sandbox builds one, seeded and reproducible, with "
            'its data package (what Discord\'s "Request all of my data" sends) and a stand-in '
            "for DiscordChatExporter."
        )
        stage.dmj(stage.fill((
            "sandbox", "world", "--out", "{sandbox}", "--users", str(self.users),
            "--seed", str(self.seed), "--messages", str(self.messages),
        )))  # fmt: skip
        world = load_world(stage.places.world)
        stage.say(describe_world(world))
        stage.fields["someone"] = someone_to_ask_about(world)


def describe_world(world: World) -> str:
    """What the world's data package holds, by what Discord will do with each conversation."""
    fates = Counter(c.fate for c in world.channels if c.in_package)
    planned = sum(fates.values()) - fates["duplicate"]
    silent = sum(1 for c in world.channels if c.fate == "silent")
    groups = fates["group"] + fates["left-group"]
    return (
        f"Its data package lists {planned} conversations: {fates['open']} open DMs, "
        f"{fates['readable']} closed DMs Discord lets dmj read by id, {fates['reopen']} it "
        f"lets read only after reopening them, {fates['moved']} it hands back under a new id "
        f'when reopened, {fates["deleted"]} with a deleted user ("Deleted User"), '
        f"{fates['gone']} with users gone since the package was made, and {groups} group DMs "
        f"({fates['left-group']} of them left). {silent} open DMs the account never wrote in "
        "are not in the package: dmj leaves them alone."
    )


def someone_to_ask_about(world: World) -> str:
    """The username of the other side of the open DM with the most messages whose name is the
    other person's alone (so ``in:NAME`` selects that one conversation) and is the name the
    DM is shown under (no different display name)."""
    called = Counter(name for user in world.users for name in _names(user))
    best: tuple[int, str] | None = None
    for channel in world.channels:
        user = world.user(channel.recipients[0]) if channel.recipients else None
        if channel.fate != "open" or not channel.message_count or user is None:
            continue
        names = _names(user)
        alone = len(names) == 1 and called[next(iter(names))] == 1
        if alone and (best is None or channel.message_count > best[0]):
            best = (channel.message_count, user.username)
    return best[1] if best is not None else world.users[0].username


def _names(user: WorldUser) -> set[str]:
    """What ``user`` is called, as the query language compares names: any case, any accents."""
    return {fold(name) for name in (user.username, user.global_name) if name}


@dataclass(frozen=True)
class ServeDiscord:
    """``dmj sandbox serve``, in the background: Discord's API on 127.0.0.1."""

    title: str

    def run(self, stage: Stage) -> None:
        stage.say(
            "The sandbox answers Discord's API on 127.0.0.1: nothing here reaches the "
            "internet. The demo keeps it running in the background until the end."
        )
        argv = stage.fill(("sandbox", "serve", "--world", "{world}"))
        stage.show(argv, suffix=" &")
        announced = _Announcement(stage.narrator.output)
        process = stage.children.start([*DMJ_ARGV, *argv], env=stage.env, output=announced)
        base = announced.wait(process)
        stage.discord = process
        token = stage.places.token
        stage.env.update(DMJ_API_BASE=base, DISCORD_TOKEN=token.read_text("utf-8").strip())
        stage.say(
            "Every command below runs with these two variables; paste them into another "
            "terminal to repeat any step by hand against the same world while the demo runs:"
        )
        where = shlex.quote(str(token))
        stage.narrator.command(f"export DMJ_API_BASE={base} DISCORD_TOKEN=$(cat {where})")


class _Announcement:
    """Relays serve's output and catches its first line, ``DMJ_API_BASE=<url>``."""

    def __init__(self, output: Callable[[str], None]) -> None:
        self._output = output
        self._base = ""
        self._said = threading.Event()

    def __call__(self, line: str) -> None:
        if not self._said.is_set() and line.startswith("DMJ_API_BASE="):
            self._base = line.removeprefix("DMJ_API_BASE=")
            self._said.set()
        self._output(line)

    def wait(self, process: subprocess.Popen[str]) -> str:
        deadline = time.monotonic() + WAIT
        while not self._said.wait(timeout=0.05):
            if process.poll() is not None or time.monotonic() > deadline:
                raise DemoFailed(
                    "`dmj sandbox serve` did not start (its output is above); the demo needs "
                    "it. Check that loopback (127.0.0.1) accepts connections, then run it again."
                )
        if not self._base.startswith("http://127.0.0.1:"):
            raise DemoFailed(f"`dmj sandbox serve` announced {self._base}, which is not loopback.")
        return self._base


@dataclass(frozen=True)
class Recap:
    """How long it took, where everything is, and how to go on by hand."""

    title: str

    def run(self, stage: Stage) -> None:
        seconds = time.monotonic() - stage.started
        places = stage.places
        if stage.discord is not None:
            stage.say("The sandbox's Discord is no longer needed:")
            stage.narrator.command("kill %1")
            stage.children.stop(stage.discord, signal.SIGTERM)
            stage.discord = None
        made = sorted(
            p.name for p in places.root.iterdir() if p not in (places.sandbox, places.archive)
        )
        also = f"; next to them, {', '.join(made)}: what was exported above" if made else ""
        stage.say(
            f"The story took {seconds:.1f} s. Everything stays in {places.root}: sandbox/ "
            "holds the world, its data package, the DCE stand-in and the token; archive/ holds "
            "what dmj wrote (journal.jsonl, exports/, runs/, id-history.json, logs/, "
            f"index.sqlite){also}."
        )
        stage.say(
            "To repeat a step by hand after the demo, serve the world again (it prints a new "
            "DMJ_API_BASE), export the two variables as above, and type the commands shown:"
        )
        stage.show(stage.fill(("sandbox", "serve", "--world", "{world}")))
        stage.say('For your own account, see "Real use" in README.md.')

"""A simulated driver and world for the machine's tests and the replay benchmark.

``Simulation`` plays the driver's loop against a made-up Discord + DCE: ``decide`` → journal
the intent → ask the world for the outcome → journal it, stamping ``seq``/``at`` as the
journal would. The world's answers come from a ``choose`` function, so hypothesis can draw
them, a seeded ``random.Random`` can pick them, or a table test can script them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from dmj.machine.decide import closes_before_stopping, decide
from dmj.machine.events import (
    AnyEvent,
    ChannelExported,
    ChannelInfo,
    DceInfo,
    DmClosed,
    DmKind,
    DmOpened,
    DmSkipped,
    ErrorClass,
    ExportFailed,
    OpenDmsCaptured,
    PackageInfo,
    RunPaused,
    RunStarted,
    Strategy,
    UserInfo,
)
from dmj.machine.package import PackageDm
from dmj.machine.plan import start_run
from dmj.machine.state import INITIAL, State, apply
from dmj.machine.steps import (
    AnyStep,
    CaptureOpenDms,
    CloseDm,
    ExportChannel,
    Idle,
    OpenDm,
)
from msgspec.structs import replace

T = TypeVar("T")
Choose = Callable[[Sequence[T]], T]

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
"""The journal's clock in tests: record ``seq`` is stamped ``T0 + seq`` seconds."""

OPEN_ANSWERS = ("opened", "opened-elsewhere", "skipped")
EXPORT_ANSWERS = ("exported", "transient", "permanent", "fatal")
ERROR_CLASSES: dict[str, ErrorClass] = {c: c for c in ("transient", "permanent", "fatal")}


def scripted(*answers: str) -> Choose[str]:
    """A ``choose`` that gives ``answers`` in order, each when it is on offer; else the first
    option (so "go on" when asked about Ctrl-C)."""
    queue = list(answers)

    def choose(options: Sequence[str]) -> str:
        if queue and queue[0] in options:
            return queue.pop(0)
        return options[0]

    return choose


def stamp(event: AnyEvent, seq: int) -> AnyEvent:
    """``event`` as the journal would store it as record ``seq``."""
    return replace(event, seq=seq, at=T0 + timedelta(seconds=seq))


def journal(events: Iterable[AnyEvent]) -> list[AnyEvent]:
    """Unstamped ``events`` stamped with seq 1, 2, … as a journal would."""
    return [stamp(event, seq) for seq, event in enumerate(events, start=1)]


def package_dm(key: str, kind: DmKind = "dm", name: str = "") -> PackageDm:
    """A package DM; ``key`` is the user id for a 1-on-1 DM, else the channel id.

    A 1-on-1 DM with user ``N`` lives in package channel ``1N``.
    """
    if kind == "dm":
        return PackageDm(channel_id=f"1{key}", kind="dm", user_id=key, name=name or f"user{key}")
    return PackageDm(channel_id=key, kind=kind, user_id=None, name=name or f"chan{key}")


def run_started(
    dms: Sequence[PackageDm],
    *,
    run: str = "run-1",
    batch_size: int = 2,
    strategy: Strategy = "direct-first",
    max_attempts: int = 3,
    package: PackageInfo | None = None,
) -> RunStarted:
    return start_run(
        run=run,
        dms=dms,
        batch_size=batch_size,
        strategy=strategy,
        package=package or PackageInfo(path="/pkg", fingerprint="sha256:feed", self_id="42"),
        dce=DceInfo(path="/opt/dce/DiscordChatExporter.Cli", version="2.43.3"),
        max_attempts=max_attempts,
        user=UserInfo(id="42", username="me", global_name="Me"),
    )


def dm_channel(channel_id: str, user_id: str) -> ChannelInfo:
    recipient = UserInfo(id=user_id, username=f"u{user_id}")
    return ChannelInfo(id=channel_id, type=1, recipients=(recipient,))


def group_channel(channel_id: str, *user_ids: str) -> ChannelInfo:
    recipients = tuple(UserInfo(id=u, username=f"u{u}") for u in user_ids)
    return ChannelInfo(id=channel_id, type=3, recipients=recipients)


@dataclass
class World:
    """Answers steps. ``choose`` picks each answer from the options offered."""

    choose: Choose[str]
    open_at_start: tuple[ChannelInfo, ...] = ()
    fatal_budget: int = 3
    interrupt_budget: int = 0
    messages: int = 0

    def answer(self, step: AnyStep, run: str) -> list[AnyEvent]:
        match step:
            case CaptureOpenDms():
                return [OpenDmsCaptured(run=run, channels=self.open_at_start)]
            case OpenDm():
                return [self._open(step, run)]
            case ExportChannel():
                return self._export(step, run)
            case CloseDm():
                return [DmClosed(run=run, batch=step.batch, channel_id=step.channel_id)]
            case _:
                return []

    def wants_interrupt(self) -> bool:
        """Ctrl-C after this step? (Each interrupt uses up the budget.)"""
        if self.interrupt_budget <= 0 or self.choose(("go on", "go on", "interrupt")) == "go on":
            return False
        self.interrupt_budget -= 1
        return True

    def _open(self, step: OpenDm, run: str) -> AnyEvent:
        answer = self.choose(OPEN_ANSWERS)
        if answer == "skipped":
            return DmSkipped(
                run=run, batch=step.batch, user_id=step.user_id, reason="Unknown user",
                status=400, code=50033,
            )  # fmt: skip
        channel = step.package_channel_id if answer == "opened" else f"7{step.user_id}"
        return DmOpened(
            run=run, batch=step.batch, user_id=step.user_id, channel_id=channel,
            package_channel_id=step.package_channel_id,
            channel=dm_channel(channel, step.user_id),
        )  # fmt: skip

    def _export(self, step: ExportChannel, run: str) -> list[AnyEvent]:
        answer = self.choose(EXPORT_ANSWERS if self.fatal_budget > 0 else EXPORT_ANSWERS[:3])
        self.fatal_budget -= answer == "fatal"
        if answer == "exported":
            self.messages += 1
            return [
                ChannelExported(
                    run=run, batch=step.batch, channel_id=step.channel_id, user_id=step.user_id,
                    path=f"exports/{step.channel_id}/{run}-{step.attempt}",
                    message_count=3, last_message_id=f"9{self.messages:06d}",
                )
            ]  # fmt: skip
        failed = ExportFailed(
            run=run, batch=step.batch, channel_id=step.channel_id, user_id=step.user_id,
            error_class=ERROR_CLASSES[answer], message=f"DCE said {answer}",
            attempts=step.attempt,
        )  # fmt: skip
        if answer == "fatal":
            return [failed, RunPaused(run=run, reason="Cloudflare said no")]
        return [failed]


@dataclass
class Simulation:
    """The driver's loop over a list of journaled events, against ``world``."""

    world: World
    events: list[AnyEvent] = field(default_factory=list)
    state: State = INITIAL

    @classmethod
    def resumed(cls, world: World, events: Sequence[AnyEvent]) -> Simulation:
        """A simulation that replays ``events`` (a crash left them) and goes on from there."""
        sim = cls(world=world)
        for event in events:
            sim.state = apply(sim.state, event)
            sim.events.append(event)
        return sim

    def journal(self, event: AnyEvent) -> None:
        stamped = stamp(event, self.state.through_seq + 1)
        self.state = apply(self.state, stamped)
        self.events.append(stamped)

    def step(self) -> AnyStep:
        """Take one step (intent, effect, outcome); returns it."""
        step = decide(self.state)
        run = self.state.run.id if self.state.run else ""
        intent = step.intent(run)
        if intent is not None:
            self.journal(intent)
        for event in self.world.answer(step, run):
            self.journal(event)
        if self.world.wants_interrupt():
            self.interrupt(run)
        return step

    def interrupt(self, run: str) -> None:
        """Ctrl-C: close what the batch opened, journal the pause."""
        if self.state.run is None or self.state.run.finished is not None:
            return
        for close in closes_before_stopping(self.state):
            self.journal(close.intent(run))
            self.journal(DmClosed(run=run, batch=close.batch, channel_id=close.channel_id))
        self.journal(RunPaused(run=run, reason="interrupted"))

    def run_to_end(self, limit: int = 100_000) -> State:
        for _ in range(limit):
            if isinstance(self.step(), Idle):
                return self.state
        raise AssertionError(f"no end after {limit} steps")

    def start(self, started: RunStarted) -> None:
        self.journal(started)

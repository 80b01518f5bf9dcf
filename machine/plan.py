"""The planner: the package's DMs → an ordered, deduplicated plan → batches.

Pure and deterministic: the same package gives the same plan and the same batches, whatever
order the reader listed its DMs in, so a replan is identical and ``BatchStarted`` can be
checked against the plan. Order: by channel id, oldest conversation first (snowflakes grow
with time; compared as numbers).

Keys: a 1-on-1 DM is keyed by its recipient's user id (the id reopening needs); a group DM
and a deleted user's DM by their channel id. Two package channels with the same recipient
(an old Discord bug the reader normally merges) keep the newest channel.

A plan can be narrowed to some conversations (``choose``: ``dmj run --only``), and a run that
finished with failed DMs is followed by a run of exactly those (``retry_run``: ``dmj
resume``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ._model import RunState
from .errors import InvariantBroken, UsageError
from .events import (
    DEFAULT_MAX_ATTEMPTS,
    DceInfo,
    Pace,
    PackageInfo,
    PlanEntry,
    RunStarted,
    Strategy,
    UserInfo,
)
from .package import PackageDm

__all__ = [
    "batch_count",
    "choose",
    "display_name",
    "failed_entries",
    "plan_batches",
    "plan_dms",
    "retry_run",
    "snowflake_key",
    "start_run",
]


def plan_dms(dms: Iterable[PackageDm]) -> tuple[PlanEntry, ...]:
    """The plan for ``dms``: one entry per DM, in channel-id order."""
    newest_first = sorted(dms, key=lambda dm: snowflake_key(dm.channel_id), reverse=True)
    keys: set[str] = set()
    channels: set[str] = set()
    entries: list[PlanEntry] = []
    for dm in newest_first:
        entry = _entry(dm)
        if entry.user_id in keys or entry.channel_id in channels:
            continue
        keys.add(entry.user_id)
        channels.add(entry.channel_id)
        entries.append(entry)
    entries.reverse()
    return tuple(entries)


def batch_count(planned: int, batch_size: int) -> int:
    """How many batches of ``batch_size`` hold ``planned`` DMs."""
    return -(-planned // batch_size)


def plan_batches(plan: tuple[PlanEntry, ...], batch_size: int) -> tuple[tuple[PlanEntry, ...], ...]:
    """``plan`` cut into batches of ``batch_size`` (the last may be shorter)."""
    return tuple(plan[i : i + batch_size] for i in range(0, len(plan), batch_size))


def start_run(
    *,
    run: str,
    dms: Iterable[PackageDm],
    batch_size: int,
    strategy: Strategy,
    package: PackageInfo,
    dce: DceInfo,
    user: UserInfo | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    pace: Pace = "careful",
    media: bool = False,
    only: tuple[str, ...] = (),
) -> RunStarted:
    """The ``RunStarted`` that begins run ``run`` over ``dms`` (not journaled yet); ``only``
    narrows the plan to the conversations it names (``choose``)."""
    if batch_size < 1:
        raise UsageError(
            f"The batch size must be at least 1, not {batch_size}; try --batch-size 20."
        )
    plan = choose(plan_dms(dms), only) if only else plan_dms(dms)
    return RunStarted(
        run=run,
        plan=plan,
        batch_size=batch_size,
        total_batches=batch_count(len(plan), batch_size),
        strategy=strategy,
        package=package,
        dce=dce,
        max_attempts=max_attempts,
        user=user,
        pace=pace,
        media=media,
    )


def failed_entries(run: RunState) -> tuple[PlanEntry, ...]:
    """The DMs of ``run`` whose outcome is ``failed`` (a passing failure, not unreachable or
    skipped), in plan order: what a retry run plans."""
    failed = {o.user_id for o in run.outcomes() if o.verdict == "failed"}
    return tuple(entry for entry in run.started.plan if entry.user_id in failed)


def retry_run(
    previous: RunState, *, run: str, dce: DceInfo, user: UserInfo | None = None
) -> RunStarted:
    """The ``RunStarted`` of run ``run``, which retries the failed DMs of the finished run
    ``previous`` with its settings (batch size, strategy, pace, ``--media``, attempts)."""
    started = previous.started
    plan = failed_entries(previous)
    if previous.finished is None or not plan:
        raise InvariantBroken(
            f"run {previous.id} is retried only once it has finished with failed DMs; this is "
            "a bug in dmj."
        )
    return RunStarted(
        run=run,
        plan=plan,
        batch_size=started.batch_size,
        total_batches=batch_count(len(plan), started.batch_size),
        strategy=started.strategy,
        package=started.package,
        dce=dce,
        max_attempts=started.max_attempts,
        user=user or started.user,
        pace=started.pace,
        media=started.media,
        retries=previous.id,
    )


def choose(plan: tuple[PlanEntry, ...], only: Iterable[str]) -> tuple[PlanEntry, ...]:
    """The entries of ``plan`` that some word of ``only`` names, in plan order.

    A word names a conversation by its user id, its channel id or its name (ignoring case,
    with or without the package's "Direct Message with " prefix, and without the "#0" of a
    username, as Discord shows it); a name shared by several
    conversations names them all. A word that names none is a ``UsageError`` listing the
    closest names.
    """
    chosen: set[str] = set()
    for word in only:
        found = {entry.user_id for entry in plan if _names(entry, word)}
        if not found:
            raise UsageError(_nothing_named(plan, word))
        chosen |= found
    return tuple(entry for entry in plan if entry.user_id in chosen)


def _names(entry: PlanEntry, word: str) -> bool:
    wanted = word.strip().casefold()
    name = _name(entry).casefold()
    # "alice" names "alice#0": Discord shows a user without the "#0" its new usernames carry
    return wanted in (entry.user_id, entry.channel_id, name, name.removesuffix("#0")) or (
        wanted == entry.name.casefold()
    )


def _name(entry: PlanEntry) -> str:
    return display_name(entry.name)


def display_name(name: str) -> str:
    """A DM's name without the package's "Direct Message with " prefix."""
    return name.removeprefix("Direct Message with ")


def _nothing_named(plan: tuple[PlanEntry, ...], word: str) -> str:
    names = {_name(entry).casefold(): _name(entry) for entry in plan}
    close = difflib.get_close_matches(word.strip().casefold(), names, n=5, cutoff=0.5)
    hint = (
        f"Did you mean {', '.join(repr(names[c]) for c in close)}?"
        if close
        else "No name in the package is close to it."
    )
    return (
        f"--only {word!r} matches no conversation in the data package (by name, user id or "
        f"channel id). {hint} `dmj run --package PATH --dry-run` lists every conversation."
    )


def _entry(dm: PackageDm) -> PlanEntry:
    name = dm.name or f"channel {dm.channel_id}"
    if dm.kind != "dm":
        return PlanEntry(user_id=dm.channel_id, channel_id=dm.channel_id, name=name, kind=dm.kind)
    if not dm.user_id:
        raise InvariantBroken(
            f"The data package lists channel {dm.channel_id} as a 1-on-1 DM without the other "
            "user's id; this is a bug in dmj's package reader, please report it."
        )
    return PlanEntry(user_id=dm.user_id, channel_id=dm.channel_id, name=name, kind="dm")


def snowflake_key(value: str) -> tuple[int, str]:
    """Numeric order for snowflake strings (shorter is smaller), text order among equals."""
    return len(value), value

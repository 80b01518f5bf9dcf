"""The planner: the package's DMs → an ordered, deduplicated plan → batches.

Pure and deterministic: the same package gives the same plan and the same batches, whatever
order the reader listed its DMs in, so a replan is identical and ``BatchStarted`` can be
checked against the plan. Order: by channel id, oldest conversation first (snowflakes grow
with time; compared as numbers).

Keys: a 1-on-1 DM is keyed by its recipient's user id (the id reopening needs); a group DM
and a deleted user's DM by their channel id. Two package channels with the same recipient
(an old Discord bug the reader normally merges) keep the newest channel.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    "plan_batches",
    "plan_dms",
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
) -> RunStarted:
    """The ``RunStarted`` that begins run ``run`` over ``dms`` (not journaled yet)."""
    if batch_size < 1:
        raise UsageError(
            f"The batch size must be at least 1, not {batch_size}; try --batch-size 20."
        )
    plan = plan_dms(dms)
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

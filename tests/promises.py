"""The promises a finished run keeps, checked on its journal (shared by driver and e2e tests).

Each check returns what broke (empty when all is well), so a failing test names every broken
promise at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from dmj.machine.events import (
    AnyEvent,
    BatchStarted,
    ChannelExported,
    DmClosed,
    DmCloseRequested,
    DmOpened,
    ExportRequested,
    RunFinished,
    RunStarted,
)
from dmj.sandbox import WorldFacts

__all__ = ["broken_promises", "exported_channels"]


def exported_channels(events: Sequence[AnyEvent]) -> Counter[str]:
    """How many times each channel was recorded as exported."""
    return Counter(e.channel_id for e in events if isinstance(e, ChannelExported))


def broken_promises(events: Sequence[AnyEvent], facts: WorldFacts) -> list[str]:
    """What the journal of one finished run (the last in ``events``) got wrong."""
    starts = [i for i, e in enumerate(events) if isinstance(e, RunStarted)]
    run = list(events[starts[-1] :]) if starts else []
    broken: list[str] = []
    if not run or not isinstance(run[0], RunStarted) or not isinstance(run[-1], RunFinished):
        return ["the journal does not hold a finished run"]
    started = run[0]
    broken += _batches_once_in_order(run, started.total_batches)
    broken += _exported_once(run)
    broken += _closes_only_what_it_opened(run, facts)
    exported = set(exported_channels(run))
    if exported != set(facts.exports.values()):
        broken.append(
            f"exported {sorted(exported)} but the reachable DMs are "
            f"{sorted(set(facts.exports.values()))}"
        )
    return broken


def _batches_once_in_order(run: list[AnyEvent], total: int) -> list[str]:
    batches = [e.batch for e in run if isinstance(e, BatchStarted)]
    if batches != list(range(total)):
        return [f"batches started {batches}, not 0..{total - 1} once each"]
    return []


def _exported_once(run: list[AnyEvent]) -> list[str]:
    broken = []
    done: set[str] = set()
    for event in run:
        if isinstance(event, ExportRequested) and event.user_id in done:
            broken.append(f"seq {event.seq}: user {event.user_id} exported again after done")
        if isinstance(event, ChannelExported):
            if event.user_id in done:
                broken.append(f"seq {event.seq}: user {event.user_id} exported twice")
            done.add(event.user_id)
    return broken


def _closes_only_what_it_opened(run: list[AnyEvent], facts: WorldFacts) -> list[str]:
    broken = []
    forbidden = set(facts.group_dms) | set(facts.open_at_start)
    opened = Counter(e.channel_id for e in run if isinstance(e, DmOpened))
    closed = Counter(e.channel_id for e in run if isinstance(e, DmClosed))
    for event in run:
        if isinstance(event, DmCloseRequested) and event.channel_id in forbidden:
            broken.append(f"seq {event.seq}: closes {event.channel_id}, a group or open DM")
    for channel in opened:
        if channel not in closed:
            broken.append(f"channel {channel} was opened and never closed")
    return broken

"""What a repair loses, and what ``dmj resume`` does again because of it (pure).

Built from the state the kept records fold into and the lines set aside (``RestLine``: a
record where one could be read, else what the damaged line still says). Each lost outcome
is a step the journal no longer remembers, so ``dmj resume`` takes it again; a lost
``RunStarted`` is a run the journal no longer knows at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
from dmj.journal import RestLine
from dmj.machine.decide import decide
from dmj.machine.state import State
from dmj.machine.steps import Idle, IdleReason

__all__ = ["DmLoss", "Losses", "describe_losses"]

_AGAIN = {
    "DmOpened": "reopened",
    "DmSkipped": "opened",
    "ChannelExported": "exported",
    "ExportFailed": "tried",
    "DmClosed": "closed",
}
"""The outcomes whose loss makes ``dmj resume`` take their step again, as a past participle."""


class DmLoss(msgspec.Struct, frozen=True, kw_only=True):
    """A DM the lost records were about: ``again`` lists what resume does again for it."""

    user_id: str
    name: str
    again: tuple[str, ...]


class Losses(msgspec.Struct, frozen=True, kw_only=True):
    """What the lines set aside held, by kind, and what it means for ``dmj resume``.

    ``types`` counts the readable records by type (``unreadable`` the lines that are not
    valid records; what those still say counts below, unverified); ``batches`` are the batch
    numbers they mention (0-based, as journaled); ``exports`` the export folders only they
    record (a repair moves them out of ``exports/``, where nothing would know them);
    ``unfinished`` the runs whose end they held, ``forgotten`` the runs they started (that
    the kept records do not know at all); ``next_step`` is what resume does first, and
    ``idle`` why that is nothing, if it is (the kept records hold no run, or end in a
    finished one): what the lost records had done is then done again only by a new ``dmj
    run``.
    """

    records: int
    unreadable: int
    types: dict[str, int]
    batches: tuple[int, ...]
    dms: tuple[DmLoss, ...]
    exports: tuple[str, ...]
    unfinished: tuple[str, ...]
    forgotten: tuple[str, ...]
    next_step: str
    idle: IdleReason | None = None


def describe_losses(kept: State, rest: list[RestLine], *, orphaned: Sequence[str] = ()) -> Losses:
    """What setting ``rest`` aside loses, given the ``kept`` records' state. ``orphaned``: the
    export folders of kept ``ExportRequested`` records whose outcome is in ``rest`` (only
    the lines set aside vouch for them, whether or not those still read)."""
    records = [line.event for line in rest if line.event is not None]
    facts = [line.guess if line.event is None else _facts(line.event) for line in rest]
    names, known = _names(kept, records), {run.id for run in kept.runs}
    runs = dict.fromkeys(str(fact["run"]) for fact in facts if isinstance(fact.get("run"), str))
    step = decide(kept)
    return Losses(
        records=len(records),
        unreadable=len(rest) - len(records),
        types=dict(Counter(type(event).__name__ for event in records)),
        batches=tuple(sorted({fact["batch"] for fact in facts if _is_int(fact.get("batch"))})),
        dms=_dms(facts, names, _channel_users(kept, records)),
        exports=tuple(dict.fromkeys([*orphaned, *_exports_only_in(facts, _recorded(kept))])),
        unfinished=tuple(
            str(f.get("run"))
            for f in facts
            if f.get("type") == "RunFinished" and f.get("run") in known
        ),
        forgotten=tuple(run for run in runs if run not in known),
        next_step=step.describe(),
        idle=step.reason if isinstance(step, Idle) and not step.retry else None,
    )


def _exports_only_in(facts: list[dict[str, Any]], recorded: set[str]) -> Iterator[str]:
    """The export folders the lost ``ChannelExported`` records name and the kept ones do not."""
    for fact in facts:
        path = fact.get("path")
        if fact.get("type") == "ChannelExported" and isinstance(path, str) and path not in recorded:
            yield path


def _recorded(kept: State) -> set[str]:
    """The export folders the kept records hold."""
    outcomes = [
        o for run in kept.runs for record in run.finished_batches() for o in record.outcomes
    ]
    if kept.batch is not None:
        outcomes.extend(kept.batch.outcomes())
    return {outcome.path for outcome in outcomes}


def _facts(event: Any) -> dict[str, Any]:
    """The fields of a record that say what it was about."""
    fields = ("seq", "run", "batch", "user_id", "channel_id", "path")
    found = {name: getattr(event, name) for name in fields if hasattr(event, name)}
    return {"type": type(event).__name__, **found}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _names(kept: State, records: list[Any]) -> dict[str, str]:
    """user id → name, from every plan the kept and the lost records hold."""
    names = {e.user_id: e.name for run in kept.runs for e in run.started.plan}
    for event in records:
        for entry in getattr(event, "plan", ()):
            names.setdefault(entry.user_id, entry.name)
    return names


def _channel_users(kept: State, records: list[Any]) -> dict[str, str]:
    """channel id → user id, for outcomes that name only a channel (``DmClosed``)."""
    users: dict[str, str] = {}
    if kept.batch is not None:
        for dm in kept.batch.dms:
            for channel in (dm.opened, dm.open_at_start, dm.entry.channel_id):
                if channel is not None:
                    users[channel] = dm.entry.user_id
    for event in records:
        user, channel = getattr(event, "user_id", ""), getattr(event, "channel_id", "")
        if user and channel:
            users.setdefault(channel, user)
    return users


def _dms(
    facts: list[dict[str, Any]], names: dict[str, str], users: dict[str, str]
) -> tuple[DmLoss, ...]:
    again: dict[str, list[str]] = {}
    for fact in facts:
        user = fact.get("user_id") or users.get(str(fact.get("channel_id", "")), "")
        if not isinstance(user, str) or not user:
            continue
        steps = again.setdefault(user, [])
        word = _AGAIN.get(str(fact.get("type", "")))
        if word is not None and word not in steps:
            steps.append(word)
    return tuple(
        DmLoss(user_id=user, name=names.get(user, f"user {user}"), again=tuple(steps))
        for user, steps in again.items()
    )

"""Every conversation the archive remembers, from the journal's state (pure).

A conversation is a channel. Each DM a run finished with gives its channel (the one exported
or tried last) the DM's verdict and reason, the latest run's winning (a package channel
Discord refused before handing back this one stays refused until a later run exports it); a
planned DM no run has finished with gives its package channel, without a verdict; every
channel a run saw open or opened is listed too. Names, best first: DCE's name for the channel
(the newest export's), the participants' names as Discord last listed them, the package's
name, the id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

import msgspec
from dmj.machine.events import ChannelInfo, DmKind, PlanEntry
from dmj.machine.plan import display_name
from dmj.machine.state import Outcome, RunState, State, Verdict, remember

from ._model import Conversation, Person
from ._text import fold

__all__ = ["DELETED_USER_ID", "build_conversations", "conversation_keys", "reason_in_words"]

DELETED_USER_ID = "456226577798135808"
"""The id Discord shows for every deleted account."""

_DCE_PREAMBLE = "DiscordChatExporter could not export channel "
_DCE_OUTPUT = "DCE's last output:"


class _Draft(msgspec.Struct, gc=False):
    """A conversation being put together (mutable, private to ``build_conversations``)."""

    id: str
    kind: DmKind
    plan_name: str = ""
    verdict: Verdict | None = None
    reason: str = ""
    at: datetime | None = None
    dm_key: str | None = None
    package_channel_id: str | None = None
    refused_channel_id: str | None = None


def build_conversations(state: State, titles: Mapping[int, str]) -> list[Conversation]:
    """Every conversation of ``state``; ``titles`` are DCE's names by channel id."""
    drafts: dict[str, _Draft] = {}
    finished: set[str] = set()
    refusals: dict[str, _Draft] = {}  # a refused package channel: the draft that keeps it
    for entry, outcome in _outcomes(state):
        draft = drafts.setdefault(
            outcome.channel_id, _Draft(id=outcome.channel_id, kind=entry.kind)
        )
        draft.kind, draft.plan_name = entry.kind, entry.name
        draft.verdict, draft.at = outcome.verdict, outcome.at
        draft.reason = "" if outcome.kind == "exported" else reason_in_words(outcome.reason)
        draft.dm_key, draft.package_channel_id = entry.user_id, entry.channel_id
        draft.refused_channel_id = outcome.refused_channel_id or draft.refused_channel_id
        if outcome.refused_channel_id:
            refusals[outcome.refused_channel_id] = draft
        keeper = refusals.pop(outcome.channel_id, None) if outcome.kind == "exported" else None
        if keeper is not None and keeper.refused_channel_id == outcome.channel_id:
            keeper.refused_channel_id = None  # Discord serves it again: nothing kept for it
        finished.add(entry.user_id)
    for run in state.runs:
        for entry in run.started.plan:
            current = _current_channel(state, run, entry)
            if entry.user_id not in finished and current not in drafts:
                drafts[current] = _Draft(
                    id=current, kind=entry.kind, plan_name=entry.name,
                    dm_key=entry.user_id, package_channel_id=entry.channel_id,
                )  # fmt: skip
    seen = _seen(state)
    for channel in seen.values():
        drafts.setdefault(channel.id, _Draft(id=channel.id, kind=_kind(channel)))
    return [_conversation(d, seen.get(d.id), titles.get(int(d.id))) for d in drafts.values()]


def _outcomes(state: State) -> Iterator[tuple[PlanEntry, Outcome]]:
    """Every DM outcome with its plan entry, oldest first."""
    for run in state.runs:
        entries = {entry.user_id: entry for entry in run.started.plan}
        outcomes = [o for record in run.finished_batches() for o in record.outcomes]
        if run is state.run and state.batch is not None:
            outcomes.extend(state.batch.outcomes())
        for outcome in outcomes:
            yield entries[outcome.user_id], outcome


def _current_channel(state: State, run: RunState, entry: PlanEntry) -> str:
    """The channel a DM without an outcome is read from: the one dmj opened for it, the one
    open when its run started, or the package's."""
    dm = state.batch.dm(entry.user_id) if run is state.run and state.batch else None
    if dm is not None and dm.opened is not None:
        return dm.opened
    return run.open_by_user.get(entry.user_id, entry.channel_id)


def _seen(state: State) -> dict[str, ChannelInfo]:
    if state.run is None:
        return dict(state.memory.channels)
    return dict(remember(state.memory, state.run, state.batch).channels)


def _kind(channel: ChannelInfo) -> DmKind:
    if channel.type == 3:
        return "group"
    ids = {r.id for r in channel.recipients}
    return "deleted" if ids == {DELETED_USER_ID} else "dm"


def _conversation(draft: _Draft, channel: ChannelInfo | None, title: str | None) -> Conversation:
    people = tuple(
        Person(id=r.id, username=r.username, global_name=r.global_name)
        for r in (channel.recipients if channel is not None else ())
    )
    return Conversation(
        id=int(draft.id), kind=draft.kind, name=title or _name(draft, people), recipients=people,
        verdict=draft.verdict, reason=draft.reason, at=draft.at, dm_key=draft.dm_key,
        package_channel_id=draft.package_channel_id, refused_channel_id=draft.refused_channel_id,
    )  # fmt: skip


def _name(draft: _Draft, people: tuple[Person, ...]) -> str:
    listed = ", ".join(p.global_name or p.username for p in sorted(people, key=lambda p: int(p.id)))
    plan_name = display_name(draft.plan_name)
    if draft.kind == "group":
        return plan_name or listed or draft.id
    return listed or plan_name or draft.id


def reason_in_words(reason: str) -> str:
    """A journaled reason without DCE's output: its first line, no preamble."""
    first = reason.split("\n", 1)[0].strip()
    if first.startswith(_DCE_PREAMBLE) and ": " in first:
        first = first.split(": ", 1)[1]
    return first.removesuffix(_DCE_OUTPUT).strip()


def conversation_keys(conversation: Conversation) -> tuple[set[str], set[str]]:
    """What ``in:`` finds the conversation by, and what a ``from:`` gap scope matches.

    ``in:``: its name and id, and in a 1-on-1 DM the other person's names and id. Gaps for
    ``from:NAME``: any participant's username, display name or id.
    """
    people = set()
    for person in conversation.recipients:
        people.update({fold(person.username), person.id})
        if person.global_name:
            people.add(fold(person.global_name))
    people.discard("")
    names = {fold(conversation.name), str(conversation.id)}
    if conversation.kind != "group":
        names |= people
    return names, people

"""What a world implies for a correct archiver: the facts tests assert on.

Pure functions of the ``World``; the emulator serves them at ``GET /_sandbox/facts``.
"""

from __future__ import annotations

import msgspec

from ._messages import MessageLog
from ._world import World, WorldChannel

__all__ = ["WorldFacts", "world_facts"]


class WorldFacts(msgspec.Struct, frozen=True, kw_only=True):
    """Channel ids by what a correct run must do with them.

    Package DMs are keyed by their package channel id; where a user has duplicate DMs in the
    package, the newest is the one that counts (``duplicates`` lists the older ones).
    """

    open_at_start: tuple[str, ...]
    """Listed by ``GET /users/@me/channels`` before anything happened (DMs and groups)."""
    group_dms: tuple[str, ...]
    """Type-3 channels in the package: never to be closed (a DELETE would leave the group)."""
    deleted_user_dms: tuple[str, ...]
    """Package DMs whose recipient shows as ``"Deleted User"``: never reopenable."""
    deleted_users: tuple[str, ...]
    """User ids whose account is gone: a reopen answers 400/50033 (``deleted`` and ``gone``)."""
    readable_closed: tuple[str, ...]
    """Closed 1-on-1 package DMs that export directly by channel id."""
    needs_reopen: tuple[str, ...]
    """Closed 1-on-1 package DMs that export only after ``POST /users/@me/channels``."""
    reopens_elsewhere: dict[str, str]
    """Package channel id → the different channel id the reopen returns."""
    unreachable: tuple[str, ...]
    """Package DMs no correct run can export (gone users, unreadable deleted, left groups)."""
    not_in_package: tuple[str, ...]
    """Open DMs the owner never wrote in: absent from the package, so never planned."""
    duplicates: dict[str, tuple[str, ...]]
    """Newest package channel id → the older package channels with the same user."""
    exports: dict[str, str]
    """Every reachable package DM: package channel id → the channel id that gets exported."""
    expected_messages: dict[str, int]
    """Exported channel id → how many messages a complete export holds."""
    own_messages: dict[str, int] = {}
    """Every package DM → the messages the owner sent there that the package holds (its
    channel's file and, for duplicates, the older channels' files)."""
    own_archivable: dict[str, int] = {}
    """Every package DM → how many of its ``own_messages`` a complete archive holds: those
    Discord still serves in the channel that gets exported (none for an unreachable DM, a
    ``moved`` DM's old channel or an older duplicate; never those deleted later)."""
    deleted_later: dict[str, int] = {}
    """Package channel id → the owner's messages the package holds that Discord no longer
    serves (deleted after the package was made)."""
    own_kept: dict[str, int] = {}
    """Every package DM → how many of its ``own_messages`` a correct archive keeps from the
    package, Discord refusing them for good: all of an unreachable DM's; a ``moved`` DM's in
    its package channel (Discord does not find it, and reopening hands back another); none
    elsewhere (an older duplicate is never asked for)."""


def _ids(channels: list[WorldChannel]) -> tuple[str, ...]:
    return tuple(c.id for c in channels)


def _export_target(channel: WorldChannel) -> str | None:
    """The channel id a correct run exports for a package DM, or None if unreachable."""
    match channel.fate:
        case "open" | "readable" | "reopen" | "group":
            return channel.id
        case "moved":
            return channel.reopens_as
        case "deleted":
            return channel.id if channel.closed_access == "ok" else None
        case _:
            return None


def world_facts(world: World) -> WorldFacts:
    """The facts of ``world`` (see ``WorldFacts``)."""
    counts = {c.id: c.message_count for c in world.channels}
    package = [c for c in world.channels if c.in_package and c.fate != "duplicate"]
    exports = {c.id: target for c in package if (target := _export_target(c)) is not None}
    newest: dict[tuple[str, ...], WorldChannel] = {}
    for channel in (c for c in package if c.type == 1):
        if channel.recipients not in newest or int(channel.id) > int(newest[channel.recipients].id):
            newest[channel.recipients] = channel
    duplicates: dict[str, list[str]] = {}
    for older in (c for c in world.channels if c.fate == "duplicate"):
        duplicates.setdefault(newest[older.recipients].id, []).append(older.id)
    return WorldFacts(
        open_at_start=_ids([c for c in world.channels if c.open]),
        group_dms=_ids([c for c in package if c.type == 3]),
        deleted_user_dms=_ids([c for c in package if c.fate == "deleted"]),
        deleted_users=tuple(u.id for u in world.users if u.deleted or u.gone),
        readable_closed=_ids(
            [
                c
                for c in package
                if c.fate == "readable" or (c.fate == "deleted" and c.closed_access == "ok")
            ]
        ),
        needs_reopen=_ids([c for c in package if c.fate in ("reopen", "moved")]),
        reopens_elsewhere={c.id: c.reopens_as for c in package if c.reopens_as is not None},
        unreachable=_ids([c for c in package if c.id not in exports]),
        not_in_package=_ids([c for c in world.channels if c.fate == "silent"]),
        duplicates={k: tuple(v) for k, v in duplicates.items()},
        exports=exports,
        expected_messages={target: counts[target] for target in exports.values()},
        **_own_messages(world, package, exports, duplicates),
    )


def _own_messages(
    world: World,
    package: list[WorldChannel],
    exports: dict[str, str],
    duplicates: dict[str, list[str]],
) -> dict[str, dict[str, int]]:
    """``own_messages``, ``own_archivable``, ``own_kept`` and ``deleted_later`` (every message
    is generated: the cost of the world's size)."""
    by_id = {c.id: c for c in world.channels}
    own, archivable, refused = {}, {}, {}
    for dm in package:
        channels = [dm, *(by_id[i] for i in duplicates.get(dm.id, ()))]
        own[dm.id] = sum(len(MessageLog(world, c).package_rows()) for c in channels)
        mine = len(MessageLog(world, dm).package_rows())
        served = exports.get(dm.id) == dm.id
        archivable[dm.id] = mine - dm.deleted_later if served else 0
        refused[dm.id] = own[dm.id] if dm.id not in exports else mine if dm.fate == "moved" else 0
    deleted = {c.id: c.deleted_later for c in world.channels if c.deleted_later}
    return {"own_messages": own, "own_archivable": archivable, "own_kept": refused,
            "deleted_later": deleted}  # fmt: skip

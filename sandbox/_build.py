"""Building a world from its spec: who exists, and which fate each DM is dealt.

Choices come from one ``random.Random(seed)`` drawn in a fixed order, so the same spec
builds the same world down to every id (see ``dmj.sandbox._world`` for the fates).
"""

from __future__ import annotations

import base64
import random
from collections import Counter

import msgspec

from ._names import DISPLAY_NAMES, FIRST_NAMES, GROUP_NAMES
from ._snowflake import snowflake_at, snowflake_ms
from ._world import Access, Fate, SelfUser, World, WorldChannel, WorldSpec, WorldUser

__all__ = ["build_world"]

_DAY_MS = 86_400_000
_NOW_MS = 1749988800000  # 2025-06-15T12:00:00Z: when the world's data package was made
_FIRST_ACTIVITY_MS = 1514764800000  # 2018-01-01T00:00:00Z

# One block of fates; users are shuffled and dealt fates from it in turn, so any world of
# at least this many users has every fate, and larger worlds keep these proportions.
_FATE_CYCLE: tuple[Fate, ...] = (
    "open", "readable", "reopen", "moved", "deleted", "reopen",
    "readable", "gone", "open", "reopen", "silent", "deleted",
)  # fmt: skip
_GROUP_CYCLE: tuple[Fate, ...] = ("group", "left-group", "group")


def build_world(spec: WorldSpec) -> World:
    """The world ``spec`` describes: same spec, same world, down to every id."""
    rng = random.Random(spec.seed)  # noqa: S311 (a reproducible simulation, not a secret)
    self_user = _self_user(rng)
    users = _users(rng, spec)
    channels = _dm_channels(rng, spec, users) + _group_channels(rng, spec, users, self_user)
    channels = _with_deleted_later(channels, spec.deleted_later)
    return World(
        spec=spec,
        now_ms=_NOW_MS,
        self_user=self_user,
        token=_token(rng, self_user.id),
        users=tuple(sorted((user for user, _ in users), key=lambda u: int(u.id))),
        channels=tuple(sorted(channels, key=lambda c: int(c.id))),
    )


def _snowflake(rng: random.Random, start_ms: int, end_ms: int) -> str:
    return str(snowflake_at(rng.randrange(start_ms, end_ms), rng.getrandbits(22)))


def _self_user(rng: random.Random) -> SelfUser:
    user_id = _snowflake(rng, 1483228800000, 1514764800000)  # created during 2017
    return SelfUser(
        id=user_id, username="sandbox.owner", global_name="Sandbox Owner",
        email="owner@sandbox.invalid", avatar=f"{rng.getrandbits(128):032x}",
    )  # fmt: skip


def _token(rng: random.Random, user_id: str) -> str:
    """A user token shaped like Discord's: base64(user id), a timestamp part, an HMAC part."""
    first = base64.b64encode(user_id.encode()).decode().rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    middle = "".join(rng.choice(alphabet) for _ in range(6))
    last = "".join(rng.choice(alphabet) for _ in range(38))
    return f"{first}.{middle}.{last}"


def _users(rng: random.Random, spec: WorldSpec) -> list[tuple[WorldUser, Fate]]:
    """The other users, each dealt a fate from ``_FATE_CYCLE`` in shuffled order."""
    positions = list(range(spec.users))
    rng.shuffle(positions)
    users: list[tuple[WorldUser, Fate]] = []
    for index, position in enumerate(positions):
        fate = _FATE_CYCLE[position % len(_FATE_CYCLE)]
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        pick = rng.randrange(3)
        user = WorldUser(
            id=_snowflake(rng, 1434326400000, 1672531200000),  # created 2015-06 .. 2022
            username=first if index < len(FIRST_NAMES) else f"{first}.{index}",
            global_name=(
                None if pick == 0 else first.title() if pick == 1 else rng.choice(DISPLAY_NAMES)
            ),
            avatar=None if rng.random() < 0.3 else f"{rng.getrandbits(128):032x}",
            discriminator="0" if rng.random() < 0.8 else f"{rng.randrange(1, 10000):04d}",
            deleted=fate == "deleted",
            gone=fate == "gone",
            friend=rng.random() < 0.5,
        )
        users.append((user, fate))
    return users


def _message_count(rng: random.Random, mean: int) -> int:
    return 0 if mean <= 0 else max(1, round(mean * (0.25 + 1.5 * rng.random())))


def _timeline(rng: random.Random, count: int, start_ms: int, end_ms: int) -> tuple[int, int]:
    """First and last message times inside [start, end], at least two seconds per message."""
    first = start_ms + rng.randrange(1_000, 600_000)
    last = rng.randrange(first + (end_ms - first) // 3, end_ms)
    return first, max(last, first + 2_000 * max(count, 1))


def _channel(
    rng: random.Random, spec: WorldSpec, fate: Fate, created_ms: int, end_ms: int, **fields: object
) -> WorldChannel:
    count = _message_count(rng, spec.messages)
    first, last = _timeline(rng, count, created_ms, end_ms)
    channel_id = str(snowflake_at(created_ms, rng.getrandbits(22)))
    return msgspec.convert(
        {"id": channel_id, "fate": fate, "message_count": count, "first_ms": first,
         "last_ms": last, **fields},
        WorldChannel,
    )  # fmt: skip


def _closed_access(fate: Fate, nth: int) -> Access:
    """Reading a closed DM by id: alternate 403/404 for reopens, readable/404 for deleted."""
    if fate == "reopen":
        return "forbidden" if nth % 2 else "not_found"
    if fate == "deleted":
        return "ok" if nth % 2 else "not_found"
    return "not_found" if fate in ("moved", "gone") else "ok"


def _moved_target(rng: random.Random, spec: WorldSpec, dm: WorldChannel) -> WorldChannel:
    """The newer channel a ``moved`` DM reopens as (not in the package)."""
    moved_at = rng.randrange(dm.last_ms + _DAY_MS, dm.last_ms + 60 * _DAY_MS)
    return _channel(
        rng, spec, "moved-target", moved_at, _NOW_MS - _DAY_MS, type=1,
        recipients=list(dm.recipients), closed_access="forbidden", in_package=False,
    )  # fmt: skip


def _duplicate(rng: random.Random, spec: WorldSpec, dm: WorldChannel) -> WorldChannel:
    """An older second DM with the same user (an old Discord bug): in the package, 404."""
    created = snowflake_ms(int(dm.id))
    older = rng.randrange(_FIRST_ACTIVITY_MS, created - 30 * _DAY_MS)
    return _channel(
        rng, spec, "duplicate", older, created - _DAY_MS, type=1,
        recipients=list(dm.recipients), closed_access="not_found",
    )  # fmt: skip


def _dm_channels(
    rng: random.Random, spec: WorldSpec, users: list[tuple[WorldUser, Fate]]
) -> list[WorldChannel]:
    channels: list[WorldChannel] = []
    duplicates, empty = spec.duplicates, spec.empty
    seen: Counter[Fate] = Counter()
    for user, fate in users:
        start = max(_FIRST_ACTIVITY_MS + 90 * _DAY_MS, snowflake_ms(int(user.id)))
        created = rng.randrange(min(start, _NOW_MS - 400 * _DAY_MS), _NOW_MS - 300 * _DAY_MS)
        seen[fate] += 1
        end = _NOW_MS - 150 * _DAY_MS if fate == "moved" else _NOW_MS - _DAY_MS
        dm = _channel(
            rng, spec, fate, created, end, type=1, recipients=[user.id],
            open=fate in ("open", "silent"), closed_access=_closed_access(fate, seen[fate]),
            in_package=fate != "silent",
        )  # fmt: skip
        if fate == "readable" and empty > 0:
            dm, empty = msgspec.structs.replace(dm, message_count=0), empty - 1
        if fate == "moved":
            target = _moved_target(rng, spec, dm)
            dm = msgspec.structs.replace(dm, reopens_as=target.id)
            channels.append(target)
        if duplicates > 0 and fate in ("open", "readable", "reopen"):
            channels.append(_duplicate(rng, spec, dm))
            duplicates -= 1
        channels.append(dm)
    return channels


_DELETED_LATER = 2
"""Messages the owner deleted after the package, in each DM ``WorldSpec.deleted_later`` picks."""


def _with_deleted_later(channels: list[WorldChannel], count: int) -> list[WorldChannel]:
    """The first ``count`` open or readable DMs with messages (by id) get messages deleted
    after the package (chosen without the generator: every other choice stays the same)."""
    chosen = sorted(
        (c.id for c in channels if c.fate in ("open", "readable") and c.message_count >= 8),
        key=int,
    )[:count]
    return [
        msgspec.structs.replace(c, deleted_later=_DELETED_LATER) if c.id in chosen else c
        for c in channels
    ]


def _group_channels(
    rng: random.Random,
    spec: WorldSpec,
    users: list[tuple[WorldUser, Fate]],
    self_user: SelfUser,
) -> list[WorldChannel]:
    pool = sorted((u for u, _ in users if not (u.deleted or u.gone)), key=lambda u: int(u.id))
    if not pool:
        return []
    channels = []
    for index in range(spec.groups):
        fate = _GROUP_CYCLE[index % len(_GROUP_CYCLE)]
        members = rng.sample(pool, k=min(len(pool), rng.randrange(2, 5)))
        created = rng.randrange(_FIRST_ACTIVITY_MS, _NOW_MS - 300 * _DAY_MS)
        channels.append(
            _channel(
                rng,
                spec,
                fate,
                created,
                _NOW_MS - _DAY_MS,
                type=3,
                recipients=sorted((m.id for m in members), key=int),
                name=GROUP_NAMES[index % len(GROUP_NAMES)] if index % 2 == 0 else None,
                owner_id=self_user.id if rng.random() < 0.5 else members[0].id,
                open=fate == "group",
                member=fate == "group",
                closed_access="forbidden",
                package_recipients=index % 3 != 2,
            )
        )
    return channels

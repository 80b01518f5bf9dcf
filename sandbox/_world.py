"""The world: a seeded, reproducible Discord account, its users and its private channels.

A ``World`` holds who exists and what each channel is like (its fate), never the messages:
those are generated on demand from ``(seed, channel)`` by ``dmj.sandbox._messages``, so a
world of a million messages costs the memory of its channel list.

Every 1-on-1 DM has a *fate* that decides how the emulator treats it:

=============  ==============================================================================
``open``       open when the world starts (listed by ``GET /users/@me/channels``)
``readable``   closed, but readable by id (``GET /channels/{id}`` works for a recipient)
``reopen``     closed; its messages are unreadable by id (403, or 404 for the channel too)
               until ``POST /users/@me/channels`` reopens it
``moved``      closed, 404 by id; reopening returns a *different*, newer channel id
``deleted``    the recipient deleted their account: ``"Deleted User"`` in the package;
               readable by id or not, never reopenable
``gone``       deleted after the package was made: the package has the id, the API answers
               400/50033 to a reopen and 404 by id
``silent``     open, but the owner never wrote in it, so it is not in the package
=============  ==============================================================================

Channels that exist only to support those fates: ``moved-target`` (where a ``moved`` DM
reopens), ``duplicate`` (an older second DM with the same user, an old Discord bug: in the
package, 404 by id). Group DMs are ``group`` (a member, open) or ``left-group`` (the owner
left: in the package, 403 by id).
"""

from __future__ import annotations

import base64
import random
from collections import Counter
from typing import Literal

import msgspec

from ._names import DISPLAY_NAMES, FIRST_NAMES, GROUP_NAMES
from ._snowflake import snowflake_at, snowflake_ms

__all__ = [
    "DELETED_USER_ID",
    "Access",
    "Fate",
    "SelfUser",
    "World",
    "WorldChannel",
    "WorldSpec",
    "WorldUser",
    "build_world",
]

Fate = Literal[
    "open", "readable", "reopen", "moved", "deleted", "gone", "silent",
    "moved-target", "duplicate", "group", "left-group",
]  # fmt: skip
Access = Literal["ok", "forbidden", "not_found"]
"""What reading a channel by id gives: 200, 403/50001 Missing Access, 404/10003."""

DELETED_USER_ID = "456226577798135808"
"""The id Discord shows for every deleted account (username ``Deleted User``)."""

WORLD_FORMAT = 1
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


class WorldSpec(msgspec.Struct, frozen=True, kw_only=True):
    """The knobs a world is built from; the same spec always builds the same world."""

    seed: int = 1
    users: int = 12
    """Other users, each with one 1-on-1 DM."""
    groups: int = 3
    messages: int = 30
    """Mean messages per channel."""
    duplicates: int = 1
    """Users who also have an older duplicate DM channel in the package."""
    empty: int = 1
    """Readable DMs whose messages were all deleted (in the package, 0 messages)."""

    @classmethod
    def sized(cls, users: int, *, seed: int = 1, messages: int = 30) -> WorldSpec:
        """A spec whose group, duplicate and empty counts grow with ``users``."""
        return cls(
            seed=seed,
            users=users,
            groups=max(3, users // 10),
            messages=messages,
            duplicates=max(1, users // 12) if users >= 4 else 0,
            empty=1 if users >= 4 else 0,
        )


class SelfUser(msgspec.Struct, frozen=True, kw_only=True):
    """The account the world belongs to (the token's owner)."""

    id: str
    username: str
    global_name: str | None
    email: str
    avatar: str | None = None


class WorldUser(msgspec.Struct, frozen=True, kw_only=True):
    """Another Discord user. ``deleted``/``gone``: see the module docstring."""

    id: str
    username: str
    global_name: str | None = None
    avatar: str | None = None
    discriminator: str = "0"
    deleted: bool = False
    gone: bool = False
    friend: bool = False


class WorldChannel(msgspec.Struct, frozen=True, kw_only=True):
    """A private channel and how the emulator treats it (see the module docstring)."""

    id: str
    type: Literal[1, 3]
    fate: Fate
    recipients: tuple[str, ...]
    """World user ids other than the owner's."""
    name: str | None = None
    owner_id: str | None = None
    open: bool = False
    """Listed by ``GET /users/@me/channels`` when the world starts."""
    member: bool = True
    """False for a group DM the owner has left."""
    closed_access: Access = "ok"
    """What reading it by id gives while it is closed."""
    reopens_as: str | None = None
    in_package: bool = True
    package_recipients: bool = True
    """False: its ``channel.json`` has no ``recipients`` (seen for group DMs)."""
    message_count: int = 0
    first_ms: int = 0
    last_ms: int = 0


class World(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about an account except its messages (those are generated on demand)."""

    format: int = WORLD_FORMAT
    spec: WorldSpec
    now_ms: int
    """When the data package was made (Unix ms)."""
    self_user: SelfUser
    token: str
    users: tuple[WorldUser, ...]
    channels: tuple[WorldChannel, ...]

    def user(self, user_id: str) -> WorldUser | None:
        return next((u for u in self.users if u.id == user_id), None)

    def channel(self, channel_id: str) -> WorldChannel | None:
        return next((c for c in self.channels if c.id == channel_id), None)


def build_world(spec: WorldSpec) -> World:
    """The world ``spec`` describes: same spec, same world, down to every id."""
    rng = random.Random(spec.seed)  # noqa: S311 (a reproducible simulation, not a secret)
    self_user = _self_user(rng)
    users = _users(rng, spec)
    channels = _dm_channels(rng, spec, users) + _group_channels(rng, spec, users, self_user)
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
        access = _closed_access(fate, seen[fate])
        end = _NOW_MS - 150 * _DAY_MS if fate == "moved" else _NOW_MS - _DAY_MS
        dm = _channel(
            rng, spec, fate, created, end, type=1, recipients=[user.id],
            open=fate in ("open", "silent"), closed_access=access, in_package=fate != "silent",
        )  # fmt: skip
        if fate == "readable" and empty > 0:
            dm, empty = msgspec.structs.replace(dm, message_count=0), empty - 1
        if fate == "moved":
            moved_at = rng.randrange(dm.last_ms + _DAY_MS, dm.last_ms + 60 * _DAY_MS)
            target = _channel(
                rng, spec, "moved-target", moved_at, _NOW_MS - _DAY_MS, type=1,
                recipients=[user.id], closed_access="forbidden", in_package=False,
            )  # fmt: skip
            dm = msgspec.structs.replace(dm, reopens_as=target.id)
            channels.append(target)
        if duplicates > 0 and fate in ("open", "readable", "reopen"):
            older = rng.randrange(_FIRST_ACTIVITY_MS, created - 30 * _DAY_MS)
            channels.append(
                _channel(
                    rng,
                    spec,
                    "duplicate",
                    older,
                    created - _DAY_MS,
                    type=1,
                    recipients=[user.id],
                    closed_access="not_found",
                )
            )
            duplicates -= 1
        channels.append(dm)
    return channels


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

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

from functools import cached_property
from typing import Literal

import msgspec

__all__ = [
    "DELETED_USER_ID",
    "Access",
    "Fate",
    "SelfUser",
    "World",
    "WorldChannel",
    "WorldSpec",
    "WorldUser",
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
    deleted_later: int = 0
    """Open or readable DMs in which the owner deleted two of their messages after the
    package was made: the package still holds them, Discord no longer serves them."""

    @classmethod
    def sized(
        cls, users: int, *, seed: int = 1, messages: int = 30, groups: int | None = None
    ) -> WorldSpec:
        """A spec whose group, duplicate and empty counts grow with ``users`` (``groups``
        given: that many group DMs instead)."""
        return cls(
            seed=seed,
            users=users,
            groups=max(3, users // 10) if groups is None else groups,
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
    deleted_later: int = 0
    """The owner's messages the package holds that Discord no longer serves (deleted after
    the package was made)."""


class World(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    """Everything about an account except its messages (those are generated on demand).

    ``dict=True`` only so the user index can be a ``cached_property``: package writing and
    every channel object the emulator sends look users up, and a scan per lookup made a
    10,000-user world quadratic.
    """

    format: int = WORLD_FORMAT
    spec: WorldSpec
    now_ms: int
    """When the data package was made (Unix ms)."""
    self_user: SelfUser
    token: str
    users: tuple[WorldUser, ...]
    channels: tuple[WorldChannel, ...]

    @cached_property
    def _users_by_id(self) -> dict[str, WorldUser]:
        return {u.id: u for u in self.users}

    def user(self, user_id: str) -> WorldUser | None:
        """The world user ``user_id`` (not the owner), or None."""
        return self._users_by_id.get(user_id)

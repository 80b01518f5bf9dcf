"""Discord's JSON shapes for users and channels, built from the world (discord-api.md §3).

Objects are plain dicts in Discord's own key order, because the emulator writes them with
Discord's separators and field order, and the DCE stand-in reads them like DCE does.
"""

from __future__ import annotations

from typing import Any

from ._world import DELETED_USER_ID, SelfUser, World, WorldChannel, WorldUser

__all__ = ["Json", "api_channel", "api_self", "api_user", "api_user_by_id"]

Json = dict[str, Any]


def _user(user_id: str, username: str, global_name: str | None, **extra: Any) -> Json:
    avatar = extra.pop("avatar", None)
    discriminator = extra.pop("discriminator", "0")
    return {
        "id": user_id, "username": username, "avatar": avatar, "discriminator": discriminator,
        "public_flags": 0, "flags": 0, "banner": None, "accent_color": None,
        "global_name": global_name, "avatar_decoration_data": None, "banner_color": None,
        "clan": None, "primary_guild": None, **extra,
    }  # fmt: skip


def api_user(user: WorldUser | SelfUser) -> Json:
    """A user as the API shows it; deleted accounts all show as ``Deleted User``."""
    if isinstance(user, SelfUser):
        return _user(user.id, user.username, user.global_name, avatar=user.avatar)
    if user.deleted or user.gone:
        return _user(DELETED_USER_ID, "Deleted User", None, discriminator="0000")
    return _user(
        user.id, user.username, user.global_name,
        avatar=user.avatar, discriminator=user.discriminator,
    )  # fmt: skip


def api_user_by_id(world: World, user_id: str) -> Json:
    """``api_user`` for the owner or a world user (an unknown id shows as a deleted one)."""
    if user_id == world.self_user.id:
        return api_user(world.self_user)
    user = world.user(user_id)
    return api_user(user) if user else _user(DELETED_USER_ID, "Deleted User", None)


def api_self(world: World) -> Json:
    """``GET /users/@me`` for a user token: the user plus the account-only fields."""
    me = world.self_user
    return _user(
        me.id, me.username, me.global_name, avatar=me.avatar,
        mfa_enabled=False, locale="en-US", premium_type=0, email=me.email, verified=True,
        phone=None, nsfw_allowed=True, linked_users=[], bio="", authenticator_types=[],
    )  # fmt: skip


def api_channel(
    world: World, channel: WorldChannel, *, last_message_id: str | None, listing: bool = False
) -> Json:
    """A private channel object; ``listing`` adds the fields only the DM list carries."""
    body: Json = {
        "id": channel.id,
        "type": channel.type,
        "last_message_id": last_message_id,
        "flags": 0,
    }
    if channel.type == 3:
        body |= {"icon": None, "name": channel.name, "owner_id": channel.owner_id}
        if listing:
            body["blocked_user_warning_dismissed"] = False
    else:
        body |= {"is_message_request": False, "is_message_request_timestamp": None}
        body["is_spam"] = False
    body["recipients"] = [api_user_by_id(world, uid) for uid in channel.recipients]
    return body

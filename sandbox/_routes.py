"""The six Discord endpoints dmj and DCE use, with Discord's semantics (discord-api.md §2, §7).

``classify`` names the route of a request (the scope fault rules and rate-limit buckets
use); ``DiscordApi`` answers it from the world and the channel book.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import _responses as r
from ._clock import Clock
from ._messages import MessageLog
from ._shapes import api_channel, api_self
from ._snowflake import snowflake_at
from ._state import ChannelBook
from ._world import DELETED_USER_ID, World, WorldChannel

__all__ = ["METHOD_NOT_ALLOWED", "DiscordApi", "classify"]

METHOD_NOT_ALLOWED = "method-not-allowed"
_ROUTES: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (
    (re.compile(r"^/api/v(?:9|10)/users/@me$"), {"GET": "me"}),
    (re.compile(r"^/api/v(?:9|10)/users/@me/channels$"), {"GET": "list", "POST": "open"}),
    (re.compile(r"^/api/v(?:9|10)/channels/(\d+)$"), {"GET": "channel", "DELETE": "close"}),
    (re.compile(r"^/api/v(?:9|10)/channels/(\d+)/messages$"), {"GET": "messages"}),
)


def classify(method: str, path: str) -> tuple[str | None, str]:
    """The route name (``me``, ``list``, ``open``, ``close``, ``channel``, ``messages``) and
    its major parameter (the channel id, or ``""``); None for an unknown path, or
    ``METHOD_NOT_ALLOWED`` for a known path with another method."""
    for pattern, methods in _ROUTES:
        if match := pattern.match(path):
            major = match.group(1) if pattern.groups else ""
            return methods.get(method, METHOD_NOT_ALLOWED), major
    return None, ""


def _snowflake_param(request: Request, name: str) -> int | Response | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isdigit():
        return r.invalid_form_body(name, "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')
    return int(value)


class DiscordApi:
    """Answers an API request once it is routed, authorised and admitted."""

    def __init__(self, world: World, book: ChannelBook, clock: Clock) -> None:
        self._world = world
        self._book = book
        self._clock = clock
        self._logs: dict[str, MessageLog] = {}
        self.handlers: dict[str, Callable[[Request, str], Awaitable[Response]]] = {
            "me": self._me, "list": self._list, "open": self._open, "close": self._close,
            "channel": self._channel, "messages": self._messages,
        }  # fmt: skip

    def log(self, channel: WorldChannel) -> MessageLog:
        if channel.id not in self._logs:
            growth = self._book.grown.get(channel.id)
            self._logs[channel.id] = MessageLog(self._world, channel, growth)
        return self._logs[channel.id]

    def forget(self, channel_id: str) -> None:
        """Drop the cached log of ``channel_id`` (its messages changed)."""
        self._logs.pop(channel_id, None)

    def _json(self, channel: WorldChannel, *, listing: bool = False) -> dict[str, Any]:
        last = self.log(channel).last_id
        last_id = None if last is None else str(last)
        return api_channel(self._world, channel, last_message_id=last_id, listing=listing)

    def _blocked(self, channel: WorldChannel | None, *, messages: bool) -> Response | None:
        """Why reading ``channel`` (or its ``messages``) fails, or None if it can be read.

        A closed DM whose access is ``forbidden`` still shows its channel object (a recipient
        may see it) but not its messages; ``not_found`` hides both; a left group is 403.
        """
        if channel is None:
            return r.unknown_channel()
        if channel.type == 3:
            access = "forbidden" if channel.id in self._book.left else "ok"
        else:
            access = "ok" if channel.id in self._book.open else channel.closed_access
            if access == "forbidden" and not messages:
                access = "ok"
        return {"ok": None, "forbidden": r.missing_access(), "not_found": r.unknown_channel()}[
            access
        ]

    async def _me(self, request: Request, major: str) -> Response:
        return r.discord_json(api_self(self._world))

    async def _list(self, request: Request, major: str) -> Response:
        channels = [self._book.channels[i] for i in self._book.open]
        channels.sort(key=lambda c: -(self.log(c).last_id or int(c.id)))
        return r.discord_json([self._json(c, listing=True) for c in channels])

    async def _channel(self, request: Request, major: str) -> Response:
        channel = self._book.channels.get(major)
        if blocked := self._blocked(channel, messages=False):
            return blocked
        assert channel is not None
        return r.discord_json(self._json(channel))

    async def _close(self, request: Request, major: str) -> Response:
        channel = self._book.channels.get(major)
        if channel is None or channel.id in self._book.left:
            return r.unknown_channel()
        if channel.type == 3:
            self._book.leave(channel.id)
        else:
            self._book.set_open(channel.id, is_open=False)
        return r.discord_json(self._json(channel))

    async def _open(self, request: Request, major: str) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return r.invalid_form_body(
                "recipient_id", "BASE_TYPE_REQUIRED", "This field is required"
            )
        try:
            body = json.loads(await request.body())
        except ValueError:
            return r.invalid_json()
        recipients = body.get("recipients") if isinstance(body, dict) else None
        if recipients is None and isinstance(body, dict) and "recipient_id" in body:
            recipients = [body["recipient_id"]]
        if not isinstance(recipients, list) or not all(isinstance(x, str) for x in recipients):
            return r.invalid_form_body(
                "recipient_id", "BASE_TYPE_REQUIRED", "This field is required"
            )
        if any(not self._reachable(uid) for uid in recipients):
            return r.invalid_recipients()
        if len(recipients) == 1 and recipients[0] != self._world.self_user.id:
            return r.discord_json(self._json(self._reopen(recipients[0])))
        return r.discord_json(self._json(self._new_channel(3, recipients)))

    def _reachable(self, user_id: str) -> bool:
        if user_id == self._world.self_user.id:
            return True
        user = self._world.user(user_id)
        return user is not None and not (user.deleted or user.gone) and user_id != DELETED_USER_ID

    def _reopen(self, user_id: str) -> WorldChannel:
        """The most recent DM with ``user_id``, opened (a new one if there is none)."""
        existing = self._book.dms_with(user_id)
        if not existing:
            return self._new_channel(1, [user_id])
        self._book.set_open(existing[-1].id, is_open=True)
        return existing[-1]

    def _new_channel(self, kind: int, recipients: list[str]) -> WorldChannel:
        now_ms = int(self._clock.now() * 1000)
        channel_id = str(snowflake_at(now_ms, len(self._book.created)))
        others = tuple(u for u in recipients if u != self._world.self_user.id)
        channel = WorldChannel(
            id=channel_id, type=1 if kind == 1 else 3, fate="open" if kind == 1 else "group",
            recipients=others, owner_id=self._world.self_user.id if kind == 3 else None,
            open=True, in_package=False, first_ms=now_ms, last_ms=now_ms,
        )  # fmt: skip
        self._book.add(channel)
        return channel

    async def _messages(self, request: Request, major: str) -> Response:
        channel = self._book.channels.get(major)
        if blocked := self._blocked(channel, messages=True):
            return blocked
        assert channel is not None
        raw_limit = request.query_params.get("limit", "50")
        if not raw_limit.isdigit():
            return r.invalid_form_body(
                "limit", "NUMBER_TYPE_COERCE", f'Value "{raw_limit}" is not int.'
            )
        limit = int(raw_limit)
        if not 1 <= limit <= 100:
            code, bound = (
                ("NUMBER_TYPE_MAX", "less than or equal to 100")
                if limit > 100
                else ("NUMBER_TYPE_MIN", "greater than or equal to 1")
            )
            return r.invalid_form_body("limit", code, f"int value should be {bound}.")
        cursors: dict[str, int | None] = {}
        for name in ("around", "before", "after"):
            value = _snowflake_param(request, name)
            if isinstance(value, Response):
                return value
            cursors[name] = value
        return r.discord_json(self.log(channel).page(limit=limit, **cursors))

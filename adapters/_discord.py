"""The Discord HTTP client: the five calls dmj makes, one at a time, paced and classed.

Discord is reached only through an injected ``httpx.AsyncClient`` (tests give it the sandbox
emulator, over loopback or in-process) and a user token sent raw in ``Authorization``, as
Discord's own clients do. Every request waits its turn under the pacing policy, and for any
limit Discord announced as used up; a 429 is ridden out with the wait Discord asks for; 5xx
and connection errors are retried with capped exponential backoff; everything else becomes
one of dmj's errors (``_discord_answers.py``).
"""

from __future__ import annotations

import logging
from random import Random
from typing import Any, TypeVar

import anyio
import httpx
import msgspec
from dmj.machine.errors import (
    DiscordPaused,
    DmjError,
    InvariantBroken,
    RemoteError,
    RemoteUnavailable,
    SkipDm,
)
from dmj.machine.events import ChannelInfo, UserInfo
from dmj.machine.ports import Unreadable

from ._discord_answers import Answer, Call, Done, RateLimited, Retry, judge
from ._httpx_errors import HTTPX_EXCEPTIONS, is_transient, translate_httpx_error
from ._pacing import CAREFUL, Pacer, Pacing

__all__ = ["DEFAULT_API_BASE", "DiscordClient"]

DEFAULT_API_BASE = "https://discord.com/api/v9"
"""Discord's API, version 9: the version Discord's own clients use with user tokens."""

DM = 1
"""Channel type of a 1-on-1 DM; the only type dmj ever closes (closing a group leaves it)."""

T = TypeVar("T")

_USER = msgspec.json.Decoder(UserInfo)
_CHANNEL = msgspec.json.Decoder(ChannelInfo)
_CHANNELS = msgspec.json.Decoder(tuple[ChannelInfo, ...])


class _Failed:
    """A request that raised before any answer came (connection refused, timeout, …)."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


class DiscordClient:
    """dmj's calls to Discord: ``me``, ``open_dms``, ``reopen_dm``, ``close_dm``,
    ``check_readable``.

    Calls are serialised: a second call waits until the first (with its retries) is done.
    Raises ``DiscordPaused`` (stop the run), ``SkipDm`` (skip this DM), ``RemoteUnavailable``
    (retries used up), ``RemoteError`` (an answer dmj cannot use).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        token: str,
        *,
        random: Random,
        pacing: Pacing = CAREFUL,
        api_base: str = DEFAULT_API_BASE,
        logger: logging.Logger | None = None,
    ) -> None:
        self._http = http
        self._token = token
        self._api_base = api_base.rstrip("/")
        self._logger = logger or logging.getLogger("dmj.adapters.discord")
        self._pacer = Pacer(pacing, random, self._logger)
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"DiscordClient(api_base={self._api_base!r}, pacing={self._pacer.pacing.name!r})"

    async def me(self) -> UserInfo:
        """The account the token belongs to (``GET /users/@me``)."""
        call = self._call("reading your account (GET /users/@me)")
        return self._decode(await self._request("GET", "/users/@me", call), _USER, call)

    async def open_dms(self) -> tuple[ChannelInfo, ...]:
        """The DMs and group DMs open right now (``GET /users/@me/channels``)."""
        call = self._call("listing your open DMs (GET /users/@me/channels)")
        content = await self._request("GET", "/users/@me/channels", call)
        return self._decode(content, _CHANNELS, call)

    async def reopen_dm(self, user_id: str) -> ChannelInfo:
        """Reopen (or fetch) the 1-on-1 DM with ``user_id``; the id may differ from before.

        Exactly one recipient, always: Discord turns zero or several into a new group DM.
        """
        if not user_id.isdigit():
            raise InvariantBroken(
                f"dmj tried to reopen a DM with {user_id!r}, which is not a user id; "
                "this is a bug in dmj."
            )
        await self._pacer.wait_for_reopen()
        call = self._call(
            f"reopening the DM with user {user_id} (POST /users/@me/channels)", about_a_dm=True
        )
        body = {"recipients": [user_id]}
        content = await self._request("POST", "/users/@me/channels", call, json=body)
        channel = self._decode(content, _CHANNEL, call)
        if channel.type != DM:
            raise RemoteError(
                f"Discord answered {call.what} with channel {channel.id} of type "
                f"{channel.type}, not a DM; dmj will not touch it. Report this, please."
            )
        return channel

    async def close_dm(self, channel: ChannelInfo) -> ChannelInfo:
        """Close the 1-on-1 DM ``channel`` (``DELETE /channels/{id}``); reopening undoes it.

        Refuses, before any request, anything but a type-1 DM: for a group DM the same call
        leaves the group, and nothing can undo that.
        """
        if channel.type != DM or not channel.id.isdigit():
            raise InvariantBroken(
                f"dmj tried to close channel {channel.id!r} of type {channel.type}; only DMs "
                "(type 1) are ever closed, since closing a group DM leaves it for good. "
                "Nothing was sent; this is a bug in dmj."
            )
        path = f"/channels/{channel.id}"
        call = self._call(f"closing DM channel {channel.id} (DELETE {path})", about_a_dm=True)
        return self._decode(await self._request("DELETE", path, call), _CHANNEL, call)

    async def check_readable(self, channel_id: str) -> Unreadable | None:
        """Whether the account may read ``channel_id`` (``GET /channels/{id}/messages?limit=1``):
        None if so; else why not, when Discord forbids it (a 403 with Discord's JSON and no
        code that means stop) or does not find it (404 with a code).

        DCE reads a channel with these requests too; asking once first spares starting DCE on
        a closed DM it cannot read. Every other answer means what it means for any call.
        """
        if not channel_id.isdigit():
            raise InvariantBroken(
                f"dmj tried to check channel {channel_id!r}, which is not a channel id; this "
                "is a bug in dmj."
            )
        path = f"/channels/{channel_id}/messages?limit=1"
        call = self._call(
            f"checking that channel {channel_id} can be read (GET {path})", about_a_dm=True
        )
        try:
            await self._request("GET", path, call)
        except SkipDm as gone:
            return _unreadable(channel_id, "does not find", gone.status, gone.code)
        except DiscordPaused as refused:
            if refused.reason != "forbidden" or refused.status != 403:
                raise
            return _unreadable(channel_id, "forbids reading", 403, refused.code)
        return None

    def _call(self, what: str, *, about_a_dm: bool = False) -> Call:
        return Call(what=what, about_a_dm=about_a_dm, token=self._token)

    async def _request(self, method: str, path: str, call: Call, json: Any = None) -> bytes:
        async with self._lock:
            retries = rate_limits = 0
            while True:
                answer = await self._attempt(method, path, call, json)
                if isinstance(answer, Done):
                    return answer.content
                if isinstance(answer, RateLimited):
                    rate_limits += 1
                    await self._ride_out(answer, call, rate_limits)
                    continue
                if isinstance(answer, DmjError):
                    raise answer
                retries += 1
                await self._back_off(answer, call, retries)

    async def _attempt(self, method: str, path: str, call: Call, json: Any) -> Answer | _Failed:
        route = f"{method} {path}"
        await self._pacer.wait_for_bucket(route)
        await self._pacer.wait_turn()
        headers = {"Authorization": self._token}
        try:
            response = await self._http.request(
                method, self._api_base + path, headers=headers, json=json
            )
        except HTTPX_EXCEPTIONS as exc:
            self._logger.debug("%s %s failed: %s", method, path, type(exc).__name__)
            return _Failed(exc)
        finally:
            self._pacer.request_ended()
        self._logger.debug("%s %s -> %d", method, path, response.status_code)
        self._pacer.note_limit(route, response.headers)
        if response.status_code in (401, 403):
            self._pacer.count_invalid()  # they stop the run anyway; 429s are counted on retry
        return judge(response, call)

    async def _ride_out(self, limited: RateLimited, call: Call, count: int) -> None:
        pacing = self._pacer.pacing
        if limited.counts_as_invalid and self._pacer.count_invalid():
            raise DiscordPaused(
                f"Discord refused {pacing.invalid_request_budget} requests within 10 minutes "
                f"(last while {call.what}); dmj stops before Discord bans this network "
                "address. Wait at least 10 minutes, then run `dmj resume`.",
                reason="invalid-request-budget",
                status=429,
            )
        if limited.wait > pacing.max_rate_limit_wait or count > pacing.max_rate_limits:
            raise DiscordPaused(
                f"Discord rate-limited {call.what} ({count} times in a row, last asking for "
                f"{limited.wait:.0f} s). Wait a few minutes, then run `dmj resume`.",
                reason="rate-limited",
                status=429,
            )
        scope = "everything" if limited.is_global else "this request"
        self._logger.warning("rate limited: waiting %.2f s before %s", limited.wait, scope)
        await anyio.sleep(limited.wait)

    async def _back_off(self, trouble: Retry | _Failed, call: Call, retries: int) -> None:
        pacing = self._pacer.pacing
        used_up = retries > pacing.max_retries
        if isinstance(trouble, _Failed) and (used_up or not is_transient(trouble.exc)):
            raise self._translate(trouble.exc, call, retries - 1) from trouble.exc
        if isinstance(trouble, Retry) and used_up:
            raise RemoteUnavailable(
                f"Discord kept failing while {call.what} (HTTP {trouble.status}, {retries - 1} "
                "retries). Discord may be having trouble; run `dmj resume` later.",
                status=trouble.status,
            )
        given = trouble.wait if isinstance(trouble, Retry) else None
        wait = pacing.backoff_wait(retries) if given is None else given
        self._logger.warning("retry %d of %s in %.2f s", retries, call.what, wait)
        await anyio.sleep(wait)

    def _translate(self, exc: Exception, call: Call, retries: int) -> DmjError:
        return translate_httpx_error(
            exc, what=call.what, api_base=self._api_base, token=self._token, retries=retries
        )

    @staticmethod
    def _decode(content: bytes, decoder: msgspec.json.Decoder[T], call: Call) -> T:
        try:
            return decoder.decode(content)
        except msgspec.DecodeError as exc:
            raise RemoteError(
                f"Discord's answer while {call.what} did not have the expected shape ({exc}). "
                "Check DMJ_API_BASE (if set), then run `dmj resume`."
            ) from exc


def _unreadable(channel_id: str, verb: str, status: int, code: int | None) -> Unreadable:
    said = f"HTTP {status}" if code is None else f"HTTP {status}, code {code}"
    return Unreadable(
        status=status,
        code=code,
        message=f"Discord {verb} this channel ({said}), so DCE was not started for channel "
        f"{channel_id}. The channel cannot be read as it is.",
    )

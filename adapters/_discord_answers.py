"""What Discord's answers mean: each response becomes a value, a wait, or one of dmj's errors.

Pure functions over status, headers and body; the client (``_discord.py``) acts on the
verdict. The codes and their meaning are those of ``reference/discord-api.md`` §3b and §4:
stop at once on 401, a captcha, 40002, 40003, 403/10008 and Cloudflare; skip the DM on
400/50033 and 404; wait on 429 and 202; retry 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import msgspec
from dmj.machine.errors import DiscordPaused, DmjError, PauseReason, RemoteError, SkipDm

from ._redact import redact

__all__ = ["Answer", "Call", "Done", "RateLimited", "Retry", "judge"]

NOT_READY_WAIT = 5.0
"""A 202 without ``retry_after`` (or with 0): wait this long, as Discord's clients do."""


@dataclass(frozen=True)
class Call:
    """One call to Discord, described for messages: what dmj was doing, and whether a 404
    means *this DM* is gone (skip it) rather than a wrong API base."""

    what: str
    about_a_dm: bool
    token: str

    def __repr__(self) -> str:
        return f"Call({self.what!r})"


class _Body(msgspec.Struct, kw_only=True):
    """The fields dmj reads from Discord's error and rate-limit bodies."""

    message: str = ""
    code: int | None = None
    retry_after: float | None = None
    global_: bool = msgspec.field(default=False, name="global")
    captcha_key: list[str] | None = None


@dataclass(frozen=True)
class Done:
    """A 2xx answer with its JSON body (still bytes; the caller decodes it into its type)."""

    content: bytes


@dataclass(frozen=True)
class RateLimited:
    """A 429 from Discord itself: wait ``wait`` seconds, then send the request again."""

    wait: float
    is_global: bool
    counts_as_invalid: bool


@dataclass(frozen=True)
class Retry:
    """A transient answer (5xx, 408, 202): retry, after ``wait`` if given, else backoff."""

    status: int
    wait: float | None = None


Answer = Done | RateLimited | Retry | DmjError


def judge(response: httpx.Response, call: Call) -> Answer:
    """What ``response`` means for ``call``."""
    status = response.status_code
    body = _body(response)
    if status == 202:
        return Retry(status, wait=(body and body.retry_after) or NOT_READY_WAIT)
    if 200 <= status < 300:
        return Done(response.content)
    if status == 429:
        return _rate_limited(response, body, call)
    if status == 408 or status >= 500:
        return Retry(status)
    if body is None and status in (400, 403):
        return _cloudflare(status, call)
    return _refusal(status, body or _Body(), call)


def _body(response: httpx.Response) -> _Body | None:
    """Discord's JSON body, or None when the body is not Discord's JSON (e.g. Cloudflare)."""
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        return msgspec.json.decode(response.content, type=_Body)
    except msgspec.DecodeError:
        return None


def _rate_limited(response: httpx.Response, body: _Body | None, call: Call) -> Answer:
    # Discord's own 429s come through Google's front end with a JSON body; anything else is
    # Cloudflare refusing the IP, and retrying that makes it worse.
    if body is None or "via" not in response.headers:
        return _cloudflare(429, call)
    wait = body.retry_after
    if wait is None:
        header = response.headers.get("retry-after")
        wait = _seconds(header)
    if wait is None:
        return DiscordPaused(
            f"Discord rate-limited {call.what} without saying how long to wait; wait a few "
            "minutes, then run `dmj resume`.",
            reason="rate-limited",
            status=429,
            code=body.code,
        )
    scope = response.headers.get("x-ratelimit-scope", "")
    return RateLimited(
        wait=wait,
        is_global=body.global_ or scope == "global",
        counts_as_invalid=scope != "shared",
    )


def _seconds(header: str | None) -> float | None:
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None


def _cloudflare(status: int, call: Call) -> DiscordPaused:
    return DiscordPaused(
        f"Discord's Cloudflare front blocked {call.what} (HTTP {status} without Discord's JSON "
        "body): this network address is being limited or banned. Wait a few hours, then run "
        "`dmj resume`.",
        reason="cloudflare",
        status=status,
    )


def _refusal(status: int, body: _Body, call: Call) -> DmjError:
    said = f"HTTP {status}" if body.code is None else f"HTTP {status}, code {body.code}"
    if body.message:  # a captcha's body has neither code nor message
        said += f": {redact(body.message, call.token)!r}"
    if status == 401:
        return DiscordPaused(
            f"Discord rejected the token ({said}) while {call.what}. Get a fresh token, then "
            "run `dmj resume`.",
            reason="token-rejected",
            status=status,
            code=body.code,
        )
    if status == 400 and body.captcha_key is not None:
        return DiscordPaused(
            f"Discord asked for a captcha while {call.what} ({said}); dmj never solves "
            "captchas. Use Discord normally in the app for a while, then run `dmj resume`.",
            reason="captcha",
            status=status,
            code=body.code,
        )
    if status == 400 and body.code == 50033:
        return SkipDm(
            f"Discord cannot open {call.what.removeprefix('reopening ')} ({said}): the "
            "account is deleted or unreachable, so the DM is skipped.",
            reason="invalid-recipient",
            status=status,
            code=body.code,
        )
    if status == 403:
        return _forbidden(said, body, call)
    if status == 404 and call.about_a_dm and body.code:
        return SkipDm(
            f"Discord does not know what dmj asked for while {call.what} ({said}), so the "
            "DM is skipped.",
            reason="not-found",
            status=status,
            code=body.code,
        )
    return RemoteError(
        f"Discord answered {call.what} in a way dmj cannot work with ({said}). Check that "
        "DMJ_API_BASE (if set) points at Discord's API, then run `dmj resume`."
    )


def _forbidden(said: str, body: _Body, call: Call) -> DiscordPaused:
    known: dict[int, tuple[PauseReason, str]] = {
        40002: ("verify-account", "Verify your account in the Discord app"),
        40003: ("opening-too-fast", "Wait at least an hour (and use `--pace careful`)"),
        10008: ("anti-abuse", "Stop for a day and check the account in the Discord app"),
        40333: ("cloudflare", "Wait a few hours"),
    }
    reason, advice = known.get(
        body.code or 0, ("forbidden", "Check the account in the Discord app")
    )
    return DiscordPaused(
        f"Discord refused {call.what} ({said}); dmj stops here to keep the account safe. "
        f"{advice}, then run `dmj resume`.",
        reason=reason,
        status=403,
        code=body.code,
    )

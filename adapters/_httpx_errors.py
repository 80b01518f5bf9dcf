"""httpx's exceptions, translated once into dmj's errors (the only place that knows them).

Every exception class httpx exports has an entry below, most specific first;
``tests/adapters/test_httpx_errors.py`` fails when httpx grows a class that has none.
"""

from __future__ import annotations

from typing import Literal

import httpx
from dmj.machine.errors import (
    DmjError,
    InvariantBroken,
    RemoteError,
    RemoteUnavailable,
    UsageError,
)

from ._redact import redact

__all__ = [
    "HTTPX_ERRORS",
    "HTTPX_EXCEPTIONS",
    "HttpxFailure",
    "failure_of",
    "is_transient",
    "translate_httpx_error",
]

HttpxFailure = Literal["transient", "remote", "setup", "bug"]
"""``transient``: retry, the network or the server hiccuped. ``remote``: the answer itself
was unusable. ``setup``: the API base dmj was given cannot work. ``bug``: dmj misused httpx."""

HTTPX_ERRORS: tuple[tuple[type[Exception], HttpxFailure], ...] = (
    (httpx.TimeoutException, "transient"),  # Connect/Read/Write/PoolTimeout
    (httpx.NetworkError, "transient"),  # Connect/Read/Write/CloseError
    (httpx.RemoteProtocolError, "transient"),  # the server dropped the connection mid-answer
    (httpx.LocalProtocolError, "bug"),
    (httpx.ProxyError, "setup"),
    (httpx.UnsupportedProtocol, "setup"),
    (httpx.InvalidURL, "setup"),
    (httpx.DecodingError, "remote"),
    (httpx.TooManyRedirects, "remote"),
    (httpx.HTTPStatusError, "remote"),
    (httpx.CookieConflict, "bug"),
    (httpx.StreamError, "bug"),  # StreamConsumed, StreamClosed, ResponseNotRead, RequestNotRead
    (httpx.TransportError, "transient"),  # a transport raising the base class itself
    (httpx.HTTPError, "remote"),
)
"""httpx exception class → what it means for dmj; the first entry that matches wins."""

HTTPX_EXCEPTIONS = tuple(cls for cls, _ in HTTPX_ERRORS)
"""Every exception httpx may raise, for an ``except`` around a request."""


def failure_of(exc: Exception) -> HttpxFailure:
    """Which kind of failure ``exc`` is; anything unknown is a bug."""
    return next((kind for cls, kind in HTTPX_ERRORS if isinstance(exc, cls)), "bug")


def is_transient(exc: Exception) -> bool:
    """True when retrying the request may well succeed."""
    return failure_of(exc) == "transient"


def translate_httpx_error(
    exc: Exception, *, what: str, api_base: str, token: str, retries: int
) -> DmjError:
    """dmj's error for ``exc``, raised while ``what`` (after ``retries`` retries)."""
    detail = redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, token)
    match failure_of(exc):
        case "transient":
            return RemoteUnavailable(
                f"Discord could not be reached while {what} ({detail}), after {retries} "
                "retries. Check the network connection, then run `dmj resume`.",
                status=None,
            )
        case "setup":
            return UsageError(
                f"dmj cannot talk to the Discord API at {api_base!r} ({detail}). Check "
                "DMJ_API_BASE (unset it to use Discord itself)."
            )
        case "remote":
            return RemoteError(
                f"Discord's answer while {what} could not be used ({detail}). Run "
                "`dmj resume` to try again; if it keeps happening, report it."
            )
        case "bug":
            return InvariantBroken(
                f"dmj misused its HTTP client while {what} ({detail}); this is a bug in dmj."
            )

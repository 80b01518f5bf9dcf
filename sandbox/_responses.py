"""Discord's responses, byte for byte where it matters (discord-api.md §3b, §4, §7).

JSON goes out with Discord's separators (``", "``, ``": "``), ``Content-Type:
application/json`` and ``Via: 1.1 google``. Cloudflare's answers are HTML without ``Via``,
which is how clients tell a Cloudflare block from Discord.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

__all__ = [
    "anti_abuse",
    "captcha_required",
    "cloudflare_bad_request",
    "cloudflare_ban",
    "discord_error",
    "discord_json",
    "internal_network_error",
    "invalid_form_body",
    "invalid_json",
    "invalid_recipients",
    "method_not_allowed",
    "missing_access",
    "not_ready",
    "opening_too_fast",
    "rate_limited",
    "route_not_found",
    "server_error",
    "unauthorized",
    "unknown_channel",
    "verify_account",
]

_VIA = {"Via": "1.1 google"}
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout", 507: "Insufficient Storage", 522: "Connection Timed Out",
            523: "Origin Is Unreachable", 524: "A Timeout Occurred"}  # fmt: skip


def discord_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response the way Discord writes it."""
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        status_code=status,
        media_type="application/json",
        headers={**_VIA, **(headers or {})},
    )


def discord_error(status: int, message: str, code: int, **extra: Any) -> Response:
    return discord_json({"message": message, "code": code, **extra}, status)


def unauthorized() -> Response:
    return discord_error(401, "401: Unauthorized", 0)


def route_not_found() -> Response:
    return discord_error(404, "404: Not Found", 0)


def method_not_allowed() -> Response:
    return discord_error(405, "405: Method Not Allowed", 0)


def unknown_channel() -> Response:
    return discord_error(404, "Unknown Channel", 10003)


def missing_access() -> Response:
    return discord_error(403, "Missing Access", 50001)


def invalid_recipients() -> Response:
    return discord_error(400, "Invalid Recipient(s)", 50033)


def invalid_json() -> Response:
    return discord_error(400, "The request body contains invalid JSON.", 50109)


def invalid_form_body(field: str, code: str, message: str) -> Response:
    errors = {field: {"_errors": [{"code": code, "message": message}]}}
    return discord_error(400, "Invalid Form Body", 50035, errors=errors)


def opening_too_fast() -> Response:
    return discord_error(403, "You are opening direct messages too fast.", 40003)


def anti_abuse() -> Response:
    """403 with 10008: how Discord's anti-abuse system blocks an action (userdoccers)."""
    return discord_error(403, "Unknown Message", 10008)


def verify_account() -> Response:
    return discord_error(
        403, "You need to verify your account in order to perform this action.", 40002
    )


def internal_network_error() -> Response:
    """Cloudflare's 40333 (a client it does not like, e.g. a bad User-Agent): JSON, no ``Via``."""
    return Response(
        b'{"message": "internal network error", "code": 40333}',
        status_code=403,
        media_type="application/json",
        headers={"Server": "cloudflare"},
    )


def not_ready(retry_after: float) -> Response:
    """202: the request was accepted but the data is not ready; retry after a while."""
    body = {"message": "The data is still being prepared.", "code": 110000}
    return discord_json({**body, "retry_after": retry_after}, 202)


def captcha_required() -> Response:
    return discord_json(
        {
            "captcha_key": ["captcha-required"],
            "captcha_sitekey": "a9b5fb07-92ff-493f-86fe-352a2803b3df",
            "captcha_service": "hcaptcha",
            "captcha_session_id": "sandbox-session",
            "captcha_rqdata": "sandbox-rqdata",
            "captcha_rqtoken": "sandbox-rqtoken",
        },
        400,
    )


def rate_limited(retry_after: float, *, scope: str, headers: dict[str, str]) -> Response:
    message = "You are being rate limited."
    body = {"message": message, "retry_after": retry_after, "global": scope == "global"}
    return discord_json(body, 429, headers)


def server_error(status: int) -> Response:
    return discord_error(status, f"{status}: {_REASONS.get(status, 'Server Error')}", 0)


def _html(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        text.encode(),
        status_code=status,
        media_type="text/html",
        headers={"Server": "cloudflare", "CF-RAY": "8f1e2d3c4b5a6978-AMS", **(headers or {})},
    )


def cloudflare_bad_request() -> Response:
    """Cloudflare's HTML 400 (DCE treats it as fatal, #1141/#1419)."""
    return _html(
        400,
        "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n"
        "<center><h1>400 Bad Request</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
        "</body>\r\n</html>\r\n",
    )


def cloudflare_ban() -> Response:
    """Cloudflare's HTML 429 (error 1015): a ban, not a Discord rate limit (no ``Via``)."""
    return _html(
        429,
        "<!DOCTYPE html>\n<html><head><title>Access denied | discord.com used Cloudflare to "
        "restrict access</title></head>\n<body><h1>Error 1015</h1><h2>You are being rate "
        "limited</h2><p>The owner of this website (discord.com) has banned you temporarily "
        "from accessing this website.</p></body></html>\n",
    )

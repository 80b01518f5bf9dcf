"""How the DCE stand-in talks to the API: DCE's requests, retries and error texts (dce.md §4).

One keep-alive connection, only ``Authorization`` (plus the sandbox's client marker).
429, 408, 5xx and connection errors are retried 8 times, waiting ``Retry-After`` + 1 s, else
2^attempt + 1 s; advisory ``X-RateLimit-Remaining: 0`` waits ``Reset-After`` + 1 s (at
most 60). All waits are multiplied by the sandbox's DCE time scale.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DceError", "DceHttp"]

_WORDS = {
    400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found",
    405: "method not allowed", 408: "request timeout", 429: "too many requests",
    500: "internal server error", 502: "bad gateway", 503: "service unavailable",
    504: "gateway timeout", 507: "insufficient storage",
}  # fmt: skip
_RETRIES = 8


class DceError(Exception):
    """DCE's ``DiscordChatExporterException``: fatal ones abort the run, others one channel."""

    def __init__(self, message: str, *, fatal: bool = False, kind: str = "Core") -> None:
        super().__init__(message)
        self.fatal = fatal
        self.kind = kind
        """``Core`` (DiscordChatExporterException) or ``Http`` (HttpRequestException)."""


class DceHttp:
    """GETs against ``base`` (``DMJ_API_BASE``) the way DCE's ``DiscordClient`` makes them."""

    def __init__(self, base: str, token: str, *, respect_rate_limits: bool) -> None:
        parts = urlsplit(base)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self._respect = respect_rate_limits
        self._kind: str | None = None
        self._conn: http.client.HTTPConnection | None = None
        self.time_scale = 1.0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def sandbox(self, path: str) -> Any | None:
        """GET ``/_sandbox/<path>`` (the stand-in's fault instructions); None if unreachable."""
        try:
            status, body, _ = self._send(f"/_sandbox/{path}", {})
        except OSError:
            return None
        return json.loads(body) if status == 200 else None

    def get(self, url: str) -> Any:
        """GET ``url`` (relative, e.g. ``channels/1``) as JSON; errors as DCE words them."""
        status, body = self._get(url, self.detect_token())
        if 200 <= status < 300:
            return json.loads(body)
        if status == 401:
            raise DceError("Authentication token is invalid.", fatal=True)
        if status in (403, 404):
            raise DceError(f"Request to '{url}' failed: {_WORDS[status]}.")
        words, content = _WORDS.get(status, str(status)), body.decode(errors="replace")
        raise DceError(
            f"Request to '{url}' failed: {words}.\nResponse content: {content}", fatal=True
        )

    def detect_token(self) -> str:
        """``user`` or ``bot``, found as DCE does on the first request (raw, then ``Bot``)."""
        if self._kind is None:
            if self._get("users/@me", "user")[0] != 401:
                self._kind = "user"
            elif self._get("users/@me", "bot")[0] != 401:
                self._kind = "bot"
            else:
                raise DceError("Authentication token is invalid.", fatal=True)
        return self._kind

    def _get(self, url: str, kind: str) -> tuple[int, bytes]:
        auth = f"Bot {self._token}" if kind == "bot" else self._token
        headers = {"Authorization": auth, "X-Sandbox-Client": "dce"}
        for attempt in range(_RETRIES + 1):
            try:
                status, body, response_headers = self._send(f"{self._prefix}/{url}", headers)
            except OSError as exc:
                if attempt == _RETRIES:
                    raise DceError(
                        f"An error occurred while sending the request. ({exc})",
                        fatal=True,
                        kind="Http",
                    ) from exc
                self._sleep(2**attempt + 1)
                continue
            if (status in (408, 429) or status >= 500) and attempt < _RETRIES:
                retry_after = response_headers.get("retry-after")
                self._sleep(float(retry_after) + 1 if retry_after else 2**attempt + 1)
                continue
            self._advise(response_headers)
            return status, body
        raise AssertionError("unreachable")  # pragma: no cover

    def _advise(self, headers: dict[str, str]) -> None:
        remaining, reset_after = (
            headers.get("x-ratelimit-remaining"),
            headers.get("x-ratelimit-reset-after"),
        )
        if self._respect and remaining is not None and reset_after and int(remaining) <= 0:
            self._sleep(min(float(reset_after) + 1, 60.0))

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.time_scale)

    def _send(self, path: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        """One GET on the kept-alive connection; a stale reused connection is redone once."""
        for fresh in (self._conn is None, True):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=100)
            try:
                self._conn.request("GET", path, headers=headers)
                response = self._conn.getresponse()
                body = response.read()
            except (http.client.HTTPException, OSError) as exc:
                self._conn.close()
                self._conn = None
                if fresh:
                    raise OSError(str(exc) or type(exc).__name__) from exc
                continue
            return response.status, body, {k.lower(): v for k, v in response.getheaders()}
        raise AssertionError("unreachable")  # pragma: no cover

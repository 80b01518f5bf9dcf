"""What keeps the browser private: the launch's secret, the loopback ``Host``, safe headers.

Every request passes ``Guard`` before any route:

- ``Host`` must be exactly ``127.0.0.1:<port>``: a page elsewhere that points its own name at
  127.0.0.1 (DNS rebinding) is refused, whatever it sends.
- Only ``GET`` and ``HEAD``: nothing the browser serves changes anything.
- The secret, fresh for each launch, arrives once in the printed address (``/?key=…``); the
  answer is a redirect to ``/`` that sets it as an ``HttpOnly; SameSite=Strict`` cookie (named
  for the port: two viewers do not overwrite each other's). Without it: 403.
- Every answer, refusals included, carries a Content-Security-Policy that allows scripts only
  from ``/static/`` of this very origin (no inline script, no handler attribute, nothing from
  elsewhere), images, styles and requests only from here, and no framing; plus ``nosniff``,
  no referrer, and ``no-store`` (private pages stay out of the disk cache).
"""

from __future__ import annotations

import secrets

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Guard", "cookie_name", "security_headers"]

_READ_ONLY = frozenset({"GET", "HEAD"})


def cookie_name(port: int) -> str:
    return f"dmj_view_{port}"


def security_headers(origin: str) -> dict[str, str]:
    """The headers on every answer of the viewer at ``origin`` (``http://127.0.0.1:<port>``)."""
    policy = "; ".join(
        (
            "default-src 'none'",
            f"script-src {origin}/static/",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )
    return {
        "content-security-policy": policy,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "cache-control": "no-store",
    }


class Guard:
    """ASGI middleware in front of the viewer's routes (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, port: int, secret: str) -> None:
        self._app = app
        self._host = f"127.0.0.1:{port}"
        self._secret = secret.encode()
        self._cookie = cookie_name(port)
        self._headers = security_headers(f"http://{self._host}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._app(scope, receive, send)
            return
        refusal = self._refusal(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._headers.items():
                    headers[name] = value
            await send(message)

        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
        else:
            await self._app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        """The answer to a request that may not reach the routes, or None if it may."""
        if Headers(scope=scope).get("host") != self._host:
            return PlainTextResponse(
                f"This dmj viewer answers only at http://{self._host}/.", status_code=403
            )
        if scope["method"] not in _READ_ONLY:
            return PlainTextResponse(
                "The archive viewer is read-only.", status_code=405, headers={"allow": "GET, HEAD"}
            )
        connection = HTTPConnection(scope)
        key = connection.query_params.get("key")
        if key is not None and scope["path"] == "/" and self._matches(key):
            return self._welcome()
        cookie = connection.cookies.get(self._cookie)
        if cookie is None or not self._matches(cookie):
            return PlainTextResponse(
                "This page needs the address `dmj view` printed when it started (it holds a "
                "secret made for that launch). Open that address again.",
                status_code=403,
            )
        return None

    def _matches(self, candidate: str) -> bool:
        return secrets.compare_digest(candidate.encode(), self._secret)

    def _welcome(self) -> Response:
        """Trade the secret in the address for the cookie, and drop it from the address."""
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            self._cookie, self._secret.decode(), path="/", httponly=True, samesite="strict"
        )
        return response

"""Each of Discord's refusals becomes its error class; the token never shows in any of them."""

from __future__ import annotations

import logging

import httpx
import pytest
from dmj.adapters import REDACTED
from dmj.machine.errors import DiscordPaused, DmjError, RemoteError, SkipDm
from dmj.machine.events import ChannelInfo

from tests.adapters.fake_discord import TOKEN, Script, answer, discord

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_time]

CAPTCHA = {
    "captcha_key": ["invalid-input-response"],
    "captcha_sitekey": "f5561ba9-8f1e-40ca-9b5b-a0b3f719ef34",
    "captcha_service": "hcaptcha",
}
CLOUDFLARE_PAGE = httpx.Response(
    400, text="<html><title>Access denied | discord.com used Cloudflare</title></html>"
)
CLOUDFLARE_429 = httpx.Response(429, text="error code: 1015", headers={"retry-after": "60"})


def body(code: int, message: str) -> dict[str, object]:
    return {"message": message, "code": code}


CASES = [
    # (call, response, error class, reason)
    ("me", answer(401, body(0, "401: Unauthorized")), DiscordPaused, "token-rejected"),
    ("reopen", answer(400, CAPTCHA), DiscordPaused, "captcha"),
    ("reopen", answer(403, body(40002, "You need to verify your account")), DiscordPaused,
     "verify-account"),
    ("reopen", answer(403, body(40003, "You are opening direct messages too fast")),
     DiscordPaused, "opening-too-fast"),
    ("reopen", answer(403, body(10008, "Unknown Message")), DiscordPaused, "anti-abuse"),
    ("close", answer(403, body(40333, "internal network error")), DiscordPaused, "cloudflare"),
    ("close", answer(403, body(50001, "Missing Access")), DiscordPaused, "forbidden"),
    ("reopen", CLOUDFLARE_PAGE, DiscordPaused, "cloudflare"),
    ("me", CLOUDFLARE_429, DiscordPaused, "cloudflare"),
    ("reopen", answer(400, body(50033, "Invalid Recipient(s)")), SkipDm, "invalid-recipient"),
    ("reopen", answer(404, body(10013, "Unknown User")), SkipDm, "not-found"),
    ("close", answer(404, body(10003, "Unknown Channel")), SkipDm, "not-found"),
    ("me", answer(404, body(0, "404: Not Found")), RemoteError, None),
    ("reopen", answer(404, body(0, "404: Not Found")), RemoteError, None),
    ("reopen", answer(400, body(50035, "Invalid Form Body")), RemoteError, None),
    ("me", answer(405, body(0, "405: Method Not Allowed")), RemoteError, None),
]  # fmt: skip


async def call(name: str, script: Script) -> None:
    async with discord(script) as client:
        match name:
            case "me":
                await client.me()
            case "reopen":
                await client.reopen_dm("222222222222222222")
            case "close":
                await client.close_dm(ChannelInfo(id="900000000000000001", type=1))


@pytest.mark.parametrize(
    ("name", "response", "error_class", "reason"),
    CASES,
    ids=[f"{c[0]}-{c[1].status_code}-{c[3] or 'remote'}" for c in CASES],
)
async def test_each_refusal_maps_to_its_class_and_stops_at_once(
    name: str,
    response: httpx.Response,
    error_class: type[DmjError],
    reason: str | None,
) -> None:
    script = Script([response])
    with pytest.raises(DmjError) as error:
        await call(name, script)
    assert type(error.value) is error_class
    assert getattr(error.value, "reason", None) == reason
    assert getattr(error.value, "status", response.status_code) == response.status_code
    assert len(script.seen) == 1, "a refusal is never retried"


async def test_skip_and_pause_carry_discords_code() -> None:
    with pytest.raises(SkipDm) as skip:
        await call("reopen", Script([answer(400, body(50033, "Invalid Recipient(s)"))]))
    assert (skip.value.status, skip.value.code) == (400, 50033)
    assert str(skip.value) == (
        "Discord cannot open the DM with user 222222222222222222 (POST /users/@me/channels) "
        "(HTTP 400, code 50033: 'Invalid Recipient(s)'): the account is deleted or "
        "unreachable, so the DM is skipped."
    )
    with pytest.raises(DiscordPaused) as pause:
        await call("reopen", Script([answer(403, body(40003, "too fast"))]))
    assert (pause.value.status, pause.value.code) == (403, 40003)


SECRET_ECHOES = [
    answer(401, body(0, f"401: Unauthorized for {TOKEN}")),
    answer(400, {**CAPTCHA, "message": TOKEN}),
    answer(403, body(50001, f"Missing Access {TOKEN}")),
    answer(400, body(50035, f"Invalid Form Body {TOKEN}")),
    answer(404, body(10003, TOKEN)),
    answer(503, body(0, TOKEN)),
    httpx.ConnectError(f"cannot connect with {TOKEN}"),
    httpx.UnsupportedProtocol(f"bad url {TOKEN}"),
    answer(200, {"token": TOKEN}),
]


@pytest.mark.parametrize("echo", SECRET_ECHOES, ids=lambda e: getattr(e, "status_code", "exc"))
@pytest.mark.parametrize("name", ["me", "reopen", "close"])
async def test_the_token_is_absent_from_every_error_and_log_record(
    name: str, echo: httpx.Response | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DmjError) as error:
        await call(name, Script([echo]))
    texts = [str(error.value), repr(error.value), *error.value.args]
    texts += [record.getMessage() for record in caplog.records]
    assert caplog.records, "the client logs what it does"
    assert all(TOKEN not in text for text in texts)
    if isinstance(echo, httpx.Response) and echo.status_code in (400, 401, 403, 404):
        assert REDACTED in str(error.value)


async def test_the_client_repr_does_not_show_the_token() -> None:
    async with discord(Script([])) as client:
        assert TOKEN not in repr(client)
        assert repr(client) == (
            "DiscordClient(api_base='https://discord.test/api/v9', pacing='fast')"
        )

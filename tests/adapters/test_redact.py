"""The token is replaced wherever a text or a log record would carry it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from dmj.adapters import REDACTED, Dce, DceRunner, TokenRedactingFilter, redact

from tests.adapters.fake_discord import TOKEN


def test_redact_replaces_every_occurrence() -> None:
    assert redact(f"a {TOKEN} b {TOKEN}", TOKEN) == f"a {REDACTED} b {REDACTED}"
    assert redact("nothing here", TOKEN) == "nothing here"
    assert redact("an empty token redacts nothing", "") == "an empty token redacts nothing"


def test_the_logging_filter_redacts_message_and_arguments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("dmj.test.redact")
    redacting = TokenRedactingFilter(TOKEN)
    caplog.handler.addFilter(redacting)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("token %s in args", TOKEN)
            logger.info(f"token {TOKEN} in the message")
            logger.info("no token: %d", 42)
    finally:
        caplog.handler.removeFilter(redacting)
    assert [r.getMessage() for r in caplog.records] == [
        f"token {REDACTED} in args",
        f"token {REDACTED} in the message",
        "no token: 42",
    ]
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(redacting)


def test_the_dce_runner_repr_does_not_show_the_token(tmp_path: Path) -> None:
    dce = Dce(
        path=str(tmp_path), argv=(str(tmp_path / "DiscordChatExporter.Cli"),), version="2.47.0"
    )
    runner = DceRunner(dce, TOKEN, env={"DISCORD_TOKEN": TOKEN})
    assert TOKEN not in repr(runner)
    assert repr(runner) == f"DceRunner({str(tmp_path)!r}, version='2.47.0')"

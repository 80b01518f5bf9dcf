"""The Discord token: from ``DISCORD_TOKEN`` or a hidden prompt, checked against the package.

The token is never an option (argv is visible to every user of the machine) and never
printed, logged or journaled; it reaches only the ``Authorization`` header and DCE's
environment (docs/run.md, "The token").
"""

from __future__ import annotations

import getpass
import signal
import sys
import threading

from dmj.adapters import DiscordClient
from dmj.machine.errors import DiscordPaused, UsageError
from dmj.machine.events import UserInfo

__all__ = ["ask_token", "check_account"]


def ask_token(from_env: str | None) -> str:
    """``DISCORD_TOKEN``, else ask for it without echo when a person is at the terminal."""
    if from_env:
        return from_env.strip()
    if not sys.stdin.isatty():
        raise UsageError(
            "No Discord token: set the DISCORD_TOKEN environment variable (dmj never takes "
            "the token on the command line), or run dmj in a terminal to be asked for it."
        )
    token = _hidden_prompt("Discord token (input is hidden): ").strip()
    if not token:
        raise UsageError(
            "No Discord token was entered, so nothing was started; run the command again and "
            "paste the token at the prompt, or set DISCORD_TOKEN."
        )
    return token


def _hidden_prompt(prompt: str) -> str:
    """Ask without echo; Ctrl-C stops dmj at once (``KeyboardInterrupt``, exit 130).

    Under asyncio's runner (``anyio.run``) the first SIGINT only cancels the main task, which
    a blocking read of the terminal never notices: the prompt would sit there until a second
    Ctrl-C. While it waits, SIGINT gets Python's default handler back. Ctrl-D enters nothing.
    """
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler) if main else None
    try:
        return getpass.getpass(prompt)
    except EOFError:
        return ""
    except KeyboardInterrupt:
        sys.stderr.write("\n")  # the prompt's line was left open
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


async def check_account(discord: DiscordClient, *, owner_id: str, owner_of: str) -> UserInfo:
    """The token's account (``GET /users/@me``), which must be ``owner_id``.

    ``owner_of`` names what belongs to ``owner_id`` in the message ("the data package at …").
    """
    try:
        me = await discord.me()
    except DiscordPaused as error:
        if error.reason != "token-rejected":
            raise
        raise UsageError(
            "Discord rejected the token (HTTP 401): it is wrong or no longer valid. Nothing "
            "was changed. Get a fresh token, put it in DISCORD_TOKEN and run the command again."
        ) from None
    if me.id != owner_id:
        name = me.global_name or me.username or "another account"
        raise UsageError(
            f"The token belongs to {name} (user {me.id}), but {owner_of} belongs to user "
            f"{owner_id}. dmj archives an account's DMs only with that account's own token; "
            "use the token of the account the data package came from."
        )
    return me

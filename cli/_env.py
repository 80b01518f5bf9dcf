"""The environment variables `dmj run` and `dmj resume` read, in one place.

Only ``dmj.cli`` reads the environment; everything below it gets values passed in.

=========================  =================================================================
``DISCORD_TOKEN``          the user token (else a hidden prompt, when interactive)
``DMJ_API_BASE``           Discord's API base (default ``https://discord.com/api/v9``);
                           the sandbox's emulator in tests and the demo
``DMJ_ARCHIVE``            the archive directory (``--archive``; read by typer)
``DMJ_FAILPOINT``          test seam: make the journal writer crash on cue
                           (``after-record=K``, docs/journal-format.md)
``DMJ_DCE_STALL_TIMEOUT``  ``--stall-timeout`` (read by typer)
=========================  =================================================================
"""

from __future__ import annotations

import os

import msgspec
from dmj.adapters import DEFAULT_API_BASE
from dmj.journal import Failpoints

__all__ = ["Environment", "read_environment"]


class Environment(msgspec.Struct, frozen=True, kw_only=True):
    """What the environment says, read once at the start of a command.

    ``child_env`` is the environment DCE runs with (the DCE runner adds the token itself).
    """

    token: str | None
    api_base: str
    failpoints: Failpoints
    child_env: dict[str, str]

    def __repr__(self) -> str:
        return f"Environment(api_base={self.api_base!r})"


def read_environment() -> Environment:
    """The environment of this process, checked (``UsageError`` for a bad test seam)."""
    env = dict(os.environ)
    return Environment(
        token=env.get("DISCORD_TOKEN") or None,
        api_base=env.get("DMJ_API_BASE") or DEFAULT_API_BASE,
        failpoints=Failpoints.parse(env.get("DMJ_FAILPOINT", "")),
        child_env={k: v for k, v in env.items() if k != "DISCORD_TOKEN"},
    )

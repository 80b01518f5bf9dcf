"""Finding DiscordChatExporter and exporting one channel with it.

``find_dce`` turns ``--dce PATH`` (a folder holding ``DiscordChatExporter.Cli[.exe]``, the
executable itself, or a ``.dll`` run with ``dotnet``) into a command line and checks that it
answers ``--version``. ``DceRunner.export`` runs the export of design.md §9 into a fresh
folder, token in ``DISCORD_TOKEN`` (never in argv), ``TERM=dumb``, stdin closed, watched for
stalls, and verifies what it wrote before returning.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import signal
from collections.abc import Mapping
from pathlib import Path

import msgspec
from dmj.machine.errors import (
    ChannelExportError,
    ExporterNotFound,
    ExporterUnusable,
    InvariantBroken,
)
from dmj.machine.events import DceInfo, ErrorClass

from ._dce_output import ExportResult, OutputProblem, classify_failure, read_export
from ._dce_process import Finished, run_watched

__all__ = ["Dce", "DceRunner", "export_argv", "find_dce"]

EXECUTABLES = ("DiscordChatExporter.Cli", "DiscordChatExporter.Cli.exe")
LIBRARY = "DiscordChatExporter.Cli.dll"
_VERSION = re.compile(r"^v?(\d+(?:\.\d+)+)\s*$", re.M)
VERSION_TIMEOUT = 60.0
"""Seconds of silence before ``--version`` counts as a hang."""
VERSION_KILL_GRACE = 5.0


class Dce(msgspec.Struct, frozen=True, kw_only=True):
    """A DiscordChatExporter that answered ``--version``."""

    path: str
    argv: tuple[str, ...]
    """How to start it: the executable, or ``dotnet`` and the ``.dll``."""
    version: str

    def info(self) -> DceInfo:
        """What ``RunStarted`` records about it."""
        return DceInfo(path=self.path, version=self.version)


def _command_for(path: Path) -> tuple[str, ...]:
    if path.is_dir():
        found = [path / name for name in EXECUTABLES if (path / name).is_file()]
        if runnable := [program for program in found if os.access(program, os.X_OK)]:
            return (str(runnable[0]),)
        if (path / LIBRARY).is_file():
            return ("dotnet", str(path / LIBRARY))
        if found:
            return _executable(found[0])  # says how to make it executable
    elif path.suffix.lower() == ".dll" and path.is_file():
        return ("dotnet", str(path))
    elif path.is_file():
        return _executable(path)
    raise ExporterNotFound(
        f"--dce {path} is not DiscordChatExporter's command-line version: expected a folder "
        f"holding {EXECUTABLES[0]} (or .exe, or {LIBRARY}), or that file itself, executable. "
        "Download DiscordChatExporter.Cli and point --dce at it."
    )


def _executable(path: Path) -> tuple[str, ...]:
    if not os.access(path, os.X_OK):
        raise ExporterNotFound(
            f"--dce: {path} is not executable, so dmj cannot run it (an unzip often drops "
            f"that permission). If it is DiscordChatExporter.Cli, make it executable with "
            f"`chmod +x {path}` and run the command again."
        )
    return (str(path),)


async def find_dce(
    path: Path | None, *, env: Mapping[str, str], stall_timeout: float = VERSION_TIMEOUT
) -> Dce:
    """Locate DCE (``path``, else ``DiscordChatExporter.Cli`` on ``env``'s PATH) and check
    that it runs, by asking its ``--version`` (silent for ``stall_timeout`` seconds, at most
    ``VERSION_TIMEOUT``, it counts as hung: ``ExporterUnusable``)."""
    if path is None:
        found = shutil.which(EXECUTABLES[0], path=env.get("PATH", ""))
        if found is None:
            raise ExporterNotFound(
                f"{EXECUTABLES[0]} is not on PATH. Download DiscordChatExporter.Cli and pass "
                "its folder with --dce."
            )
        path = Path(found)
    argv = _command_for(path.absolute())
    timeout = min(stall_timeout, VERSION_TIMEOUT)
    try:
        finished = await run_watched(
            [*argv, "--version"],
            env=_without_token(env),
            token="",
            stall_timeout=timeout,
            kill_grace=VERSION_KILL_GRACE,
        )
    except OSError as exc:
        advice = (
            "Install the .NET runtime (dotnet) or use a self-contained build of DCE."
            if argv[0] == "dotnet"
            else "Check that the file is a program for this system."
        )
        raise ExporterUnusable(
            f"DiscordChatExporter at {path} could not be started ({exc}). {advice}"
        ) from exc
    if finished.stalled:
        raise ExporterUnusable(
            f"DiscordChatExporter at {path} printed nothing for {timeout:g} s after --version "
            "and was stopped: it hangs. Check that --dce names DiscordChatExporter.Cli and "
            f"that `{shlex.join([*argv, '--version'])}` answers in a terminal."
        )
    match = _VERSION.search("\n".join(finished.tail))
    if finished.returncode != 0 or match is None:
        raise ExporterUnusable(
            f"DiscordChatExporter at {path} did not answer --version as expected (exit code "
            f"{finished.returncode}). {_last_output(finished)}Check that --dce names "
            "DiscordChatExporter.Cli."
        )
    return Dce(path=str(path.absolute()), argv=argv, version=match[1])


def export_argv(
    dce: Dce,
    channel_id: str,
    out_dir: Path,
    *,
    after: str | None = None,
    media_dir: Path | None = None,
    partition: str | None = None,
) -> list[str]:
    """DCE's command line for one channel (design.md §9); it never holds the token."""
    argv = [*dce.argv, "export", "-c", channel_id, "-f", "Json", "-o", f"{out_dir}{os.sep}"]
    argv += ["--utc", "--markdown", "false", "--fuck-russia"]
    if after is not None:
        argv += ["--after", after]
    if media_dir is not None:
        argv += ["--media", "--reuse-media", "--media-dir", str(media_dir)]
    if partition is not None:
        argv += ["--partition", partition]
    return argv


class DceRunner:
    """Exports channels one at a time with one DCE and one token."""

    def __init__(
        self,
        dce: Dce,
        token: str,
        *,
        env: Mapping[str, str],
        stall_timeout: float = 300.0,
        kill_grace: float = 10.0,
        record: Path | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.dce = dce
        self._token = token
        self._env = _without_token(env) | {"DISCORD_TOKEN": token, "TERM": "dumb"}
        self._stall_timeout = stall_timeout
        self._kill_grace = kill_grace
        self._record = record
        self._logger = logger or logging.getLogger("dmj.adapters.dce")

    def __repr__(self) -> str:
        return f"DceRunner({self.dce.path!r}, version={self.dce.version!r})"

    async def export(
        self,
        channel_id: str,
        out_dir: Path,
        *,
        after: str | None = None,
        media_dir: Path | None = None,
        partition: str | None = None,
    ) -> ExportResult:
        """Export ``channel_id`` into the new, empty folder ``out_dir`` and verify it.

        ``after``: only messages newer than this id. ``media_dir``: download media there
        (shared across exports; the result lists the files of it the export refers to).
        ``partition``: split the output (``"10mb"``, ``"5000"``).
        Raises ``ChannelExportError`` (its ``error_class`` says what to do) or
        ``ExporterUnusable`` when DCE cannot be started.
        """
        if not channel_id.isdigit() or (after is not None and not after.isdigit()):
            raise InvariantBroken(
                f"dmj asked DCE to export {channel_id!r} after {after!r}, which are not "
                "snowflake ids; this is a bug in dmj."
            )
        _prepare(out_dir)
        argv = export_argv(
            self.dce, channel_id, out_dir, after=after, media_dir=media_dir, partition=partition
        )
        self._logger.info("exporting channel %s with DCE into %s", channel_id, out_dir)
        try:
            finished = await run_watched(
                argv,
                env=self._env,
                token=self._token,
                stall_timeout=self._stall_timeout,
                kill_grace=self._kill_grace,
                record=self._record,
            )
        except OSError as exc:
            raise ExporterUnusable(
                f"DiscordChatExporter at {self.dce.path} could not be started ({exc}). Check "
                "--dce, then run `dmj resume`."
            ) from exc
        return self._judge(finished, channel_id, out_dir, media_dir)

    def _judge(
        self, finished: Finished, channel_id: str, out_dir: Path, media_dir: Path | None
    ) -> ExportResult:
        if finished.stalled:
            reason = f"DCE printed nothing for {self._stall_timeout:g} s and was stopped"
            raise self._failure(channel_id, "transient", reason, finished)
        if finished.returncode != 0 or "Failed to export" in finished.stderr:
            error_class, reason = classify_failure(finished.stderr)
            raise self._failure(channel_id, error_class, reason, finished)
        try:
            result = read_export(out_dir, channel_id, media_dir)
        except OutputProblem as problem:
            raise self._failure(channel_id, "transient", str(problem), finished) from None
        self._logger.info("channel %s: %d messages", channel_id, result.message_count)
        return result

    def _failure(
        self, channel_id: str, error_class: ErrorClass, reason: str, finished: Finished
    ) -> ChannelExportError:
        said = f"{reason} ({_ended(finished.returncode)})."
        self._logger.warning(
            "channel %s failed (%s): %s %s", channel_id, error_class, said, _last_output(finished)
        )
        return ChannelExportError(
            f"DiscordChatExporter could not export channel {channel_id}: {said} "
            f"{_next_step(error_class)} {_last_output(finished)}".rstrip(),
            channel_id=channel_id,
            error_class=error_class,
        )


def _without_token(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without DCE's token variables (``DISCORD_TOKEN``, ``DISCORD_TOKEN_BOT``)."""
    return {k: v for k, v in env.items() if not k.startswith("DISCORD_TOKEN")}


def _ended(returncode: int) -> str:
    """How DCE ended, for people: "exit code 1", or "killed by SIGKILL" (Python reports a
    signal as a negative exit code, which no program ever exits with)."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


def _next_step(error_class: ErrorClass) -> str:
    match error_class:
        case "fatal":
            return "The run cannot go on until that is fixed; then run `dmj resume`."
        case "permanent":
            return "The channel cannot be read as it is."
        case "transient":
            return "Trying again may well work."


def _prepare(out_dir: Path) -> None:
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise InvariantBroken(
            f"The export folder {out_dir} is not empty; dmj always exports into a fresh "
            "folder. This is a bug in dmj."
        )


def _last_output(finished: Finished, lines: int = 8) -> str:
    if not finished.tail:
        return ""
    shown = "\n".join(f"    {line}" for line in finished.tail[-lines:])
    return f"DCE's last output:\n{shown}\n"

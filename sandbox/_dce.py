"""dmj's DiscordChatExporter.Cli stand-in: ``python -m dmj.sandbox._dce ARGS``.

It behaves like DCE 2.47 on the command line (dce.md) but fetches from the sandbox emulator
at ``DMJ_API_BASE`` (read only here and in dmj's cli). Before anything else it asks the
emulator (``GET /_sandbox/dce/{channel}``) whether to hang or crash on this attempt, and how
to scale its waits. Stdlib only, for a fast start: it runs once per exported DM.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sys
from datetime import datetime
from typing import TextIO

from ._dce_cli import DCE_VERSION, ArgumentError, Invocation, help_text, parse
from ._dce_export import CommandError, DiskFull, ExportSettings, export_channels
from ._dce_http import DceError, DceHttp
from ._dce_json import Json, channel_name
from ._snowflake import snowflake_at

__all__ = ["main"]

_BANNER = (
    "┌────────────────────────────────────────────────────────────────────┐\n"
    "│   Thank you for supporting Ukraine <3                              │\n"
    "│                                                                    │\n"
    "│   As Russia wages a genocidal war against my country,              │\n"
    "│   I'm grateful to everyone who continues to                        │\n"
    "│   stand with Ukraine in our fight for freedom.                     │\n"
    "│                                                                    │\n"
    "│   Learn more: https://tyrrrz.me/ukraine                            │\n"
    "└────────────────────────────────────────────────────────────────────┘\n"
    "\n"
)
_GUIDE = (
    "To get your token: open Discord in a browser, press Ctrl+Shift+I, open the Network tab,\n"
    "send a message and copy the Authorization header of any request to discord.com/api.\n"
    "(This is dmj's sandbox stand-in: it only ever talks to the sandbox emulator.)\n"
)
_FORMATS = frozenset({"plaintext", "htmldark", "htmllight", "csv", "json"})
"""DCE's ``ExportFormat`` names, lower-cased (CliFx matches enum values ignoring case)."""
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9}


def _conversion(option: str, value: str, why: str, command: str | None) -> ArgumentError:
    return ArgumentError(
        f"Option {option} cannot be set from the provided argument(s):\n<{value}>\nError: {why}",
        command,
    )


def _snowflake(invocation: Invocation, name: str) -> int | None:
    value = invocation.text(name)
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _conversion(
            f"--{name}", value, f"Invalid snowflake '{value}'.", invocation.command
        ) from None
    return snowflake_at(int(moment.astimezone().timestamp() * 1000))


def _partition(invocation: Invocation) -> tuple[int | None, int | None]:
    value = invocation.text("partition")
    if value is None:
        return None, None
    if value.isdigit():
        return int(value), None
    if match := _SIZE.match(value.strip()):
        return None, int(float(match[1]) * _UNITS[match[2].lower()])
    why = f"Invalid partition limit '{value}'."
    raise _conversion("-p|--partition", value, why, invocation.command)


def _settings(invocation: Invocation) -> ExportSettings:
    messages, size = _partition(invocation)
    return ExportSettings(
        output=invocation.text("output") or os.getcwd(),
        after=_snowflake(invocation, "after"),
        before=_snowflake(invocation, "before"),
        partition_messages=messages,
        partition_bytes=size,
        utc=invocation.boolean("utc"),
        media=invocation.boolean("media"),
        reuse_media=invocation.boolean("reuse-media"),
        media_dir=invocation.text("media-dir"),
        reverse=invocation.boolean("reverse"),
    )


def _check_format(invocation: Invocation) -> None:
    value = invocation.text("format") or "HtmlDark"
    if value.lower() not in _FORMATS:
        why = f"Value '{value}' is not a valid ExportFormat."
        raise _conversion("-f|--format", value, why, invocation.command)


def _check_channels(invocation: Invocation) -> None:
    for value in invocation.values.get("channel", []):
        if not value.isdigit():
            why = f"Invalid snowflake '{value}'."
            raise _conversion("-c|--channel", value, why, invocation.command)


def _hang(hard: bool) -> None:
    """The sandbox's hang fault: no output, never exits (``hard``: ignores SIGTERM too)."""
    if hard:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        signal.pause()


def _ask_sandbox(http: DceHttp, channel_ids: list[str], environ: dict[str, str]) -> dict[str, str]:
    """Apply the sandbox's instructions: scale waits, hang now, or say which channels to
    crash on or to fail as forbidden / not found."""
    http.time_scale = float(environ.get("DMJ_SANDBOX_DCE_TIME_SCALE") or 1)
    faults = {}
    for channel_id in channel_ids:
        answer = http.sandbox(f"dce/{channel_id}") or {}
        if answer.get("time_scale") is not None:
            http.time_scale = float(answer["time_scale"])
        if answer.get("fault") in ("hang", "hang-hard"):
            _hang(hard=answer["fault"] == "hang-hard")
        if answer.get("fault") is not None:
            faults[channel_id] = str(answer["fault"])
    return faults


def _resolve(http: DceHttp, channel_id: str, faults: dict[str, str]) -> Json:
    """``GET channels/{id}`` (the ``not-found`` fault answers for the API)."""
    if faults.get(channel_id) == "not-found":
        http.detect_token()
        raise DceError(f"Request to 'channels/{channel_id}' failed: not found.")
    result: Json = http.get(f"channels/{channel_id}")
    return result


def _run(invocation: Invocation, environ: dict[str, str], out: TextIO, err: TextIO) -> int:
    command = invocation.command
    if command in ("exportguild", "exportall", "channels", "guilds"):
        raise CommandError(f"dmj's DCE stand-in knows no servers: `{command}` is not available.")
    settings = None
    if command != "dm":
        _check_format(invocation)
        _check_channels(invocation)
        settings = _settings(invocation)
    base = environ.get("DMJ_API_BASE")
    if not base:
        raise CommandError(
            "DMJ_API_BASE is not set: dmj's DCE stand-in talks only to the sandbox emulator "
            "(`dmj sandbox serve` prints the value)."
        )
    token = invocation.text("token") or ""
    http = DceHttp(base, token, respect_rate_limits=invocation.boolean("respect-rate-limits", True))
    if invocation.values.get("bot") == ["true"]:
        err.write("Warning: The --bot option is deprecated and should not be used.\n")
    try:
        return _run_with(http, invocation, settings, environ=environ, out=out, err=err)
    finally:
        http.close()


def _run_with(
    http: DceHttp,
    invocation: Invocation,
    settings: ExportSettings | None,
    *,
    environ: dict[str, str],
    out: TextIO,
    err: TextIO,
) -> int:
    command = invocation.command
    if settings is None:  # the ``dm`` command
        return _list_dms(http, out)
    faults = _ask_sandbox(http, invocation.values.get("channel", []), environ)
    settings = dataclasses.replace(settings, faults=faults)
    if not invocation.boolean("fuck-russia"):
        out.write(_BANNER)
    if command == "export":
        out.write("Resolving channel(s)...\n")
        out.flush()
        channels = [_resolve(http, cid, faults) for cid in invocation.values["channel"]]
    else:
        out.write("Fetching channels...\n")
        out.flush()
        channels = [c for c in http.get("users/@me/channels") if c["type"] in (1, 3)]
    _check_export_options(invocation, settings)
    return export_channels(http, channels, settings, out, err)


def _check_export_options(invocation: Invocation, settings: ExportSettings) -> None:
    if settings.reuse_media and not settings.media:
        raise CommandError("Option --reuse-media cannot be used without --media.")
    if settings.media_dir and not settings.media:
        raise CommandError("Option --media-dir cannot be used without --media.")
    if invocation.text("filter") is not None:
        raise CommandError("dmj's DCE stand-in does not implement --filter.")
    if (invocation.text("format") or "HtmlDark").lower() != "json":
        raise CommandError("dmj's DCE stand-in writes only the Json format; pass -f Json.")


def _list_dms(http: DceHttp, out: TextIO) -> int:
    channels = sorted(
        http.get("users/@me/channels"), key=lambda c: -int(c.get("last_message_id") or c["id"])
    )
    width = max((len(c["id"]) for c in channels), default=0)
    out.writelines(f"{c['id']:>{width}} | {channel_name(c)}\n" for c in channels)
    return 0


def _crash(error: DceError, err: TextIO) -> None:
    kind = "DiscordChatExporter.Core.Exceptions.DiscordChatExporterException"
    if error.kind == "Http":
        kind = "System.Net.Http.HttpRequestException"
    err.write(f"ERROR\n{kind}: {error}\n")
    err.write(
        "   at DiscordChatExporter.Core.Discord.DiscordClient.GetJsonResponseAsync(String url, "
        "CancellationToken cancellationToken)\n"
        "   at CliFx.CliApplication.RunAsync(ApplicationSchema applicationSchema, "
        "CommandInput commandInput)\n"
    )


def main(argv: list[str], environ: dict[str, str], out: TextIO, err: TextIO) -> int:
    """Run like ``DiscordChatExporter.Cli argv…``; returns the exit code (0 or 1)."""
    try:
        invocation = parse(argv, environ)
        if "version" in invocation.flags:
            out.write(DCE_VERSION + "\n")
        elif "help" in invocation.flags or invocation.command is None:
            out.write(help_text(invocation.command))
        elif invocation.command == "guide":
            out.write(_GUIDE)
        else:
            return _run(invocation, environ, out, err)
        return 0
    except ArgumentError as error:
        err.write(f"{error}\n")
        out.write("\n" + help_text(error.command))
        return 1
    except CommandError as error:
        out.flush()
        err.write(f"{error}\n")
        return 1
    except DceError as error:
        out.flush()
        _crash(error, err)
        return 1
    except DiskFull as error:
        out.flush()
        err.write(
            f"ERROR\nSystem.IO.IOException: {error}\n"
            "   at System.IO.RandomAccess.WriteAtOffset(SafeFileHandle handle, "
            "ReadOnlySpan`1 buffer, Int64 fileOffset)\n"
            "   at CliFx.CliApplication.RunAsync(ApplicationSchema applicationSchema, "
            "CommandInput commandInput)\n"
        )
        return 1


if __name__ == "__main__":
    code = main(sys.argv[1:], dict(os.environ), sys.stdout, sys.stderr)
    sys.stdout.flush()
    sys.exit(code)

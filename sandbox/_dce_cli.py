"""The DCE stand-in's command line, parsed by CliFx 2.3.6's rules (dce.md §1.1-1.4).

``--name value`` or ``-x value`` (never ``--name=value``: that is an unknown option), every
following token up to the next option is a value, bool options are bare flags or take
``true``/``false``, argv beats the environment, ``--version`` exists on the root only.
Stdlib only: this runs once per exported DM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["COMMANDS", "DCE_VERSION", "ArgumentError", "Invocation", "help_text", "parse"]

DCE_VERSION = "v2.47.0"
_EXE = "DiscordChatExporter.Cli"


@dataclass(frozen=True)
class Option:
    name: str
    short: str = ""
    kind: str = "str"  # str | bool | list
    required: bool = False
    env: str = ""
    text: str = ""

    @property
    def label(self) -> str:
        return f"-{self.short}|--{self.name}" if self.short else f"--{self.name}"


_TOKEN = [
    Option("token", "t", required=True, env="DISCORD_TOKEN", text="Authentication token."),
    Option("bot", "b", "bool", env="DISCORD_TOKEN_BOT", text="This option doesn't do anything."),
    Option("respect-rate-limits", kind="bool", text="Whether to respect advisory rate limits."),
]
_EXPORT = [
    Option("output", "o", text="Output file or directory path."),
    Option("format", "f", text="Export format."),
    Option("after", text="Only include messages sent after this date or message ID."),
    Option("before", text="Only include messages sent before this date or message ID."),
    Option("partition", "p", text="Split the output into partitions (e.g. '100' or '10mb')."),
    Option("include-threads", text="Which types of threads should be included."),
    Option("filter", text="Only include messages that satisfy this filter."),
    Option("parallel", text="Limits how many channels can be exported in parallel."),
    Option("reverse", kind="bool", text="Export in reverse chronological order."),
    Option("markdown", kind="bool", text="Process markdown, mentions, and other special tokens."),
    Option("media", kind="bool", text="Download assets referenced by the export."),
    Option("reuse-media", kind="bool", text="Reuse previously downloaded assets."),
    Option("media-dir", text="Download assets to this directory."),
    Option("dateformat", text="This option doesn't do anything."),
    Option("locale", text="Locale to use when formatting dates and numbers."),
    Option("utc", kind="bool", text="Normalize all timestamps to UTC+0."),
    Option(
        "fuck-russia",
        kind="bool",
        env="FUCK_RUSSIA",
        text="Don't print the Support Ukraine message to the console.",
    ),
]
_CHANNEL = Option("channel", "c", "list", required=True, text="Channel ID(s).")
_GUILD = Option("guild", "g", required=True, text="Server ID.")

COMMANDS: dict[str, tuple[str, list[Option]]] = {
    "export": ("Exports one or multiple channels.", [_CHANNEL, *_TOKEN, *_EXPORT]),
    "exportdm": ("Exports all direct message channels.", [*_TOKEN, *_EXPORT]),
    "exportguild": (
        "Exports all channels within the specified server.",
        [_GUILD, *_TOKEN, *_EXPORT],
    ),
    "exportall": ("Exports all accessible channels.", [*_TOKEN, *_EXPORT]),
    "channels": ("Gets the list of channels in a server.", [_GUILD, *_TOKEN]),
    "dm": ("Gets the list of all direct message channels.", list(_TOKEN)),
    "guilds": ("Gets the list of accessible servers.", list(_TOKEN)),
    "guide": ("Explains how to obtain the token, server or channel ID.", []),
}


class ArgumentError(Exception):
    """A CliFx input error: printed on stderr, then the command's help on stdout, exit 1."""

    def __init__(self, message: str, command: str | None) -> None:
        super().__init__(message)
        self.command = command


@dataclass
class Invocation:
    """What the command line asked for."""

    command: str | None
    """None: the root command."""
    values: dict[str, list[str]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    """``help`` and ``version``."""

    def text(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None

    def boolean(self, name: str, default: bool = False) -> bool:
        found = self.values.get(name)
        return default if found is None else found == ["true"]


_NAME = re.compile(r"^--[A-Za-z]")
_SHORTS = re.compile(r"^-[A-Za-z]+$")


def _group(tokens: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Split tokens into leading parameters and ``(option token, values)`` pairs."""
    params: list[str] = []
    options: list[tuple[str, list[str]]] = []
    for token in tokens:
        if _NAME.match(token):
            options.append((token, []))
        elif _SHORTS.match(token):
            options.extend((f"-{ch}", []) for ch in token[1:])
        elif options:
            options[-1][1].append(token)
        else:
            params.append(token)
    return params, options


def _lookup(options: list[Option], token: str) -> Option | None:
    for option in options:
        if token in (f"--{option.name}", f"-{option.short}" if option.short else ""):
            return option
    return None


def parse(argv: list[str], environ: dict[str, str]) -> Invocation:
    """Parse ``argv`` like CliFx; raises ``ArgumentError`` with CliFx's message."""
    command = argv[0].lower() if argv and argv[0].lower() in COMMANDS else None
    params, raw = _group(argv[1:] if command else argv)
    invocation = Invocation(command)
    known = COMMANDS[command][1] if command else []
    unknown: list[str] = []
    for word, values in raw:
        if word in ("--help", "-h"):
            invocation.flags.add("help")
        elif word == "--version" and command is None:
            invocation.flags.add("version")
        elif (option := _lookup(known, word)) is None:
            unknown.append(word)
        else:
            invocation.values[option.name] = _convert(option, values, command)
    if invocation.flags:
        return invocation
    if params:
        raise ArgumentError("Unexpected parameter(s):\n" + " ".join(params), command)
    if unknown:
        raise ArgumentError("Unrecognized option(s):\n" + ", ".join(unknown), command)
    _apply_environment(invocation, known, environ)
    missing = [o.label for o in known if o.required and o.name not in invocation.values]
    if missing:
        raise ArgumentError("Missing required option(s):\n" + ", ".join(missing), command)
    return invocation


def _convert(option: Option, values: list[str], command: str | None) -> list[str]:
    if option.kind == "list":
        return values
    if option.kind == "bool":
        if not values:
            return ["true"]
        if len(values) == 1 and values[0].lower() in ("true", "false"):
            return [values[0].lower()]
        shown = " ".join(f"<{v}>" for v in values)
        raise ArgumentError(
            f"Option {option.label} cannot be set from the provided argument(s):\n{shown}\n"
            f"Error: String '{' '.join(values)}' was not recognized as a valid Boolean.",
            command,
        )
    if len(values) != 1:
        shown = " ".join(f"<{v}>" for v in values)
        raise ArgumentError(
            f"Option {option.label} expects a single argument, but provided with multiple:\n{shown}"
            if values
            else f"Option {option.label} expects a single argument, but none provided.",
            command,
        )
    return values


def _apply_environment(
    invocation: Invocation, known: list[Option], environ: dict[str, str]
) -> None:
    for option in known:
        if option.name in invocation.values or not option.env or option.env not in environ:
            continue
        raw = environ[option.env]
        if option.kind == "bool":
            invocation.values[option.name] = [
                "true" if raw.strip() in ("", "1") or raw.lower() == "true" else "false"
            ]
        elif raw:
            invocation.values[option.name] = [raw]


def help_text(command: str | None) -> str:
    """CliFx's help for ``command`` (None: the root)."""
    lines = [f"{_EXE} {DCE_VERSION}", "", "USAGE"]
    if command is None:
        lines += [f"  {_EXE} [options]", f"  {_EXE} [command] [...]", "", "OPTIONS"]
        lines += [
            "  -h|--help         Shows help text.",
            "  --version         Shows version information.",
        ]
        lines += ["", "COMMANDS"]
        lines += [f"  {name:<18}{COMMANDS[name][0]}" for name in sorted(COMMANDS)]
        lines += ["", f"You can run `{_EXE} [command] --help` to show help on a specific command."]
        return "\n".join(lines) + "\n"
    description, options = COMMANDS[command]
    required = " ".join(
        f"--{o.name} <{'values...' if o.kind == 'list' else 'value'}>"
        for o in options
        if o.required
    )
    lines += [f"  {_EXE} {command} {required} [options]".replace("  [", " ["), "", "DESCRIPTION"]
    lines += [f"  {description}", "", "OPTIONS"]
    for option in options:
        env = f" Environment variable: {option.env}." if option.env else ""
        lines.append(f"{'* ' if option.required else '  '}{option.label:<24}{option.text}{env}")
    lines.append(f"  {'-h|--help':<24}Shows help text.")
    return "\n".join(lines) + "\n"

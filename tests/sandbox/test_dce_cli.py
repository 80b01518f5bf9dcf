"""The DCE stand-in's command line against dce.md §1-2: CliFx syntax, texts, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from dmj.sandbox import Sandbox

from tests.sandbox.dce_helpers import run_in_process, run_launcher

ENV = {"DMJ_API_BASE": "http://127.0.0.1:9/api/v9"}
BANNER_TOP = "┌────────────────────────────────────────────────────────────────────┐"


def test_the_launcher_runs_the_stand_in_and_reports_dces_version(sandbox: Sandbox) -> None:
    ran = run_launcher(sandbox, ["--version"], {})
    assert (ran.code, ran.out, ran.err) == (0, "v2.47.0\n", "")


def test_version_exists_only_on_the_root_command() -> None:
    ran = run_in_process(["export", "--version"], ENV)
    assert ran.code == 1
    assert ran.err == "Unrecognized option(s):\n--version\n"
    assert ran.out.startswith(
        "\nDiscordChatExporter.Cli v2.47.0\n\nUSAGE\n  DiscordChatExporter.Cli export"
    )


@pytest.mark.parametrize("argv", [[], ["-h"], ["--help"]], ids=["bare", "-h", "--help"])
def test_no_arguments_or_help_print_the_root_help_and_succeed(argv: list[str]) -> None:
    ran = run_in_process(argv, {})
    assert ran.code == 0
    assert ran.out.startswith("DiscordChatExporter.Cli v2.47.0\n\nUSAGE\n")
    assert "\nCOMMANDS\n" in ran.out
    assert "  export            Exports one or multiple channels.\n" in ran.out


def test_command_help_marks_required_options() -> None:
    ran = run_in_process(["export", "--help"], {})
    assert ran.code == 0
    assert "* -c|--channel" in ran.out
    assert "* -t|--token" in ran.out
    assert "Environment variable: DISCORD_TOKEN." in ran.out
    assert "--fuck-russia" in ran.out
    assert "Environment variable: FUCK_RUSSIA." in ran.out


def test_commands_are_case_insensitive() -> None:
    assert run_in_process(["EXPORT", "--help"], {}).out.startswith("DiscordChatExporter.Cli")


def test_name_equals_value_is_an_unknown_option_as_in_clifx() -> None:
    ran = run_in_process(["export", "-c", "1", "-t", "x", "--output=out"], ENV)
    assert (ran.code, ran.err) == (1, "Unrecognized option(s):\n--output=out\n")


def test_missing_required_options_are_listed() -> None:
    ran = run_in_process(["export", "-f", "Json"], ENV)
    assert ran.code == 1
    assert ran.err == "Missing required option(s):\n-c|--channel, -t|--token\n"
    assert ran.out.startswith("\nDiscordChatExporter.Cli v2.47.0")


def test_an_unknown_command_is_an_unexpected_parameter() -> None:
    ran = run_in_process(["frobnicate"], ENV)
    assert (ran.code, ran.err) == (1, "Unexpected parameter(s):\nfrobnicate\n")


CONVERSIONS = [
    (["-f", "Xml"], "Option -f|--format cannot be set from the provided argument(s):\n<Xml>\n"),
    (
        ["--after", "soon"],
        "Option --after cannot be set from the provided argument(s):\n<soon>\n"
        "Error: Invalid snowflake 'soon'.\n",
    ),
    (
        ["-p", "lots"],
        "Option -p|--partition cannot be set from the provided argument(s):\n<lots>\n",
    ),
    (["--utc", "maybe"], "Option --utc cannot be set from the provided argument(s):\n<maybe>\n"),
    (
        ["-f", "Json", "Csv"],
        "Option -f|--format expects a single argument, but provided with multiple:\n<Json> <Csv>\n",
    ),
    (["-c", "abc"], "Option -c|--channel cannot be set from the provided argument(s):\n<abc>\n"),
]


@pytest.mark.parametrize(("argv", "message"), CONVERSIONS)
def test_a_value_that_does_not_convert_is_an_argument_error(argv: list[str], message: str) -> None:
    base = ["export", "-t", "x", *([] if "-c" in argv else ["-c", "1"])]
    ran = run_in_process([*base, *argv], ENV)
    assert ran.code == 1
    assert ran.err.startswith(message)


def test_the_token_comes_from_the_environment_when_not_given(tmp_path: Path) -> None:
    ran = run_in_process(["export", "-c", "1", "-f", "Json", "-o", str(tmp_path) + "/"], {})
    assert "Missing required option(s):\n-t|--token" in ran.err
    with_env = run_in_process(["export", "-c", "1", "-f", "Json"], {"DISCORD_TOKEN": "x"})
    assert "Missing required" not in with_env.err
    assert "DMJ_API_BASE is not set" in with_env.err


def test_without_an_api_base_the_stand_in_refuses_to_guess() -> None:
    ran = run_in_process(["export", "-c", "1", "-t", "x", "-f", "Json"], {})
    assert ran.code == 1
    assert ran.err == (
        "DMJ_API_BASE is not set: dmj's DCE stand-in talks only to the sandbox emulator "
        "(`dmj sandbox serve` prints the value).\n"
    )


def test_commands_the_sandbox_cannot_serve_say_so() -> None:
    ran = run_in_process(["exportguild", "-g", "1", "-t", "x"], ENV)
    assert (ran.code, ran.err) == (
        1,
        "dmj's DCE stand-in knows no servers: `exportguild` is not available.\n",
    )


def test_guide_needs_no_token() -> None:
    ran = run_in_process(["guide"], {})
    assert ran.code == 0
    assert "Authorization header" in ran.out

"""An export counts only when every JSON part is whole, names the channel and adds up;
a failure is classed from DCE's own texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dmj.adapters import ExportResult
from dmj.adapters._dce_output import OutputProblem, classify_failure, last_words, read_export

CHANNEL = "849262077135474718"


def part(channel: str, ids: list[int], count: int | None = None) -> str:
    messages = [{"id": str(i), "type": "Default", "content": "hi", "author": {"id": "1"}}
                for i in ids]  # fmt: skip
    document = {
        "guild": {"id": "0", "name": "Direct Messages"},
        "channel": {"id": channel, "type": "DirectTextChat", "name": "Alice"},
        "messages": messages,
        "messageCount": len(ids) if count is None else count,
    }
    return json.dumps(document, indent=2)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content)
    return folder


NAME = f"Direct Messages - Alice [{CHANNEL}]"


def test_parts_are_read_in_part_order_and_summed(tmp_path: Path) -> None:
    folder = write(tmp_path / "out", {
        f"{NAME} [part 10].json": part(CHANNEL, [50]),
        f"{NAME}.json": part(CHANNEL, [10, 11]),
        f"{NAME} [part 2].json": part(CHANNEL, [20, 21]),
        f"{NAME} [part 3].json": part(CHANNEL, [30]),
    })  # fmt: skip
    assert read_export(folder, CHANNEL) == ExportResult(
        channel_id=CHANNEL,
        message_count=6,
        last_message_id="50",
        files=(
            f"{NAME}.json",
            f"{NAME} [part 2].json",
            f"{NAME} [part 3].json",
            f"{NAME} [part 10].json",
        ),
    )


def test_an_empty_export_has_no_last_message(tmp_path: Path) -> None:
    folder = write(tmp_path / "out", {f"{NAME}.json": part(CHANNEL, [])})
    result = read_export(folder, CHANNEL)
    assert (result.message_count, result.last_message_id) == (0, None)


def test_message_ids_compare_as_numbers(tmp_path: Path) -> None:
    folder = write(tmp_path / "out", {f"{NAME}.json": part(CHANNEL, [999, 1000])})
    assert read_export(folder, CHANNEL).last_message_id == "1000"


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({}, "it wrote no JSON file"),
        ({f"{NAME}.json": part(CHANNEL, [1, 2])[:-40]},
         f"{NAME}.json is not a complete DCE JSON file"),
        ({f"{NAME}.json": part("123", [1])}, f"{NAME}.json holds channel 123, not {CHANNEL}"),
        ({f"{NAME}.json": part(CHANNEL, [1, 2], count=3)},
         f"{NAME}.json holds 2 messages but says 3"),
        ({f"{NAME}.json": part(CHANNEL, [1]), f"{NAME} [part 2].json": "{"},
         f"{NAME} [part 2].json is not a complete DCE JSON file"),
    ],
    ids=["nothing", "cut-off", "other-channel", "count-mismatch", "bad-second-part"],
)  # fmt: skip
def test_incomplete_output_is_a_problem(
    tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    folder = write(tmp_path / "out", files)
    with pytest.raises(OutputProblem, match=problem.replace("[", r"\[").replace("]", r"\]")):
        read_export(folder, CHANNEL)


FATAL_ERROR = """ERROR
DiscordChatExporter.Core.Exceptions.DiscordChatExporterException: {}
   at DiscordChatExporter.Core.Discord.DiscordClient.GetJsonResponseAsync(String url)"""


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (FATAL_ERROR.format("Authentication token is invalid."), "fatal"),
        (FATAL_ERROR.format("Request to 'channels/1/messages?limit=100&after=0' failed: bad "
                            "request.\nResponse content: <html>Cloudflare</html>"), "fatal"),
        (FATAL_ERROR.format("Request to 'users/@me/channels' failed: too many requests."),
         "fatal"),
        (FATAL_ERROR.format("Request to 'channels/1' failed: service unavailable."), "fatal"),
        ("Missing required option(s):\n-c|--channel", "fatal"),
        ("Unrecognized option(s):\n--foo", "fatal"),
        ("Option --reuse-media cannot be used without --media.", "fatal"),
        (FATAL_ERROR.format("Request to 'channels/849262077135474718' failed: not found."),
         "permanent"),
        ("Failed to export the following channel(s):\nAlice: Request to "
         "'channels/1/messages?limit=1' failed: forbidden.\n\nExport failed.", "permanent"),
        ("Failed to export the following channel(s):\nAlice: Request to 'channels/1' failed: "
         "not found.\n", "permanent"),
        ("Unhandled exception. System.IO.IOException: No space left on device", "transient"),
        ("", "transient"),
    ],
)  # fmt: skip
def test_failures_are_classed_from_dces_texts(stderr: str, expected: str) -> None:
    error_class, reason = classify_failure(stderr)
    assert error_class == expected
    assert reason


@pytest.mark.parametrize(
    ("stderr", "words"),
    [
        ("ERROR\nSystem.IO.IOException: No space left on device : '/a/x [1].json'\n"
         "   at System.IO.RandomAccess.WriteAtOffset(SafeFileHandle handle)\n"
         "   at DiscordChatExporter.Cli.Commands.Base.ExportCommandBase.ExportAsync()\n",
         "No space left on device : '/a/x [1].json'"),
        ("ERROR\nSystem.AggregateException: One or more errors occurred. (x)\n"
         " ---> System.IO.IOException: No space left on device\n   at X.Y()\n"
         "   --- End of inner exception stack trace ---\n   at Z.W()\n",
         "No space left on device"),
        ("Unhandled exception. System.OutOfMemoryException: Insufficient memory.",
         "Insufficient memory."),
        ("Failed to export the following channel(s):\nAlice: Request to "
         "'channels/1/messages?limit=1' failed: forbidden.\n\nExport failed.\n",
         "Alice: Request to 'channels/1/messages?limit=1' failed: forbidden."),
        ("Segmentation fault (core dumped)\n\n", "Segmentation fault (core dumped)"),
        ("\n  \nERROR\n", None),
    ],
    ids=["io-exception", "inner-exception", "unhandled", "dce-report", "plain", "nothing"],
)  # fmt: skip
def test_dces_last_words_are_its_last_meaningful_line(stderr: str, words: str | None) -> None:
    assert last_words(stderr) == words


def test_a_failure_without_a_known_text_quotes_what_dce_said_last() -> None:
    stderr = "ERROR\nSystem.IO.IOException: No space left on device\n   at X.Y()\n"
    assert classify_failure(stderr) == ("transient", "DCE said “No space left on device”")
    assert classify_failure("") == ("transient", "DCE failed without a known reason")

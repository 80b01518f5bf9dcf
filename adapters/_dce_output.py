"""Judging a DCE export: did it succeed, what did it write, and if not, what kind of failure.

DCE's exit code is not enough (a multi-channel run exits 0 with failures; a killed run leaves
a cut-off file), so success is: exit 0, no ``Failed to export`` on stderr, and every JSON
part parses, names the channel and holds as many messages as its ``messageCount`` says.
Failures are classed from DCE's own texts (``reference/dce.md`` §2.3).
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
from dmj.machine.events import ErrorClass

__all__ = [
    "ExportResult",
    "MediaFile",
    "OutputProblem",
    "classify_failure",
    "last_words",
    "read_export",
]


class MediaFile(msgspec.Struct, frozen=True, kw_only=True):
    """A file of the media folder an export refers to (``--media``).

    ``size`` is the attachment's ``fileSizeBytes`` (what Discord says the file holds); None
    for the other assets (avatars, icons, emoji), whose size the export does not say.
    """

    path: Path
    size: int | None


class ExportResult(msgspec.Struct, frozen=True, kw_only=True):
    """A verified DCE export of one channel."""

    channel_id: str
    message_count: int
    last_message_id: str | None
    """The newest message's id: the ``--after`` of the next incremental export."""
    files: tuple[str, ...]
    """The JSON parts, by file name inside the output folder, in part order."""
    media: tuple[MediaFile, ...] = ()
    """The files of the media folder the parts refer to (when exported with a media folder)."""


class _Channel(msgspec.Struct):
    id: str


class _Attachment(msgspec.Struct, rename="camel"):
    url: str
    file_size_bytes: int = -1


class _Message(msgspec.Struct):
    id: str
    attachments: list[_Attachment] = []


class _Part(msgspec.Struct, rename="camel"):
    """The parts of a DCE JSON file the check reads (the rest is skipped while decoding)."""

    channel: _Channel
    messages: list[_Message]
    message_count: int


_PART = msgspec.json.Decoder(_Part)
_PART_NUMBER = re.compile(r" \[part (\d+)\]\.json$")


class OutputProblem(Exception):
    """DCE's output folder does not hold a complete export; the message says why."""


def read_export(folder: Path, channel_id: str, media_dir: Path | None = None) -> ExportResult:
    """Verify every JSON part in ``folder`` and sum them up; raises ``OutputProblem``.

    With ``media_dir``, also list the files of that folder the parts refer to.
    """
    parts = sorted(folder.glob("*.json"), key=_part_number)
    if not parts:
        raise OutputProblem("it wrote no JSON file")
    count, last = 0, None
    media: dict[Path, int | None] = {}
    for path in parts:
        data, part = _read_part(path)
        if part.channel.id != channel_id:
            raise OutputProblem(f"{path.name} holds channel {part.channel.id}, not {channel_id}")
        if len(part.messages) != part.message_count:
            raise OutputProblem(
                f"{path.name} holds {len(part.messages)} messages but says {part.message_count}"
            )
        count += part.message_count
        ids = [int(m.id) for m in part.messages if m.id.isdigit()]
        if ids:
            last = max(ids) if last is None else max(last, *ids)
        if media_dir is not None:
            _gather_media(media, data, part, media_dir)
    return ExportResult(
        channel_id=channel_id,
        message_count=count,
        last_message_id=None if last is None else str(last),
        files=tuple(p.name for p in parts),
        media=tuple(MediaFile(path=p, size=size) for p, size in sorted(media.items())),
    )


def _gather_media(media: dict[Path, int | None], data: bytes, part: _Part, media_dir: Path) -> None:
    """Add the files of ``media_dir`` that ``data`` refers to: every string that is a path
    in it (DCE writes absolute paths for a media folder outside the output folder), with the
    attachments' sizes."""
    folders = {str(media_dir), str(media_dir.resolve())}
    for folder in folders:
        prefix = msgspec.json.encode(folder + "/")[:-1]  # the opening quote and the escaped path
        for match in re.finditer(re.escape(prefix) + rb'(?:[^"\\]|\\.)*"', data):
            media.setdefault(Path(msgspec.json.decode(match[0], type=str)), None)
    for message in part.messages:
        for attachment in message.attachments:
            path = Path(attachment.url)
            if path in media and attachment.file_size_bytes >= 0:
                media[path] = attachment.file_size_bytes


def _part_number(path: Path) -> int:
    match = _PART_NUMBER.search(path.name)
    return int(match[1]) if match else 1


def _read_part(path: Path) -> tuple[bytes, _Part]:
    try:
        data = path.read_bytes()
        return data, _PART.decode(data)
    except msgspec.DecodeError as exc:
        raise OutputProblem(f"{path.name} is not a complete DCE JSON file ({exc})") from exc
    except OSError as exc:
        raise OutputProblem(f"{path.name} cannot be read ({exc})") from exc


_FATAL_TEXTS = (
    ("Authentication token is invalid.", "Discord rejected the token"),
    ("failed: bad request.", "Discord (or its Cloudflare front) refused a request"),
    ("failed: too many requests.", "DCE ran out of retries on Discord's rate limits"),
    ("MESSAGE_CONTENT", "the token is a bot's without the message-content intent"),
    ("Missing required option", "DCE did not accept dmj's command line"),
    ("Unrecognized option", "DCE did not accept dmj's command line"),
    ("cannot be set from the provided argument", "DCE did not accept dmj's command line"),
    ("cannot be used without", "DCE did not accept dmj's command line"),
)
_PERMANENT_TEXTS = (
    ("failed: forbidden.", "Discord forbids reading this channel"),
    ("failed: not found.", "Discord does not find this channel"),
)
_OTHER_STATUS = re.compile(r"failed: ([a-z][a-z ]+)\.")


def classify_failure(stderr: str) -> tuple[ErrorClass, str]:
    """The class of a failed export from DCE's stderr, and a short reason for messages.

    ``fatal``: DCE cannot go on (token, Cloudflare, retries used up): the run pauses.
    ``permanent``: this channel is forbidden or gone. ``transient``: anything else, whose
    reason quotes DCE's last meaningful line when it left one (``last_words``).
    """
    tables: tuple[tuple[ErrorClass, tuple[tuple[str, str], ...]], ...] = (
        ("fatal", _FATAL_TEXTS),
        ("permanent", _PERMANENT_TEXTS),
    )
    for error_class, texts in tables:
        for text, reason in texts:
            if text in stderr:
                return error_class, reason
    if match := _OTHER_STATUS.search(stderr):
        return "fatal", f"DCE ran out of retries ({match[1]})"
    if said := last_words(stderr):
        return "transient", f"DCE said “{said}”"
    return "transient", "DCE failed without a known reason"


_NOISE = (
    "ERROR",
    "Export failed.",
    "Failed to export the following channel(s):",
    "Warnings reported for the following channel(s):",
    "Response content:",
    "--- End of",
    "at ",
)
"""How the lines of DCE's error reports that say nothing of the cause begin (``at ``: a
.NET stack frame)."""
_EXCEPTION_TYPE = re.compile(
    r"^(?:---> )?(?:Unhandled exception\. )?(?:(?:[\w`]+\.)+[\w`]+|\w*Exception): "
)


def last_words(stderr: str) -> str | None:
    """DCE's last meaningful line on stderr ("No space left on device : '…'"), None if none.

    Stack frames, blank lines and the frames of its reports are skipped; a .NET exception's
    type is left out (the innermost exception comes last, and it names the cause).
    """
    for line in reversed(stderr.splitlines()):
        text = line.strip()
        if text and not text.startswith(_NOISE):
            return _EXCEPTION_TYPE.sub("", text, count=1) or text
    return None

"""The export formats by name: each writer turns meta, a stream of messages and the gaps
into a stream of UTF-8 chunks, so a file, stdout and an HTTP download write the same bytes.
Nothing is held but the message at hand: memory stays flat (docs/export-format.md)."""

from __future__ import annotations

from ._json_writer import write_json
from ._render import ExportMeta, Format, LocalClock, Writer
from ._text_writers import fence_for, write_listing, write_markdown, write_text

__all__ = [
    "FORMATS",
    "ExportMeta",
    "Format",
    "LocalClock",
    "Writer",
    "fence_for",
    "write_json",
    "write_listing",
    "write_markdown",
    "write_text",
]

FORMATS: dict[Format, Writer] = {"json": write_json, "md": write_markdown, "txt": write_text}
"""Each format's writer, by the name ``dmj export`` takes."""

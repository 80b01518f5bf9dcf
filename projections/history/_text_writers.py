"""The Markdown and text exports, and ``dmj show``'s listing (pure).

Markdown puts each body in a fence of backticks one longer than its longest backtick run
(three at least), so no body can close its fence; text writes each body as it is, between a
heading line and its attachment lines (docs/export-format.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import tzinfo

import msgspec

from ._model import Gap, Message, Order
from ._render import BATCH, ExportMeta, LocalClock, Names, one_line, size_text

__all__ = ["SEPARATOR", "fence_for", "write_listing", "write_markdown", "write_text"]

SEPARATOR = "-" * 80
_BACKTICKS = re.compile("`+")
FROM_PACKAGE = " (from your data package)"
"""Ends the heading of a message that is the owner's own, from the package (one-sided)."""
ONE_SIDED = (
    "Only your own messages are kept here, from your data package: the other side of this "
    "conversation is not available."
)
"""Said under a gap whose conversation has the owner's own messages from the package."""


def fence_for(content: str) -> str:
    """Backticks one longer than the longest run in ``content``, three at least."""
    if "`" not in content:
        return "```"
    return "`" * max(3, max(len(run) for run in _BACKTICKS.findall(content)) + 1)


def write_markdown(
    meta: ExportMeta, messages: Iterable[Message], gaps: Sequence[Gap], zone: tzinfo
) -> Iterator[bytes]:
    """The Markdown document: a ```` ```json meta ```` block, the messages, the gaps."""
    head = {"generatedAt": meta.generated, "app": meta.app, "filterInput": meta.filter_input,
            "orderApplied": meta.order, "count": meta.count}  # fmt: skip
    yield b"```json meta\n" + msgspec.json.format(msgspec.json.encode(head), indent=2) + b"\n```\n"
    clock, names = LocalClock(zone), Names()
    parts: list[str] = []
    ordinal = 0
    for ordinal, m in enumerate(messages, start=1):
        fence = fence_for(m.content)
        parts += ("\n## ", str(ordinal), ". ", names.path(m), " — ", names.author(m), " — ",
                  clock(m.ts), FROM_PACKAGE if m.source == "package" else "", "\n\n")  # fmt: skip
        if m.attachments:
            links = ", ".join(
                f"[{_md_name(a.file_name)}]({_md_url(a.url)}){_size(a.size_bytes, m)}"
                for a in m.attachments
            )
            parts += ("Attachments: ", links, "\n\n")
        parts += (fence, "\n", m.content, "\n", fence, "\n")
        if ordinal % BATCH == 0:
            yield "".join(parts).encode()
            parts.clear()
    yield "".join(parts).encode()
    for number, gap in enumerate(gaps, start=ordinal + 1):
        reason = one_line(gap.reason or gap.verdict)
        partial = f">\n> {ONE_SIDED}\n" if gap.partial else ""
        yield (
            f"\n## {number}. {one_line(gap.channel_path)} — error\n\n> Error: {reason}\n{partial}"
        ).encode()


def _size(size: int, m: Message) -> str:
    """`` (2.5 MB)``; nothing for the package's attachments, whose size it does not say."""
    return "" if m.source == "package" else f" ({size_text(size)})"


def _md_name(name: str) -> str:
    return re.sub(r"([\\\[\]`*_<>])", r"\\\1", one_line(name))


def _md_url(url: str) -> str:
    """A link destination: in angle brackets when it holds spaces or parentheses."""
    if re.search(r"[\s()<>]", url):
        return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return url


def write_text(
    meta: ExportMeta, messages: Iterable[Message], gaps: Sequence[Gap], zone: tzinfo
) -> Iterator[bytes]:
    """The plain-text document: ``Meta:``, ``---``, then messages and gaps between rules."""
    head = (
        f"Meta:\n  generatedAt: {meta.generated}\n  app: {meta.app}\n"
        f"  filterInput: {one_line(meta.filter_input)}\n  orderApplied: {meta.order}\n"
        f"  count: {meta.count}\n\n---\n"
    )
    yield head.encode()
    yield from _entries(messages, gaps, zone)


def write_listing(
    messages: Iterable[Message], gaps: Sequence[Gap], *, query: str, order: Order, count: int,
    zone: tzinfo,
) -> Iterator[bytes]:  # fmt: skip
    """What ``dmj show`` prints: the query and the count, then the text format's entries."""
    noun = "message" if count == 1 else "messages"
    gap_note = f", {len(gaps)} without messages" if gaps else ""
    head = f"Query: {one_line(query) or '(everything)'}\n{count:,} {noun}{gap_note}, order: {order}"
    yield f"{head}\n\n".encode()
    yield from _entries(messages, gaps, zone)


def _entries(messages: Iterable[Message], gaps: Sequence[Gap], zone: tzinfo) -> Iterator[bytes]:
    """Each message (heading, verbatim body, attachment lines), then each gap, between rules."""
    clock, names = LocalClock(zone), Names()
    rule = SEPARATOR + "\n"
    parts: list[str] = []
    ordinal = 0
    for ordinal, m in enumerate(messages, start=1):
        if ordinal > 1:
            parts.append(rule)
        parts += ("#", str(ordinal), " ", names.path(m), " — ", names.author(m), " — ",
                  clock(m.ts), FROM_PACKAGE if m.source == "package" else "", "\n", m.content,
                  "\n")  # fmt: skip
        for a in m.attachments:
            parts.append(f"Attachment: {one_line(a.file_name)}{_size(a.size_bytes, m)} {a.url}\n")
        if ordinal % BATCH == 0:
            yield "".join(parts).encode()
            parts.clear()
    yield "".join(parts).encode()
    for number, gap in enumerate(gaps, start=ordinal + 1):
        reason = one_line(gap.reason or gap.verdict)
        between = rule if number > 1 else ""
        partial = f"{ONE_SIDED}\n" if gap.partial else ""
        yield (
            f"{between}#{number} {one_line(gap.channel_path)} [error]\nError: {reason}\n{partial}"
        ).encode()

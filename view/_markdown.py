"""Discord markdown → safe HTML (pure): the one place message content becomes markup.

Message content is untrusted. The renderer never copies input into its output: every piece of
the input reaches the HTML through ``html.escape`` (text, and attribute values with quotes),
and the only markup is the fixed set of tags written here (``ALLOWED_TAGS``, attributes in
``ALLOWED_ATTRIBUTES``). A link keeps its target only when it parses as ``http``/``https``
with a host, and always gets ``rel="noopener noreferrer"``; anything else stays text.

The rules follow Discord's (the ``simple-markdown`` rules its client uses), tried in order at
each position: backslash escapes, code blocks, block quotes (at a line's start), inline
code, links (``<url>``, ``[text](url)``, bare ``https://…``), mentions (``<@id>`` shown as a
name from ``names``, ``<#id>``, ``<@&id>``), custom emoji, ``<t:…>`` times, then
``**bold**``, ``__underline__``, ``*italics*``/``_italics_``, ``~~strike~~``,
``||spoiler||``. Nesting is bounded (``MAX_DEPTH``) and so is the length formatted
(``MAX_FORMATTED``): beyond either, text is escaped as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from html import escape
from urllib.parse import urlsplit

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "MAX_DEPTH",
    "MAX_FORMATTED",
    "Highlighter",
    "render_markdown",
]

ALLOWED_TAGS = frozenset(
    {"strong", "em", "u", "s", "code", "pre", "blockquote", "a", "span", "br", "mark", "time"}
)
ALLOWED_ATTRIBUTES = frozenset({"href", "rel", "target", "class", "datetime"})

MAX_DEPTH = 12
"""Formatting nested deeper than this is shown as text (no recursion blow-up)."""

MAX_FORMATTED = 20_000
"""Longer content (Discord allows 4,000 characters) is escaped, not formatted."""

_Found = tuple[str, int] | None
"""A rule's answer: the HTML of its match and where the match ends, or None."""

Highlighter = Callable[[str], list[tuple[int, int]]]
"""The ``[start, end)`` spans of a run of plain text to wrap in ``<mark>`` (search hits)."""

_LINK_ATTRS = 'rel="noopener noreferrer" target="_blank"'
_URL = r"https?://[^\s<>()]+(?:\([^\s<>()]*\)[^\s<>()]*)*"

_CODE_BLOCK = re.compile(r"```(?:([A-Za-z0-9_+\-.#]+?)\n)?\n*([^\n`][\s\S]*?)\n*```\n?")
_QUOTE_ALL = re.compile(r" *>>>[ \n]([\s\S]*)")
_QUOTE_LINES = re.compile(r"(?: *> [^\n]*(?:\n|$))+")
_QUOTE_PREFIX = re.compile(r"^ *> ", re.MULTILINE)
_INLINE_CODE = re.compile(r"(`+)([\s\S]*?[^`])\1(?!`)")
_ESCAPE = re.compile(r"\\([^0-9A-Za-z\s])")
_AUTOLINK = re.compile(rf"<({_URL})>")
_MASKED = re.compile(rf"\[([^\[\]\n]+)\]\(\s*<?({_URL})>?\s*\)")
_BARE_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
_USER = re.compile(r"<@!?(\d{1,20})>")
_ROLE = re.compile(r"<@&(\d{1,20})>")
_CHANNEL = re.compile(r"<#(\d{1,20})>")
_EMOJI = re.compile(r"<a?:(\w{1,32}):\d{1,20}>")
_TIME = re.compile(r"<t:(-?\d{1,13})(?::[tTdDfFR])?>")
_STRONG = re.compile(r"\*\*([\s\S]+?)\*\*(?!\*)")
_UNDERLINE = re.compile(r"__([\s\S]+?)__(?!_)")
_EM_STAR = re.compile(r"\*(?=\S)([\s\S]*?\S)\*(?!\*)")
_EM_UNDERSCORE = re.compile(r"\b_((?:__|\\[\s\S]|[^\\_])+?)_\b")
_STRIKE = re.compile(r"~~([\s\S]+?)~~(?!~)")
_SPOILER = re.compile(r"\|\|([\s\S]+?)\|\|")
_TEXT = re.compile(r"[\s\S]+?(?=[^0-9A-Za-z\s\u00c0-\uffff]|\n|\w+:\S|$)")

_WRAPPERS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (_STRONG, "<strong>", "</strong>"),
    (_UNDERLINE, "<u>", "</u>"),
    (_EM_STAR, "<em>", "</em>"),
    (_EM_UNDERSCORE, "<em>", "</em>"),
    (_STRIKE, "<s>", "</s>"),
    (_SPOILER, '<span class="spoiler">', "</span>"),
)


def render_markdown(
    content: str,
    names: Mapping[str, str] | None = None,
    *,
    highlight: Highlighter | None = None,
) -> str:
    """``content`` (Discord markdown) as HTML that cannot run anything.

    ``names`` maps user and channel ids to the names mentions show (``<@123>`` → ``@alice``);
    an id it does not know is shown as ``@unknown-user``/``#unknown-channel``. ``highlight``
    marks spans of plain text (never inside code).
    """
    renderer = _Renderer(names or {}, highlight)
    if len(content) > MAX_FORMATTED:
        return renderer.text(content)
    return renderer.inline(content, depth=0, linked=False)


class _Renderer:
    """One rendering: the lookups, and the rules as methods returning HTML strings."""

    def __init__(self, names: Mapping[str, str], highlight: Highlighter | None) -> None:
        self._names = names
        self._highlight = highlight

    def inline(self, source: str, *, depth: int, linked: bool) -> str:
        """``source`` formatted; ``linked``: inside a link's text (no links there)."""
        if depth > MAX_DEPTH:
            return self.text(source)
        out: list[str] = []
        pos = 0
        while pos < len(source):
            html, end = self._rule_at(source, pos, depth, linked)
            out.append(html)
            pos = end
        return "".join(out)

    def _rule_at(self, source: str, pos: int, depth: int, linked: bool) -> tuple[str, int]:
        """The HTML of the first rule matching at ``pos``, and where its match ends."""
        for rule in (
            self._escaped, self._code, self._quote, self._inline_code, self._link,
            self._reference, self._wrapped,
        ):  # fmt: skip
            if (found := rule(source, pos, depth, linked)) is not None:
                return found
        if source[pos] == "\n":
            return "<br>", pos + 1
        m = _TEXT.match(source, pos)
        end = m.end() if m else pos + 1
        return self.text(source[pos:end]), end

    def _escaped(self, source: str, pos: int, depth: int, linked: bool) -> _Found:
        m = _ESCAPE.match(source, pos)
        return (self.text(m[1]), m.end()) if m else None

    def _code(self, source: str, pos: int, depth: int, linked: bool) -> _Found:
        m = _CODE_BLOCK.match(source, pos)
        return (f"<pre><code>{escape(m[2])}</code></pre>", m.end()) if m else None

    def _inline_code(self, source: str, pos: int, depth: int, linked: bool) -> _Found:
        m = _INLINE_CODE.match(source, pos)
        return (f"<code>{escape(m[2].strip(' ') or m[2])}</code>", m.end()) if m else None

    def _wrapped(self, source: str, pos: int, depth: int, linked: bool) -> _Found:
        for pattern, opening, closing in _WRAPPERS:
            if m := pattern.match(source, pos):
                inner = self.inline(m[1], depth=depth + 1, linked=linked)
                return f"{opening}{inner}{closing}", m.end()
        return None

    def _quote(self, source: str, pos: int, depth: int, linked: bool) -> _Found:
        """A block quote: only at the start of a line of the message itself (no nesting)."""
        if depth > 0 or (pos > 0 and source[pos - 1] != "\n"):
            return None
        if m := _QUOTE_ALL.match(source, pos):
            inner = m[1]
        elif m := _QUOTE_LINES.match(source, pos):
            inner = _QUOTE_PREFIX.sub("", m[0]).removesuffix("\n")
        else:
            return None
        body = self.inline(inner, depth=depth + 1, linked=False)
        return f"<blockquote>{body}</blockquote>", m.end()

    def _link(self, source: str, pos: int, depth: int, linked: bool) -> _Found:
        """A link; one whose address is not a web address with a host stays text."""
        if linked:
            return None
        m = _AUTOLINK.match(source, pos) or _BARE_URL.match(source, pos)
        if m is not None:
            url = m[1] if m.lastindex else m[0]
            return _anchor(url, escape(url)) or self.text(m[0]), m.end()
        if m := _MASKED.match(source, pos):
            label = self.inline(m[1], depth=depth + 1, linked=True)
            return _anchor(m[2], label) or self.text(m[0]), m.end()
        return None

    def _reference(self, source: str, pos: int, depth: int, linked: bool) -> _Found:
        """A mention, a custom emoji or a ``<t:…>`` time, or None."""
        if m := _USER.match(source, pos):
            name = self._names.get(m[1])
            shown = f"@{name}" if name is not None else "@unknown-user"
            return f'<span class="mention">{escape(shown)}</span>', m.end()
        if m := _ROLE.match(source, pos):
            return '<span class="mention">@role</span>', m.end()
        if m := _CHANNEL.match(source, pos):
            name = self._names.get(m[1])
            shown = f"#{name}" if name is not None else "#unknown-channel"
            return f'<span class="mention">{escape(shown)}</span>', m.end()
        if m := _EMOJI.match(source, pos):
            return f'<span class="emoji">:{escape(m[1])}:</span>', m.end()
        if (m := _TIME.match(source, pos)) and (moment := _moment(int(m[1]))) is not None:
            stamp = moment.isoformat()
            shown = moment.strftime("%Y-%m-%d %H:%M UTC")
            return f'<time datetime="{escape(stamp)}">{escape(shown)}</time>', m.end()
        return None

    def text(self, run: str) -> str:
        """Plain text: escaped, line breaks kept, highlighted spans marked."""
        spans = self._highlight(run) if self._highlight is not None else []
        out: list[str] = []
        pos = 0
        for start, end in sorted(spans):
            if start < pos or end > len(run):
                continue
            out += [_escape_text(run[pos:start]), "<mark>", _escape_text(run[start:end]), "</mark>"]
            pos = end
        out.append(_escape_text(run[pos:]))
        return "".join(out)


def _escape_text(text: str) -> str:
    return escape(text).replace("\n", "<br>")


def _anchor(url: str, label_html: str) -> str | None:
    """A link to ``url`` if it is a web address with a host, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f'<a href="{escape(url, quote=True)}" {_LINK_ATTRS}>{label_html}</a>'


def _moment(seconds: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None

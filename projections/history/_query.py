"""Reading a history query: Discord's search syntax → a typed ``Query`` (pure).

``parse_query("from:alice flat -from:bob during:2023")`` gives the terms in order, each with
the span of text it came from. Anything that cannot be read raises ``BadQuery``, whose
message quotes the query with a caret under the offending text and lists the valid keys.
The meaning of each term (how it selects messages) lives with the SQL (``_sql.py``) and in
docs/index.md.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal, NoReturn

import msgspec
from dmj.machine.errors import BadQuery

from ._model import Source

__all__ = [
    "HAS_VALUES",
    "KEYS",
    "Author",
    "Conversation",
    "DateBound",
    "Edited",
    "Has",
    "HasWhat",
    "Origin",
    "Query",
    "Relation",
    "Term",
    "Text",
    "parse_query",
]

HasWhat = Literal["attachment", "image", "video", "file", "link", "embed"]
HAS_VALUES: tuple[HasWhat, ...] = ("attachment", "image", "video", "file", "link", "embed")
Relation = Literal["before", "after", "during"]
KEYS = ("from", "in", "has", "before", "after", "during", "is", "source", "last")
"""The query's keys, in the order the error message lists them."""
SOURCES: tuple[Source, ...] = ("discord", "package")
_NEGATABLE = frozenset({"from", "in", "has", "is", "source"})
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_KEY = re.compile(r"([A-Za-z]+):")
_LAST_MAX = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Term(msgspec.Struct, frozen=True, kw_only=True):
    """A term's span in the query text (``start``/``end``: character offsets) and sign."""

    start: int
    end: int
    negated: bool = False


class Text(_Term, frozen=True, kw_only=True):
    """A bare word, or an ``"exact phrase"`` (``phrase``): matched as whole words."""

    text: str
    phrase: bool = False


class Author(_Term, frozen=True, kw_only=True):
    """``from:NAME``: a username, display name or user id; ``from:me`` the owner."""

    name: str


class Conversation(_Term, frozen=True, kw_only=True):
    """``in:NAME``: a conversation by name, a participant's name in a 1-on-1 DM, or its id."""

    name: str


class Has(_Term, frozen=True, kw_only=True):
    what: HasWhat


class Edited(_Term, frozen=True, kw_only=True):
    """``is:edited``."""


class Origin(_Term, frozen=True, kw_only=True):
    """``source:discord`` (archived by DCE) or ``source:package`` (the owner's own messages
    from the data package, in a conversation Discord refuses)."""

    source: Source


class DateBound(_Term, frozen=True, kw_only=True):
    """``before:``/``after:``/``during:`` a local year, month or day."""

    relation: Relation
    year: int
    month: int | None = None
    day: int | None = None

    def bounds(self, zone: tzinfo) -> tuple[int, int]:
        """The local year, month or day as [start, end) in UTC microseconds."""
        first = datetime(self.year, self.month or 1, self.day or 1)
        if self.day is not None:
            after = first + timedelta(days=1)
        elif self.month is not None:
            after = datetime(self.year + self.month // 12, self.month % 12 + 1, 1)
        else:
            after = datetime(self.year + 1, 1, 1)
        return _microseconds(first, zone), _microseconds(after, zone)


def _microseconds(local: datetime, zone: tzinfo) -> int:
    return (local.replace(tzinfo=zone) - _EPOCH) // timedelta(microseconds=1)


Term = Text | Author | Conversation | Has | Edited | Origin | DateBound


class Query(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed query: its ``text``, its ``terms`` in order, and ``last:N`` (``last``)."""

    text: str
    terms: tuple[Term, ...] = ()
    last: int | None = None

    @property
    def highlights(self) -> tuple[str, ...]:
        """What a reader marks in the messages it shows: the words and phrases asked for
        (not those excluded)."""
        return tuple(t.text for t in self.terms if isinstance(t, Text) and not t.negated)


def parse_query(text: str) -> Query:
    """The ``Query`` that ``text`` spells (``BadQuery`` when it cannot be read)."""
    terms: list[Term] = []
    last: int | None = None
    position = 0
    while (start := _skip_space(text, position)) < len(text):
        end = _term_end(text, start)
        term = _term(text, start, end)
        if isinstance(term, int):
            if last is not None:
                _fail(text, start, end, "last: can be given only once")
            last = term
        else:
            terms.append(term)
        position = end
    return Query(text=text, terms=tuple(terms), last=last)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _term_end(text: str, start: int) -> int:
    """Where the term at ``start`` ends: at white space outside quotes."""
    body = start + (text[start] == "-")
    key = _KEY.match(text, body)
    quote = key.end() if key else body
    if quote < len(text) and text[quote] == '"':
        closing = text.find('"', quote + 1)
        if closing < 0:
            _fail(text, quote, len(text), "this quote is never closed; add the closing quote")
        end = closing + 1
        if end < len(text) and not text[end].isspace():
            _fail(text, end, _word_end(text, end), "put a space after the closing quote")
        return end
    return _word_end(text, start)


def _word_end(text: str, position: int) -> int:
    while position < len(text) and not text[position].isspace():
        position += 1
    return position


def _term(text: str, start: int, end: int) -> Term | int:
    raw = text[start:end]
    negated = raw.startswith("-")
    body = raw[1:] if negated else raw
    if not body:
        _fail(text, start, end, "a lone - negates nothing; write -word or -from:NAME")
    key = _KEY.match(body)
    if key is None or body[key.end() :].startswith("//"):  # a bare URL is text, not a key
        if body.startswith('"'):
            return _phrase(text, start, end, body, negated=negated)
        return Text(start=start, end=end, negated=negated, text=body)
    name = key[1].lower()
    if name not in KEYS:
        key_end = start + negated + key.end()
        _fail(text, start + negated, key_end, f"{key[0]} is not a key of the query")
    value = body[key.end() :]
    if value.startswith('"'):
        value = value[1:-1]
    if not value.strip():
        _fail(text, start, end, f"{name}: needs a value, e.g. {_EXAMPLES[name]}")
    if negated and name not in _NEGATABLE:
        _fail(text, start, start + 1, f"{name}: cannot be negated")
    return _keyed(text, start, end, name, value, negated=negated)


def _phrase(text: str, start: int, end: int, body: str, *, negated: bool) -> Text:
    phrase = body[1:-1]
    if not phrase.strip():
        _fail(text, start, end, "an empty phrase matches nothing; put words between the quotes")
    return Text(start=start, end=end, negated=negated, text=phrase, phrase=True)


_EXAMPLES = {
    "from": "from:alice or from:me", "in": 'in:"Trip crew" or in:CHANNEL_ID',
    "has": "has:" + "|".join(HAS_VALUES), "before": "before:2023-05-01",
    "after": "after:2023-05", "during": "during:2023", "is": "is:edited", "last": "last:20",
    "source": "source:discord or source:package",
}  # fmt: skip


def _keyed(text: str, start: int, end: int, key: str, value: str, *, negated: bool) -> Term | int:
    if key == "from":
        return Author(start=start, end=end, negated=negated, name=value)
    if key == "in":
        return Conversation(start=start, end=end, negated=negated, name=value)
    if key in ("has", "is", "source"):
        return _named(text, start, end, key, value, negated=negated)
    if key == "last":
        if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= _LAST_MAX:
            _fail(text, start, end, "last: takes a whole number of messages above 0, e.g. last:20")
        return int(value)
    return _date(text, start, end, key, value)  # type: ignore[arg-type]


def _named(text: str, start: int, end: int, key: str, value: str, *, negated: bool) -> Term:
    """``has:``, ``is:`` and ``source:``: a value from a closed set, any case."""
    if key == "has":
        what = next((h for h in HAS_VALUES if h == value.lower()), None)
        if what is None:
            _fail(text, start, end, f"has: takes one of {', '.join(HAS_VALUES)}")
        return Has(start=start, end=end, negated=negated, what=what)
    if key == "is":
        if value.lower() != "edited":
            _fail(text, start, end, "is: takes edited (is:edited)")
        return Edited(start=start, end=end, negated=negated)
    source = next((o for o in SOURCES if o == value.lower()), None)
    if source is None:
        _fail(text, start, end, "source: takes discord or package")
    return Origin(start=start, end=end, negated=negated, source=source)


def _date(text: str, start: int, end: int, relation: Relation, value: str) -> DateBound:
    match = _DATE.fullmatch(value)
    year, month, day = (int(g) if g else None for g in match.groups()) if match else (0, 0, 0)
    if not _real_date(year or 0, month, day):
        _fail(text, start, end, f"{relation}: takes a date: YYYY, YYYY-MM or YYYY-MM-DD")
    return DateBound(start=start, end=end, relation=relation, year=year or 0, month=month, day=day)


def _real_date(year: int, month: int | None, day: int | None) -> bool:
    if not 1970 <= year <= 9998 or (month is not None and not 1 <= month <= 12):
        return False
    return day is None or (month is not None and 1 <= day <= calendar.monthrange(year, month)[1])


def _fail(text: str, start: int, end: int, problem: str) -> NoReturn:
    shown = "".join(" " if c.isspace() else c for c in text)
    keys = " ".join(f"{key}:" for key in KEYS)
    message = (
        f"The query cannot be read: {problem}.\n"
        f"  {shown}\n"
        f"  {' ' * _width(shown[:start])}{'^' * max(1, _width(shown[start:end]))}\n"
        f'Valid keys: {keys} — plus words, "exact phrases" and -negation; see docs/index.md.'
    )
    raise BadQuery(message, query=text, start=start, end=end)


def _width(text: str) -> int:
    """Terminal columns ``text`` takes: wide East Asian characters 2, marks 0."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )

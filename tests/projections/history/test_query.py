"""The query language: what each query reads as, and every kind of malformed query."""

from __future__ import annotations

import pytest
from dmj.machine.errors import BadQuery, UsageError
from dmj.projections.history import parse_query
from dmj.projections.history._query import (
    Author,
    Conversation,
    DateBound,
    Edited,
    Has,
    Origin,
    Term,
    Text,
)

VALID: list[tuple[str, tuple[Term, ...], int | None]] = [
    ("", (), None),
    ("   ", (), None),
    ("flat", (Text(start=0, end=4, text="flat"),), None),
    ('"the flat" rent', (Text(start=0, end=10, text="the flat", phrase=True),
                         Text(start=11, end=15, text="rent")), None),
    ("from:alice", (Author(start=0, end=10, name="alice"),), None),
    ('from:"Ada L" x', (Author(start=0, end=12, name="Ada L"), Text(start=13, end=14, text="x")),
     None),
    ("FROM:me", (Author(start=0, end=7, name="me"),), None),
    ("-from:bob", (Author(start=0, end=9, negated=True, name="bob"),), None),
    ("in:123456", (Conversation(start=0, end=9, name="123456"),), None),
    ('-in:"Trip crew"', (Conversation(start=0, end=15, negated=True, name="Trip crew"),), None),
    ("has:IMAGE", (Has(start=0, end=9, what="image"),), None),
    ("-has:link", (Has(start=0, end=9, negated=True, what="link"),), None),
    ("is:edited -is:edited", (Edited(start=0, end=9), Edited(start=10, end=20, negated=True)),
     None),
    ("before:2023", (DateBound(start=0, end=11, relation="before", year=2023),), None),
    ("after:2023-02", (DateBound(start=0, end=13, relation="after", year=2023, month=2),), None),
    ("during:2024-02-29", (DateBound(start=0, end=17, relation="during", year=2024, month=2,
                                     day=29),), None),
    ("last:20 flat", (Text(start=8, end=12, text="flat"),), 20),
    ("-word", (Text(start=0, end=5, negated=True, text="word"),), None),
    ('-"two words"', (Text(start=0, end=12, negated=True, text="two words", phrase=True),), None),
    ("https://example.com/a", (Text(start=0, end=21, text="https://example.com/a"),), None),
    ("10:30 🎉", (Text(start=0, end=5, text="10:30"), Text(start=6, end=7, text="🎉")), None),
    ('5"', (Text(start=0, end=2, text='5"'),), None),
    ("source:package", (Origin(start=0, end=14, source="package"),), None),
    ("-SOURCE:Discord", (Origin(start=0, end=15, negated=True, source="discord"),), None),
]  # fmt: skip


@pytest.mark.parametrize(("text", "terms", "last"), VALID, ids=[v[0] or "empty" for v in VALID])
def test_a_valid_query_reads_as_its_terms_in_order(
    text: str, terms: tuple[Term, ...], last: int | None
) -> None:
    query = parse_query(text)
    assert query.terms == terms
    assert query.last == last
    assert query.text == text


MALFORMED: list[tuple[str, str, str]] = [
    ("frm:alice flat", "frm: is not a key of the query", "^^^^"),
    ("flat sourc:x", "sourc: is not a key of the query", "     ^^^^^^"),
    ("from:", "from: needs a value, e.g. from:alice or from:me", "^^^^^"),
    ('from:""', "from: needs a value", "^^^^^^^"),
    ('in:"', "this quote is never closed", "   ^"),
    ('flat "the rent', "this quote is never closed", "     ^^^^^^^^^"),
    ('"a"b', "put a space after the closing quote", "   ^"),
    ('""', "an empty phrase matches nothing", "^^"),
    ("a - b", "a lone - negates nothing", "  ^"),
    ("has:picture", "has: takes one of attachment, image, video, file, link, embed", "^^^^^^^^^^^"),
    ("is:pinned", "is: takes edited", "^^^^^^^^^"),
    ("source:dce", "source: takes discord or package", "^^^^^^^^^^"),
    ("-before:2020", "before: cannot be negated", "^"),
    ("-last:3", "last: cannot be negated", "^"),
    ("before:yesterday", "before: takes a date: YYYY, YYYY-MM or YYYY-MM-DD", "^^^^^^^^^^^^^^^^"),
    ("after:2023-13", "after: takes a date", "^^^^^^^^^^^^^"),
    ("during:2023-02-29", "during: takes a date", "^^^^^^^^^^^^^^^^^"),
    ("during:23", "during: takes a date", "^^^^^^^^^"),
    ("last:0", "last: takes a whole number of messages above 0", "^^^^^^"),
    ("last:ten", "last: takes a whole number", "^^^^^^^^"),
    ("last:2 x last:3", "last: can be given only once", "         ^^^^^^"),
    ("日本 frm:x", "frm: is not a key", "     ^^^^"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "problem", "caret"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_query_is_quoted_with_a_caret_under_the_problem(
    text: str, problem: str, caret: str
) -> None:
    with pytest.raises(BadQuery) as raised:
        parse_query(text)
    error = raised.value
    assert isinstance(error, UsageError), "a bad query is a usage error: exit 2"
    lines = str(error).split("\n")
    assert lines[0].startswith(f"The query cannot be read: {problem}")
    assert lines[1] == f"  {text}"
    assert lines[2] == f"  {caret}"
    assert lines[3].startswith(
        "Valid keys: from: in: has: before: after: during: is: source: last:"
    ), "the valid keys are listed"
    assert error.query == text
    assert text[error.start : error.end].strip(), "the span names the offending text"


def test_the_caret_line_keeps_its_place_when_the_query_holds_tabs_and_newlines() -> None:
    with pytest.raises(BadQuery) as raised:
        parse_query("flat\tfrm:x")
    assert str(raised.value).split("\n")[1:3] == ["  flat frm:x", "       ^^^^"]


def test_the_highlights_are_the_words_and_phrases_asked_for_not_those_excluded() -> None:
    query = parse_query('from:alice "the flat" -rent café 🎉 -"old place" has:image')
    assert query.highlights == ("the flat", "café", "🎉")

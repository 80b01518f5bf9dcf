"""Marking a search's words in the messages it found, as the index matched them (pure).

The index matches whole words without case or accents (``fold``: ``cafe`` finds ``Café``,
``strasse`` finds ``Straße``), so the marks do too: each run of letters and digits of the
text is folded and marked when one of its words is a word of the search. A phrase marks each
of its words; a term with no letter or digit (``🎉``, ``:)``) is marked where it is spelled
exactly, as the index finds it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dmj.projections.history import words

from ._markdown import Highlighter

__all__ = ["words_highlighter"]

_RUN = re.compile(r"(?:[^\W_]|[\u0300-\u036f\ue000-\uf8ff\U000f0000-\U0010fffd])+")
"""A run the index reads as one or more words: letters, digits, combining accents and
private-use characters (``_text.words`` splits the same runs once folded)."""


def words_highlighter(terms: Sequence[str]) -> Highlighter | None:
    """Marks for the search ``terms`` (its words and phrases); None when none is marked."""
    wanted = {word for term in terms for word in words(term)}
    spelled = [term for term in terms if term.strip() and not words(term)]
    if not wanted and not spelled:
        return None

    def spans(text: str) -> list[tuple[int, int]]:
        found = [m.span() for m in _RUN.finditer(text) if wanted.intersection(words(m[0]))]
        for term in spelled:
            start = text.find(term)
            while start >= 0:
                found.append((start, start + len(term)))
                start = text.find(term, start + len(term))
        return _disjoint(found)

    return spans


def _disjoint(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` in order, overlapping ones merged."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

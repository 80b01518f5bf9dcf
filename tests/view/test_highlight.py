"""Search hits are marked as the index matched them: whole words, any case, any accents."""

from __future__ import annotations

import pytest
from dmj.view import render_markdown, words_highlighter


@pytest.mark.parametrize(
    ("terms", "content", "marked"),
    [
        (["cafe"], "Café, CAFE, cafeteria", "<mark>Café</mark>, <mark>CAFE</mark>, cafeteria"),
        (["straße"], "STRASSE strasse", "<mark>STRASSE</mark> <mark>strasse</mark>"),
        (["ιωαννα"], "Ιωάννα!", "<mark>Ιωάννα</mark>!"),
        (["дмитрий"], "Дмитрий", "<mark>Дмитрий</mark>"),
        (["the flat"], "The flat, then the rest", "<mark>The</mark> <mark>flat</mark>, then "
         "<mark>the</mark> rest"),
        (["🎉"], "yay🎉🎉 done", "yay<mark>🎉</mark><mark>🎉</mark> done"),
        (["don't"], "don't stop", "<mark>don</mark>&#x27;<mark>t</mark> stop"),
        (["flat"], "The Flat, flatten `flat`", "The <mark>Flat</mark>, flatten <code>flat</code>"),
    ],
)  # fmt: skip
def test_words_are_marked_whole_without_case_or_accents_never_inside_code(
    terms: list[str], content: str, marked: str
) -> None:
    assert render_markdown(content, highlight=words_highlighter(terms)) == marked


def test_nothing_to_mark_gives_no_highlighter() -> None:
    assert words_highlighter([]) is None
    assert words_highlighter(["", " "]) is None

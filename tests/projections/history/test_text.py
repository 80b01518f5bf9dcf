"""Folding (``_text.fold``) is its definition, however it is computed: casefold, compatibility
decomposition, nonspacing marks (category Mn) dropped — for any text, any script, any mix."""

from __future__ import annotations

import unicodedata

from dmj.projections.history._text import fold
from hypothesis import example, given, settings
from hypothesis import strategies as st


def defined(text: str) -> str:
    """docs/index.md's folding, spelled out character by character."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


PIECES = ["café", "CAFÉ", "Straße", "ﬁne", "Ιωάννα", "ΐ", "İstanbul", "ǅ", "\u210c", "\uff21",
          "й", "e\u0301", "\u0301", "\u0301\u0316", "a\u0316\u0301", "\u0f71\u0f72", "🎉",
          "👍🏽", "한국어", "مرحبا", " ", "  ", "\t", "\n", "x", "X", "\u03c3", "Σ",
          "ς", "\U0001d16d", "\U0001d165", "\U0001d15e", "\u1b44", "\u302e"]  # fmt: skip
"""Words that fold in every way: by decomposition, by case, across pieces, combining marks
alone or reordered, marks that are not Mn (U+1D16D then U+1D165: decomposition swaps
them), letters whose decomposition is upper case."""


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=12).map("".join))
@example("Ὀδυσσεύς ΣΑΣ e\u0301 \u0301x \u0316\u0301a \u210c İ")
@example("\U0001d16d\U0001d165 x\U0001d16d\U0001d15e")
def test_fold_is_casefold_then_decomposition_without_nonspacing_marks(text: str) -> None:
    assert fold(text) == defined(text)


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)))
def test_ascii_folds_to_its_lower_case(text: str) -> None:
    assert fold(text) == text.lower() == defined(text)

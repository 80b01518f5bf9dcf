"""Text rules the index and the queries share: folding, words, links and attachment kinds.

``fold`` makes matching case- and accent-insensitive for every script: the message bodies
are folded before SQLite's full-text index sees them, and so are the query's words, so the
index's tokenizer only has to split words (``unicode61`` alone keeps Greek accents, for
one). A word is a run of letters, digits or private-use characters, as ``unicode61``
splits them: ``don't`` is the two words ``don`` and ``t``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "attachment_kind",
    "fold",
    "has_link",
    "words",
]

_WORD = re.compile(r"(?:[^\W_]|[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd])+")
_LINK = re.compile(r"https?://\S", re.IGNORECASE)

IMAGE_EXTENSIONS = frozenset(
    {"png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff", "heic", "heif", "avif", "svg"}
)
VIDEO_EXTENSIONS = frozenset(
    {"mp4", "mov", "webm", "mkv", "avi", "m4v", "wmv", "flv", "3gp", "mpg", "mpeg"}
)


@cache
def _marks() -> dict[int, None]:
    """Every nonspacing mark (category Mn) → deleted, for ``str.translate``.

    Marks live in planes 0, 1 and 14; scanning those takes ~15 ms, once, and only when a
    text that is not ASCII is folded.
    """
    planes = (range(0x300, 0x20000), range(0xE0000, 0xE1000))
    return {cp: None for span in planes for cp in span if unicodedata.category(chr(cp)) == "Mn"}


def fold(text: str) -> str:
    """``text`` without case and accents: casefold, compatibility decomposition, marks dropped.

    ``Ólafur`` → ``olafur``, ``Straße`` → ``strasse``, ``ﬁ`` → ``fi``, ``Ιωάννα`` → ``ιωαννα``.
    Folded space-separated piece by piece, each piece remembered (words recur: most of a
    text's pieces were folded before), which gives the same text: casefolding maps each
    character on its own, and decomposition reorders only runs of combining characters,
    which a space (a starter) ends.
    """
    if text.isascii():
        return text.lower()
    return " ".join(map(_fold_piece, text.split(" ")))


@lru_cache(maxsize=1 << 16)
def _fold_piece(text: str) -> str:
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.casefold()).translate(_marks())


def words(text: str) -> list[str]:
    """The words of ``text`` after folding, in order (what the full-text index matches)."""
    return _WORD.findall(fold(text))


def has_link(content: str) -> bool:
    """Whether ``content`` holds a web link (``http://`` or ``https://`` and more)."""
    return _LINK.search(content) is not None


def attachment_kind(file_name: str) -> str:
    """``image``, ``video`` or ``file``, by the file name's extension (DCE keeps no type)."""
    extension = file_name.rpartition(".")[2].lower() if "." in file_name else ""
    if extension in IMAGE_EXTENSIONS:
        return "image"
    if extension in VIDEO_EXTENSIONS:
        return "video"
    return "file"

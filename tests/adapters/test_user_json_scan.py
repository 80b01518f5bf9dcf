"""user.json can exceed 100 MB: only its top-level owner fields are read, in chunks."""

from __future__ import annotations

import io
import json

import pytest
from dmj.adapters._package_files import scan_top_level
from hypothesis import given
from hypothesis import strategies as st

WANTED = frozenset({"id", "username", "global_name"})
OWNER_FIELDS = {"id": "111111111111111111", "username": "me", "global_name": "Me"}


class CountingStream(io.BytesIO):
    """A stream that remembers how many bytes were read from it."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def relationships(count: int) -> list[dict[str, object]]:
    return [
        {"id": str(10**17 + i), "type": 1, "nickname": None, "user": {"id": "9", "username": "x"}}
        for i in range(count)
    ]


def test_reading_stops_once_the_owner_fields_are_found() -> None:
    owner = {"id": "111111111111111111", "username": "me", "global_name": "Me"}
    content = json.dumps({**owner, "relationships": relationships(100_000)}).encode()
    assert len(content) > 8_000_000
    stream = CountingStream(content)
    assert scan_top_level(stream, WANTED) == owner
    assert stream.bytes_read <= 1 << 16


def test_nested_values_never_shadow_the_top_level_ones() -> None:
    tricky = {
        "relationships": relationships(3),
        "notes": {"id": "not me", "s": 'a "quoted" {brace} [and] \\ backslash'},
        "settings": [[{"username": "nested"}], "}", "]"],
        "username": "me",
        "global_name": None,
        "discriminator": 0,
        "id": "111111111111111111",
        "flags": [],
    }
    found = scan_top_level(io.BytesIO(json.dumps(tricky).encode()), WANTED)
    assert found == {"id": "111111111111111111", "username": "me", "global_name": None}


def test_a_huge_value_before_the_owner_fields_is_skipped_whole() -> None:
    noisy = [{"note": 'x}]"{[\\', "more": [[{"a": "]]]}"}]] * 3} for _ in range(20_000)]
    content = json.dumps({"relationships": noisy, "settings": {"}": "{"}, **OWNER_FIELDS})
    assert len(content) > 20 * (1 << 16)
    assert scan_top_level(io.BytesIO(content.encode()), WANTED) == OWNER_FIELDS


def test_values_split_across_chunks_are_read_whole() -> None:
    padding = {"pad": "x" * ((1 << 16) - 20)}
    content = json.dumps({**padding, "username": "ünïcødé 🙂", "id": "111111111111111111"})
    found = scan_top_level(io.BytesIO(content.encode()), WANTED)
    assert found == {"username": "ünïcødé 🙂", "id": "111111111111111111"}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(
    st.dictionaries(
        st.sampled_from(["id", "username", "global_name", "other", "more"]), JSON_VALUES
    )
)
def test_the_scan_agrees_with_a_full_json_parse(document: dict[str, object]) -> None:
    expected = {k: v for k, v in document.items() if k in WANTED and not isinstance(v, list | dict)}
    assert scan_top_level(io.BytesIO(json.dumps(document).encode()), WANTED) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "it is not a JSON object"),
        (b'"id"', "it is not a JSON object"),
        (b'{"id" "1"}', "expected a key"),
        (b'{"id": "1", "username": ', "it ends before its top-level object is closed"),
        (b'{"id": "1', "it is cut off or malformed at"),
        (b'{"id": tru}', "a value is malformed"),
    ],
)
def test_malformed_content_is_named(content: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scan_top_level(io.BytesIO(content), WANTED)

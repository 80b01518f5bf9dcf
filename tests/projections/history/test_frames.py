"""Reading exports: a large export is added as it is read, and undone if it turns out
unreadable half-way; either way the index holds what it holds when every export is read
whole and checked first."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dmj.adapters import open_package
from dmj.projections.history import _frames, _worker, rebuild_index
from dmj.projections.history._frames import Batch, Begin, End, Problem, Title, export_frames
from dmj.projections.history._ingest import exported_after
from dmj.projections.history._journal import read_journal

from tests.projections.history.archives import ALICE, FIRST, T
from tests.projections.history.chats import ME, Chat, dce_message, snowflake, write_archive
from tests.projections.history.dumps import dump

WHOLE, STREAMED = 1 << 60, 0
"""``stream_bytes``: every export read whole first; every export added as it is read."""


def alice(count: int, start: int = 0) -> list[Chat]:
    """alice's DM with ``count`` messages (from the ``start``-th on) in one JSON part; the
    other conversations as ``FIRST``."""
    messages = [
        dce_message(snowflake(T + timedelta(minutes=n), 1), ALICE if n % 3 else ME,
                    f"message {n} Ωmega" if n % 7 == 0 else f"message {n} flat")
        for n in range(start, start + count)
    ]  # fmt: skip
    return [Chat("1000", (ALICE,), messages, per_part=10_000), *FIRST[1:]]


def damaged_archive(root: Path) -> Path:
    """Run 1 exports alice's 6,000 messages, the 5,501st damaged (an id that is not a
    number: found in the second chunk); run 2 exports 3,000 of them again, intact."""
    archive = write_archive(root, alice(6_000), runs=[alice(3_000, start=5_000)])
    edit_message(archive, 5_500, "id", "55oo")
    return archive


def alices_part(archive: Path) -> Path:
    """The JSON part of run 1's export of alice's DM."""
    return next((archive / "exports" / "1000").glob("run-1-*/*.json"))


def edit_message(archive: Path, index: int, field: str, value: object) -> None:
    """Set ``field`` of the ``index``-th message of run 1's export of alice's DM."""
    part = alices_part(archive)
    document = json.loads(part.read_text(encoding="utf-8"))
    document["messages"][index][field] = value
    part.write_text(json.dumps(document), encoding="utf-8")


WAYS = {"whole": (WHOLE, 1 << 60), "streamed": (STREAMED, 1 << 60), "worker": (STREAMED, 0)}
"""How an index build reads exports: ``stream_bytes``, ``WORKER_BYTES``."""


def built_every_way(
    root: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[Path], Path]
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """The index ``rebuild_index`` builds of the archive ``make`` writes, read each of ``WAYS``."""
    built = {}
    for way, (stream_bytes, worker_bytes) in WAYS.items():
        archive = make(root / way)
        monkeypatch.setattr(_frames, "STREAM_BYTES", stream_bytes)
        monkeypatch.setattr(_worker, "WORKER_BYTES", worker_bytes)
        rebuild_index(archive, notice=lambda _: None, packages=open_package)
        built[way] = dump(archive)
    return built


def frames_of(archive: Path, stream_bytes: int) -> list[type]:
    """The kinds of frames run 1's export of alice's DM gives."""
    state = read_journal(archive, at_seq=None, notice=print).state
    first = min(exported_after(state, after=0), key=lambda o: o.seq)
    assert first.channel_id == "1000"
    return [type(f) for f in export_frames(archive, [first], 1, stream_bytes=stream_bytes)]


def test_a_large_export_is_given_between_begin_and_end_as_it_is_read(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "archive", alice(6_000))
    assert frames_of(archive, STREAMED) == [Begin, Title, Batch, Batch, End]
    assert frames_of(archive, WHOLE) == [Title, Batch, Batch]


def test_a_large_export_found_unreadable_half_way_ends_in_a_problem(tmp_path: Path) -> None:
    archive = damaged_archive(tmp_path / "archive")
    assert frames_of(archive, STREAMED) == [Begin, Title, Batch, Problem]
    assert frames_of(archive, WHOLE) == [Problem]


def test_an_export_undone_half_way_leaves_the_index_as_reading_it_whole_first_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = built_every_way(tmp_path, monkeypatch, damaged_archive)
    assert built["streamed"] == built["whole"]
    assert built["worker"] == built["whole"], "streamed by a worker process"
    assert len(built["whole"]["messages"]) == 3_000 + 2, "run 1's alice export: none"
    assert [p[4] for p in built["whole"]["problems"]] == [
        "message '55oo' has an id that is not a number"
    ]
    assert {p[0] for p in built["whole"]["people"]} >= {"alice", "me"}, "authors met again"


@pytest.mark.parametrize("stamp", ["yesterday", "2023-05-01T12:00:00"], ids=["no-time", "naive"])
def test_an_export_with_a_time_that_cannot_be_read_is_a_problem_however_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stamp: str
) -> None:
    def mistimed(root: Path) -> Path:
        archive = write_archive(root, alice(30))
        edit_message(archive, 20, "timestamp", stamp)
        return archive

    built = built_every_way(tmp_path, monkeypatch, mistimed)
    assert built["streamed"] == built["whole"]
    assert built["worker"] == built["whole"], "streamed by a worker process"
    part = alices_part(tmp_path / "whole")
    message = json.loads(part.read_text(encoding="utf-8"))["messages"][20]["id"]
    assert [p[4] for p in built["whole"]["problems"]] == [
        f"message {message!r} has a time that is not ISO 8601 with a UTC offset ({stamp!r})"
    ]
    assert len(built["whole"]["messages"]) == 2, "the group's; none of alice's export"
    assert {p[0] for p in built["whole"]["people"]} == {"alice", "alice w", "100", "bob", "200"}, (
        "the group's authors, alice met first in the export undone"
    )


def test_a_message_found_unreadable_half_way_is_reported_at_its_place_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reasons = {}
    for way, stream_bytes in (("whole", WHOLE), ("streamed", STREAMED)):
        archive = write_archive(tmp_path / way, alice(6_000))
        edit_message(archive, 5_500, "content", 7)  # in the second chunk of 5,000
        monkeypatch.setattr(_frames, "STREAM_BYTES", stream_bytes)
        rebuild_index(archive, notice=lambda _: None, packages=open_package)
        reasons[way] = [p[4] for p in dump(archive)["problems"]]
    assert reasons["whole"] == ["Expected `str`, got `int` - at `$.messages[5500].content`"]
    assert reasons["streamed"] == reasons["whole"]

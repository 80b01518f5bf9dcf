"""The line format: flat JSON objects, readable by any JSON tool, sealed by a CRC-32."""

from __future__ import annotations

import json
import os
import re
import zlib
from pathlib import Path

from dmj.journal import CHECK_FIELD, DMJ_SCHEMA, MAGIC, JournalWriter, lines_ok, seal
from dmj.machine.events import (
    BatchStarted,
    ChannelExported,
    DceInfo,
    ExportFailed,
    PackageInfo,
    PlanEntry,
    RunStarted,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.journal.support import RUN, TickingClock, sample_events
from tests.support import REPO_ROOT

GOLDEN = REPO_ROOT / "tests" / "golden" / "journal" / "example.jsonl"


def test_a_line_is_flat_json_with_the_envelope_first_and_the_crc_last(tmp_path: Path) -> None:
    with JournalWriter.open(tmp_path / "journal.jsonl", clock=TickingClock()) as journal:
        journal.append(BatchStarted(run=RUN, batch=0, user_ids=("1", "2")))
    line = (tmp_path / "journal.jsonl").read_bytes()
    assert line == (
        b'{"type":"BatchStarted","v":1,"seq":1,"at":"2026-03-14T15:09:26Z","run":"run-test",'
        b'"batch":0,"user_ids":["1","2"],"crc":"' + line[-12:-3] + b'"}\n'
    )
    assert list(json.loads(line)) == ["type", "v", "seq", "at", "run", "batch", "user_ids", "crc"]
    assert re.fullmatch(rb"[@A-O]{9}", line[-12:-3])


def test_every_line_returns_the_crc_register_to_magic() -> None:
    lines = [seal(b'{"n":%d' % n + CHECK_FIELD) for n in range(200)]
    assert all(zlib.crc32(line, MAGIC) == MAGIC for line in lines)
    assert lines_ok(b"".join(lines)), "a run of sealed lines checks in one call"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.data())
def test_any_single_byte_change_of_a_sealed_line_is_detected(
    payload: bytes, data: st.DataObject
) -> None:
    line = seal(b'{"p":"' + payload.hex().encode() + b'"' + CHECK_FIELD)
    position = data.draw(st.integers(0, len(line) - 1))
    mask = data.draw(st.integers(1, 255))
    damaged = bytearray(line)
    damaged[position] ^= mask
    assert lines_ok(line)
    assert not lines_ok(bytes(damaged))


def test_a_damaged_line_keeps_a_whole_block_from_checking() -> None:
    lines = [seal(b'{"n":%d' % n + CHECK_FIELD) for n in range(50)]
    block = bytearray(b"".join(lines))
    block[len(block) // 3] ^= 0x20
    assert not lines_ok(bytes(block))


def test_events_with_any_text_round_trip_through_the_line_format(tmp_path: Path) -> None:
    text = 'quotes " and \\ and\nnewlines\tand émoji 🎉 and \u2028 and \x00'
    event = ExportFailed(
        run=text,
        batch=1,
        channel_id="5",
        user_id="6",
        error_class="transient",
        message=text,
        attempts=2,
    )
    with JournalWriter.open(tmp_path / "journal.jsonl", clock=TickingClock()) as journal:
        acked = journal.append(event)
    raw = (tmp_path / "journal.jsonl").read_bytes()
    assert raw.count(b"\n") == 1, "control characters are escaped, so a record is one line"
    assert json.loads(raw)["message"] == text
    assert DMJ_SCHEMA.decoder.decode(raw) == acked


def test_the_line_format_matches_the_golden_journal(tmp_path: Path) -> None:
    """The format is a contract with every journal already on disk: it must not drift."""
    path = tmp_path / "journal.jsonl"
    with JournalWriter.open(path, clock=TickingClock()) as journal:
        journal.append(_run_started())
        for event in sample_events(10):
            journal.append(event)
    if os.environ.get("DMJ_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_bytes(path.read_bytes())
    assert path.read_bytes() == GOLDEN.read_bytes()


def _run_started() -> RunStarted:
    return RunStarted(
        run=RUN,
        plan=(
            PlanEntry(user_id="111", channel_id="800", name="alice"),
            PlanEntry(user_id="222", channel_id="801", name="Deleted User", kind="deleted"),
        ),
        batch_size=20,
        total_batches=1,
        strategy="direct-first",
        package=PackageInfo(path="/home/me/package.zip", fingerprint="sha256:ab12", self_id="7"),
        dce=DceInfo(path="/opt/dce/DiscordChatExporter.Cli", version="2.43.3"),
    )


def test_none_fields_are_written_as_null_and_read_back(tmp_path: Path) -> None:
    event = ChannelExported(
        run=RUN, batch=0, channel_id="1", user_id="2", path="p", message_count=0,
        last_message_id=None,
    )  # fmt: skip
    with JournalWriter.open(tmp_path / "journal.jsonl", clock=TickingClock()) as journal:
        acked = journal.append(event)
    raw = (tmp_path / "journal.jsonl").read_bytes()
    assert b'"last_message_id":null' in raw
    assert DMJ_SCHEMA.decoder.decode(raw) == acked

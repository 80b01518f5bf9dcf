"""The event catalogue: explicit tags, JSON round trips, and schema evolution."""

from __future__ import annotations

import typing

import msgspec
import pytest
from dmj.machine import events
from dmj.machine.events import AnyEvent, ChannelExported, Event, ExportRequested, RunStarted

from tests.machine.simulate import Simulation, World, package_dm, run_started, scripted

MEMBERS: tuple[type[Event], ...] = typing.get_args(AnyEvent)
DECODER = msgspec.json.Decoder(AnyEvent)


def test_every_event_class_is_in_the_union_with_its_class_name_as_explicit_tag() -> None:
    classes = {
        cls for cls in vars(events).values()
        if isinstance(cls, type) and issubclass(cls, Event) and cls is not Event
    }  # fmt: skip
    assert set(MEMBERS) == classes
    assert all(cls.__struct_config__.tag == cls.__name__ for cls in MEMBERS)


def sample_journal() -> list[AnyEvent]:
    answers = scripted(
        *("fatal", "permanent"),  # the group: paused, then unreachable
        *("permanent", "opened-elsewhere", "transient", "exported"),  # user 1: reopened
        *("permanent", "skipped"),  # user 3: cannot be reopened
    )
    sim = Simulation(world=World(choose=answers))
    dms = [package_dm("1"), package_dm("2", "group"), package_dm("3")]
    sim.start(run_started(dms, strategy="direct-first"))
    sim.run_to_end()
    return sim.events


def test_the_sample_journal_has_every_event_type() -> None:
    assert {type(event) for event in sample_journal()} == set(MEMBERS)


@pytest.mark.parametrize("event", sample_journal(), ids=lambda e: f"{e.seq}-{type(e).__name__}")
def test_every_event_survives_a_json_round_trip(event: AnyEvent) -> None:
    line = msgspec.json.encode(event)
    assert DECODER.decode(line) == event
    assert msgspec.json.decode(line)["type"] == type(event).__name__


def test_a_record_written_before_fields_were_added_still_decodes_with_defaults() -> None:
    line = (
        b'{"type":"ExportRequested","v":1,"seq":4,"at":"2024-05-01T12:00:04Z","run":"r",'
        b'"batch":0,"channel_id":"5","attempt":1}'
    )
    event = DECODER.decode(line)
    assert isinstance(event, ExportRequested)
    assert (event.user_id, event.after) == ("", None)
    started = run_started([package_dm("1")])
    old = msgspec.json.decode(msgspec.json.encode(started))
    del old["max_attempts"], old["user"], old["from_scratch"]
    decoded = DECODER.decode(msgspec.json.encode(old))
    assert isinstance(decoded, RunStarted)
    assert (decoded.max_attempts, decoded.user, decoded.from_scratch) == (3, None, ())
    exported = DECODER.decode(
        b'{"type":"ChannelExported","v":1,"seq":6,"at":"2026-03-14T15:09:31Z","run":"r",'
        b'"batch":0,"channel_id":"900","user_id":"111","path":"exports/900/6",'
        b'"message_count":42,"last_message_id":"9999"}'
    )
    assert isinstance(exported, ChannelExported)
    assert (exported.path, exported.files) == ("exports/900/6", ())

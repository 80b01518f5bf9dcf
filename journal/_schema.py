"""What the journal stores: an event union, its current version and the upcasters.

The journal is generic over the events it holds; ``DMJ_SCHEMA`` (machine's catalogue) is the
default everywhere, so ``JournalWriter.open(path)`` and ``read_events(path)`` just work for
dmj, while tests can journal a union of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, get_args

import msgspec
from dmj.machine.events import SCHEMA_VERSION, AnyEvent, Event

__all__ = ["DMJ_SCHEMA", "E", "Schema", "Upcaster"]

E = TypeVar("E", bound=Event)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns the decoded JSON object of a version-``n`` record into a version-``n + 1`` object."""


class Schema(Generic[E]):
    """An event union with its version, its upcaster chain and one reused codec pair.

    ``events`` is a msgspec tagged union of ``Event`` subclasses (or one such class). Every
    member must leave ``forbid_unknown_fields`` off (the journal adds a ``crc`` member to each
    line) and must not have a field named ``crc``.

    ``upcasters[n]`` upgrades a version-``n`` record to version ``n + 1``; reading a record
    of an older version applies the chain up to ``version`` before building the event.
    Records of the current version take the fast, typed path and never see an upcaster.
    """

    __slots__ = ("decoder", "encoder", "events", "tags", "upcasters", "version")

    def __init__(
        self,
        events: Any,
        *,
        version: int,
        upcasters: Mapping[int, Upcaster] | None = None,
    ) -> None:
        members: tuple[type[msgspec.Struct], ...] = get_args(events) or (events,)
        for member in members:
            config = member.__struct_config__
            if config.forbid_unknown_fields or "crc" in member.__struct_fields__:
                raise TypeError(
                    f"{member.__name__} cannot be journaled: the journal adds a `crc` member "
                    "to every line, so events must accept unknown fields and have no `crc`."
                )
        self.events: Any = events
        self.version = version
        self.upcasters: Mapping[int, Upcaster] = dict(upcasters or {})
        self.tags = frozenset(str(member.__struct_config__.tag) for member in members)
        self.encoder = msgspec.json.Encoder()
        self.decoder: msgspec.json.Decoder[E] = msgspec.json.Decoder(events)

    def __repr__(self) -> str:
        return f"Schema(v{self.version}, {len(self.tags)} event types)"


DMJ_SCHEMA: Schema[AnyEvent] = Schema(AnyEvent, version=SCHEMA_VERSION)
"""dmj's own events (``dmj.machine.events``); no upcasters yet: v1 is the first version."""

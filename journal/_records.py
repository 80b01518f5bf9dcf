"""Decoding one sealed line into an event: the careful path, with upcasting.

The fast path (a whole block of current-version lines through ``decode_lines``) lives in
``_scan``; this is where a line goes when that path cannot vouch for it, to be read anyway
(an old version, upcast) or to be named precisely (which field, which version, which type).
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._findings import ProblemKind
from ._schema import E, Schema

__all__ = ["Unreadable", "decode_record"]


class Unreadable(Exception):
    """A sealed line that is not a usable event; ``kind`` and ``detail`` feed a Problem."""

    def __init__(self, kind: ProblemKind, detail: str) -> None:
        super().__init__(detail)
        self.kind: ProblemKind = kind
        self.detail = detail


def decode_record(schema: Schema[E], line: bytes) -> E:
    """The event on ``line`` (checksum already verified), upcast if it is of an older version.

    Raises ``Unreadable`` naming the problem: not JSON, a newer version or unknown type
    (a newer dmj wrote it), an old version with no upcaster, or a schema mismatch with
    msgspec's path to the field.
    """
    try:
        event = schema.decoder.decode(line)
    except msgspec.ValidationError as exc:
        return _decode_untyped(schema, line, exc)
    except msgspec.DecodeError as exc:
        raise Unreadable("malformed", f"not valid JSON: {exc}") from exc
    if event.v == schema.version:
        return event
    return _decode_untyped(schema, line, None)


def _decode_untyped(schema: Schema[E], line: bytes, typed_error: Exception | None) -> E:
    """Decode ``line`` as a plain object, judge its version and type, upcast, then convert."""
    obj = msgspec.json.decode(line)  # the typed decode parsed it, so this is JSON
    if not isinstance(obj, dict):
        raise Unreadable("schema", "the line is not a JSON object")
    version, tag = obj.get("v"), obj.get("type")
    if type(version) is not int:
        raise Unreadable("schema", f"`v` must be an integer, not {version!r}")
    if version > schema.version:
        raise Unreadable(
            "newer-version",
            f"record version {version}; this dmj reads up to version {schema.version}",
        )
    if tag not in schema.tags:
        raise Unreadable("unknown-type", f"event type {tag!r} is unknown to this dmj")
    if version < schema.version:
        obj = _upcast(schema, obj, version)
    elif typed_error is not None:
        raise Unreadable("schema", f"not a valid {tag} event: {typed_error}")
    try:
        event: E = msgspec.convert(obj, schema.events)
    except msgspec.ValidationError as exc:
        raise Unreadable(
            "schema", f"not a valid {tag} event after upgrading from version {version}: {exc}"
        ) from exc
    return event


def _upcast(schema: Schema[E], obj: dict[str, Any], version: int) -> dict[str, Any]:
    """Apply ``schema.upcasters`` from ``version`` up to the current version."""
    for step in range(version, schema.version):
        upcaster = schema.upcasters.get(step)
        if upcaster is None:
            raise Unreadable(
                "old-version",
                f"record version {version}, and no upgrade from version {step} exists",
            )
        obj = upcaster(dict(obj))
        obj["v"] = step + 1
    return obj

"""What reading a journal can find: a torn tail, a problem, and the audit that holds them.

These are plain values (msgspec Structs), so ``dmj replay --inspect --json`` can print them
as they are, and each carries the sentence a user reads.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from dmj.machine.errors import JournalCorrupt, SequenceGap

__all__ = ["JournalCheck", "Problem", "ProblemKind", "Recovery", "TornTail"]

NEXT_STEP = (
    "Run `dmj replay --inspect` to see the damage; restore the file from a backup or move it "
    "aside to start a new archive."
)
"""What a user can do about a damaged journal."""

UPGRADE = "Upgrade dmj and try again."
REPORT_BUG = "This is a bug in dmj: please report it."

ProblemKind = Literal[
    "checksum",
    "malformed",
    "schema",
    "unknown-type",
    "newer-version",
    "old-version",
    "sequence-gap",
]
"""``checksum``: a line before the tail is not as written. ``malformed``/``schema``: a sealed
line is not JSON, or not a valid event. ``unknown-type``/``newer-version``: a newer dmj wrote
it. ``old-version``: no upcaster reaches the current version. ``sequence-gap``: ``seq`` does
not follow its predecessor."""


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the findings. ``frozen``/``kw_only`` as for events: facts, extended by name."""


class Problem(Finding, frozen=True, kw_only=True):
    """A damaged or unreadable record before the tail: the journal must not be used as is.

    ``line`` is 1-based; ``detail`` says what is wrong in a few words; ``next_step`` what the
    user can do; ``message`` is the whole sentence, naming the file and the line too.
    """

    line: int
    kind: ProblemKind
    detail: str
    next_step: str
    message: str

    def error(self) -> JournalCorrupt:
        """The exception that refuses to go on: ``SequenceGap`` or ``JournalCorrupt``."""
        if self.kind == "sequence-gap":
            return SequenceGap(self.message)
        return JournalCorrupt(self.message)


class TornTail(Finding, frozen=True, kw_only=True):
    """The bytes after the last intact record, when no intact record follows them.

    A write the crash interrupted: never acknowledged, safe to set aside. ``line`` is the
    1-based line it starts on, ``offset`` its byte offset, ``length`` its size in bytes.
    """

    line: int
    offset: int
    length: int


class Recovery(Finding, frozen=True, kw_only=True):
    """What opening the journal for writing did about a torn tail."""

    torn: TornTail
    saved_to: str
    message: str


class JournalCheck(Finding, frozen=True, kw_only=True):
    """A read-only audit of a journal: how much of it is intact, and what is not.

    ``records``/``last_seq``/``intact_bytes`` describe the intact prefix. ``torn`` is the
    tail a writer would set aside; ``problem`` the first damage that makes the journal
    unusable (then ``torn`` is None: nothing after the damage is judged).
    """

    path: str
    size: int
    records: int
    last_seq: int
    intact_bytes: int
    torn: TornTail | None
    problem: Problem | None


def problem(path: str, line: int, kind: ProblemKind, detail: str) -> Problem:
    """A ``Problem`` with its sentence: the file, the line, what is wrong, the next step."""
    if kind in ("unknown-type", "newer-version"):
        what, next_step = "was written by a newer dmj", UPGRADE
    elif kind == "old-version":
        what, next_step = "cannot be read by this dmj", REPORT_BUG
    else:
        what, next_step = "is corrupt", NEXT_STEP
    message = f"{path} line {line} {what} ({detail}); nothing was changed. {next_step}"
    return Problem(line=line, kind=kind, detail=detail, next_step=next_step, message=message)


def recovery(path: str, torn: TornTail, saved_to: str) -> Recovery:
    """A ``Recovery`` with its warning sentence."""
    message = (
        f"{path} ended in a torn write from an interrupted run (line {torn.line}, "
        f"{torn.length} bytes, never acknowledged); it was moved to {saved_to} and the "
        f"journal continues after line {torn.line - 1}."
    )
    return Recovery(torn=torn, saved_to=saved_to, message=message)

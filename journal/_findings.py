"""What reading a journal can find: a torn tail, a problem, and the audit that holds them.

These are plain values (msgspec Structs), so ``dmj replay --inspect --json`` can print them
as they are, and each carries the sentence a user reads.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from dmj.machine.errors import JournalCorrupt, SequenceGap

__all__ = ["JournalCheck", "Problem", "ProblemKind", "Recovery", "TailKind", "TornTail"]


REPAIR = (
    "Run `dmj repair` to see what a repair keeps and what it sets aside (nothing is deleted; "
    "`dmj repair --apply` does it), or restore the file from a backup."
)
"""What a user can do about a damaged journal (the CLI names the archive in the commands)."""

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


TailKind = Literal["torn", "damaged", "foreign", "unacknowledged"]
"""What a tail is. ``torn``: a write a crash cut short (no final newline, or zeros where its
middle should be), never acknowledged. ``damaged``: a complete dmj record whose bytes changed
(a crash or the disk); it may have been acknowledged. ``foreign``: complete lines that are not
dmj records: added by hand or by another program. ``unacknowledged``: records whose write or
sync failed (the writer noted it), never acknowledged."""

_TAIL_WHAT: dict[TailKind, str] = {
    "torn": "a torn write from an interrupted run",
    "damaged": "a damaged record whose checksum fails, cut short by a crash or changed on disk",
    "foreign": "a complete line that is not a dmj record, added by hand or by another program",
    "unacknowledged": "a record whose write or sync failed",
}


class TornTail(Finding, frozen=True, kw_only=True):
    """The bytes after the last intact record, when no intact record follows them.

    Set aside by the next writer, never refused (see ``_scan``). ``line`` is the 1-based line
    it starts on, ``offset`` its byte offset, ``length`` its size in bytes, ``kind`` what it is.
    """

    line: int
    offset: int
    length: int
    kind: TailKind = "torn"

    @property
    def what(self) -> str:
        """The tail in a few words, for messages."""
        return _TAIL_WHAT[self.kind]

    @property
    def acknowledged(self) -> str:
        """Whether a dmj acted on it, in a few words."""
        if self.kind == "damaged":
            return "if it was acknowledged, its step is done again"
        if self.kind == "foreign":
            return "dmj never wrote it"
        return "never acknowledged"


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
        what, next_step = "is corrupt", REPAIR
    message = f"{path} line {line} {what} ({detail}); nothing was changed. {next_step}"
    return Problem(line=line, kind=kind, detail=detail, next_step=next_step, message=message)


def recovery(path: str, torn: TornTail, saved_to: str) -> Recovery:
    """A ``Recovery`` with its warning sentence."""
    message = (
        f"{path} ended in {torn.what} (line {torn.line}, {torn.length} bytes, "
        f"{torn.acknowledged}); it was moved to {saved_to} and the journal continues after "
        f"line {torn.line - 1}."
    )
    return Recovery(torn=torn, saved_to=saved_to, message=message)

"""The one error tree of dmj.

Every error dmj raises on purpose is a ``DmjError``. Its message is a full sentence that names
the thing, says what was wrong and what to do next. Foreign exceptions (``OSError``, httpx,
msgspec) are translated once, at the edge that met them, with ``raise ... from exc``.

Only ``dmj.cli`` renders errors and chooses exit codes (see ``docs/exit-codes.md``)::

    DmjError
    ├── UsageError              bad input from the user: options, paths, files   → exit 2
    │   ├── PackageError        the Discord data package cannot be read
    │   └── JournalNotFound     the archive directory or its journal.jsonl is missing
    ├── JournalError            journal.jsonl and its lock                      → exit 1
    │   ├── JournalCorrupt      a bad record before the tail, unknown type/version
    │   │   └── SequenceGap     seq does not follow its predecessor
    │   ├── JournalLocked       another dmj holds journal.lock
    │   └── JournalWriteFailed  a short write or failed fsync: nothing more is written
    ├── RemoteError             Discord answered in a way dmj cannot work with  → exit 1
    ├── ExporterError           DiscordChatExporter failed or could not run     → exit 1
    ├── Paused                  captcha, token rejected, rate limit: resumable  → exit 3
    └── InvariantBroken         dmj's own rules were broken: a bug              → exit 1
"""

from __future__ import annotations

__all__ = [
    "DmjError",
    "ExporterError",
    "InvariantBroken",
    "JournalCorrupt",
    "JournalError",
    "JournalLocked",
    "JournalNotFound",
    "JournalWriteFailed",
    "PackageError",
    "Paused",
    "RemoteError",
    "SequenceGap",
    "UsageError",
]


class DmjError(Exception):
    """Base of every error dmj raises on purpose; ``str(err)`` is the user-facing sentence."""


class UsageError(DmjError):
    """The user asked for something that cannot work as given (an option, a path, a file)."""


class PackageError(UsageError):
    """The Discord data package is missing, is not a package, or a file in it is malformed."""


class JournalNotFound(UsageError):
    """The archive directory, or the journal in it, does not exist: most likely a wrong path."""


class JournalError(DmjError):
    """Something is wrong with ``journal.jsonl`` or its lock."""


class JournalCorrupt(JournalError):
    """A record before the tail is damaged, or was written by a newer dmj: refuse to go on."""


class SequenceGap(JournalCorrupt):
    """A record's ``seq`` does not follow its predecessor's: records are missing or reordered."""


class JournalLocked(JournalError):
    """Another dmj process holds ``journal.lock``; ``pid`` names it when known."""

    def __init__(self, message: str, *, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid


class JournalWriteFailed(JournalError):
    """A write or fsync of the journal failed; the record is not acknowledged, never retried."""


class RemoteError(DmjError):
    """Discord (or the sandbox standing in for it) answered in a way dmj cannot work with."""


class ExporterError(DmjError):
    """DiscordChatExporter could not be found, could not run, or its output failed checks."""


class Paused(DmjError):
    """The run must stop now and can be resumed later: captcha, token rejected, rate limit."""


class InvariantBroken(DmjError):
    """One of dmj's own rules was broken: this is a bug in dmj, not in the user's input."""

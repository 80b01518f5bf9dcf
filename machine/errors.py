"""The one error tree of dmj.

Every error dmj raises on purpose is a ``DmjError``. Its message is a full sentence that names
the thing, says what was wrong and what to do next. Foreign exceptions (``OSError``, httpx,
msgspec) are translated once, at the edge that met them, with ``raise ... from exc``.

Only ``dmj.cli`` renders errors and chooses exit codes (see ``docs/exit-codes.md``)::

    DmjError
    ├── UsageError              bad input from the user: options, paths, files   → exit 2
    │   ├── PackageError        the Discord data package cannot be read
    │   ├── JournalNotFound     the archive directory or its journal.jsonl is missing
    │   ├── BadQuery            a history query (dmj show/export) cannot be read
    │   ├── ExporterNotFound    --dce names no DiscordChatExporter.Cli, or one not executable
    │   └── ExporterUnusable    DCE does not start, or fails or hangs on --version
    ├── JournalError            journal.jsonl and its lock                      → exit 1
    │   ├── JournalCorrupt      a bad record before the tail, unknown type/version
    │   │   └── SequenceGap     seq does not follow its predecessor
    │   ├── JournalLocked       another dmj holds journal.lock
    │   └── JournalWriteFailed  a short write or failed fsync: nothing more is written
    ├── RemoteError             Discord answered in a way dmj cannot work with  → exit 1
    │   ├── SkipDm              this one DM cannot be opened (deleted user, 404): skip it
    │   └── RemoteUnavailable   Discord unreachable or failing after every retry
    ├── ExporterError           DiscordChatExporter failed                      → exit 1
    │   └── ChannelExportError  one channel's export failed; error_class says how
    ├── FileWriteFailed         a projection or export file could not be written → exit 1
    ├── DemoFailed              a step of `dmj demo` did not go as the story says → exit 1
    ├── Paused                  captcha, token rejected, rate limit: resumable  → exit 3
    │   └── DiscordPaused       Discord's answer means stop now; reason says which
    └── InvariantBroken         dmj's own rules were broken: a bug              → exit 1
        └── RuleBroken          an event breaks a rule of the state machine (``apply``)

The adapters raise the subclasses; the driver in ``dmj.machine`` catches them by these names
without importing the adapters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # annotations only: `dmj --help` need not load the event catalogue (msgspec)
    from .events import ErrorClass

__all__ = [
    "BadQuery",
    "ChannelExportError",
    "DemoFailed",
    "DiscordPaused",
    "DmjError",
    "ExporterError",
    "ExporterNotFound",
    "ExporterUnusable",
    "FileWriteFailed",
    "InvariantBroken",
    "JournalCorrupt",
    "JournalError",
    "JournalLocked",
    "JournalNotFound",
    "JournalWriteFailed",
    "PackageError",
    "PauseReason",
    "Paused",
    "RemoteError",
    "RemoteUnavailable",
    "RuleBroken",
    "SequenceGap",
    "SkipDm",
    "SkipReason",
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


class BadQuery(UsageError):
    """A history query cannot be read; the message quotes it with a caret under the problem.

    ``start``/``end`` are the offending characters of ``query`` (offsets into the string), so
    a reader other than the terminal (the archive browser) can mark them its own way.
    """

    def __init__(self, message: str, *, query: str, start: int, end: int) -> None:
        super().__init__(message)
        self.query = query
        self.start = start
        self.end = end


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


class FileWriteFailed(DmjError):
    """A file dmj writes atomically (a projection, an export) could not be written."""


class DemoFailed(DmjError):
    """A command of ``dmj demo`` ended otherwise than the story says, or the journal disagrees."""


class Paused(DmjError):
    """The run must stop now and can be resumed later: captcha, token rejected, rate limit."""


class InvariantBroken(DmjError):
    """One of dmj's own rules was broken: this is a bug in dmj, not in the user's input."""


class RuleBroken(InvariantBroken):
    """An event breaks a rule of the run's state machine (``dmj.machine.state.apply``).

    The journal's own checks (checksums, gap-free ``seq``) passed, so the record is exactly what
    a dmj wrote: breaking a rule means that dmj had a bug (or the file was edited by hand).
    ``seq`` is the record's seq (0 for an event not journaled yet); ``rule`` states the rule.
    """

    def __init__(self, message: str, *, seq: int, rule: str) -> None:
        super().__init__(message)
        self.seq = seq
        self.rule = rule


class ExporterNotFound(UsageError):
    """``--dce PATH`` names nothing that is (or holds) ``DiscordChatExporter.Cli``."""


SkipReason = Literal["invalid-recipient", "not-found"]
"""Why Discord will not open a DM (``SkipDm.reason``): 400/50033, or 404."""


class SkipDm(RemoteError):
    """Discord will not open this one DM (400/50033 deleted or invalid recipient, 404).

    Not a reason to stop: the DM is skipped and reported. ``status`` and ``code`` are
    Discord's HTTP status and JSON error code (``code`` is None when the body had none).
    """

    def __init__(self, message: str, *, reason: SkipReason, status: int, code: int | None) -> None:
        super().__init__(message)
        self.reason: SkipReason = reason
        self.status = status
        self.code = code


class RemoteUnavailable(RemoteError):
    """Discord could not be reached, or kept failing (5xx), after every retry: try later.

    ``status`` is the last HTTP status seen, None when no response came at all.
    """

    def __init__(self, message: str, *, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class ExporterUnusable(UsageError):
    """DiscordChatExporter was found but does not start, or fails or hangs on ``--version``:
    the ``--dce`` given (or found on PATH) is not a DCE that works here."""


class ChannelExportError(ExporterError):
    """One channel's export failed; ``error_class`` says what the run should do about it.

    ``fatal``: DCE cannot go on at all (token invalid, Cloudflare, retries exhausted): pause.
    ``permanent``: this channel is forbidden or not found: reopen it, or mark it unreachable.
    ``transient``: a crash, a stall, output that failed verification: retry with backoff.
    """

    def __init__(self, message: str, *, channel_id: str, error_class: ErrorClass) -> None:
        super().__init__(message)
        self.channel_id = channel_id
        self.error_class: ErrorClass = error_class


PauseReason = Literal[
    "token-rejected",
    "captcha",
    "verify-account",
    "opening-too-fast",
    "anti-abuse",
    "forbidden",
    "cloudflare",
    "rate-limited",
    "invalid-request-budget",
]
"""Why Discord's answer stops the run (``DiscordPaused.reason``): a closed set."""


class DiscordPaused(Paused):
    """Discord's answer means dmj must stop now; continuing could put the account at risk.

    ``reason`` names the condition (``RunPaused`` journals it); ``status``/``code`` are the
    HTTP status and JSON error code that showed it, when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: PauseReason,
        status: int | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason: PauseReason = reason
        self.status = status
        self.code = code

"""The event catalogue: everything that can happen in a dmj run, as journaled facts.

Each event is one line of ``journal.jsonl`` (format: ``docs/journal-format.md``). Events are
frozen, keyword-only msgspec Structs with explicit ``type`` tags, so renaming a class never
breaks an old journal. Schema evolution follows msgspec's rules: a new field gets a default,
a field is never retyped or removed; anything else bumps ``SCHEMA_VERSION`` and adds an
upcaster in ``dmj.journal``.

Write-ahead intents (``DmOpenRequested``, ``ExportRequested``, ``DmCloseRequested``) are
journaled before every outside effect; their outcome events after it. Replaying an intent
that has no outcome repeats the effect (opening and closing are idempotent; an export
writes a fresh folder).

The envelope fields ``v``, ``seq`` and ``at`` are assigned by the journal when the event is
appended: an event with ``seq == 0`` has not been journaled yet. ``run`` is set by whoever
creates the event. Time arrives here, inside events; the pure core never reads a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "NOT_JOURNALED",
    "SCHEMA_VERSION",
    "AnyEvent",
    "BatchFinished",
    "BatchStarted",
    "ChannelExported",
    "ChannelInfo",
    "DceInfo",
    "DmCloseRequested",
    "DmClosed",
    "DmKind",
    "DmOpenRequested",
    "DmOpened",
    "DmSkipped",
    "ErrorClass",
    "Event",
    "ExportFailed",
    "ExportFile",
    "ExportRequested",
    "OpenDmsCaptured",
    "Pace",
    "PackageInfo",
    "PackageProblem",
    "PlanEntry",
    "RunFinished",
    "RunPaused",
    "RunStarted",
    "Strategy",
    "UserInfo",
]

SCHEMA_VERSION = 1
"""The ``v`` this dmj writes. Readers refuse records with a newer ``v``."""

DEFAULT_MAX_ATTEMPTS = 3
"""Transient export failures of one DM before it counts as failed, unless the run says."""

NOT_JOURNALED = datetime(1970, 1, 1, tzinfo=UTC)
"""The ``at`` of an event the journal has not stamped yet."""

DmKind = Literal["dm", "group", "deleted"]
"""``dm``: 1-on-1 with a known user; ``group``: a group DM (never closed: that would leave it);
``deleted``: 1-on-1 whose recipient is ``"Deleted User"`` (can never be reopened)."""

Strategy = Literal["direct-first", "reopen"]
Pace = Literal["careful", "fast"]
"""How fast dmj talks to Discord (``dmj.adapters`` holds the policies by these names)."""
ErrorClass = Literal["fatal", "permanent", "transient"]


class Doc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Base of the value objects nested inside events.

    Subclasses repeat ``frozen=True, kw_only=True``: msgspec inherits them, but type checkers
    (dataclass_transform) read each class statement on its own.

    ``frozen``: events and their parts are facts, never edited after the fact.
    ``kw_only``: fields can be added with defaults in any order without breaking callers.
    """


class UserInfo(Doc, frozen=True, kw_only=True):
    """A Discord user as the API shows it in a channel's recipients."""

    id: str
    username: str = ""
    global_name: str | None = None


class ChannelInfo(Doc, frozen=True, kw_only=True):
    """A private channel as Discord listed it: type 1 (DM) or 3 (group DM)."""

    id: str
    type: int
    recipients: tuple[UserInfo, ...] = ()


class PlanEntry(Doc, frozen=True, kw_only=True):
    """One DM of the plan, in plan order.

    ``user_id`` is the DM's key in batches and outcomes: the recipient's user id for a
    1-on-1 DM, the package channel id for a group DM or a deleted-user DM (snowflakes never
    collide). ``channel_id`` is the id the data package gave.
    """

    user_id: str
    channel_id: str
    name: str
    kind: DmKind = "dm"


class PackageProblem(Doc, frozen=True, kw_only=True):
    """A file of the package that could not be used: ``path`` inside the package, and a
    sentence saying what is wrong with it and what it costs (a conversation left out…)."""

    path: str
    message: str


class PackageInfo(Doc, frozen=True, kw_only=True):
    """Which data package the plan came from.

    ``problems``: the package's files that could not be used (reported before the run and
    in its summary, so a run resumed days later still names them).
    """

    path: str
    fingerprint: str
    self_id: str
    problems: tuple[PackageProblem, ...] = ()


class DceInfo(Doc, frozen=True, kw_only=True):
    """Which DiscordChatExporter did the exporting."""

    path: str
    version: str


class ExportFile(Doc, frozen=True, kw_only=True):
    """One file of an archived export: ``name`` inside the export folder, its ``size`` in
    bytes and its ``digest`` (``sha256:<hex>``), as dmj filed it."""

    name: str
    size: int
    digest: str


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    """Base of every journaled event.

    ``tag_field="type"``: the journal line's ``type`` names the event; each subclass gives an
    explicit ``tag`` so a class rename cannot break old journals.
    ``frozen``/``kw_only``: see ``Doc``. Unknown fields are ignored on decode, so a record
    written by a dmj with an added field still reads here.
    """

    v: int = SCHEMA_VERSION
    seq: int = 0
    at: datetime = NOT_JOURNALED
    run: str


class RunStarted(Event, tag="RunStarted", frozen=True, kw_only=True):
    """A run begins with its whole plan, so replay never needs the package again.

    ``max_attempts`` bounds transient export failures per DM (recorded, so a resumed run
    keeps the bound it started with). ``user`` is the token's account as ``GET /users/@me``
    showed it (``id-history.json``'s ``user``); older records without it fall back to
    ``package.self_id``. ``pace`` and ``media`` are the run's ``--pace`` and ``--media``, so
    ``dmj resume`` carries on as the run began. ``retries``: the run whose failed DMs this
    run tries again (``dmj resume`` after a run that finished with failures; its plan is
    those DMs); None for a run of the package. ``from_scratch``: channels whose archived
    exports were found missing or damaged when the run started; this run exports them whole
    (no ``after``).
    """

    plan: tuple[PlanEntry, ...]
    batch_size: int
    total_batches: int
    strategy: Strategy
    package: PackageInfo
    dce: DceInfo
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    user: UserInfo | None = None
    pace: Pace = "careful"
    media: bool = False
    retries: str | None = None
    from_scratch: tuple[str, ...] = ()


class OpenDmsCaptured(Event, tag="OpenDmsCaptured", frozen=True, kw_only=True):
    """The DMs that were open when the run started (``GET /users/@me/channels``)."""

    channels: tuple[ChannelInfo, ...]


class BatchStarted(Event, tag="BatchStarted", frozen=True, kw_only=True):
    batch: int
    user_ids: tuple[str, ...]


class DmOpenRequested(Event, tag="DmOpenRequested", frozen=True, kw_only=True):
    batch: int
    user_id: str


class DmOpened(Event, tag="DmOpened", frozen=True, kw_only=True):
    """Discord reopened the DM; ``channel_id`` may differ from the package's."""

    batch: int
    user_id: str
    channel_id: str
    package_channel_id: str
    channel: ChannelInfo | None = None


class DmSkipped(Event, tag="DmSkipped", frozen=True, kw_only=True):
    """The DM cannot be exported (deleted user, invalid recipient, not found, …).

    ``reason`` is a short sentence for the run's summary; ``status``/``code`` are Discord's
    HTTP status and JSON error code when Discord gave them.
    """

    batch: int
    user_id: str
    reason: str
    status: int | None = None
    code: int | None = None


class ExportRequested(Event, tag="ExportRequested", frozen=True, kw_only=True):
    """DCE is about to export ``channel_id``.

    ``attempt`` numbers the export attempts for this DM within the run (1, 2, …; a repeat
    after a crash is a new attempt). An attempt the read check ends never starts DCE
    (``ExportFailed.read_check``); what people read counts DCE runs, without those.
    ``user_id`` is the DM's plan key (older records may leave it empty: the channel then
    identifies the DM). ``after`` is the last message id already
    archived for the channel by an earlier run: DCE exports only what is newer.
    """

    batch: int
    channel_id: str
    attempt: int
    user_id: str = ""
    after: str | None = None


class ChannelExported(Event, tag="ChannelExported", frozen=True, kw_only=True):
    """The export is in the archive: ``path`` is its folder, relative to the archive, holding
    ``files`` (older records have none listed). An empty ``path``: the export held no
    message, so no folder was kept (``message_count`` 0)."""

    batch: int
    channel_id: str
    user_id: str
    path: str
    message_count: int
    last_message_id: str | None
    files: tuple[ExportFile, ...] = ()


class ExportFailed(Event, tag="ExportFailed", frozen=True, kw_only=True):
    """One export attempt failed; ``error_class`` decides what happens next.

    ``fatal``: the run pauses (the driver journals ``RunPaused``) and resume tries again; an
    export stopped by the first Ctrl-C is journaled so too (it uses up no attempt).
    ``transient``: tried again until the run's ``max_attempts`` transient failures.
    ``permanent`` (not found, forbidden, said by DCE or by the read probe before it): a closed
    1-on-1 DM falls back to reopening it; anything else has reached its outcome (unreachable).
    ``read_check``: the read probe refused the channel, so DCE was not started (False in
    records older than the field).
    """

    batch: int
    channel_id: str
    user_id: str
    error_class: ErrorClass
    message: str
    attempts: int
    read_check: bool = False


class DmCloseRequested(Event, tag="DmCloseRequested", frozen=True, kw_only=True):
    batch: int
    channel_id: str


class DmClosed(Event, tag="DmClosed", frozen=True, kw_only=True):
    batch: int
    channel_id: str


class BatchFinished(Event, tag="BatchFinished", frozen=True, kw_only=True):
    batch: int
    exported: int
    skipped: int
    failed: int


class RunPaused(Event, tag="RunPaused", frozen=True, kw_only=True):
    reason: str


class RunFinished(Event, tag="RunFinished", frozen=True, kw_only=True):
    exported: int
    skipped: int
    failed: int


AnyEvent = (
    RunStarted
    | OpenDmsCaptured
    | BatchStarted
    | DmOpenRequested
    | DmOpened
    | DmSkipped
    | ExportRequested
    | ChannelExported
    | ExportFailed
    | DmCloseRequested
    | DmClosed
    | BatchFinished
    | RunPaused
    | RunFinished
)
"""The tagged union the journal decodes: one ``type`` tag per member."""

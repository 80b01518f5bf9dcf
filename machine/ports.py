"""The ports: what the driver needs from the world, as Protocols the outer layers implement.

The driver (``dmj.machine.driver``) never imports the journal, the adapters or the projections;
``dmj.cli`` builds the concrete pieces and passes them in as these ports, so no import runs
back up the ladder (docs/architecture.md). Tests pass fakes with the same shapes.

=============  ==================================================================  ==========
port           what it does                                                        concrete
=============  ==================================================================  ==========
``EventLog``   journals one event durably and returns it stamped (seq, at)          JournalWriter
``Discord``    lists open DMs, reopens, closes, checks a channel can be read        DiscordClient
``Exporter``   exports one channel into the archive, verified, and says where       DCE + archive
``Checkpoint`` brings the projection files in line with a state                    write_projections
``Progress``   hears each step before it is taken and each event once journaled    the CLI's view
=============  ==================================================================  ==========

The errors the ports raise are those of ``dmj.machine.errors``: ``Paused`` (stop the run),
``SkipDm`` (this DM cannot be opened), ``RemoteUnavailable`` (Discord keeps failing),
``ChannelExportError`` (one export failed; its ``error_class`` says how).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import msgspec

from .events import AnyEvent, ChannelInfo, ExportFile
from .state import State
from .steps import AnyStep

__all__ = [
    "Checkpoint",
    "Discord",
    "EventLog",
    "ExportedChannel",
    "Exporter",
    "Ports",
    "Progress",
    "Unreadable",
    "export_id",
]


def export_id(run: str, seq: int) -> str:
    """The id an export is filed under: its run and the seq of its ``ExportRequested``.

    Run ids are unique, so the id is unique across journals too: a new journal in an archive
    never names a folder an old one left (earlier versions of dmj used the seq alone).
    """
    return f"{run}-{seq}"


class EventLog(Protocol):
    """The journal, as the driver sees it."""

    def append(self, event: AnyEvent) -> AnyEvent:
        """Journal ``event`` durably; return it stamped. Returning is the acknowledgement."""
        ...


class Unreadable(msgspec.Struct, frozen=True, kw_only=True):
    """Why Discord will not let the account read a channel: its HTTP ``status`` and JSON
    ``code``, and ``message``, a sentence for the journal (``ExportFailed.message``)."""

    status: int
    code: int | None
    message: str


class Discord(Protocol):
    """The calls to Discord a run makes once it has started."""

    async def open_dms(self) -> tuple[ChannelInfo, ...]:
        """The DMs and group DMs open right now."""
        ...

    async def reopen_dm(self, user_id: str) -> ChannelInfo:
        """Reopen the 1-on-1 DM with ``user_id``; the channel may differ from the package's.

        Raises ``SkipDm`` when Discord will not open it (deleted user, unknown user).
        """
        ...

    async def close_dm(self, channel: ChannelInfo) -> ChannelInfo:
        """Close the 1-on-1 DM ``channel`` (never a group DM: that would leave it)."""
        ...

    async def check_readable(self, channel_id: str) -> Unreadable | None:
        """None when the account may read ``channel_id``'s messages; else why not (Discord
        forbids it, or does not find the channel). One request, paced like the others."""
        ...


class ExportedChannel(msgspec.Struct, frozen=True, kw_only=True):
    """A verified export, in the archive: ``path`` is relative to the archive directory
    (empty when the export held no message and kept no folder); ``files`` are
    the files filed there, with sizes and digests."""

    path: str
    message_count: int
    last_message_id: str | None
    files: tuple[ExportFile, ...] = ()


class Exporter(Protocol):
    """Exports channels into the archive, one at a time."""

    async def export(
        self, channel_id: str, *, after: str | None, export_id: str
    ) -> ExportedChannel:
        """Export ``channel_id`` (only messages after ``after``), verify it and file it
        under ``export_id`` (``<run id>-<seq>``: unique across journals, so a new journal
        never meets an old one's folder); raises ``ChannelExportError``."""
        ...


class Checkpoint(Protocol):
    """Writes the projections of a state (after each batch, on pause and on finish)."""

    def __call__(self, state: State) -> None: ...


class Progress(Protocol):
    """Hears what the driver does, for showing progress and logging; must not raise."""

    def step(self, state: State, step: AnyStep) -> None:
        """``step`` is about to be taken in ``state``."""
        ...

    def recorded(self, state: State, event: AnyEvent) -> None:
        """``event`` was journaled; ``state`` includes it."""
        ...


@dataclass(frozen=True)
class Ports:
    """Everything the driver touches, passed in: one of each port above."""

    log: EventLog
    discord: Discord
    exporter: Exporter
    checkpoint: Checkpoint
    progress: Progress

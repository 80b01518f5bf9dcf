"""dmj's edges to the outside world: the data package, Discord's HTTP API and DCE.

- ``read_package(path)``: a data package (folder or ``.zip``, any era) → ``PackageContents``;
  ``open_package(path)`` also reads the owner's messages, one channel's file at a time.
- ``DiscordClient``: ``me``, ``open_dms``, ``reopen_dm``, ``close_dm``, ``check_readable``,
  paced by a ``Pacing`` (``CAREFUL`` by default, ``FAST`` for the sandbox).
- ``find_dce(path)`` → ``Dce`` (checked with ``--version``); ``DceRunner.export`` exports
  one channel into a fresh folder and verifies it → ``ExportResult``; DCE dies with dmj, and
  ``end_recorded_group`` ends one a crashed dmj left behind.
- ``redact`` and ``TokenRedactingFilter`` keep the token out of any text and log.

Errors raised here are the classes of ``dmj.machine.errors`` (see ``docs/adapters.md``).
"""

from ._dce import Dce, DceRunner, export_argv, find_dce
from ._dce_output import ExportResult, MediaFile
from ._dce_record import end_recorded_group
from ._discord import DEFAULT_API_BASE, DiscordClient
from ._pacing import CAREFUL, FAST, Pacing, pacing_preset
from ._package import DELETED_USER, Package, open_package, read_package
from ._redact import REDACTED, TokenRedactingFilter, redact

__all__ = [
    "CAREFUL",
    "DEFAULT_API_BASE",
    "DELETED_USER",
    "FAST",
    "REDACTED",
    "Dce",
    "DceRunner",
    "DiscordClient",
    "ExportResult",
    "MediaFile",
    "Pacing",
    "Package",
    "TokenRedactingFilter",
    "end_recorded_group",
    "export_argv",
    "find_dce",
    "open_package",
    "pacing_preset",
    "read_package",
    "redact",
]

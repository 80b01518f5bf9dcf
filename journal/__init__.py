"""The durable, append-only JSONL journal: dmj's source of truth (docs/journal-format.md).

One ``JournalWriter`` per archive (``flock`` on ``journal.lock``) appends events, each
acknowledged only after its ``fdatasync``; ``open`` sets a torn tail aside and refuses
damage before it. ``read_events`` streams the intact records without a lock;
``check_journal`` audits a journal read-only. The journal is generic over an event
``Schema``; the default is dmj's own catalogue (``dmj.machine.events``).

Tests and crash drills reach the disk through the ``Storage`` seam and ``Failpoints``; the
archive's other files (``dmj.projections``' durable recipes) go through the same seam.
"""

from ._failpoints import FailAction, FailingStorage, Failpoints, sigkill_self
from ._findings import JournalCheck, Problem, ProblemKind, Recovery, TornTail
from ._format import CHECK_FIELD, MAGIC, encode_line, lines_ok, seal
from ._reader import JournalEvents, check_journal, read_events
from ._schema import DMJ_SCHEMA, Schema, Upcaster
from ._storage import DIR_MODE, FILE_MODE, OsStorage, Storage
from ._writer import Clock, JournalWriter, utc_now

__all__ = [
    "CHECK_FIELD",
    "DIR_MODE",
    "DMJ_SCHEMA",
    "FILE_MODE",
    "MAGIC",
    "Clock",
    "FailAction",
    "FailingStorage",
    "Failpoints",
    "JournalCheck",
    "JournalEvents",
    "JournalWriter",
    "OsStorage",
    "Problem",
    "ProblemKind",
    "Recovery",
    "Schema",
    "Storage",
    "TornTail",
    "Upcaster",
    "check_journal",
    "encode_line",
    "lines_ok",
    "read_events",
    "seal",
    "sigkill_self",
    "utc_now",
]

"""The durable, append-only JSONL journal: dmj's source of truth (docs/journal-format.md).

One ``JournalWriter`` per archive (``flock`` on ``journal.lock``) appends events, each
acknowledged only after its ``fdatasync``; ``open`` sets a torn tail aside and refuses
damage before it. ``read_events`` streams the intact records without a lock;
``check_journal`` audits a journal read-only; ``probe_writer`` says whether a writer holds it
now. ``read_rest`` and ``set_rest_aside`` are ``dmj repair``'s part: what follows damage,
read as far as it can be, and the cut that keeps the valid prefix. The journal is generic
over an event ``Schema``; the default is dmj's own catalogue (``dmj.machine.events``).

Tests and crash drills reach the disk through the ``Storage`` seam and ``Failpoints``; the
archive's other files (``dmj.projections``' durable recipes) go through the same seam.
"""

from ._failpoints import FailAction, FailingStorage, Failpoints, sigkill_self
from ._findings import JournalCheck, Problem, ProblemKind, Recovery, TailKind, TornTail
from ._format import CHECK_FIELD, MAGIC, encode_line, lines_ok, seal
from ._lock import LockHolder, process_alive
from ._reader import JournalEvents, check_journal, read_events
from ._repair import RestLine, line_offset, read_rest, set_rest_aside
from ._schema import DMJ_SCHEMA, Schema, Upcaster
from ._storage import DIR_MODE, FILE_MODE, OsStorage, Storage
from ._writer import Clock, JournalWriter, probe_writer, utc_now

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
    "LockHolder",
    "OsStorage",
    "Problem",
    "ProblemKind",
    "Recovery",
    "RestLine",
    "Schema",
    "Storage",
    "TailKind",
    "TornTail",
    "Upcaster",
    "check_journal",
    "encode_line",
    "line_offset",
    "lines_ok",
    "probe_writer",
    "process_alive",
    "read_events",
    "read_rest",
    "seal",
    "set_rest_aside",
    "sigkill_self",
    "utc_now",
]

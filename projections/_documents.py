"""The projection documents: ``batch-state.json`` and ``id-history.json`` (docs/projections.md).

Both are caches of the journal, rebuilt from it at will; each records ``throughSeq``, the last
journal record it reflects, as its last member (``_files`` reads it from the end). Field names
are the seed tool's camelCase; channel and user objects keep Discord's own names
(``global_name``).
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from dmj.machine.events import ChannelInfo, UserInfo
from dmj.machine.state import ChannelStatus

__all__ = [
    "BATCH_STATE_SCHEMA",
    "BatchStateDoc",
    "IdHistoryDoc",
    "encode_document",
]

BATCH_STATE_SCHEMA = 1
"""``schemaVersion`` of ``batch-state.json``."""


class Document(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base of the documents.

    ``rename="camel"``: Python names, the seed schema's JSON names (``allDmIds``).
    ``frozen``/``kw_only``: values built once from a state; subclasses repeat both options.
    """


class BatchStateDoc(Document, frozen=True, kw_only=True):
    """Where a run stands: ``batch-state.json``, present while a run is in progress.

    Batches are 0-based; ``lastCompletedBatch`` is -1 before the first one finishes;
    ``currentBatch`` is the open batch or the next to start (``totalBatches`` once all are
    done). The user lists hold plan keys (the user id of a 1-on-1 DM, else the channel id)
    in plan order; ``processedUsers`` are the exported ones. ``inProgress`` says a batch is
    open. ``timestamp`` is the time of record ``throughSeq``.
    """

    schema_version: int = BATCH_STATE_SCHEMA
    run_id: str
    all_dm_ids: tuple[str, ...]
    total_batches: int
    current_batch: int
    last_completed_batch: int
    processed_users: tuple[str, ...]
    skipped_users: tuple[str, ...]
    failed_users: tuple[str, ...]
    timestamp: datetime
    in_progress: bool
    through_seq: int


class IdHistoryDoc(Document, frozen=True, kw_only=True):
    """Every channel dmj has seen and how each export went: ``id-history.json``.

    ``originalState``: the DMs open at the first capture ever. ``latest``: the 1-on-1 DMs open
    as of ``throughSeq`` (the last capture, plus what dmj opened and has not closed yet; after
    each close this is the list dmj leaves behind). ``uniqueChannels``: every channel ever
    seen, once, in the order first seen. ``exportStatus``: per channel id, in the order first
    reached, the latest outcome (``ChannelStatus``: ``status``, ``at``, ``messageCount``,
    ``lastMessageId``).
    """

    user: UserInfo
    original_state: tuple[ChannelInfo, ...]
    latest: tuple[ChannelInfo, ...]
    unique_channels: tuple[ChannelInfo, ...]
    export_status: dict[str, ChannelStatus]
    through_seq: int


_ENCODER = msgspec.json.Encoder()


def encode_document(document: Document) -> bytes:
    """The file's bytes: JSON with a 2-space indent and a final newline."""
    return msgspec.json.format(_ENCODER.encode(document), indent=2) + b"\n"

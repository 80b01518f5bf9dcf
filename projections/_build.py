"""Pure builders: a ``State`` → the projection documents, and the set of files they make.

Nothing here reads a file or a clock; ``timestamp`` is the time of the record the document
reflects, so the same journal always gives the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter

from dmj.machine.events import UserInfo
from dmj.machine.state import BatchProgress, OutcomeKind, RunState, State, remember

from ._documents import BatchStateDoc, IdHistoryDoc, encode_document

__all__ = [
    "BATCH_STATE",
    "ID_HISTORY",
    "archived_batch_state",
    "build_batch_state",
    "build_id_history",
    "projection_files",
]

BATCH_STATE = "batch-state.json"
ID_HISTORY = "id-history.json"

_user_id = attrgetter("user_id")


def archived_batch_state(run_id: str) -> str:
    """Where a finished run's ``batch-state.json`` lives, relative to the archive."""
    return f"runs/{run_id}/{BATCH_STATE}"


def build_batch_state(
    run: RunState, batch: BatchProgress | None, through_seq: int, at: datetime
) -> BatchStateDoc:
    """``batch-state.json`` of ``run`` with its open ``batch``, as of record ``through_seq``."""
    users: dict[OutcomeKind, list[str]] = {"exported": [], "skipped": [], "failed": []}
    add = {kind: ids.append for kind, ids in users.items()}
    for record in run.finished_batches():
        for outcome in record.outcomes:  # one pass: a large run's outcomes are not in cache
            add[outcome.kind](outcome.user_id)
    if batch is not None:
        for outcome in batch.outcomes():
            add[outcome.kind](outcome.user_id)
    return BatchStateDoc(
        run_id=run.id,
        all_dm_ids=tuple(map(_user_id, run.started.plan)),
        total_batches=run.started.total_batches,
        current_batch=batch.batch if batch is not None else run.last_completed + 1,
        last_completed_batch=run.last_completed,
        processed_users=tuple(users["exported"]),
        skipped_users=tuple(users["skipped"]),
        failed_users=tuple(users["failed"]),
        timestamp=at,
        in_progress=batch is not None,
        through_seq=through_seq,
    )


def build_id_history(state: State) -> IdHistoryDoc | None:
    """``id-history.json`` as of ``state`` (None before the first run)."""
    run = state.run
    if run is None:
        return None
    memory = remember(state.memory, run, state.batch)
    started = run.started
    captures = [r.capture for r in reversed(memory.runs) if r.capture is not None]
    latest = [c for c in captures[0].channels if c.type == 1] if captures else []
    if state.batch is not None:
        open_now = {dm.opened for dm in state.batch.dms if dm.opened is not None}
        latest.extend(c for c in state.batch.seen if c.id in open_now)
    return IdHistoryDoc(
        user=started.user or UserInfo(id=started.package.self_id),
        original_state=memory.first_capture or (),
        latest=tuple(latest),
        unique_channels=tuple(memory.channels.values()),
        export_status=memory.status,
        through_seq=state.through_seq,
    )


def projection_files(state: State, *, past_runs: bool = True) -> dict[str, bytes | None]:
    """Every projection file of the archive as ``state`` implies it, relative path → bytes.

    ``None`` means the file must not exist: ``batch-state.json`` once the run finished (it
    moved to ``runs/<run_id>/``). ``past_runs=False`` leaves out earlier runs' archived
    documents, which never change once their run finished.
    """
    run = state.run
    if run is None:
        return {}
    files: dict[str, bytes | None] = {}
    if past_runs:
        for past in state.memory.runs:
            files[archived_batch_state(past.id)] = _final_batch_state(past)
    history = build_id_history(state)
    if history is not None:
        files[ID_HISTORY] = encode_document(history)
    if run.finished is None:
        doc = build_batch_state(run, state.batch, state.through_seq, state.at)
        files[BATCH_STATE] = encode_document(doc)
    else:
        files[archived_batch_state(run.id)] = _final_batch_state(run)
        files[BATCH_STATE] = None
    return files


def _final_batch_state(run: RunState) -> bytes | None:
    if run.finished is None:  # an earlier run always finished; kept total for the type
        return None
    return encode_document(build_batch_state(run, None, run.finished.seq, run.finished.at))

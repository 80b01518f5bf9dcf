"""Whether another dmj is working on an archive right now, and the refusal that says so.

``dmj run`` and ``dmj resume`` ask the journal's writer lock (``probe_writer``: read-only,
instant) before they ask for anything else, so a second dmj on a running archive says
"running (pid N)" at once instead of taking the run for an interrupted one. The lock itself
stays the arbiter: whoever opens the journal for writing second still gets ``JournalLocked``.
"""

from __future__ import annotations

from dmj.journal import LockHolder, probe_writer
from dmj.machine.errors import JournalLocked
from dmj.machine.state import RunState, State

from ._archive import Archive

__all__ = ["probe_archive", "running_elsewhere"]


def probe_archive(archive: Archive) -> LockHolder | None:
    """The dmj writing ``archive``'s journal now, if any (probe before reading the journal:
    a run that ends in between then reads as finished, never as interrupted)."""
    return probe_writer(archive.journal)


def running_elsewhere(archive: Archive, state: State, writer: LockHolder) -> JournalLocked:
    """The refusal for a command that would work on ``archive`` while ``writer`` does."""
    root, pid = archive.root, writer.pid
    who = f"pid {pid}" if pid else "its pid unknown"
    stop = f"Ctrl-C where it runs, or `kill {pid}`" if pid else "Ctrl-C where it runs"
    run = state.run
    if run is None or run.finished is not None:
        doing = f"Another dmj ({who}) is working on the archive {root} right now"
    else:
        doing = f"Run {run.id} in {root} is running ({who}): {_progress(state, run)}"
    return JournalLocked(
        f"{doing}. Wait for it to finish, or stop it ({stop}), then try again; `dmj replay "
        "--inspect` shows how far it got.",
        pid=pid,
    )


def _progress(state: State, run: RunState) -> str:
    """Where ``run``, the journal's running run, is (batches counted from 1)."""
    total = run.started.total_batches
    batch = state.batch
    if run.capture is None:
        return "it has not started its first batch yet"
    if batch is not None:
        done = sum(1 for dm in batch.dms if dm.outcome is not None)
        return f"batch {batch.batch + 1}/{total}, {done} of {len(batch.dms)} DMs done"
    return f"{run.last_completed + 1} of {total} batches done"

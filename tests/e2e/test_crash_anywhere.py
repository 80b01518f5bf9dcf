"""Crash anywhere: SIGKILL ``dmj run`` right after journal record k, for every k, and at
every storage operation (crashed, or torn halfway through a write), then ``dmj resume`` to
the end; the archive must be the one an uninterrupted run makes.

The kill comes from the journal's failpoint (``DMJ_FAILPOINT=after-record=k``): the process
dies the moment record k is durable, before it acts on it, as a power cut or the OOM killer
would. The world is small but has every fate (an open DM, readable and reopen-only closed DMs,
a reopen that returns another channel, a deleted user's DM, a user gone since the package, a
group DM, a group DM the owner left, a duplicate DM) once, and the run has three batches: the
smallest world with every fate has two readable and two reopen-only DMs, so its package leaves
one of each out (they stay closed and untouched, as a DM the owner never wrote in would).

Every storage operation: ``DMJ_FAILPOINT=crash-at-op=N`` kills ``dmj run`` instead of its
N-th operation through the storage seam (the journal's, the exports' and media's, the
projections', the message index's as the summary builds it), and ``tear-at-op=N`` lets a
write reach the file halfway first, for every N of an uninterrupted run with ``--media``
(counted by a recording storage). That
world is the smallest that files exports, media and projections mid-run: two DMs (one open,
one closed but readable) in two batches. A run killed before ``RunStarted`` is durable is
simply run again, as a user would.

The work is split into parts (k = part + 1, part + 1 + PARTS, …) so pytest-xdist spreads it.
The crashed and resumed ``dmj`` processes are forked from a server that imported dmj once
(``tests.e2e.forkserver``): the same console script and the same SIGKILL, at about half the
cost of starting Python and importing dmj twice per crash. The uninterrupted reference runs
are started as usual.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from dmj.machine.events import AnyEvent, BatchFinished, BatchStarted, RunFinished, RunStarted
from dmj.sandbox import (
    LAYOUTS,
    Sandbox,
    WorldFacts,
    WorldSpec,
    create_sandbox,
    world_facts,
    write_package,
)
from msgspec.structs import replace

from tests.e2e.forkserver import ForkServer
from tests.e2e.support import Archive, Served, serving
from tests.promises import broken_promises, exported_channels

pytestmark = pytest.mark.slow

PARTS = 8
BATCH_SIZE = 3
SPEC = WorldSpec(users=8, groups=2, duplicates=1, empty=1, messages=3, seed=3)
TINY = WorldSpec(users=2, groups=0, duplicates=0, empty=0, messages=3, seed=2)
"""One open DM and one closed, readable DM: with batches of 1, two exports in two batches."""


@dataclass(frozen=True)
class Reference:
    """The uninterrupted run: its record count and what it archived."""

    records: int
    exported: dict[str, int]
    kinds: list[str]


@pytest.fixture(scope="module")
def forks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    """One fork server per worker process."""
    with ForkServer(tmp_path_factory.mktemp("forks")) as server:
        yield server


def dmj(forks: ForkServer, served: Served, *args: str, **env: str) -> CompletedProcess[str]:
    """``dmj ARGS`` against ``served``, forked from the server."""
    return forks.run(list(args), served.env(**env))


def resume_args(served: Served) -> list[str]:
    return ["resume", "--archive", str(served.archive.path)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    """The world of ``SPEC`` with a package that has each fate once."""
    sandbox = create_sandbox(tmp_path_factory.mktemp("crash") / "sbx", SPEC)
    package = write_package(
        sandbox.world, sandbox.root / "package-once", LAYOUTS["2025"], as_zip=False,
        exclude=second_of_a_fate(sandbox),
    )  # fmt: skip
    return replace(sandbox, package=package)


def second_of_a_fate(sandbox: Sandbox) -> list[str]:
    """The package DMs beyond the first of the readable and reopen-only fates (the first
    being the one with an older duplicate, else one with messages)."""
    facts = world_facts(sandbox.world)
    left_out = []
    for fate in ("readable", "reopen"):
        same = [c for c in sandbox.world.channels if c.fate == fate]
        same.sort(key=lambda c: (c.id not in facts.duplicates, c.message_count == 0))
        left_out += [c.id for c in same[1:]]
    return left_out


def package_facts(sandbox: Sandbox) -> WorldFacts:
    """The world's facts, for the DMs in the package the runs use."""
    facts = world_facts(sandbox.world)
    left_out = set(second_of_a_fate(sandbox))
    exports = {k: v for k, v in facts.exports.items() if k not in left_out}
    return replace(facts, exports=exports)


@pytest.fixture(scope="module")
def reference(world: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    with serving(world, tmp_path_factory.mktemp("reference") / "archive") as served:
        done = served.run(batch_size=BATCH_SIZE)
        assert done.returncode == 0, done.stderr
        events = served.archive.events()
        assert broken_promises(events, package_facts(world)) == []
        return Reference(
            records=len(events),
            exported=served.archive.exported(),
            kinds=[type(e).__name__ for e in events],
        )


def test_the_crash_world_has_every_fate_and_at_least_three_batches(
    world: Sandbox, reference: Reference
) -> None:
    fates = {channel.fate for channel in world.world.channels}
    assert fates >= {
        "open", "readable", "reopen", "moved", "deleted", "gone", "group", "left-group",
        "duplicate",
    }  # fmt: skip
    assert reference.kinds.count("BatchFinished") >= 3
    for kind in ("DmOpened", "DmSkipped", "ExportFailed", "DmClosed", "ChannelExported"):
        assert kind in reference.kinds, f"the uninterrupted run journals {kind}"


@pytest.mark.timeout(300)  # about five crashes and resumes, on a loaded machine
@pytest.mark.parametrize("part", range(PARTS))
def test_a_crash_after_any_record_then_resume_ends_as_an_uninterrupted_run(
    world: Sandbox, reference: Reference, forks: ForkServer, part: int, tmp_path: Path
) -> None:
    facts = package_facts(world)
    for k in range(part + 1, reference.records + 1, PARTS):
        broken = crash_then_resume(forks, world, facts, reference, k, tmp_path / f"k{k}")
        assert broken == [], f"killed after record {k} ({reference.kinds[k - 1]}): {broken}"


def crash_then_resume(
    forks: ForkServer,
    world: Sandbox,
    facts: WorldFacts,
    reference: Reference,
    k: int,
    archive: Path,
) -> list[str]:
    """Kill ``dmj run`` after record k, resume, and list every promise broken."""
    with serving(world, archive) as served:
        run = served.run_args(batch_size=BATCH_SIZE)
        killed = dmj(forks, served, *run, DMJ_FAILPOINT=f"after-record={k}")
        if killed.returncode != -signal.SIGKILL:
            return [f"dmj run was not killed: exit {killed.returncode}: {killed.stderr}"]
        before = served.archive.events()
        resumed = dmj(forks, served, *resume_args(served))
        if resumed.returncode != 0:
            return [f"dmj resume failed: exit {resumed.returncode}: {resumed.stderr}"]
        after = served.archive.events()
        broken = broken_promises(after, facts)
        broken += _resume_kept_what_was_done(before, after)
        if served.archive.exported() != reference.exported:
            broken.append(f"archived {served.archive.exported()}, not {reference.exported}")
        if served.open_now() != set(facts.open_at_start):
            broken.append(f"open DMs are {served.open_now()}, not {set(facts.open_at_start)}")
        broken += _archive_is_settled(served.archive, after)
    return broken


def _resume_kept_what_was_done(before: list[AnyEvent], after: list[AnyEvent]) -> list[str]:
    """The crashed run's records are kept; resume restarts no finished batch and no finished
    export."""
    broken = []
    if after[: len(before)] != before:
        broken.append("the records before the crash changed")
    finished = {e.batch for e in before if isinstance(e, BatchFinished)}
    restarted = [e.batch for e in after[len(before) :] if isinstance(e, BatchStarted)]
    if set(restarted) & finished:
        broken.append(f"batches {sorted(set(restarted) & finished)} were started again")
    twice = [ch for ch, n in exported_channels(after).items() if n > 1]
    if twice:
        broken.append(f"channels {twice} were exported twice")
    return broken


def _archive_is_settled(archive: Archive, events: list[AnyEvent]) -> list[str]:
    broken = []
    started, finished = events[0], events[-1]
    assert isinstance(started, RunStarted)
    if not isinstance(finished, RunFinished):
        return ["the journal does not end with RunFinished"]
    if (archive.path / "batch-state.json").exists():
        broken.append("batch-state.json was not moved to runs/<run_id>/")
    state = archive.json(f"runs/{started.run}/batch-state.json")
    if state["throughSeq"] != finished.seq:
        broken.append(f"runs/…/batch-state.json reflects seq {state['throughSeq']}")
    if archive.json("id-history.json")["throughSeq"] != finished.seq:
        broken.append("id-history.json is behind the journal")
    if list((archive.path / "tmp").glob("*")):
        broken.append("tmp/ is not empty")
    exported = [e for e in events if type(e).__name__ == "ChannelExported"]
    if len(archive.export_folders()) != len(exported):
        broken.append(f"export folders {archive.export_folders()} are not the journal's")
    return broken


@dataclass(frozen=True)
class OpsReference:
    """The uninterrupted ``--media`` run of the tiny world: its storage operations by name,
    what it archived, and its media files with their sizes."""

    ops: list[str]
    exported: dict[str, int]
    media: dict[str, int]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return create_sandbox(tmp_path_factory.mktemp("tiny") / "sbx", TINY)


@pytest.fixture(scope="module")
def ops_reference(
    tiny: Sandbox, forks: ForkServer, tmp_path_factory: pytest.TempPathFactory
) -> OpsReference:
    """The uninterrupted run, its storage operations recorded (in a forked child)."""
    scratch = tmp_path_factory.mktemp("ops-reference")
    with serving(tiny, scratch / "archive") as served:
        run = served.run_args("--media", batch_size=1)
        done = forks.run(run, served.env(), record=scratch / "ops.txt")
        assert done.returncode == 0, done.stderr
        assert broken_promises(served.archive.events(), served.facts) == []
        return OpsReference(
            ops=(scratch / "ops.txt").read_text().split(),
            exported=served.archive.exported(),
            media=media_of(served.archive),
        )


def media_of(archive: Archive) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted((archive.path / "media").glob("*"))}


def test_the_tiny_run_files_exports_media_and_projections(ops_reference: OpsReference) -> None:
    ops = set(ops_reference.ops)
    assert {"write", "sync", "create_temp", "replace", "sync_file", "make_dir", "remove"} <= ops
    assert {"create_new", "link"} <= ops, "the summary builds the message index through the seam"
    assert len(ops_reference.exported) == 2
    assert ops_reference.media


@pytest.mark.timeout(300)  # about fifteen crashes and resumes, on a loaded machine
@pytest.mark.parametrize("part", range(PARTS))
def test_a_crash_or_torn_write_at_any_storage_operation_then_resume_ends_as_an_uninterrupted_run(
    tiny: Sandbox, ops_reference: OpsReference, forks: ForkServer, part: int, tmp_path: Path
) -> None:
    points = [f"crash-at-op={n}" for n in range(1, len(ops_reference.ops) + 1)]
    points += [f"tear-at-op={n}" for n, op in enumerate(ops_reference.ops, 1) if op == "write"]
    for point in points[part::PARTS]:
        broken = crash_at_op_then_resume(forks, tiny, ops_reference, point, tmp_path / point)
        n = int(point.partition("=")[2])
        assert broken == [], f"{point} ({ops_reference.ops[n - 1]}): {broken}"


def crash_at_op_then_resume(
    forks: ForkServer, world: Sandbox, reference: OpsReference, point: str, archive: Path
) -> list[str]:
    """Kill ``dmj run`` at ``point``, carry on (resume, or run again if no run had started),
    and list every promise broken."""
    with serving(world, archive) as served:
        run = served.run_args("--media", batch_size=1)
        killed = dmj(forks, served, *run, DMJ_FAILPOINT=point)
        if killed.returncode != -signal.SIGKILL:
            return [f"dmj run was not killed: exit {killed.returncode}: {killed.stderr}"]
        before = (
            served.archive.events()
            if served.archive.path.joinpath("journal.jsonl").exists()
            else []
        )
        again = dmj(forks, served, *(resume_args(served) if before else run))
        if again.returncode != 0:
            return [f"carrying on failed: exit {again.returncode}: {again.stderr}"]
        after = served.archive.events()
        broken = broken_promises(after, served.facts)
        broken += _resume_kept_what_was_done(before, after)
        if served.archive.exported() != reference.exported:
            broken.append(f"archived {served.archive.exported()}, not {reference.exported}")
        if media_of(served.archive) != reference.media:
            broken.append(f"media {media_of(served.archive)}, not {reference.media}")
        if served.open_now() != set(served.facts.open_at_start):
            broken.append(f"open DMs are {served.open_now()}")
        broken += _archive_is_settled(served.archive, after)
        broken += _no_temp_files(served)
    return broken


def _no_temp_files(served: Served) -> list[str]:
    temps = sorted(str(p) for p in served.archive.path.rglob(".*.tmp"))
    return [f"temp files left behind: {temps}"] if temps else []

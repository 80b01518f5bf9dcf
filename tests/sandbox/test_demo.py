"""The demo's judgement of the journal: when to pull the plug, and what resuming must keep.

Journals come from the scripted story of ``tests/projections/story.py`` (five DMs in batches of
2); the demo itself runs end to end in ``tests/e2e/test_demo.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dmj.machine.errors import DemoFailed, UsageError
from dmj.machine.events import AnyEvent, BatchStarted, ChannelExported, ExportRequested
from dmj.machine.state import fold
from dmj.projections.history import fold as folded
from dmj.sandbox import STORY, World, WorldSpec, build_world
from dmj.sandbox._demo import Stage, prepare_places
from dmj.sandbox._demo_crash import (
    _numbers,
    at_the_moment,
    broken_resume_promises,
    describe_resume,
)
from dmj.sandbox._demo_steps import BuildWorld, MarkdownExport, someone_to_ask_about

from tests.projections.story import first_run


def kill_point(events: list[AnyEvent], batch: int, after: int) -> int:
    """How many records the journal holds when ``at_the_moment`` first says yes."""
    return next(n for n in range(1, len(events) + 1) if at_the_moment(events[:n], batch, after))


def test_the_moment_is_an_export_request_in_the_batch_after_enough_dms_are_done() -> None:
    events = first_run()
    n = kill_point(events, batch=1, after=1)
    assert isinstance(events[n - 1], ExportRequested)
    state = fold(events[:n])
    assert state.batch is not None
    assert state.batch.batch == 1
    assert sum(1 for _ in state.batch.outcomes()) >= 1


def test_the_moment_never_comes_in_a_batch_before_the_one_asked_for() -> None:
    events = first_run()
    batch_1 = next(i for i, e in enumerate(events) if isinstance(e, BatchStarted) and e.batch == 1)
    assert any(at_the_moment(events[:k], 0, 0) for k in range(1, batch_1)), "batch 0 had some"
    assert kill_point(events, batch=1, after=0) > batch_1 + 1


def test_a_resume_that_kept_every_promise_breaks_none() -> None:
    events = tuple(first_run())
    at_kill = events[: kill_point(list(events), batch=1, after=0)]
    assert broken_resume_promises(at_kill, events) == []
    said = describe_resume(at_kill, events)
    assert f"the {len(at_kill)} records written before the kill are unchanged" in said
    assert f"RunFinished (record {events[-1].seq})" in said


@pytest.mark.parametrize(
    ("damage", "broken"),
    [
        ("restart", "batches 1, finished before the kill, started again"),
        ("export-again", "were exported a second time"),
        ("rewrite", "the records written before the kill changed"),
        ("unfinished", "the journal does not end with RunFinished"),
    ],
)
def test_a_resume_that_broke_a_promise_is_caught(damage: str, broken: str) -> None:
    events = list(first_run())
    n = kill_point(events, batch=1, after=0)
    at_kill, after = tuple(events[:n]), events[n:]
    if damage == "restart":
        after.insert(0, next(e for e in at_kill if isinstance(e, BatchStarted)))
    elif damage == "export-again":
        after.insert(0, next(e for e in at_kill if isinstance(e, ChannelExported)))
    elif damage == "rewrite":
        at_kill = (*at_kill[:-1], at_kill[0])
    else:
        after.pop()
    found = broken_resume_promises(at_kill, (*events[:n], *after))
    assert any(broken in problem for problem in found), found


def test_the_demo_takes_only_a_new_or_empty_directory(tmp_path: Path) -> None:
    assert prepare_places(tmp_path / "new").root == (tmp_path / "new").absolute()
    assert (tmp_path / "new").is_dir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is not an empty directory"):
        prepare_places(tmp_path / "full")


@pytest.mark.parametrize(
    ("batches", "said"),
    [({0}, "1"), ({0, 1}, "1 and 2"), ({0, 1, 2, 3}, "1 to 4"), ({0, 2, 3}, "1, 3 and 4")],
)
def test_batches_are_named_as_people_count_them(batches: set[int], said: str) -> None:
    assert _numbers(batches) == said


def demo_world() -> World:
    """The world the story builds (its ``BuildWorld`` step's size and seed)."""
    step = next(s for s in STORY if isinstance(s, BuildWorld))
    return build_world(WorldSpec.sized(step.users, seed=step.seed, messages=step.messages))


def test_the_person_the_demo_asks_about_is_the_only_one_called_so_and_has_an_open_dm() -> None:
    world = demo_world()
    name = someone_to_ask_about(world)
    called = [
        u for u in world.users if folded(name) in {folded(u.username), folded(u.global_name or "")}
    ]
    assert [u.username for u in called] == [name], "in:NAME selects one conversation"
    shown = called[0].global_name or name
    assert folded(shown) == folded(name), "the DM is shown under the name the query uses"
    dms = [c for c in world.channels if c.recipients == (called[0].id,) and c.fate == "open"]
    assert len(dms) == 1
    assert dms[0].message_count > 0


def test_an_export_the_demo_shows_must_leave_a_file_that_is_not_empty(tmp_path: Path) -> None:
    narrator = Silent()
    stage = DryStage(places=prepare_places(tmp_path), narrator=narrator, env={})
    step = MarkdownExport("Export", "why", ("--filename", "{root}/x.md"), "{root}/x.md")
    with pytest.raises(DemoFailed, match=r"x\.md is missing or empty"):
        step.run(stage)
    assert stage.ran == [["export", "md", "--filename", f"{tmp_path}/x.md"]]
    (tmp_path / "x.md").write_text("", encoding="utf-8")
    with pytest.raises(DemoFailed, match="is missing or empty"):
        step.run(stage)
    (tmp_path / "x.md").write_text("## 1. a message\n", encoding="utf-8")
    step.run(stage)
    assert narrator.said[-1].startswith(f"{tmp_path}/x.md holds 16 bytes of Markdown")


@dataclass
class DryStage(Stage):
    """A stage that records the ``dmj`` commands it is asked to run instead of running them."""

    ran: list[list[str]] = field(default_factory=list)

    def dmj(self, argv: Sequence[str], *, codes: tuple[int, ...] = (0,)) -> int:
        self.ran.append(list(argv))
        return 0


class Silent:
    """A narrator that keeps what the demo says."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def chapter(self, number: int, title: str) -> None: ...

    def say(self, text: str) -> None:
        self.said.append(text)

    def command(self, line: str) -> None: ...

    def output(self, line: str) -> None: ...

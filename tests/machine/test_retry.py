"""Retrying the failed DMs of a finished run, and narrowing a plan to some conversations."""

from __future__ import annotations

import pytest
from dmj.machine.decide import decide
from dmj.machine.errors import InvariantBroken, RuleBroken, UsageError
from dmj.machine.events import DceInfo, ExportRequested, PlanEntry
from dmj.machine.plan import choose, failed_entries, plan_dms, retry_run, start_run
from dmj.machine.state import State, Tally, apply, tally
from dmj.machine.steps import ExportChannel, Idle
from msgspec.structs import replace

from tests.machine.simulate import Simulation, World, package_dm, run_started, scripted

DCE = DceInfo(path="/opt/dce/DiscordChatExporter.Cli", version="2.47.0")
DMS = [
    package_dm("5"),  # channel 15, first: forbidden directly, Discord will not reopen it → skipped
    package_dm("101", "group"),  # exported
    package_dm("102", "group"),  # DCE: forbidden → unreachable
    package_dm("103", "group"),  # DCE crashes three times → failed
]
ANSWERS = ("permanent", "skipped", "exported", "permanent", "transient", "transient", "transient")


def finished_with_every_verdict() -> Simulation:
    sim = Simulation(world=World(choose=scripted(*ANSWERS)))
    sim.start(run_started(DMS, batch_size=2))
    sim.run_to_end()
    return sim


def test_a_finished_run_tallies_one_dm_of_each_verdict() -> None:
    run = finished_with_every_verdict().state.run
    assert run is not None
    assert tally(run.outcomes()) == Tally(exported=1, skipped=1, unreachable=1, failed=1)
    assert tally(run.outcomes()).describe() == "1 exported, 1 skipped, 1 unreachable, 1 failed"


def test_only_dms_that_failed_for_a_passing_reason_are_retried() -> None:
    state = finished_with_every_verdict().state
    assert state.run is not None
    assert [entry.user_id for entry in failed_entries(state.run)] == ["103"]
    assert decide(state) == Idle(reason="run-finished", retry=1)
    assert decide(state).describe() == (
        "the last run finished, but 1 DM failed: `dmj resume` retries it (`dmj run --package "
        "PATH` starts an incremental run)"
    )


def test_a_retry_run_plans_exactly_the_failed_dms_with_the_runs_settings() -> None:
    state = finished_with_every_verdict().state
    assert state.run is not None
    retry = retry_run(state.run, run="run-2", dce=DCE)
    first = state.run.started
    assert retry.plan == (first.plan[3],)
    assert (retry.retries, retry.total_batches, retry.dce) == ("run-1", 1, DCE)
    same = ("batch_size", "strategy", "package", "max_attempts", "user", "pace", "media")
    assert all(getattr(retry, name) == getattr(first, name) for name in same)


def test_a_retry_that_works_leaves_nothing_to_retry() -> None:
    sim = finished_with_every_verdict()
    assert sim.state.run is not None
    sim = Simulation.resumed(World(choose=scripted("exported")), sim.events)
    sim.start(retry_run(sim.state.run, run="run-2", dce=DCE))  # type: ignore[arg-type]
    end = sim.run_to_end()
    assert end.run is not None
    assert tally(end.run.outcomes()) == Tally(exported=1)
    assert decide(end) == Idle(reason="run-finished", retry=0)
    exports = [e for e in sim.events if isinstance(e, ExportRequested) and e.run == "run-2"]
    assert [e.channel_id for e in exports] == ["103"]


def test_a_retried_dm_archived_before_exports_only_what_is_newer() -> None:
    dms = [package_dm("101", "group")]
    sim = Simulation(world=World(choose=scripted("exported")))
    sim.start(run_started(dms))
    sim.run_to_end()
    sim = Simulation.resumed(World(choose=scripted(*["transient"] * 3)), sim.events)
    sim.start(run_started(dms, run="run-2"))
    sim.run_to_end()
    assert sim.state.run is not None
    sim.start(retry_run(sim.state.run, run="run-3", dce=DCE))
    sim.step()  # capture the open DMs
    sim.step()  # start the batch
    step = decide(sim.state)
    assert isinstance(step, ExportChannel)
    assert step.after == "9000001", "the newest message the first run archived"


def test_retries_names_the_run_just_before() -> None:
    state = finished_with_every_verdict().state
    assert state.run is not None
    retry = retry_run(state.run, run="run-2", dce=DCE)
    with pytest.raises(RuleBroken, match="retries the failed DMs of the run just before it"):
        apply(state, replace(retry, retries="run-0"))
    with pytest.raises(RuleBroken, match="retries the failed DMs"):
        apply(State(), replace(retry, seq=1))


def test_a_run_without_failed_dms_is_not_retried() -> None:
    sim = Simulation(world=World(choose=scripted("exported")))
    sim.start(run_started([package_dm("101", "group")]))
    sim.run_to_end()
    assert sim.state.run is not None
    with pytest.raises(InvariantBroken, match="retried only once it has finished with failed"):
        retry_run(sim.state.run, run="run-2", dce=DCE)


PLAN = plan_dms(
    [
        package_dm("11", name="Direct Message with alice#0"),
        package_dm("12", name="Unknown Participant"),
        package_dm("13", name="Unknown Participant"),
        package_dm("900", "group", name="Trip crew"),
    ]
)


def users(plan: tuple[PlanEntry, ...]) -> list[str]:
    return [entry.user_id for entry in plan]


@pytest.mark.parametrize(
    ("only", "chosen"),
    [
        (("alice#0",), ["11"]),
        (("ALICE#0",), ["11"]),
        (("Direct Message with alice#0",), ["11"]),
        (("12",), ["12"]),
        (("113",), ["13"]),
        (("unknown participant",), ["12", "13"]),
        (("Trip crew", "11"), ["11", "900"]),
    ],
    ids=["name", "any-case", "package-name", "user-id", "channel-id", "shared-name", "several"],
)
def test_only_names_conversations_by_name_user_id_or_channel_id(
    only: tuple[str, ...], chosen: list[str]
) -> None:
    assert users(choose(PLAN, only)) == chosen


def test_only_a_name_that_matches_nothing_is_a_usage_error_with_close_names() -> None:
    with pytest.raises(UsageError) as error:
        choose(PLAN, ("alcie#0",))
    assert str(error.value) == (
        "--only 'alcie#0' matches no conversation in the data package (by name, user id or "
        "channel id). Did you mean 'alice#0'? `dmj run --package PATH --dry-run` lists every "
        "conversation."
    )


def test_a_run_started_with_only_plans_and_batches_just_those() -> None:
    base = run_started([package_dm(str(n)) for n in range(10, 20)], batch_size=2)
    started = start_run(
        run="run-1", dms=[package_dm(str(n)) for n in range(10, 20)], batch_size=2,
        strategy="direct-first", package=base.package, dce=DCE, only=("13", "17", "19"),
    )  # fmt: skip
    assert (users(started.plan), started.total_batches) == (["13", "17", "19"], 2)

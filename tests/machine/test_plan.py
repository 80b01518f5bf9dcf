"""The planner: package DMs → a deterministic plan → batches."""

from __future__ import annotations

import pytest
from dmj.machine.errors import InvariantBroken, UsageError
from dmj.machine.events import DceInfo, PackageInfo, PlanEntry, RunStarted
from dmj.machine.package import PackageDm
from dmj.machine.plan import batch_count, plan_batches, plan_dms, start_run
from hypothesis import given
from hypothesis import strategies as st

DMS = (
    PackageDm(channel_id="900000000000000003", kind="dm", user_id="31", name="carol"),
    PackageDm(channel_id="90000000000000001", kind="group", user_id=None, name="friends"),
    PackageDm(channel_id="900000000000000002", kind="deleted", user_id=None),
    PackageDm(channel_id="900000000000000010", kind="dm", user_id="11", name="alice"),
)


def test_the_plan_is_ordered_by_channel_id_as_a_number_and_keyed_by_user_or_channel() -> None:
    assert plan_dms(DMS) == (
        PlanEntry(user_id="90000000000000001", channel_id="90000000000000001", name="friends",
                  kind="group"),
        PlanEntry(user_id="900000000000000002", channel_id="900000000000000002",
                  name="channel 900000000000000002", kind="deleted"),
        PlanEntry(user_id="31", channel_id="900000000000000003", name="carol", kind="dm"),
        PlanEntry(user_id="11", channel_id="900000000000000010", name="alice", kind="dm"),
    )  # fmt: skip


@given(st.permutations(DMS))
def test_the_plan_does_not_depend_on_the_order_the_package_listed_its_dms(
    dms: list[PackageDm],
) -> None:
    assert plan_dms(dms) == plan_dms(DMS)


def test_two_package_channels_with_the_same_user_keep_the_newest() -> None:
    old = PackageDm(channel_id="500", kind="dm", user_id="7", name="old")
    new = PackageDm(channel_id="800", kind="dm", user_id="7", name="new")
    assert plan_dms([new, old]) == (PlanEntry(user_id="7", channel_id="800", name="new"),)


def test_a_channel_listed_twice_is_planned_once() -> None:
    dm = PackageDm(channel_id="500", kind="group", user_id=None, name="g")
    assert len(plan_dms([dm, dm])) == 1


def test_a_one_on_one_dm_without_a_user_id_is_a_reader_bug() -> None:
    with pytest.raises(InvariantBroken, match="channel 5 as a 1-on-1 DM without the other"):
        plan_dms([PackageDm(channel_id="5", kind="dm", user_id=None)])


@pytest.mark.parametrize(
    ("planned", "size", "batches"), [(0, 20, 0), (1, 20, 1), (20, 20, 1), (21, 20, 2), (7, 3, 3)]
)
def test_batches_hold_batch_size_dms_and_the_last_holds_the_rest(
    planned: int, size: int, batches: int
) -> None:
    plan = tuple(PlanEntry(user_id=str(i), channel_id=f"1{i}", name=str(i)) for i in range(planned))
    cut = plan_batches(plan, size)
    assert batch_count(planned, size) == len(cut) == batches
    assert tuple(entry for batch in cut for entry in batch) == plan
    assert all(len(batch) == size for batch in cut[:-1])


def start(batch_size: int) -> RunStarted:
    return start_run(
        run="r",
        dms=DMS,
        batch_size=batch_size,
        strategy="reopen",
        package=PackageInfo(path="/p", fingerprint="f", self_id="1"),
        dce=DceInfo(path="/d", version="2"),
    )


def test_start_run_records_the_plan_and_its_batches() -> None:
    started = start(batch_size=3)
    assert (started.total_batches, started.max_attempts, started.seq) == (2, 3, 0)
    assert started.plan == plan_dms(DMS)


def test_start_run_refuses_a_batch_size_below_one() -> None:
    with pytest.raises(UsageError, match=r"^The batch size must be at least 1, not 0; "):
        start(batch_size=0)

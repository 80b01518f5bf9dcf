"""Fault plans: the --faults string, its errors, and when a rule fires."""

from __future__ import annotations

import pytest
from dmj.machine.errors import UsageError
from dmj.sandbox import DceFault, FaultPlan, FaultRule, Limit
from dmj.sandbox._faults import FaultCounters

FULL = (
    "captcha@5,5xx:messages=503@10x3,drop@2x1,slow=0.5,revoked@100,429=2.5x4,mode=bot,"
    "global=50/1,limit=10/1,limit:open=5/5,invalid-limit=20,dce-hang=123,dce-crash=*x1,"
    "dce-disk-full=5x2,dce-time-scale=0.01"
)


def test_a_spec_parses_to_the_plan_it_names() -> None:
    plan = FaultPlan.parse(FULL)
    assert plan.rules[:2] == (
        FaultRule(kind="captcha", scope="open", after=5),
        FaultRule(kind="5xx", scope="messages", value=503, after=10, count=3),
    )
    assert (plan.mode, plan.global_limit, plan.invalid_limit) == ("bot", Limit(50, 1), 20)
    assert plan.route_limits == {"all": Limit(10, 1), "open": Limit(5, 5)}
    assert plan.dce == (
        DceFault(kind="hang", channel="123"),
        DceFault(kind="crash", count=1),
        DceFault(kind="disk-full", channel="5", count=2),
    )
    assert plan.dce_time_scale == 0.01


def test_a_plan_writes_itself_back_as_the_same_spec() -> None:
    assert FaultPlan.parse(FULL).spec() == FULL
    assert FaultPlan.parse(FaultPlan.parse(FULL).spec()) == FaultPlan.parse(FULL)
    assert FaultPlan().spec() == "" == FaultPlan.parse(" , ").spec()


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("nope", "'nope' is not a fault kind"),
        ("captcha:wat", "'wat' is not a scope"),
        ("limit=5", "a limit is N/SECONDS"),
        ("global=0/1", "a limit needs at least 1 request"),
        ("mode=robot", "mode is user or bot"),
        ("limit:dce=5/1", "'dce' is not a route scope"),
        ("invalid-limit=many", "invalid-limit takes a number"),
        ("5xx@x", "it matches no rule"),
    ],
)
def test_a_bad_item_is_a_usage_error_naming_it(spec: str, why: str) -> None:
    with pytest.raises(UsageError, match=r"see docs/sandbox\.md") as caught:
        FaultPlan.parse(spec)
    assert f"The fault spec item '{spec}' is not valid: {why}" in str(caught.value)


def test_a_rule_skips_after_then_fires_count_times_on_its_scope_only() -> None:
    counters = FaultCounters(FaultPlan.parse("5xx:messages@2x2"))
    fired = [
        bool(counters.fire(app=False, route=route, client="dmj"))
        for route in ["messages", "me", "messages", "messages", "messages", "messages"]
    ]
    assert fired == [False, False, False, True, True, False]


def test_app_and_network_stages_count_only_their_own_rules() -> None:
    counters = FaultCounters(FaultPlan.parse("captcha@0x1,5xx@0x1"))
    assert [r.kind for r in counters.fire(app=False, route="open", client="dmj")] == ["5xx"]
    assert [r.kind for r in counters.fire(app=True, route="open", client="dmj")] == ["captcha"]
    assert counters.fire(app=True, route="open", client="dmj") == []


def test_dce_faults_count_attempts_per_channel() -> None:
    counters = FaultCounters(FaultPlan.parse("dce-crash=1x2,dce-hang-hard=*"))
    kinds = [f.kind if (f := counters.dce_fault(c)) else None for c in ("1", "1", "1", "2")]
    assert kinds == ["crash", "crash", "hang-hard", "hang-hard"]

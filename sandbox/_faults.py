"""Fault plans: what the emulator and the DCE stand-in get wrong on purpose, and when.

A plan is a Python value (``FaultPlan``) or a spec string (``--faults``), comma-separated::

    KIND[:SCOPE][=VALUE][@AFTER][xCOUNT]     a fault rule
    mode=user|bot                            rate-limit headers (user: only on 429s)
    global=N/S | limit[:SCOPE]=N/S | …=off   rate limits: N requests per S seconds
    invalid-limit=N                          401/403/429 per 10 min before a Cloudflare ban
    dce-KIND=CHANNEL[xCOUNT]                 DCE stand-in faults (CHANNEL or *): hang,
                                             hang-hard, crash, disk-full, forbidden,
                                             not-found, truncate
    dce-time-scale=F                         multiply the stand-in's retry and rate-limit waits

A rule counts the requests in its ``SCOPE`` (default ``all``, or ``open`` for the DM-opening
faults); it lets the first ``AFTER`` pass, then fires on the next ``COUNT`` (default: every
one after). Example: ``captcha@5`` answers every DM open after the fifth with a captcha;
``5xx:messages=503@10x3`` answers three message fetches after the tenth with 503.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal, get_args

import msgspec
from dmj.machine.errors import UsageError

__all__ = [
    "APP_KINDS",
    "DceFault",
    "FaultCounters",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "Limit",
    "Scope",
]

FaultKind = Literal[
    "5xx", "drop", "slow", "cloudflare", "cloudflare-ban", "40333",
    "revoked", "429", "429-global", "captcha", "too-fast", "anti-abuse", "verify", "202",
]  # fmt: skip
Scope = Literal["all", "me", "list", "open", "close", "channel", "messages", "dce", "dmj"]
"""``me`` … ``messages``: one route each (docs/sandbox.md); ``dce``/``dmj``: by client."""
DceFaultKind = Literal[
    "hang", "hang-hard", "crash", "disk-full", "forbidden", "not-found", "truncate"
]

APP_KINDS = frozenset(
    {"revoked", "429", "429-global", "captcha", "too-fast", "anti-abuse", "verify", "202"}
)
"""Rules applied once the route is known and the token checked; the rest act before that,
like a proxy or a flaky network would."""
_OPEN_KINDS = frozenset({"captcha", "too-fast", "anti-abuse", "verify"})
_DOCS = "see docs/sandbox.md (Faults) for the syntax"


class FaultRule(msgspec.Struct, frozen=True, kw_only=True):
    """Answer the requests of ``scope`` with ``kind``: skip ``after``, then hit ``count``."""

    kind: FaultKind
    scope: Scope = "all"
    value: float | None = None
    """5xx: the status (default 502); slow: seconds; 429: retry_after (default 1)."""
    after: int = 0
    count: int | None = None
    """None: every matching request after ``after``."""


class Limit(msgspec.Struct, frozen=True):
    """``requests`` per fixed window of ``seconds``."""

    requests: int
    seconds: float


class DceFault(msgspec.Struct, frozen=True, kw_only=True):
    """The stand-in hangs, crashes, finds the disk full, or fails as forbidden / not found
    when exporting ``channel`` (``*``: any channel)."""

    kind: DceFaultKind
    channel: str = "*"
    count: int | None = None
    """None: every attempt; N: only the first N attempts on that channel."""


class FaultPlan(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the sandbox does wrong on purpose. The default plan does nothing wrong."""

    rules: tuple[FaultRule, ...] = ()
    mode: Literal["user", "bot"] = "user"
    global_limit: Limit | None = None
    route_limits: dict[str, Limit] = msgspec.field(default_factory=dict)
    """By route scope (``me`` … ``messages``) or ``all``; bot mode defaults to 50/1s."""
    invalid_limit: int = 10_000
    dce: tuple[DceFault, ...] = ()
    dce_time_scale: float | None = None
    """None: the stand-in's own default (``DMJ_SANDBOX_DCE_TIME_SCALE``, else 1)."""

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """The plan a ``--faults`` string describes; a bad item is a ``UsageError``."""
        fields = _Fields()
        for item in (part.strip() for part in spec.split(",")):
            if item:
                _parse_item(item, fields)
        return msgspec.convert(
            {**fields.settings, "rules": fields.rules, "dce": fields.dce,
             "route_limits": fields.limits},
            cls,
        )  # fmt: skip

    def spec(self) -> str:
        """This plan as a ``--faults`` string (``FaultPlan.parse`` reads it back)."""
        items = [_rule_spec(rule) for rule in self.rules]
        if self.mode != "user":
            items.append(f"mode={self.mode}")
        if self.global_limit:
            items.append(f"global={_limit_spec(self.global_limit)}")
        items += [
            f"limit{'' if scope == 'all' else ':' + scope}={_limit_spec(limit)}"
            for scope, limit in sorted(self.route_limits.items())
        ]
        if self.invalid_limit != 10_000:
            items.append(f"invalid-limit={self.invalid_limit}")
        items += [
            f"dce-{f.kind}={f.channel}{'' if f.count is None else f'x{f.count}'}" for f in self.dce
        ]
        if self.dce_time_scale is not None:
            items.append(f"dce-time-scale={self.dce_time_scale:g}")
        return ",".join(items)


_RULE = re.compile(
    r"^(?P<kind>[a-z0-9-]+)(?::(?P<scope>[a-z]+))?(?:=(?P<value>[0-9.]+))?"
    r"(?:@(?P<after>\d+))?(?:x(?P<count>\d+))?$"
)
_DCE = re.compile(
    rf"^dce-(?P<kind>{'|'.join(get_args(DceFaultKind))})=(?P<channel>\d+|\*)"
    r"(?:x(?P<count>\d+))?$"
)
_SETTING = re.compile(
    r"^(?P<name>mode|global|limit|invalid-limit|dce-time-scale)(?::(?P<scope>[a-z]+))?=(?P<value>.+)$"
)


def _bad(item: str, why: str) -> UsageError:
    return UsageError(f"The fault spec item '{item}' is not valid: {why}; {_DOCS}.")


def _parse_limit(item: str, value: str) -> Limit | None:
    if value == "off":
        return None
    requests, _, seconds = value.partition("/")
    try:
        limit = Limit(int(requests), float(seconds))
    except ValueError:
        raise _bad(item, "a limit is N/SECONDS, e.g. 5/1, or off") from None
    if limit.requests < 1 or limit.seconds <= 0:
        raise _bad(item, "a limit needs at least 1 request per a positive number of seconds")
    return limit


class _Fields:
    """What parsing has found so far, in ``FaultPlan``'s field shapes."""

    def __init__(self) -> None:
        self.rules: list[dict[str, object]] = []
        self.dce: list[dict[str, object]] = []
        self.limits: dict[str, Limit] = {}
        self.settings: dict[str, object] = {}


def _parse_item(item: str, fields: _Fields) -> None:
    if dce := _DCE.match(item):
        count = dce["count"]
        fields.dce.append(
            {"kind": dce["kind"], "channel": dce["channel"], "count": count and int(count)}
        )
    elif setting := _SETTING.match(item):
        _parse_setting(item, setting, fields)
    elif rule := _RULE.match(item):
        _parse_rule(item, rule, fields)
    else:
        raise _bad(item, "it matches no rule, setting or DCE fault")


def _parse_setting(item: str, match: re.Match[str], fields: _Fields) -> None:
    name, scope, value = match["name"], match["scope"], match["value"]
    if name == "mode":
        if value not in ("user", "bot"):
            raise _bad(item, "mode is user or bot")
        fields.settings["mode"] = value
    elif name == "global":
        fields.settings["global_limit"] = _parse_limit(item, value)
    elif name == "limit":
        scope = scope or "all"
        if scope not in get_args(Scope) or scope in ("dce", "dmj"):
            raise _bad(item, f"'{scope}' is not a route scope")
        limit = _parse_limit(item, value)
        if limit is None:
            fields.limits.pop(scope, None)
        else:
            fields.limits[scope] = limit
    else:
        try:
            number = float(value) if name == "dce-time-scale" else int(value)
        except ValueError:
            raise _bad(item, f"{name} takes a number") from None
        fields.settings[name.replace("-", "_")] = number


def _parse_rule(item: str, match: re.Match[str], fields: _Fields) -> None:
    kind = match["kind"]
    if kind not in get_args(FaultKind):
        raise _bad(item, f"'{kind}' is not a fault kind ({', '.join(get_args(FaultKind))})")
    scope = match["scope"] or ("open" if kind in _OPEN_KINDS else "all")
    if scope not in get_args(Scope):
        raise _bad(item, f"'{scope}' is not a scope ({', '.join(get_args(Scope))})")
    value = match["value"]
    fields.rules.append(
        {
            "kind": kind,
            "scope": scope,
            "value": float(value) if value else None,
            "after": int(match["after"] or 0),
            "count": int(match["count"]) if match["count"] else None,
        }
    )


def _rule_spec(rule: FaultRule) -> str:
    text: str = rule.kind
    if rule.scope != ("open" if rule.kind in _OPEN_KINDS else "all"):
        text += f":{rule.scope}"
    if rule.value is not None:
        text += f"={rule.value:g}"
    if rule.after:
        text += f"@{rule.after}"
    if rule.count is not None:
        text += f"x{rule.count}"
    return text


def _limit_spec(limit: Limit) -> str:
    return f"{limit.requests}/{limit.seconds:g}"


class FaultCounters:
    """The running side of a plan: how many requests each rule has seen so far."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._seen = [0] * len(plan.rules)
        self._dce_attempts: Counter[str] = Counter()

    def fire(self, *, app: bool, route: str | None, client: str) -> list[FaultRule]:
        """Count this request against every matching rule of the stage; return those that fire.

        ``app``: the stage after routing and the token check (``APP_KINDS``), else the
        network stage before it. ``route`` is the route scope, None for an unknown route.
        """
        fired = []
        for index, rule in enumerate(self.plan.rules):
            if (rule.kind in APP_KINDS) != app:
                continue
            if rule.scope not in ("all", client) and rule.scope != route:
                continue
            self._seen[index] += 1
            seen = self._seen[index]
            if seen > rule.after and (rule.count is None or seen <= rule.after + rule.count):
                fired.append(rule)
        return fired

    def dce_attempts(self, channel_id: str) -> int:
        """How many times the DCE stand-in has started on ``channel_id`` so far."""
        return self._dce_attempts[channel_id]

    def dce_fault(self, channel_id: str) -> DceFault | None:
        """The stand-in fault for this export attempt of ``channel_id`` (counts the attempt)."""
        self._dce_attempts[channel_id] += 1
        attempt = self._dce_attempts[channel_id]
        for fault in self.plan.dce:
            if fault.channel in ("*", channel_id) and (
                fault.count is None or attempt <= fault.count
            ):
                return fault
        return None

"""``missing_by_advice``: each piece of advice once, over the conversations it applies to."""

from __future__ import annotations

from dmj.projections.history import (
    OwnMessages,
    PackageUsed,
    Status,
    StatusReport,
    StatusRow,
    Totals,
    missing_by_advice,
)

PACKAGE = PackageUsed(path="/p", state="compared")


def report(*rows: StatusRow) -> StatusReport:
    totals = Totals(conversations=len(rows), statuses={}, missing=sum(r.missing for r in rows))
    return StatusReport(archive="a", package=PACKAGE, totals=totals, conversations=rows)


def row(
    name: str, status: Status, own: OwnMessages | None = None, *, missing: bool = True
) -> StatusRow:
    return StatusRow(channel_id="1", name=name, kind="dm", status=status, own=own, missing=missing)


def test_a_conversation_short_for_two_reasons_is_under_each_and_shared_advice_is_said_once() -> (
    None
):
    short = OwnMessages(in_package=10, archived=6, missing=4, newer=1, elsewhere=2)
    groups = missing_by_advice(
        report(
            row("gone", "unreachable", OwnMessages(in_package=3, kept=3)),
            row("bob", "archived", short),
            row("done", "archived", OwnMessages(in_package=1, archived=1), missing=False),
            row("band", "failed"),
            row("left", "unreachable"),
        )
    )
    shown = [(g.text.split(":")[0], [(r.name, n) for r, n in g.rows]) for g in groups]
    assert shown == [
        ("`dmj resume` tries these again.", [("band", None)]),
        ("Messages of yours newer than the newest archived one", [("bob", 1)]),
        ("Messages of yours in an older channel of the DM that no run reads (dmj archives the "
         "newest)", [("bob", 2)]),
        ("Nothing can be done", [("gone", None), ("left", None)]),
        ("Messages of yours Discord did not return (deleted after the package was made, or "
         "hidden by Discord)", [("bob", 1)]),
    ]  # fmt: skip
    assert "`dmj run --package /p` fetches what still exists." in groups[1].text


def test_nothing_missing_gives_no_advice() -> None:
    assert missing_by_advice(report(row("done", "archived", missing=False))) == []

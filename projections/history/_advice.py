"""``dmj status --missing``: the conversations not fully archived, by what to do (pure).

Each piece of advice is said once, over the conversations it applies to, instead of once per
conversation: a conversation short of your messages for several reasons is under each, with
how many of them each is about. The ranks put what something can be done about first. The
sentences per conversation (``StatusRow.todo``, in ``--json``) are ``_status``'s.
"""

from __future__ import annotations

import msgspec

from ._status import Status, StatusReport, StatusRow

__all__ = ["Advice", "missing_by_advice"]

Piece = tuple[int, str, int | None]
"""One piece of advice about a conversation: (rank, advice, your messages it is about)."""


class Advice(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One thing to do (or to know) and the conversations it applies to, for ``dmj status
    --missing``: ``rows`` pairs each with how many of your messages it is about, missing
    (None: the conversation as a whole)."""

    text: str
    rows: tuple[tuple[StatusRow, int | None], ...]


def missing_by_advice(report: StatusReport) -> list[Advice]:
    """The conversations not fully archived under each piece of advice, the ones something
    can be done about first; one short of messages for several reasons is under each."""
    path = report.package.path if report.package.state == "compared" else None
    groups: dict[tuple[int, str], list[tuple[StatusRow, int | None]]] = {}
    for row in report.conversations:
        if row.missing:
            for rank, text, count in _advice(row, path or "PATH"):
                groups.setdefault((rank, text), []).append((row, count))
    return [Advice(text=text, rows=tuple(rows)) for (_, text), rows in sorted(groups.items())]


_WHOLE: dict[Status, tuple[int, str]] = {
    "failed": (0, "`dmj resume` tries these again."),
    "never attempted": (1, "`dmj resume` carries on the run."),
    "unreachable": (7, "Nothing can be done: Discord refuses these for good. Your own messages "
                       "there are kept from the package."),
}  # fmt: skip
"""The advice about a whole conversation, by status, with its rank (what can be done first)."""
_NOT_IN_PACKAGE = (
    "Not in your data package (you never wrote there), so no run plans them; a newer package "
    "lists them once you have."
)


def _advice(row: StatusRow, path: str) -> list[Piece]:
    """What to do about ``row``, piece by piece: (rank, advice, your messages it is about)."""
    own = row.own
    unreadable: list[Piece] = [(4, problem, None) for problem in own.unreadable] if own else []
    if row.status in _WHOLE:
        rank, text = _WHOLE[row.status]
        return [(rank, text, None), *unreadable]
    if row.status == "not in any run":
        if own is None:
            return [(5, _NOT_IN_PACKAGE, None)]
        return [(2, f"`dmj run --package {path}` archives them.", own.in_package), *unreadable]
    if own is None:
        return []
    rest = own.missing - own.newer - own.elsewhere
    pieces: list[Piece] = [
        (3, "Messages of yours newer than the newest archived one: `dmj run --package "
            f"{path}` fetches what still exists.", own.newer),
        (6, "Messages of yours in an older channel of the DM that no run reads (dmj archives "
            "the newest): only your data package has them.", own.elsewhere),
        (8, "Messages of yours Discord did not return (deleted after the package was made, "
            "or hidden by Discord): nothing can be done.", rest),
    ]  # fmt: skip
    return [piece for piece in pieces if piece[2]] + unreadable

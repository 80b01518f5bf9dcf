"""Counting outcomes by verdict: what people read about a batch or a run."""

from __future__ import annotations

from collections.abc import Iterable

from ._model import VERDICTS, Outcome, Value

__all__ = ["Tally", "tally"]


class Tally(Value, frozen=True, kw_only=True):
    """How many outcomes have each verdict: what people read about a batch or a run."""

    exported: int = 0
    skipped: int = 0
    unreachable: int = 0
    failed: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            exported=self.exported + other.exported,
            skipped=self.skipped + other.skipped,
            unreachable=self.unreachable + other.unreachable,
            failed=self.failed + other.failed,
        )

    @property
    def total(self) -> int:
        return self.exported + self.skipped + self.unreachable + self.failed

    def describe(self) -> str:
        """``4 exported, 0 skipped, 1 unreachable, 0 failed``: every verdict, in order."""
        return ", ".join(f"{getattr(self, verdict)} {verdict}" for verdict in VERDICTS)


def tally(outcomes: Iterable[Outcome]) -> Tally:
    """The verdicts of ``outcomes``, counted."""
    verdicts = [outcome.verdict for outcome in outcomes]
    return Tally(
        exported=verdicts.count("exported"),
        skipped=verdicts.count("skipped"),
        unreachable=verdicts.count("unreachable"),
        failed=verdicts.count("failed"),
    )

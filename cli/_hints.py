"""The next steps dmj advises, with the archive named as the user named it.

Messages from the layers below the CLI (Discord's answers, DCE, the journal) end with the
command to type next, written plainly: "then run `dmj resume`". Only the CLI knows how the
user named the archive (``--archive``, ``DMJ_ARCHIVE`` or the default) and whether a run
exists to resume, so it fills those commands in before anything is printed:

- ``--archive DIR`` given: "`dmj resume --archive DIR`";
- ``DMJ_ARCHIVE`` set: "`DMJ_ARCHIVE=DIR dmj resume`" (the variable, as it came);
- the default: "`dmj resume`" as it is (it finds ``./dmj-archive`` again);
- no run yet (a check before ``dmj run`` journaled anything failed): "`dmj resume`" would
  find nothing to resume, so it becomes "the same `dmj run` command".
"""

from __future__ import annotations

import re
import shlex
from enum import StrEnum
from pathlib import Path

__all__ = ["META_KEY", "ArchiveSource", "NextSteps"]

_COMMAND = re.compile(r"`dmj (resume|run|replay|repair|status)([^`]*)`")

META_KEY = "dmj.next_steps"
"""Where a command leaves its ``NextSteps`` in the click context's ``meta`` (shared with the
group), so the error renderer fills in the commands an error advises."""


class ArchiveSource(StrEnum):
    """Where the archive path came from."""

    OPTION = "option"
    ENVIRONMENT = "environment"
    DEFAULT = "default"


class NextSteps:
    """Fills the archive into the commands a message advises.

    ``run_exists`` starts False for ``dmj run`` and turns True once its ``RunStarted`` is
    about to be journaled; ``dmj resume`` always has a run.
    """

    def __init__(self, archive: Path, source: ArchiveSource, *, run_exists: bool) -> None:
        self.archive = archive
        self.source = source
        self.run_exists = run_exists

    def __repr__(self) -> str:
        return f"NextSteps({str(self.archive)!r}, {self.source}, run_exists={self.run_exists})"

    def command(self, words: str) -> str:
        """``dmj WORDS`` for this archive, in backticks, e.g. "`dmj resume --archive a`"."""
        path = shlex.quote(str(self.archive))
        match self.source:
            case ArchiveSource.OPTION:
                return f"`dmj {words} --archive {path}`"
            case ArchiveSource.ENVIRONMENT:
                return f"`DMJ_ARCHIVE={path} dmj {words}`"
            case ArchiveSource.DEFAULT:
                return f"`dmj {words}`"

    def resume(self) -> str:
        """How to carry on: "`dmj resume …`", or re-running ``dmj run`` before a run exists."""
        return self.command("resume") if self.run_exists else "the same `dmj run` command"

    def fill(self, text: str) -> str:
        """``text`` with every "`dmj resume`", "`dmj run …`", "`dmj replay …`", "`dmj repair
        …`" and "`dmj status …`" it advises naming this archive (commands that name one
        already are left as they are)."""
        return _COMMAND.sub(self._filled, text)

    def _filled(self, match: re.Match[str]) -> str:
        verb, rest = match[1], match[2]
        if "--archive" in rest:
            return match[0]
        if verb == "resume" and not rest:
            return self.resume()
        return self.command(f"{verb}{rest}")

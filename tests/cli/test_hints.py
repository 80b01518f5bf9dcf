"""The commands dmj advises name the archive as the user named it."""

from __future__ import annotations

from pathlib import Path

import pytest
from dmj.cli._hints import ArchiveSource, NextSteps

ADVICE = "Wait, then run `dmj resume`; `dmj replay --inspect` shows where it stands."


@pytest.mark.parametrize(
    ("source", "run_exists", "filled"),
    [
        (
            ArchiveSource.OPTION,
            True,
            "Wait, then run `dmj resume --archive 'my dms'`; `dmj replay --inspect --archive "
            "'my dms'` shows where it stands.",
        ),
        (
            ArchiveSource.ENVIRONMENT,
            True,
            "Wait, then run `DMJ_ARCHIVE='my dms' dmj resume`; `DMJ_ARCHIVE='my dms' dmj "
            "replay --inspect` shows where it stands.",
        ),
        (ArchiveSource.DEFAULT, True, ADVICE),
        (
            ArchiveSource.OPTION,
            False,
            "Wait, then run the same `dmj run` command; `dmj replay --inspect --archive "
            "'my dms'` shows where it stands.",
        ),
    ],
    ids=["option", "environment", "default", "no-run-yet"],
)
def test_advised_commands_name_the_archive_as_it_came(
    source: ArchiveSource, run_exists: bool, filled: str
) -> None:
    assert NextSteps(Path("my dms"), source, run_exists=run_exists).fill(ADVICE) == filled


def test_a_command_that_names_its_archive_already_is_left_as_it_is() -> None:
    text = "Continue it with `dmj resume --archive /x`."
    assert NextSteps(Path("y"), ArchiveSource.OPTION, run_exists=True).fill(text) == text

"""Every conversation the journal remembers, with its latest verdict and why."""

from __future__ import annotations

import pytest
from dmj.machine.state import fold
from dmj.projections.history import Conversation
from dmj.projections.history._conversations import build_conversations, reason_in_words

from tests.projections.story import first_run, mid_run, two_runs


def by_id(conversations: list[Conversation]) -> dict[int, Conversation]:
    return {c.id: c for c in conversations}


def test_each_dm_of_a_run_gives_its_channel_the_verdict_and_the_reason() -> None:
    found = by_id(build_conversations(fold(first_run()), {}))
    summary = {i: (c.kind, c.verdict, c.dm_key, c.package_channel_id) for i, c in found.items()}
    assert summary == {
        300: ("group", "exported", "300", "300"),
        400: ("deleted", "unreachable", "400", "400"),
        7100: ("dm", "exported", "100", "1100"),  # alice, reopened elsewhere
        5200: ("dm", "exported", "200", "1200"),  # bob, open at the start as 5200
        1500: ("dm", "skipped", "500", "1500"),  # carol: package channel 1500
    }
    assert found[400].reason == "DCE said permanent"
    assert found[1500].reason == "Unknown user"
    assert found[7100].reason == "", "an exported conversation has nothing to explain"


def test_names_come_from_dce_then_the_participants_then_the_package() -> None:
    found = by_id(build_conversations(fold(first_run()), {300: "Friends (DCE)"}))
    assert found[300].name == "Friends (DCE)"
    assert found[7100].name == "u100", "Discord's recipients when DCE never named it"
    assert found[1500].name == "carol", "the package's name for a DM Discord never showed"


def test_the_latest_run_decides_the_verdict() -> None:
    found = by_id(build_conversations(fold(two_runs()), {}))
    assert {c.verdict for c in found.values()} == {"exported"}, "run 2 exported everything"


def test_a_planned_dm_without_an_outcome_yet_is_listed_without_a_verdict() -> None:
    found = by_id(build_conversations(fold(mid_run()), {}))
    assert found[1500].verdict is None
    assert found[1500].name == "carol"
    assert found[300].verdict == "exported"


@pytest.mark.parametrize(
    ("journaled", "words"),
    [
        ("the account is deleted or cannot be reached (Discord 400/50033)",
         "the account is deleted or cannot be reached (Discord 400/50033)"),
        ("DiscordChatExporter could not export channel 12: Discord forbids reading this channel "
         "(exit code 1). The channel cannot be read as it is. DCE's last output:\n    Failed.",
         "Discord forbids reading this channel (exit code 1). The channel cannot be read as it "
         "is."),
        ("", ""),
    ],
)  # fmt: skip
def test_a_reason_is_kept_in_words_without_dce_output(journaled: str, words: str) -> None:
    assert reason_in_words(journaled) == words


def test_a_package_channel_refused_once_and_exported_by_a_later_run_is_refused_no_more() -> None:
    refused = by_id(build_conversations(fold(first_run()), {}))
    assert refused[7100].refused_channel_id == "1100", "alice's 1100 refused, 7100 handed back"
    found = by_id(build_conversations(fold(two_runs()), {}))
    assert found[1100].verdict == "exported", "run 2 exported alice's package channel itself"
    assert found[7100].refused_channel_id is None, "Discord serves 1100: nothing kept for it"

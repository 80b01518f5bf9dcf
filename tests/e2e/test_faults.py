"""Faults: each ends completed, or paused (exit 3, with what to do) and then resumed to the end.

The emulator misbehaves as its fault plan says (docs/sandbox.md, "Faults"); clearing the plan
stands for the trouble passing (the captcha solved in the app, a fresh token, Cloudflare
calming down) before ``dmj resume``.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from dmj.machine.events import (
    AnyEvent,
    ChannelExported,
    ExportFailed,
    RunFinished,
    RunPaused,
    RunStarted,
)

from tests.e2e.support import Served
from tests.promises import broken_promises, exported_channels

pytestmark = pytest.mark.slow


def assert_paused(done: subprocess.CompletedProcess[str], reason: str, *words: str) -> None:
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("Paused: "), done.stderr
    assert f"The run is paused ({reason}); `dmj resume --archive " in done.stderr
    for word in (*words, "dmj resume"):
        assert word in done.stderr


def assert_resumes_to_the_end(served: Served) -> None:
    served.server.set_faults("")
    done = served.resume()
    assert done.returncode == 0, done.stderr
    events = served.archive.events()
    assert isinstance(events[-1], RunFinished)
    assert broken_promises(events, served.facts) == []
    assert served.open_now() == set(served.facts.open_at_start)


def test_short_storms_of_429s_and_5xx_are_ridden_out(served: Served) -> None:
    served.server.set_faults("429:dmj=0.05@2x6,5xx:dmj@9x3")
    done = served.run()
    assert done.returncode == 0, done.stderr
    stats = served.server.stats()
    assert (stats.rate_limited, stats.by_status.get("502")) == (6, 3)
    assert broken_promises(served.archive.events(), served.facts) == []


def test_a_429_storm_longer_than_dmj_waits_out_pauses_the_run(served: Served) -> None:
    served.server.set_faults("429:open=0.01x12")
    assert_paused(served.run(), "rate-limited", "Discord rate-limited")
    assert_resumes_to_the_end(served)


def test_discord_failing_on_every_retry_pauses_the_run(served: Served) -> None:
    served.server.set_faults("5xx:dmj@1")
    assert_paused(served.run(), "discord-unavailable", "Discord kept failing")
    assert_resumes_to_the_end(served)


def test_a_captcha_pauses_the_run_until_it_is_dealt_with(served: Served) -> None:
    served.server.set_faults("captcha")
    assert_paused(served.run(), "captcha", "captcha", "dmj never solves captchas")
    assert_resumes_to_the_end(served)


def test_a_token_revoked_mid_run_pauses_and_resume_wants_a_working_token(served: Served) -> None:
    served.server.set_faults("revoked@12")
    done = served.run()
    assert done.returncode == 3, done.stderr
    assert "token" in done.stderr
    still_revoked = served.resume()
    assert still_revoked.returncode == 2
    assert "Discord rejected the token" in still_revoked.stderr
    assert "DISCORD_TOKEN" in still_revoked.stderr
    assert_resumes_to_the_end(served)


def test_a_hung_or_crashed_dce_is_stopped_and_the_dm_tried_again(served: Served) -> None:
    hung, crashed = served.facts.readable_closed[0], served.facts.open_at_start[0]
    served.server.set_faults(f"dce-hang={hung}x1,dce-crash={crashed}x1")
    done = served.run(DMJ_DCE_STALL_TIMEOUT="1")
    assert done.returncode == 0, done.stderr
    events = served.archive.events()
    failed = {e.channel_id: e for e in events if isinstance(e, ExportFailed)}
    assert {
        ch: (e.error_class, e.attempts) for ch, e in failed.items() if ch in (hung, crashed)
    } == {
        hung: ("transient", 1),
        crashed: ("transient", 1),
    }
    assert "printed nothing for 1 s" in failed[hung].message
    assert ": attempt 1 failed (DCE printed nothing for 1 s and was stopped (killed by SIG" in (
        done.stdout
    )
    assert broken_promises(events, served.facts) == []


def test_dce_crashing_every_time_pauses_before_burning_through_the_plan(served: Served) -> None:
    served.server.set_faults("dce-crash=*")
    done = served.run()
    assert_paused(done, "export-failures", "DiscordChatExporter failed 5 times in a row")
    assert not any(isinstance(e, ChannelExported) for e in served.archive.events())
    assert sum(transient_failures(served).values()) == 5
    served.server.set_faults("")
    resumed = served.resume()
    assert resumed.returncode == 4, "the first DM used up its attempts: the run has a failed DM"
    assert sorted(transient_failures(served).values()) == [2, 3], (
        "the first DM used up its three attempts; the second is tried again by resume"
    )
    assert "failed       1" in resumed.stdout
    assert "DCE failed without a known reason" in resumed.stdout


def transient_failures(served: Served) -> Counter[str]:
    events = served.archive.events()
    return Counter(
        e.user_id for e in events if isinstance(e, ExportFailed) and e.error_class == "transient"
    )


def test_cloudflare_refusing_a_request_pauses_the_run(served: Served) -> None:
    served.server.set_faults("cloudflare:dmj@3x1")
    assert_paused(served.run(), "cloudflare", "Cloudflare")
    events = served.archive.events()
    assert isinstance(events[-1], RunPaused)
    assert_resumes_to_the_end(served)


def assert_retried_to_a_complete_archive(served: Served) -> None:
    """``dmj resume`` after a run that finished with failed DMs retries exactly those, and
    the archive ends holding every reachable DM once, with every message."""
    first = served.archive.events()
    failed = failed_users(first)
    assert failed, "the run ended with failed DMs"
    done = served.resume()
    assert done.returncode == 0, done.stderr
    events = served.archive.events()
    retry = events[len(first)]
    assert isinstance(retry, RunStarted)
    assert {entry.user_id for entry in retry.plan} == failed
    assert isinstance(events[-1], RunFinished)
    assert set(exported_channels(events).values()) == {1}, "no DM is exported twice"
    assert served.archive.exported() == served.facts.expected_messages
    assert served.open_now() == set(served.facts.open_at_start)


def failed_users(events: list[AnyEvent]) -> set[str]:
    """The DMs whose outcome in the last finished run is "failed" (transient attempts used
    up), from its last ExportFailed per DM."""
    last = [i for i, e in enumerate(events) if isinstance(e, RunStarted)][-1]
    exported = {e.user_id for e in events[last:] if isinstance(e, ChannelExported)}
    return {
        e.user_id
        for e in events[last:]
        if isinstance(e, ExportFailed) and e.error_class == "transient"
    } - exported


def test_a_dce_failing_for_a_while_leaves_failed_dms_that_resume_retries(served: Served) -> None:
    carol = served.facts.readable_closed[0]
    served.server.set_faults(f"dce-crash={carol}x3")
    done = served.run()
    assert done.returncode == 4, done.stderr
    assert done.stderr.endswith(f"`dmj resume --archive {served.archive.path}` retries it.\n"), (
        done.stderr
    )
    assert_retried_to_a_complete_archive(served)


def test_a_disk_that_fills_then_frees_ends_in_a_complete_archive(served: Served) -> None:
    served.server.set_faults("dce-disk-full=*")
    assert_paused(served.run(), "export-failures", "No space left on device")
    events = served.archive.events()
    full = [e for e in events if isinstance(e, ExportFailed) and e.error_class == "transient"]
    assert len(full) == 5
    assert all("No space left on device" in e.message for e in full)
    served.server.set_faults("")  # space was freed
    resumed = served.resume()
    assert resumed.returncode == 4, "the DM whose three attempts met a full disk stays failed"
    assert "failed       1" in resumed.stdout
    assert_retried_to_a_complete_archive(served)


def test_a_damaged_journal_is_repaired_then_resumed_to_completion(served: Served) -> None:
    """A bit flips in the middle of a finished run's journal (run, resume and replay then
    refuse, naming `dmj repair`: tests/cli/test_repair.py); the repair keeps the records before
    the damage, and resume redoes the rest as an uninterrupted run would have done it."""
    assert served.run().returncode == 0
    archive = str(served.archive.path)
    exported = export_files(served.archive.path, "exports")
    journal = served.archive.path / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    middle = len(lines) // 2
    damaged = bytearray(lines[middle])
    damaged[damaged.index(b'"at":"') + 8] ^= 0x01  # a digit of its time: still JSON
    journal.write_bytes(b"".join([*lines[:middle], bytes(damaged), *lines[middle + 1 :]]))

    dry = served.dmj("repair", "--archive", archive)
    assert dry.returncode == 0, dry.stderr
    assert f"A repair keeps records 1 to {middle} and moves lines {middle + 1} to" in dry.stdout
    assert "This was a dry run: nothing was changed." in dry.stdout
    assert list(served.archive.path.glob("*.damaged-*")) == []
    done = served.dmj("repair", "--archive", archive, "--apply")
    assert done.returncode == 0, done.stderr
    assert journal.read_bytes() == b"".join(lines[:middle])

    resumed = served.resume()
    assert resumed.returncode == 0, resumed.stderr
    events = served.archive.events()
    assert isinstance(events[-1], RunFinished)
    assert broken_promises(events, served.facts) == []
    assert served.open_now() == set(served.facts.open_at_start)
    assert served.archive.exported() == served.facts.expected_messages
    kept = export_files(served.archive.path, "exports")
    moved = export_files(served.archive.path, "exports.damaged-*")
    assert moved, "the exports only the damaged part recorded were moved, not deleted"
    assert exported.items() <= (kept | moved).items(), "no export lost"


def export_files(archive: Path, pattern: str) -> dict[str, bytes]:
    """``<channel>/<export id>/<file>`` → bytes, for the export folders under ``pattern``."""
    return {
        path.relative_to(path.parents[2]).as_posix(): path.read_bytes()
        for path in archive.glob(f"{pattern}/*/*/*")
    }

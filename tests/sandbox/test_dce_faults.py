"""DCE stand-in faults: crash mid-file, hangs, and DCE's retry policy against emulator faults."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dmj.sandbox import MessageLog, RunningEmulator, Sandbox

from tests.sandbox.dce_helpers import export_argv, fate, run_in_process, run_launcher


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll a real process's state, with a generous bound (the machine may be loaded)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def sigterm_ignored(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(
        next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn")), 16
    )
    return bool(mask & (1 << (signal.SIGTERM - 1)))


@pytest.fixture
def started(
    sandbox: Sandbox, sandbox_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []

    def start(channel_id: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [str(sandbox.dce), *export_argv(channel_id, tmp_path / "out")],
            env=sandbox_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_a_crash_kills_the_stand_in_mid_file_and_a_retry_succeeds(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults(f"dce-crash={channel.id}x1")
    crashed = run_launcher(sandbox, export_argv(channel.id, tmp_path), sandbox_env)
    assert crashed.code == -signal.SIGKILL
    assert "Successfully" not in crashed.out
    assert crashed.err == ""
    (partial,) = tmp_path.glob("*.json")
    text = partial.read_text(encoding="utf-8")
    assert '"messages": [' in text
    assert '"messageCount"' not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    again = run_launcher(sandbox, export_argv(channel.id, tmp_path), sandbox_env)
    assert again.code == 0
    assert json.loads(partial.read_text())["messageCount"] == channel.message_count


def test_a_full_disk_fails_the_export_as_dotnet_does_and_a_retry_succeeds(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults(f"dce-disk-full={channel.id}x1")
    full = run_launcher(sandbox, export_argv(channel.id, tmp_path), sandbox_env)
    (partial,) = tmp_path.glob("*.json")
    assert full.code == 1
    assert full.err.startswith(
        f"ERROR\nSystem.IO.IOException: No space left on device : '{partial}'\n   at "
    )
    assert "Successfully" not in full.out
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial.read_text(encoding="utf-8"))
    again = run_launcher(sandbox, export_argv(channel.id, tmp_path), sandbox_env)
    assert again.code == 0
    assert json.loads(partial.read_text())["messageCount"] == channel.message_count


def test_a_hang_prints_nothing_and_never_exits_until_signalled(
    sandbox: Sandbox,
    emulator_server: RunningEmulator,
    started: Callable[[str], subprocess.Popen[str]],
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults(f"dce-hang={channel.id}")
    process = started(channel.id)
    faults = emulator_server.emulator.faults
    wait_until(lambda: faults.dce_attempts(channel.id) == 1, "the stand-in to ask the sandbox")
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.5)
    process.terminate()
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (-signal.SIGTERM, "", "")
    assert emulator_server.requests() == [], "it hung before talking to the API"


def test_a_hard_hang_ignores_sigterm_and_needs_sigkill(
    sandbox: Sandbox,
    emulator_server: RunningEmulator,
    started: Callable[[str], subprocess.Popen[str]],
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults("dce-hang-hard=*")
    process = started(channel.id)
    wait_until(lambda: sigterm_ignored(process.pid), "SIGTERM to be ignored")
    process.terminate()
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.5)
    process.kill()
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_dce_retries_5xx_with_backoff_and_succeeds(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults("5xx:messages@1x3,dce-time-scale=0.001")
    ran = run_in_process(export_argv(channel.id, tmp_path), sandbox_env)
    assert ran.code == 0, ran.err
    statuses = [e.status for e in emulator_server.requests() if e.route == "messages"]
    assert statuses[:5] == [200, 502, 502, 502, 200]


def test_dce_gives_up_after_eight_retries_with_its_fatal_text(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults("5xx:messages=503,dce-time-scale=0.0001")
    ran = run_in_process(export_argv(channel.id, tmp_path), sandbox_env)
    assert ran.code == 1
    assert (
        f"DiscordChatExporterException: Request to 'channels/{channel.id}/messages?limit=1' "
        'failed: service unavailable.\nResponse content: {"message": "503: Service Unavailable", '
        '"code": 0}\n'
    ) in ran.err
    assert len([e for e in emulator_server.requests() if e.route == "messages"]) == 9


def test_a_cloudflare_400_is_fatal_at_once(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults("cloudflare:messages@2x1")  # the page after the last message
    ran = run_in_process(export_argv(channel.id, tmp_path), sandbox_env)
    assert ran.code == 1
    assert "failed: bad request.\nResponse content: <html>" in ran.err
    assert len([e for e in emulator_server.requests() if e.route == "messages"]) == 3
    doc = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert doc["messageCount"] == channel.message_count, "a fatal error still closes the file"


def test_dce_rides_out_429s_with_retry_after(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults("429:messages=2@1x2,dce-time-scale=0.001")
    assert run_in_process(export_argv(channel.id, tmp_path), sandbox_env).code == 0
    assert emulator_server.stats().rate_limited == 2


def test_dce_honours_announced_limits_so_bot_mode_brings_no_429(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    channel = max(sandbox.world.channels, key=lambda c: c.message_count if c.open else 0)
    # One request per 0.2 s window: every answer announces Remaining 0, and the stand-in's
    # scaled wait ((Reset-After + 1 s) x 0.2) always outlasts the window, however slow it runs.
    emulator_server.set_faults("mode=bot,limit:messages=1/0.2,dce-time-scale=0.2")
    assert run_in_process(export_argv(channel.id, tmp_path), sandbox_env).code == 0
    stats = emulator_server.stats()
    assert stats.rate_limited == 0
    assert stats.announced_wait_seconds > 0


def test_a_dropped_connection_is_retried(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults("drop:messages@1x2,dce-time-scale=0.001")
    assert run_in_process(export_argv(channel.id, tmp_path), sandbox_env).code == 0
    assert [e.status for e in emulator_server.requests() if e.route == "messages"][:4] == [
        200, None, None, 200,
    ]  # fmt: skip


def test_forbidden_and_not_found_faults_fail_as_dce_prints_them_then_clear(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    readable = fate(sandbox.world, "readable")
    emulator_server.set_faults(f"dce-forbidden={readable.id}x1,dce-not-found=*x1")
    forbidden = run_in_process(export_argv(readable.id, tmp_path), sandbox_env)
    assert forbidden.code == 1
    assert forbidden.err.endswith(
        f": Request to 'channels/{readable.id}/messages?limit=1' failed: forbidden.\n\n"
        "Export failed.\n"
    )
    other = fate(sandbox.world, "open")
    not_found = run_in_process(export_argv(other.id, tmp_path), sandbox_env)
    assert not_found.code == 1
    assert f"Request to 'channels/{other.id}' failed: not found.\n" in not_found.err
    assert run_in_process(export_argv(readable.id, tmp_path), sandbox_env).code == 0


def test_a_truncated_export_exits_0_with_the_oldest_half_and_a_consistent_file(
    sandbox: Sandbox, sandbox_env: dict[str, str], emulator_server: RunningEmulator, tmp_path: Path
) -> None:
    channel = fate(sandbox.world, "open")
    emulator_server.set_faults(f"dce-truncate={channel.id}x1")
    cut = run_launcher(sandbox, export_argv(channel.id, tmp_path / "cut"), sandbox_env)
    assert cut.code == 0, cut.err
    assert "Successfully exported 1 channel(s)." in cut.out
    (part,) = (tmp_path / "cut").glob("*.json")
    document = json.loads(part.read_text(encoding="utf-8"))
    log = MessageLog(sandbox.world, channel)
    half = [str(log.id_at(i)) for i in range(channel.message_count // 2)]
    assert [m["id"] for m in document["messages"]] == half
    assert document["messageCount"] == len(half) < channel.message_count
    whole = run_launcher(sandbox, export_argv(channel.id, tmp_path / "whole"), sandbox_env)
    (part,) = (tmp_path / "whole").glob("*.json")
    assert whole.code == 0
    assert json.loads(part.read_text())["messageCount"] == channel.message_count

"""The DCE runner against the sandbox's DCE stand-in: real processes, real HTTP, real time.

Stall timeouts are short and bounds generous: the machine may be loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from dmj.adapters import Dce, DceRunner, ExportResult, export_argv, find_dce
from dmj.machine.errors import ChannelExportError, InvariantBroken
from dmj.sandbox import MessageLog, RunningEmulator, Sandbox, WorldChannel

from tests.adapters.processes import (
    argv_of,
    environ_of,
    is_gone,
    my_children,
    poll_until,
    sigterm_ignored,
    stdin_of,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def dce(sandbox: Sandbox, sandbox_env: dict[str, str]) -> Dce:
    return await find_dce(sandbox.dce_dir, env=sandbox_env)


def runner(
    dce: Dce, env: dict[str, str], token: str, *, stall_timeout: float = 60, kill_grace: float = 5
) -> DceRunner:
    return DceRunner(dce, token, env=env, stall_timeout=stall_timeout, kill_grace=kill_grace)


@pytest.fixture
def run(sandbox: Sandbox, sandbox_env: dict[str, str], dce: Dce) -> DceRunner:
    """A runner with the world's own token, a 60 s stall timeout and a 5 s kill grace."""
    return runner(dce, sandbox_env, sandbox.world.token)


def channel(sandbox: Sandbox, fate: str, access: str = "ok") -> WorldChannel:
    return next(
        c
        for c in sandbox.world.channels
        if c.fate == fate and c.closed_access == access and c.message_count > 5
    )


async def test_the_stand_in_is_found_and_answers_its_version(sandbox: Sandbox, dce: Dce) -> None:
    assert (dce.argv, dce.version, dce.path) == (
        (str(sandbox.dce),),
        "2.47.0",
        str(sandbox.dce_dir),
    )


@pytest.mark.parametrize("fate", ["open", "readable"])
async def test_an_export_is_verified_and_summed_up(
    sandbox: Sandbox, run: DceRunner, tmp_path: Path, fate: str
) -> None:
    target = channel(sandbox, fate)
    result = await run.export(target.id, tmp_path / "x")
    last = MessageLog(sandbox.world, target).last_id
    assert result == ExportResult(
        channel_id=target.id,
        message_count=target.message_count,
        last_message_id=str(last),
        files=result.files,
    )
    [name] = result.files
    assert name.startswith("Direct Messages - ")
    assert name.endswith(f" [{target.id}].json")
    assert (tmp_path / "x" / name).is_file()


async def test_partitions_are_verified_and_added_up(
    sandbox: Sandbox, run: DceRunner, tmp_path: Path
) -> None:
    target = channel(sandbox, "open")
    result = await run.export(target.id, tmp_path / "x", partition="5")
    parts = -(-target.message_count // 5)
    assert len(result.files) == parts > 2
    assert result.files[1].endswith(" [part 2].json")
    assert result.message_count == target.message_count
    assert result.last_message_id == str(MessageLog(sandbox.world, target).last_id)


async def test_after_exports_only_newer_messages(
    sandbox: Sandbox, run: DceRunner, tmp_path: Path
) -> None:
    target = channel(sandbox, "open")
    log = MessageLog(sandbox.world, target)
    after = str(log.id_at(len(log) - 4))
    result = await run.export(target.id, tmp_path / "x", after=after)
    assert (result.message_count, result.last_message_id) == (3, str(log.last_id))
    nothing = await run.export(target.id, tmp_path / "y", after=str(log.last_id))
    assert (nothing.message_count, nothing.last_message_id) == (0, None)


async def test_media_goes_to_the_shared_media_folder(
    sandbox: Sandbox, run: DceRunner, tmp_path: Path
) -> None:
    target = channel(sandbox, "open")
    result = await run.export(target.id, tmp_path / "x", media_dir=tmp_path / "media")
    assert result.message_count == target.message_count
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == list(result.files)


@pytest.mark.parametrize("access", ["forbidden", "not_found"])
async def test_a_closed_dm_that_cannot_be_read_is_a_permanent_failure(
    sandbox: Sandbox, run: DceRunner, tmp_path: Path, access: str
) -> None:
    target = channel(sandbox, "reopen", access)
    with pytest.raises(ChannelExportError) as error:
        await run.export(target.id, tmp_path / "x")
    assert (error.value.error_class, error.value.channel_id) == ("permanent", target.id)
    words = "forbids reading" if access == "forbidden" else "does not find"
    assert f"could not export channel {target.id}: Discord {words} this channel" in str(error.value)
    assert "DCE's last output:" in str(error.value)


@pytest.mark.parametrize(
    ("fault", "words"),
    [("forbidden", "forbids reading"), ("not-found", "does not find")],
)
async def test_dces_own_forbidden_and_not_found_texts_are_permanent(
    sandbox: Sandbox,
    emulator_server: RunningEmulator,
    run: DceRunner,
    tmp_path: Path,
    fault: str,
    words: str,
) -> None:
    target = channel(sandbox, "open")
    emulator_server.set_faults(f"dce-{fault}={target.id}")
    with pytest.raises(ChannelExportError) as error:
        await run.export(target.id, tmp_path / "x")
    assert error.value.error_class == "permanent"
    assert f"Discord {words} this channel (exit code 1)" in str(error.value)


async def test_an_invalid_token_is_fatal_and_never_shown(
    sandbox: Sandbox, sandbox_env: dict[str, str], dce: Dce, tmp_path: Path
) -> None:
    wrong = "MTIzNDU2Nzg5MDEyMzQ1Njc4.wrong.not-the-token-at-all"
    target = channel(sandbox, "open")
    with pytest.raises(ChannelExportError) as error:
        await runner(dce, sandbox_env, wrong).export(target.id, tmp_path / "x")
    assert error.value.error_class == "fatal"
    assert "Discord rejected the token" in str(error.value)
    assert "Authentication token is invalid." in str(error.value)
    assert wrong not in str(error.value)
    assert sandbox.world.token not in str(error.value)


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        ("5xx:messages=503,dce-time-scale=0.0001", "DCE ran out of retries (service unavailable)"),
        ("cloudflare:messages@1x1", "Discord (or its Cloudflare front) refused a request"),
        ("429:messages=1,dce-time-scale=0.0001", "DCE ran out of retries on Discord's rate limits"),
    ],
    ids=["5xx-exhausted", "cloudflare-400", "429-exhausted"],
)
async def test_what_dce_cannot_get_past_is_fatal(
    sandbox: Sandbox,
    emulator_server: RunningEmulator,
    run: DceRunner,
    tmp_path: Path,
    faults: str,
    reason: str,
) -> None:
    emulator_server.set_faults(faults)
    with pytest.raises(ChannelExportError) as error:
        await run.export(channel(sandbox, "open").id, tmp_path / "x")
    assert error.value.error_class == "fatal"
    assert f": {reason} (exit code 1)" in str(error.value)


async def test_a_crash_mid_file_is_a_transient_failure_and_a_retry_succeeds(
    sandbox: Sandbox,
    emulator_server: RunningEmulator,
    run: DceRunner,
    tmp_path: Path,
) -> None:
    target = channel(sandbox, "open")
    emulator_server.set_faults(f"dce-crash={target.id}x1")
    with pytest.raises(ChannelExportError) as error:
        await run.export(target.id, tmp_path / "first")
    assert error.value.error_class == "transient"
    assert "DCE failed without a known reason (killed by SIGKILL)." in str(error.value)
    assert list((tmp_path / "first").glob("*.json")), "the crash left a cut-off file behind"
    again = await run.export(target.id, tmp_path / "second")
    assert again.message_count == target.message_count


@pytest.mark.parametrize(
    ("fault", "stall", "signal_code"),
    # a hard hang ignores SIGTERM only once the stand-in runs: give it time to get there
    [("hang", 1.0, "SIGTERM"), ("hang-hard", 2.0, "SIGKILL")],
)
async def test_a_hang_is_stopped_after_the_stall_timeout_and_reaped(
    sandbox: Sandbox,
    sandbox_env: dict[str, str],
    emulator_server: RunningEmulator,
    dce: Dce,
    tmp_path: Path,
    fault: str,
    stall: float,
    signal_code: str,
) -> None:
    target = channel(sandbox, "open")
    emulator_server.set_faults(f"dce-{fault}={target.id}")
    run = runner(dce, sandbox_env, sandbox.world.token, stall_timeout=stall, kill_grace=0.5)
    started = anyio.current_time()
    with pytest.raises(ChannelExportError) as error:
        await run.export(target.id, tmp_path / "x")
    assert error.value.error_class == "transient"
    assert f"DCE printed nothing for {stall:g} s and was stopped (killed by {signal_code})" in (
        str(error.value)
    )
    assert anyio.current_time() - started < 30
    assert my_children() == [], "no child left running, and no zombie"


async def look_at_the_child(emulator: RunningEmulator, channel_id: str) -> dict[str, Any]:
    """Argv, token-related environment and stdin of the DCE child, once it is running."""
    await poll_until(lambda: len(my_children()) == 1)
    [pid] = my_children()
    # the stand-in asks the sandbox first: by then the launcher has exec'd it
    await poll_until(lambda: emulator.emulator.faults.dce_attempts(channel_id) > 0)
    environ = [e for e in environ_of(pid) if e.startswith(("DISCORD", "TERM="))]
    return {"pid": pid, "argv": argv_of(pid), "environ": environ, "stdin": stdin_of(pid)}


async def test_the_child_gets_the_token_only_through_its_environment(
    sandbox: Sandbox,
    sandbox_env: dict[str, str],
    emulator_server: RunningEmulator,
    dce: Dce,
    tmp_path: Path,
) -> None:
    token = sandbox.world.token
    target = channel(sandbox, "open")
    emulator_server.set_faults(f"dce-hang={target.id}")
    env = {k: v for k, v in sandbox_env.items() if k != "DISCORD_TOKEN"} | {"TERM": "xterm"}
    run = runner(dce, env, token)
    seen: dict[str, Any] = {}

    async def export_until_seen() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run.export, target.id, tmp_path / "x")
            seen.update(await look_at_the_child(emulator_server, target.id))
            tasks.cancel_scope.cancel()

    await export_until_seen()
    # the launcher exec'd python: argv is the interpreter's, then dmj's arguments unchanged
    expected = export_argv(dce, target.id, tmp_path / "x")[1:]
    assert seen["argv"][-len(expected) :] == expected
    assert not [arg for arg in seen["argv"] if token in arg]
    assert sorted(seen["environ"]) == [f"DISCORD_TOKEN={token}", "TERM=dumb"]
    assert seen["stdin"] == "/dev/null"
    assert is_gone(seen["pid"])


async def test_cancelling_an_export_kills_and_reaps_dce_at_once_without_the_grace(
    sandbox: Sandbox,
    sandbox_env: dict[str, str],
    emulator_server: RunningEmulator,
    dce: Dce,
    tmp_path: Path,
) -> None:
    target = channel(sandbox, "open")
    emulator_server.set_faults(f"dce-hang-hard={target.id}")
    run = runner(dce, sandbox_env, sandbox.world.token, kill_grace=50)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(run.export, target.id, tmp_path / "x")
        child = await look_at_the_child(emulator_server, target.id)
        await poll_until(lambda: sigterm_ignored(child["pid"]))
        cancelled = anyio.current_time()
        tasks.cancel_scope.cancel()
    assert anyio.current_time() - cancelled < 5, "SIGKILL at once, not after the 50 s grace"
    assert is_gone(child["pid"])
    assert my_children() == []


async def test_an_export_folder_that_is_not_empty_is_refused(
    run: DceRunner, tmp_path: Path
) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "old.json").write_text("{}")
    with pytest.raises(InvariantBroken, match="is not empty; dmj always exports into a fresh"):
        await run.export("1", tmp_path / "x")

"""The emulator over real HTTP: in a thread for tests, and `dmj sandbox serve` as a process."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from dmj.sandbox import Emulator, RunningEmulator, Sandbox, run_emulator
from dmj.sandbox._state import ChannelBook

from tests.sandbox_fixtures import MakeSandbox

DMJ = [sys.executable, "-m", "dmj.cli"]


def test_the_threaded_server_answers_real_http_on_loopback(
    emulator_server: RunningEmulator, sandbox: Sandbox
) -> None:
    assert emulator_server.base_url.startswith("http://127.0.0.1:")
    response = httpx.get(
        f"{emulator_server.base_url}/users/@me", headers={"Authorization": sandbox.world.token}
    )
    assert response.status_code == 200
    assert response.json()["id"] == sandbox.world.self_user.id
    assert [e.status for e in emulator_server.requests()] == [200]


def test_a_dropped_connection_over_real_http_leaves_the_client_without_an_answer(
    emulator_server: RunningEmulator, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    emulator_server.set_faults("drop@0x1")
    headers = {"Authorization": sandbox.world.token}
    with caplog.at_level(logging.WARNING), httpx.Client(headers=headers) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get(f"{emulator_server.base_url}/users/@me")
        assert client.get(f"{emulator_server.base_url}/users/@me").status_code == 200
    assert [e.status for e in emulator_server.requests()] == [None, 200]
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")], "no 500, no error log"


def test_opened_and_closed_dms_persist_in_the_state_file(sandbox: Sandbox) -> None:
    world = sandbox.world
    closed = next(c for c in world.channels if c.fate == "reopen")
    was_open = next(c for c in world.channels if c.fate == "open")
    emulator = Emulator(world, state_file=sandbox.state_file)
    with (
        run_emulator(emulator) as running,
        httpx.Client(base_url=running.base_url, headers={"Authorization": world.token}) as client,
    ):
        assert client.post(
            "/users/@me/channels", json={"recipients": list(closed.recipients)}
        ).is_success
        assert client.delete(f"/channels/{was_open.id}").is_success
    book = ChannelBook(world, sandbox.state_file)
    assert closed.id in book.open
    assert was_open.id not in book.open


def test_a_state_file_of_another_world_is_ignored(
    make_sandbox: MakeSandbox, sandbox: Sandbox
) -> None:
    other = make_sandbox(seed=99)
    ChannelBook(other.world, sandbox.state_file).set_open(other.world.channels[0].id, is_open=True)
    book = ChannelBook(sandbox.world, sandbox.state_file)
    assert book.open == {c.id for c in sandbox.world.channels if c.open}


def start_serve(world_file: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [*DMJ, "sandbox", "serve", "--world", str(world_file), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("DMJ_API_BASE=http://127.0.0.1:"), first + process.stderr.read()  # type: ignore[union-attr]
    return process, first.strip().split("=", 1)[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_prints_the_api_base_first_and_stops_cleanly_on_a_signal(
    sandbox: Sandbox, sig: signal.Signals
) -> None:
    process, base = start_serve(sandbox.world_file, "--faults", "mode=bot")
    try:
        response = httpx.get(f"{base}/users/@me", headers={"Authorization": sandbox.world.token})
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "50"
    finally:
        process.send_signal(sig)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out == ""
    assert err.strip() == "The sandbox stopped."


def test_a_restarted_serve_carries_on_with_the_dms_it_opened(sandbox: Sandbox) -> None:
    closed = next(c for c in sandbox.world.channels if c.fate == "reopen")
    headers = {"Authorization": sandbox.world.token}
    process, base = start_serve(sandbox.world_file)
    try:
        httpx.post(
            f"{base}/users/@me/channels",
            json={"recipients": list(closed.recipients)},
            headers=headers,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert closed.id in json.loads(sandbox.state_file.read_text())["open"]
    process, base = start_serve(sandbox.world_file)
    try:
        listed = httpx.get(f"{base}/users/@me/channels", headers=headers).json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert closed.id in {c["id"] for c in listed}


def test_serve_refuses_a_bad_fault_spec_or_a_missing_world(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    bad = subprocess.run(
        [*DMJ, "sandbox", "serve", "--world", str(sandbox.world_file), "--faults", "nonsense"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "The fault spec item 'nonsense' is not valid" in bad.stderr
    missing = subprocess.run(
        [*DMJ, "sandbox", "serve", "--world", str(tmp_path / "nope.json")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "does not exist; create a world" in missing.stderr


def test_serve_refuses_a_port_in_use(sandbox: Sandbox, emulator_server: RunningEmulator) -> None:
    port = str(emulator_server.port)
    taken = subprocess.run(
        [*DMJ, "sandbox", "serve", "--world", str(sandbox.world_file), "--port", port],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert taken.returncode == 2
    assert f"cannot listen on 127.0.0.1:{emulator_server.port}" in taken.stderr

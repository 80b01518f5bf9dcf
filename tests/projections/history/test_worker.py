"""Large ingests are read by a worker process: the index is the same, row for row and word
for word, and a worker that dies costs the reader nothing it had."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from dmj.adapters import open_package
from dmj.machine.errors import FileWriteFailed
from dmj.projections.history import INDEX, _frames, rebuild_index, refresh_index
from dmj.projections.history import _worker as worker_module
from dmj.projections.history._frames import Frame, export_frames
from dmj.projections.history._ingest import Loader, exported_after
from dmj.projections.history._journal import read_journal

from tests.projections.history.archives import ALICE, FIRST, SECOND, T, first_archive
from tests.projections.history.chats import ME, Chat, dce_message, snowflake, write_archive
from tests.projections.history.dumps import dump


def long_chats(count: int, *, start: int = 0) -> list[Chat]:
    """alice's DM with ``count`` messages (from the ``start``-th on) in one part (several
    batches of rows), every few a word to find, an accent, an attachment or an edit; the other
    conversations as ``FIRST``."""
    messages = [
        dce_message(
            snowflake(T + timedelta(minutes=n), 1), ALICE if n % 3 else ME,
            f"message {n} café Ωmega" if n % 7 == 0 else f"message {n} flat",
            attachments=[("a.png", n)] if n % 11 == 0 else (),
            edited=T + timedelta(days=30) if n % 13 == 0 and start else None,
        )
        for n in range(start, start + count)
    ]  # fmt: skip
    return [Chat("1000", (ALICE,), messages, per_part=10_000), *FIRST[1:]]


def test_a_worker_builds_the_index_one_process_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = [long_chats(6_000)], [long_chats(3_000, start=5_000)]  # run 2 overlaps run 1
    built = {}
    for where, worker_bytes in (("here", 1 << 60), ("worker", 0)):
        archive = write_archive(tmp_path / where, runs[0][0], runs=runs[1])
        broken = sorted((archive / "exports" / "2000").glob("*/*.json"))[0]
        broken.write_text('{"channel": {"id": "2000"}, "messages": [', encoding="utf-8")
        monkeypatch.setattr(worker_module, "WORKER_BYTES", worker_bytes)
        rebuild_index(archive, notice=lambda _: None, packages=open_package)
        built[where] = dump(archive)
    assert built["worker"] == built["here"]
    assert len(built["here"]["messages"]) == 8_000 + 2, "overlapping copies replaced"
    assert built["here"]["problems"], "the damaged export is reported"


def test_a_worker_brings_an_index_up_to_date_as_one_process_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshed = {}
    for where, worker_bytes in (("here", 1 << 60), ("worker", 0)):
        archive = first_archive(tmp_path / where)
        refresh_index(archive, notice=lambda _: None, packages=open_package)
        write_archive(archive, FIRST, runs=[SECOND])
        monkeypatch.setattr(worker_module, "WORKER_BYTES", worker_bytes)
        assert refresh_index(archive, notice=lambda _: None, packages=open_package).exports == 2
        refreshed[where] = dump(archive)
    assert refreshed["worker"] == refreshed["here"]


def test_exports_from_worker_bytes_of_json_on_are_read_by_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = first_archive(tmp_path / "archive")
    size = sum(f.stat().st_size for f in (archive / "exports").glob("*/*/*.json"))
    workers: list[int] = []

    def recorded(task: Any) -> Iterator[Frame]:
        workers.append(len(task.outcomes))
        return export_frames(
            Path(task.archive), task.outcomes, task.first_row, stream_bytes=task.stream_bytes
        )

    monkeypatch.setattr(worker_module, "_from_worker", recorded)
    for worker_bytes in (size + 1, size):
        monkeypatch.setattr(worker_module, "WORKER_BYTES", worker_bytes)
        rebuild_index(archive, notice=lambda _: None, packages=open_package)
    assert workers == [2], "not below WORKER_BYTES; at WORKER_BYTES, for both exports"


def test_a_worker_that_dies_fails_the_reader_and_leaves_the_index_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = first_archive(tmp_path / "archive")
    refresh_index(archive, notice=lambda _: None, packages=open_package)
    before = dump(archive)
    write_archive(archive, FIRST, runs=[SECOND])
    monkeypatch.setattr(worker_module, "WORKER_BYTES", 0)
    dying = [sys.executable, "-c", "import os; os._exit(3)"]  # as the OOM killer would
    monkeypatch.setattr(worker_module, "_COMMAND", dying)
    with pytest.raises(FileWriteFailed) as refreshing:
        refresh_index(archive, notice=lambda _: None, packages=open_package)
    assert str(refreshing.value) == (
        "The message index cannot be built: the process reading the exports ended early "
        "(exit code 3); run the command again, and report it if it happens every time."
    )
    assert dump(archive) == before, "the refresh's transaction was rolled back"
    (archive / INDEX).unlink()
    with pytest.raises(FileWriteFailed, match="the process reading the exports ended early"):
        refresh_index(archive, notice=lambda _: None, packages=open_package)
    assert not (archive / INDEX).exists(), "the failed build installed nothing"
    assert not list(archive.glob(f".{INDEX}.*.build")), "and removed its private file"


def test_a_worker_killed_half_way_through_a_frame_fails_the_reader_as_one_that_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = first_archive(tmp_path / "archive")
    monkeypatch.setattr(worker_module, "WORKER_BYTES", 0)
    killed = (  # a frame of 1,000 bytes announced, 2 written (a pipe takes 64 KB at a time)
        "import os, signal, sys; sys.stdin.buffer.read(); "
        "sys.stdout.buffer.write((1000).to_bytes(4, 'little') + bytes([0x93, 0x01])); "
        "sys.stdout.flush(); os.kill(os.getpid(), signal.SIGKILL)"
    )
    monkeypatch.setattr(worker_module, "_COMMAND", [sys.executable, "-c", killed])
    with pytest.raises(FileWriteFailed, match=r"ended early \(exit code -9\)"):
        refresh_index(archive, notice=lambda _: None, packages=open_package)
    assert not (archive / INDEX).exists(), "the failed build installed nothing"


def test_the_ctrl_c_a_terminal_sends_the_worker_too_does_not_end_it(tmp_path: Path) -> None:
    """Ctrl-C reaches every process of the terminal's foreground group: the worker reads on,
    and dmj, which decides what Ctrl-C does, stops it if it stops reading."""
    archive = write_archive(tmp_path / "archive", long_chats(6_000))
    state = read_journal(archive, at_seq=None, notice=print).state
    outcomes = sorted(exported_after(state, after=0), key=lambda o: o.seq)
    task = worker_module._Task(str(archive), outcomes, 1, _frames.STREAM_BYTES)
    pipe = subprocess.PIPE
    with subprocess.Popen(worker_module._COMMAND, stdin=pipe, stdout=pipe, stderr=pipe) as worker:
        assert worker.stdin is not None
        assert worker.stdout is not None
        assert worker.stderr is not None
        with worker.stdin:
            worker.stdin.write(msgspec.msgpack.encode(task))
        size = worker.stdout.read(4)  # it serves; its next frames fill the pipe: it waits
        worker.send_signal(signal.SIGINT)
        rest, errors = worker.stdout.read(), worker.stderr.read()
    assert (worker.returncode, errors) == (0, b""), errors.decode()
    done = len(worker_module._DONE).to_bytes(4, "little") + worker_module._DONE
    assert (size + rest).endswith(done), "every frame written, then the end"


def test_a_reader_that_fails_while_the_worker_reads_stops_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = write_archive(tmp_path / "archive", long_chats(6_000))
    monkeypatch.setattr(worker_module, "WORKER_BYTES", 0)
    started: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def recorded(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(popen(*args, **kwargs))
        return started[-1]

    def failing(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(subprocess, "Popen", recorded)
    monkeypatch.setattr(Loader, "insert", failing)
    with pytest.raises(OSError, match="disk full"):
        rebuild_index(archive, notice=lambda _: None, packages=open_package)
    assert [worker.returncode for worker in started] == [-9], "killed, and waited for"


def test_the_worker_never_holds_the_discord_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = first_archive(tmp_path / "archive")
    seen = tmp_path / "worker-env.json"
    monkeypatch.setenv("DISCORD_TOKEN", "mfa.secret-token")
    monkeypatch.setenv("DISCORD_TOKEN_BOT", "false")
    monkeypatch.setenv("DMJ_SOMETHING", "kept")
    monkeypatch.setattr(worker_module, "WORKER_BYTES", 0)
    telling = f"import json, os; open({str(seen)!r}, 'w').write(json.dumps(dict(os.environ)))"
    monkeypatch.setattr(worker_module, "_COMMAND", [sys.executable, "-c", telling])
    with pytest.raises(FileWriteFailed, match="the process reading the exports ended early"):
        refresh_index(archive, notice=lambda _: None, packages=open_package)
    env = json.loads(seen.read_text(encoding="utf-8"))
    assert env["DMJ_SOMETHING"] == "kept", "the rest of the environment is passed on"
    assert not [name for name in env if name.startswith("DISCORD_TOKEN")]

"""``dmj view``: the real command serves the archive on loopback, privately, until Ctrl-C."""

from __future__ import annotations

import re
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dmj.cli import app
from dmj.cli._view import open_in_browser
from dmj.cli.view import has_display
from playwright.sync_api import expect
from typer.testing import CliRunner

from tests.browser_fixtures import OpenTab
from tests.projections.history.archives import two_run_archive

DMJ = Path(sys.executable).parent / "dmj"
URL = re.compile(r"^  (http://127\.0\.0\.1:(\d+))/\?key=([A-Za-z0-9_-]{43})$", re.MULTILINE)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """Two runs over five conversations: two with messages, three gaps."""
    return two_run_archive(tmp_path / "archive")


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file of the archive but the message index (derived: readers refresh it)."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if not p.name.startswith("index.sqlite")
    }


class Running:
    """``dmj view --no-browser`` as a process, once it printed its address."""

    def __init__(self, process: subprocess.Popen[str], banner: str) -> None:
        self.process = process
        self.banner = banner
        match = URL.search(banner)
        assert match is not None, banner
        self.url = match[0].strip()
        self.origin, self.port, self.secret = match[1], int(match[2]), match[3]

    def stop(self, sig: signal.Signals = signal.SIGINT) -> tuple[int, str, str]:
        self.process.send_signal(sig)
        stdout, stderr = self.process.communicate(timeout=20)
        return self.process.returncode, self.banner + stdout, stderr


@pytest.fixture
def running(archive: Path) -> Iterator[Running]:
    process = subprocess.Popen(
        [str(DMJ), "view", "--archive", str(archive), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    banner = "".join(process.stdout.readline() for _ in range(3))
    try:
        yield Running(process, banner)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_it_prints_a_private_address_serves_read_only_and_stops_cleanly_on_ctrl_c(
    running: Running, archive: Path
) -> None:
    before = snapshot(archive)
    assert running.banner == (
        f"Browsing {archive} (read-only) at\n  {running.url}\n"
        "The address holds a secret for this launch only. Press Ctrl-C to stop.\n"
    )
    with httpx.Client(base_url=running.origin, follow_redirects=False) as client:
        assert client.get("/").status_code == 403
        assert client.get(running.url).status_code == 303
        page = client.get("/")
        assert page.status_code == 200
        names = re.findall(r'<span class="name">([^<]*)</span>', page.text)
        assert names == ["Alice W", "bob", "carol", "Old friends", "Trip crew"]
        assert 'id="notices"' not in page.text, "building the index is news for the terminal"
        assert (
            client.get("/", headers={"host": f"rebound.example:{running.port}"}).status_code == 403
        )
    code, stdout, stderr = running.stop()
    assert code == 0
    assert stderr.replace("\n", " ").strip() == (
        f"Note: Building the message index {archive / 'index.sqlite'}: it is missing."
    )
    assert stdout.endswith("dmj view stopped.\n")
    assert snapshot(archive) == before


def test_the_printed_address_opens_the_page_in_a_browser(
    running: Running, open_tab: OpenTab
) -> None:
    tab = open_tab(running.origin)
    tab.page.goto(running.url)
    expect(tab.page).to_have_url(f"{running.origin}/")
    tab.page.click("#conversations >> text=Alice W")
    expect(tab.page.locator("#messages > li")).to_have_count(5)
    expect(tab.page.locator("#messages > li .content").last).to_have_text("``````")
    tab.assert_clean()
    assert running.stop(signal.SIGTERM)[0] == 0


def test_each_launch_makes_its_own_secret(archive: Path) -> None:
    secrets = set()
    for _ in range(2):
        process = subprocess.Popen(
            [str(DMJ), "view", "--archive", str(archive), "--no-browser"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        launch = Running(process, "".join(process.stdout.readline() for _ in range(3)))
        secrets.add(launch.secret)
        assert launch.stop()[0] == 0
    assert len(secrets) == 2


def test_a_port_in_use_is_a_usage_error(archive: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["view", "--archive", str(archive), "--port", str(port)])
    assert result.exit_code == 2
    assert result.stderr.replace("\n", " ") == (
        f"Error: dmj view cannot listen on 127.0.0.1:{port} (it is in use); choose another "
        "--port, or leave --port out to use a free one. "
    )


def test_without_an_archive_there_is_nothing_to_browse(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["view", "--archive", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "There is no dmj archive at" in result.stderr
    assert "(no such directory), so there is nothing to browse" in result.stderr


@pytest.mark.parametrize(
    ("environ", "platform", "shown"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"DISPLAY": ""}, "freebsd14", False),
        ({}, "darwin", True),
        ({}, "win32", True),
    ],
)
def test_a_browser_opens_only_where_there_is_a_display(
    environ: dict[str, str], platform: str, shown: bool
) -> None:
    assert has_display(environ, platform) is shown


def test_the_browser_gets_the_address_through_a_private_file_not_its_command_line(
    tmp_path: Path,
) -> None:
    opened: list[str] = []

    def opener(target: str) -> bool:
        opened.append(target)
        return True

    url = "http://127.0.0.1:5000/?key=the-secret"
    assert open_in_browser(url, tmp_path, opener)
    page = tmp_path / "open.html"
    assert opened == [page.as_uri()]
    assert "the-secret" not in opened[0]
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert 'content="0;url=http://127.0.0.1:5000/?key=the-secret"' in page.read_text()

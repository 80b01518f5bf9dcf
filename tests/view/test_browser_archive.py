"""``dmj view`` on a real archive, in Chromium: the process, its printed address, the index.

The archive holds 20,600 messages of the sandbox's generator in seven conversations,
Carol's of 20,000 (``sandbox_archive``); ``dmj view`` serves it as a user starts it, and
the page is opened at the address it prints. Local time is New York's for the viewer and
``dmj export`` alike (md and txt show local times). Each test ends by checking that the page
logged no error, opened no dialog and asked nothing of any host but the viewer.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from dmj.adapters import open_package
from dmj.projections.history import Message, open_history
from playwright.sync_api import expect

from tests.browser_fixtures import OpenTab, Tab
from tests.e2e.support import DMJ
from tests.view.sandbox_archive import LONG_NAME, sandbox_archive
from tests.view.support import without_when_and_where_from

LONG = 20_000
KEEP = 200
"""The most messages the page keeps in its DOM (app.js: KEEP)."""
NEW_YORK = "EST5EDT,M3.2.0,M11.1.0"
URL = re.compile(r"^  ((http://127\.0\.0\.1:\d+)/\?key=\S+)$", re.MULTILINE)


class Launched:
    """``dmj view --no-browser`` running on the archive, and what it printed."""

    def __init__(self, archive: Path, process: subprocess.Popen[str], banner: str) -> None:
        self.archive = archive
        self.process = process
        match = URL.search(banner)
        assert match is not None, banner
        self.url, self.origin = match[1], match[2]
        with open_history(
            archive, zone=UTC, notice=lambda _: None, packages=open_package
        ) as history:
            carol = next(c for c in history.conversations() if c.name == LONG_NAME)
            self.channel = carol.id
            self.first: Message = history.newer(carol.id, None, 1)[0]
            self.deep: Message = history.newer(carol.id, None, LONG // 2)[-1]


def env() -> dict[str, str]:
    return {**os.environ, "TZ": NEW_YORK}


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    archive = sandbox_archive(tmp_path_factory.mktemp("view"), messages=20_600, longest=LONG)
    process = subprocess.Popen(
        [str(DMJ), "view", "--archive", str(archive), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
    )  # fmt: skip
    assert process.stdout is not None
    try:
        yield Launched(archive, process, "".join(process.stdout.readline() for _ in range(3)))
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def opened(open_tab: OpenTab, launched: Launched) -> Tab:
    """The printed address, opened as a user opens it."""
    tab = open_tab(launched.origin, timezone="America/New_York")
    tab.page.goto(launched.url)
    expect(tab.page).to_have_url(f"{launched.origin}/")
    return tab


SCROLL_TO_START = """async () => {
  // Scroll to the top, as far as it goes, until the conversation's first message shows;
  // count the pages loaded and the most messages the DOM held meanwhile.
  const scroller = document.getElementById("scroller");
  const list = document.getElementById("messages");
  const start = document.getElementById("start-marker");
  const settled = (first) => new Promise((done) => {
    const check = () => (list.firstElementChild.dataset.id !== first || !start.hidden)
      && scroller.getAttribute("aria-busy") === "false" ? done() : setTimeout(check, 1);
    check();
  });
  let most = list.children.length;
  let pages = 0;
  while (start.hidden) {
    const first = list.firstElementChild.dataset.id;
    scroller.scrollTop = 0;
    await settled(first);
    most = Math.max(most, list.children.length);
    pages += 1;
  }
  return { most, pages, first: list.firstElementChild.dataset.id };
}"""


def test_a_20000_message_conversation_scrolls_to_its_first_message_with_a_bounded_dom(
    open_tab: OpenTab, launched: Launched
) -> None:
    tab = opened(open_tab, launched)
    page = tab.page
    page.click(f"#conversations li[data-id='{launched.channel}'] a")
    expect(page.locator("#pane-title")).to_have_text(LONG_NAME)
    expect(page.locator("#messages > li")).to_have_count(50)
    walked = page.evaluate(SCROLL_TO_START)
    assert walked["first"] == str(launched.first.id)
    assert walked["pages"] >= (LONG - 50) // 50
    assert walked["most"] <= KEEP
    expect(page.locator("#messages > li").first).to_have_id(f"m-{launched.first.id}")
    expect(page.locator("#start-marker")).to_be_visible()
    tab.assert_clean()


def test_a_search_result_opens_the_message_in_its_conversation_highlighted(
    open_tab: OpenTab, launched: Launched
) -> None:
    tab = opened(open_tab, launched)
    page = tab.page
    page.fill("#search", f"in:{LONG_NAME.lower()} coffee before:2019")
    page.press("#search", "Enter")
    expect(page.locator("#results-count")).to_contain_text("messages match")
    hit = page.locator("#hits > li").nth(3)
    expect(hit.locator("mark").first).to_have_text(re.compile("^coffee$", re.IGNORECASE))
    target = hit.get_attribute("data-id")
    hit.locator(".content").click()
    expect(page).to_have_url(f"{launched.origin}/#/c/{launched.channel}/m/{target}")
    focused = page.locator(f"#m-{target}")
    expect(focused).to_have_class("message focused")
    expect(focused).to_be_in_viewport()
    page.fill("#search", "coffee frm:carol")
    page.press("#search", "Enter")
    expect(page.locator("#search-error")).to_have_text(re.compile(
        r"^The query cannot be read: frm: is not a key of the query\.\n  coffee frm:carol\n"
        r"         \^\^\^\^\nValid keys: "
    ))  # fmt: skip
    tab.assert_clean("400 /api/search?q=coffee%20frm%3Acarol")


def test_a_permalink_deep_in_the_conversation_opens_there_highlighted(
    open_tab: OpenTab, launched: Launched
) -> None:
    tab = opened(open_tab, launched)
    page = tab.page
    page.goto(f"{launched.origin}/#/c/{launched.channel}/m/{launched.deep.id}")
    focused = page.locator(f"#m-{launched.deep.id}")
    expect(focused).to_have_class("message focused")
    expect(focused).to_be_in_viewport()
    expect(page.locator(".message.focused")).to_have_count(1)
    expect(page.locator("#pane-title")).to_have_text(LONG_NAME)
    tab.assert_clean()


@pytest.mark.parametrize("fmt", ["md"])
def test_export_these_results_downloads_the_file_dmj_export_writes(
    open_tab: OpenTab, launched: Launched, tmp_path: Path, fmt: str
) -> None:
    tab = opened(open_tab, launched)
    page = tab.page
    query = "from:dave has:attachment"
    page.fill("#search", query)
    page.press("#search", "Enter")
    expect(page.locator("#hits > li").first).to_be_visible()
    with page.expect_download() as download:
        page.click(f"#export-{fmt}")
    saved = tmp_path / "downloaded"
    download.value.save_as(saved)
    assert re.fullmatch(rf"export_dm-\d{{8}}-\d{{6}}\.{fmt}", download.value.suggested_filename)
    written = tmp_path / f"written.{fmt}"
    done = subprocess.run(
        [str(DMJ), "export", fmt, *query.split(), "--filename", str(written), "--archive",
         str(launched.archive)],
        capture_output=True, text=True, env=env(), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert without_when_and_where_from(saved.read_bytes()) == without_when_and_where_from(
        written.read_bytes()
    )
    tab.assert_clean()

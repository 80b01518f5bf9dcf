"""The archive browser in a real browser (Debian's Chromium, headless, through Playwright).

Each test opens the page the way a user does, through the printed address, and ends by
checking that the page logged no error, opened no dialog and asked nothing of any host but
the viewer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import msgspec
import pytest
from dmj.adapters import open_package
from dmj.view import Conversation, IndexArchive, MemoryArchive
from playwright.sync_api import Page, expect

from tests.browser_fixtures import OpenTab, Tab
from tests.view.support import Viewer, serve_viewer
from tests.view.worlds import (
    ALICE_DM,
    BOB_DM,
    HOSTILE_CONTENTS,
    HOSTILE_DM,
    HOSTILE_NAME,
    HOSTILE_TITLE,
    LONG,
    START,
    everyday_archive,
    hostile_archive,
    hostile_index_archive,
    long_dm,
)

KEEP = 200
"""The most messages the page keeps in its DOM (app.js: KEEP)."""


@pytest.fixture(scope="module")
def viewer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Viewer]:
    media = tmp_path_factory.mktemp("archive") / "media"
    with serve_viewer(everyday_archive(media), media) as running:
        yield running


def opened(open_tab: OpenTab, viewer: Viewer, *, timezone: str = "UTC") -> Tab:
    tab = open_tab(viewer.origin, timezone=timezone)
    tab.page.goto(viewer.url)
    expect(tab.page.locator("#conversations li").first).to_be_visible()
    return tab


def message_ids(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all("#messages > li", "ls => ls.map(i => i.dataset.id)")
    return ids


def scroll_until(page: Page, direction: int, done: str) -> int:
    """Wheel the message list towards one end until ``done`` (a JS expression) holds;
    returns the most messages the DOM held meanwhile."""
    page.hover("#scroller")
    most = 0
    for _ in range(4 * LONG // 50):
        most = max(most, len(message_ids(page)))
        if page.evaluate(done):
            return most
        before = message_ids(page)
        page.mouse.wheel(0, direction * 20_000)
        page.wait_for_function(
            f"before => ({done}) || (document.querySelector('#scroller')"
            ".getAttribute('aria-busy') === 'false' && [...document.querySelectorAll("
            "'#messages > li')].map(i => i.dataset.id).join() !== before.join())",
            arg=before,
        )
    raise AssertionError(f"never reached: {done}")


def test_a_conversation_scrolls_from_its_newest_to_its_first_message_with_a_bounded_dom(
    open_tab: OpenTab, viewer: Viewer
) -> None:
    tab = opened(open_tab, viewer)
    page = tab.page
    page.click("#conversations >> text=Alice")
    expect(page.locator("#messages > li").last).to_contain_text(f"Message number {LONG - 1}")
    ids = [str(m.id) for m in long_dm()]
    at_start = "!document.getElementById('start-marker').hidden"
    most = scroll_until(page, -1, at_start)
    assert message_ids(page)[0] == ids[0]
    expect(page.locator("#messages > li").first).to_contain_text("Message number 0")
    at_end = f"document.querySelector('#messages').lastElementChild.dataset.id === '{ids[-1]}'"
    most = max(most, scroll_until(page, 1, at_end))
    shown = message_ids(page)
    assert shown == ids[len(ids) - len(shown) :]
    assert most <= KEEP
    tab.assert_clean()


def test_a_permalink_opens_the_conversation_at_the_message_highlighted(
    open_tab: OpenTab, viewer: Viewer
) -> None:
    tab = opened(open_tab, viewer)
    target = long_dm()[300]
    tab.page.goto(f"{viewer.origin}/#/c/{ALICE_DM}/m/{target.id}")
    focused = tab.page.locator(f"#m-{target.id}")
    expect(focused).to_have_class("message focused")
    expect(focused).to_be_in_viewport()
    expect(tab.page.locator(".message.focused")).to_have_count(1)
    expect(tab.page.locator("#pane-title")).to_have_text("Alice")
    tab.assert_clean()


def test_jump_to_date_shows_the_first_message_of_that_local_day(
    open_tab: OpenTab, viewer: Viewer
) -> None:
    """In Tokyo (UTC+9) 15 March begins at 15:00 UTC on the 14th: message 159."""
    tab = opened(open_tab, viewer, timezone="Asia/Tokyo")
    page = tab.page
    page.click("#conversations >> text=Alice")
    expect(page.locator("#messages > li").last).to_contain_text(f"Message number {LONG - 1}")
    page.fill("#jump-date", "2024-03-15")
    page.click("#jump-form button")
    focused = page.locator(".message.focused")
    expect(focused).to_contain_text("Message number 159")
    expect(focused.locator(".time")).to_have_text("Mar 15, 2024, 12:00 AM")
    expect(focused).to_be_in_viewport()
    tab.assert_clean()


def test_search_shows_the_match_and_a_click_lands_on_it_in_context(
    open_tab: OpenTab, viewer: Viewer
) -> None:
    tab = opened(open_tab, viewer)
    page = tab.page
    page.fill("#search", "123")
    page.press("#search", "Enter")
    expect(page.locator("#results-count")).to_have_text("1 message matches “123”")
    expect(page.locator("#hits mark")).to_have_text("123")
    expect(page.locator("#export-txt")).to_have_attribute("href", "/api/export?format=txt&q=123")
    page.click("#hits li.message .content")
    target = long_dm()[123]
    expect(page).to_have_url(f"{viewer.origin}/#/c/{ALICE_DM}/m/{target.id}")
    expect(page.locator(f"#m-{target.id}")).to_have_class("message focused")
    expect(page.locator("#results")).to_be_hidden()
    page.fill("#search", "from:nobody")
    page.press("#search", "Enter")
    expect(page.locator("#search-error")).to_contain_text("The query cannot be read")
    tab.assert_clean("400 /api/search?q=from%3Anobody")


def test_the_filter_narrows_the_list_and_a_gap_says_why_it_is_empty(
    open_tab: OpenTab, viewer: Viewer
) -> None:
    tab = opened(open_tab, viewer)
    page = tab.page
    page.fill("#filter", "CA")
    expect(page.locator("#conversations li.conversation:visible .name")).to_have_text(["Carol"])
    page.fill("#filter", "")
    expect(page.locator("#conversations li.conversation:visible")).to_have_count(5)
    page.click(f"#conversations li[data-id='{BOB_DM}'] a")
    expect(page.locator("#pane-note")).to_have_text(
        "No messages: unreachable. Discord refused to open this DM (50007: Cannot send messages)."
    )
    tab.assert_clean()


INJECTED = "#messages img, #messages iframe, #messages svg, #messages style, script:not([src])"
"""What a payload that ran as HTML would have put into the messages."""


def reveal_spoilers_and_search_with_no_script(page: Page) -> None:
    """Every spoiler opened and a search shown: the hits stay text and no payload ran."""
    for spoiler in page.locator(".spoiler").all():
        spoiler.click()
    page.fill("#search", "a")
    page.press("#search", "Enter")
    expect(page.locator("#hits > li").first).to_be_visible()
    assert page.locator("#hits img, #hits iframe, #hits svg").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_the_hostile_world_shows_as_text_runs_no_script_and_stays_on_loopback(
    open_tab: OpenTab,
) -> None:
    with serve_viewer(hostile_archive()) as hostile:
        tab = open_tab(hostile.origin)
        page = tab.page
        page.goto(hostile.url)
        expect(page.locator("#notices")).to_contain_text(HOSTILE_NAME)
        page.click(f"#conversations li[data-id='{HOSTILE_DM}'] a")
        expect(page.locator("#messages > li")).to_have_count(15)
        assert page.locator(INJECTED).count() == 0
        expect(page.locator("#messages > li .author").first).to_have_text(HOSTILE_NAME)
        expect(page.locator("#messages > li .content").first).to_have_text(HOSTILE_CONTENTS[0])
        reveal_spoilers_and_search_with_no_script(page)
    tab.assert_clean()


def test_the_hostile_world_read_from_the_message_index_runs_no_script_either(
    open_tab: OpenTab, tmp_path: Path
) -> None:
    """The same payloads written by DCE into an archive and read through the index: the
    conversation names, people, contents, mentions and attachment names stay text."""
    root = hostile_index_archive(tmp_path / "hostile")
    source = IndexArchive(
        root, zone=UTC, app="dmj", clock=lambda: START, notice=lambda _: None, packages=open_package
    )
    source.refresh()
    with serve_viewer(source) as hostile:
        tab = open_tab(hostile.origin)
        page = tab.page
        page.goto(hostile.url)
        expect(page.locator("#conversations li .name")).to_have_text([HOSTILE_TITLE] * 3)
        for channel, count in ((777, 2), (HOSTILE_DM, len(HOSTILE_CONTENTS) + 1)):
            page.click(f"#conversations li[data-id='{channel}'] a")
            expect(page.locator("#messages > li")).to_have_count(count)
            assert page.locator(INJECTED).count() == 0
            expect(page.locator("#messages > li .author").first).to_have_text(HOSTILE_TITLE)
            expect(page.locator("#messages > li .content").first).to_have_text(HOSTILE_CONTENTS[0])
            expect(page.locator("#messages .attachment").first).to_contain_text('"><img src=x')
        expect(page.locator("#messages .reply-author")).to_have_text(HOSTILE_TITLE)
        reveal_spoilers_and_search_with_no_script(page)
    tab.assert_clean()


def test_a_message_from_the_data_package_says_so(open_tab: OpenTab) -> None:
    own = long_dm()[0]
    archive = MemoryArchive(
        [Conversation(id=ALICE_DM, kind="dm", name="Alice", verdict="unreachable")],
        [msgspec.structs.replace(own, source="package"), long_dm()[1]],
    )
    with serve_viewer(archive) as viewer:
        tab = opened(open_tab, viewer)
        tab.page.click("#conversations >> text=Alice")
        expect(tab.page.locator("#messages > li.one-sided .from-package")).to_have_text(
            "from your data package"
        )
        expect(tab.page.locator("#messages > li:not(.one-sided)")).to_have_count(1)
    tab.assert_clean()

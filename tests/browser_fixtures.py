"""Browser fixtures (registered in tests/conftest.py): Debian's Chromium through Playwright.

- ``chromium``: /usr/bin/chromium started once per pytest worker, with the switches that keep
  it from talking to the outside (Playwright adds ``--headless`` and a fresh
  ``--user-data-dir`` in /tmp to every launch). Never a browser download (``playwright
  install`` is not used). Without Chromium the browser tests are skipped with the reason,
  except in CI (``CI`` set), where a missing browser fails them: .ci/run installs the
  ``chromium`` package.
- ``open_tab(origin, timezone=…)``: a fresh browser context and page on the app at
  ``origin``. It records what a test must not see: console errors, uncaught exceptions,
  dialogs, and requests for anything but ``origin`` (those are also stopped).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

__all__ = ["CHROMIUM", "CHROMIUM_FLAGS", "OpenTab", "Tab", "chromium", "open_tab"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
)


class Tab:
    """A page of its own browser context, and what it must not do."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        self.failed: list[str] = []
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("dialog", self._dialog)
        page.context.route("**/*", self._route)

    def _console(self, message: Any) -> None:
        # The browser logs every failed response too; ``failed`` holds those, by path.
        if message.type in ("error", "warning") and not message.text.startswith(
            "Failed to load resource: the server responded with a status of"
        ):
            self.errors.append(f"console {message.type}: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url.removeprefix(self.origin)}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url == self.origin or url.startswith(f"{self.origin}/"):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def assert_clean(self, *refused: str) -> None:
        """Nothing ran, broke or left loopback, and no request failed but the ``refused``
        ones the test made on purpose (``"400 /api/search?q=…"``, by prefix)."""
        unexpected = [f for f in self.failed if not f.startswith(refused or ("\0",))]
        assert (self.errors, self.dialogs, self.foreign, unexpected) == ([], [], [], [])


OpenTab = Callable[..., Tab]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium per test module and worker (a Playwright ``Browser``).

    Module scope, not session: Playwright's sync API keeps an asyncio loop running on the
    thread while it is started, so every in-process ``dmj`` command (``anyio.run``) that a
    worker ran later would fail with "Cannot run the event loop while another loop is
    running". pytest tears a module fixture down before the next module's tests start.
    """
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs the chromium package.")
        pytest.skip(f"Debian's Chromium is not installed ({CHROMIUM}): apt-get install chromium")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_tab(chromium: Browser) -> Iterator[OpenTab]:
    """Open pages in fresh contexts (closed after the test): ``open_tab(origin)``."""
    contexts: list[Any] = []

    def open_(origin: str, *, timezone: str = "UTC") -> Tab:
        context = chromium.new_context(
            timezone_id=timezone, locale="en-US", viewport={"width": 1200, "height": 800}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return Tab(context.new_page(), origin)

    yield open_
    for context in contexts:
        context.close()

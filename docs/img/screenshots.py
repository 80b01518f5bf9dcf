"""Take the archive browser's screenshots in docs/img/ from a real sandbox archive, offline.

    .venv/bin/python docs/img/screenshots.py

A seeded sandbox world is archived by ``dmj run`` (the emulator on loopback, the DCE
stand-in), then served by ``dmj view --no-browser`` and photographed in headless
Chromium (Debian's ``/usr/bin/chromium``, through Playwright) at the address it printed:

- ``view-conversation.png``: the conversation list (gaps with their reason) and a group DM;
- ``view-search.png``: a search, its matches marked, with the export links;
- ``view-permalink.png``: a permalink deep in a conversation, the message highlighted;
- ``view-gap.png``: a conversation Discord refused, and why.

Nothing is edited by hand. Times are shown in UTC.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

from dmj.adapters import open_package
from dmj.projections.history import open_history, parse_query
from dmj.sandbox import Emulator, WorldSpec, create_sandbox, run_emulator
from playwright.sync_api import Page, expect, sync_playwright

HERE = Path(__file__).parent
DMJ = Path(sys.executable).parent / "dmj"
CHROMIUM = "/usr/bin/chromium"
URL = re.compile(r"^  ((http://127\.0\.0\.1:\d+)/\?key=\S+)$", re.MULTILINE)
SIZE = {"width": 1280, "height": 760}


def archive_world(work: Path) -> Path:
    """A sandbox world archived by ``dmj run``: the archive's folder. (Without ``--media``:
    the stand-in's media files are placeholders, not pictures.)"""
    sandbox = create_sandbox(work / "sbx", WorldSpec.sized(14, seed=15, messages=60))
    archive = work / "archive"
    with run_emulator(Emulator(sandbox.world)) as server:
        env = {**os.environ, "DMJ_API_BASE": server.base_url,
               "DISCORD_TOKEN": sandbox.world.token}  # fmt: skip
        subprocess.run(
            [str(DMJ), "run", "--package", str(sandbox.package), "--dce", str(sandbox.dce),
             "--archive", str(archive), "--pace", "fast", "--batch-size", "8"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    return archive


@contextmanager
def viewing(archive: Path) -> Iterator[tuple[str, str]]:
    """``dmj view`` on ``archive``: the address it printed, and its origin."""
    process = subprocess.Popen(
        [str(DMJ), "view", "--archive", str(archive), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TZ": "UTC"},
    )  # fmt: skip
    assert process.stdout is not None
    try:
        match = URL.search("".join(process.stdout.readline() for _ in range(3)))
        assert match is not None
        yield match[1], match[2]
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)


def shoot(page: Page, name: str) -> None:
    page.mouse.move(SIZE["width"] - 10, 30)  # no hover mark where the last click was
    page.wait_for_timeout(300)  # let the last layout settle (fonts, images)
    page.screenshot(path=str(HERE / name))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dmj-shots-") as work:
        archive = archive_world(Path(work))
        with open_history(
            archive, zone=UTC, notice=lambda _: None, packages=open_package
        ) as history:
            listed = history.conversations()
            group = max((c for c in listed if c.kind == "group"), key=lambda c: c.messages)
            long = max(listed, key=lambda c: c.messages)
            gap = next(c for c in listed if c.verdict == "unreachable")
            deep = history.newer(long.id, None, long.messages // 2)[-1]
            word = next(
                w for w in ("coffee", "lunch", "pier")
                if history.select(parse_query(w)).count > 5
            )  # fmt: skip
        with viewing(archive) as (url, origin), sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_context(viewport=SIZE, timezone_id="UTC", locale="en-US").new_page()
            page.goto(url)
            page.click(f"#conversations li[data-id='{group.id}'] a")
            expect(page.locator("#messages > li").first).to_be_visible()
            page.evaluate("document.getElementById('conversations').scrollTop = 0")
            shoot(page, "view-conversation.png")
            page.fill("#search", f"{word} -from:me")
            page.press("#search", "Enter")
            expect(page.locator("#hits > li").first).to_be_visible()
            shoot(page, "view-search.png")
            page.goto(f"{origin}/#/c/{long.id}/m/{deep.id}")
            expect(page.locator(f"#m-{deep.id}")).to_have_class("message focused")
            shoot(page, "view-permalink.png")
            page.click(f"#conversations li[data-id='{gap.id}'] a")
            expect(page.locator("#pane-note")).to_be_visible()
            shoot(page, "view-gap.png")
            browser.close()
    print(f"wrote {', '.join(p.name for p in sorted(HERE.glob('view-*.png')))} in {HERE}")


if __name__ == "__main__":
    main()

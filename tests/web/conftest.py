"""Browser tests: the web app in real Chromium against a live server with a seeded run.

Chromium comes from the system (/usr/bin/chromium, Debian's package); no browser is ever
downloaded. Outside CI a machine without it skips these tests and says so; in CI it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from storage.database import Database
from tests.conftest import IN_CI, fresh_schema
from tests.server.live import LiveServer, live, server_settings
from tests.web.seed import SeededRun, seed

__all__ = ["live", "server_settings"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def module_database(embedded_server: Database) -> Iterator[Database]:
    """One server is enough here: the API tests cover both databases."""
    with fresh_schema(embedded_server, "t_web_") as scoped:
        yield scoped


@pytest.fixture(scope="module")
def seeded(live: LiveServer) -> SeededRun:
    return seed(live.writer)


@dataclass
class BrowserWatch:
    """What the page did that it must not: console errors and requests to other hosts."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    allowed_errors: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        if message.type == "error" and not any(a in message.text for a in self.allowed_errors):
            self.console_errors.append(message.text)

    def on_request(self, request: Any) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("data", "blob"):
            return
        if f"{url.hostname}:{url.port}" != self.origin:
            self.foreign_requests.append(request.url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is not installed (apt-get install -y chromium chromium-driver)"
        if IN_CI:
            pytest.fail(message + "; CI must run the browser tests")
        pytest.skip(message + "; browser tests skipped outside CI only")
    from playwright.sync_api import sync_playwright

    # Playwright gives every launch a new, empty profile of its own.
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="module")
def watch(live: LiveServer) -> BrowserWatch:
    return BrowserWatch(origin=urlsplit(live.url).netloc)


@pytest.fixture(scope="module")
def page(browser: Any, live: LiveServer, watch: BrowserWatch) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.on("console", watch.on_console)
    tab.on("pageerror", lambda error: watch.console_errors.append(f"uncaught: {error}"))
    tab.on("request", watch.on_request)
    try:
        yield tab
    finally:
        context.close()

"""Browser walks: Playwright (sync API) driving Debian's chromium, headless, on a 360 px phone screen.

Fixtures (imported into ``soskdt/conftest.py``):

``browser``  one chromium per test session (per xdist worker); skipped when ``/usr/bin/chromium`` is missing
``page``     a fresh browser context per test: 360×740 viewport, ``vi-VN``, Asia/Ho_Chi_Minh, touch
``shoot``    ``shoot(page, "name")`` saves ``test-artifacts/screenshots/<test>/<nn>-<name>.png``

Helpers: ``log_in(page, live_server.url, username)`` signs in through the real login form.

A browser test is marked ``@pytest.mark.browser`` and takes ``live_server`` and ``transactional_db``
(the server thread must see the test's rows, so they have to be committed)::

    @pytest.mark.browser
    def test_a_citizen_opens_the_wallet(live_server, transactional_db, page, shoot):
        user = testing.make_citizen_account()
        log_in(page, live_server.url, user.username)
        shoot(page, "home")
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from soskdt.testing import DEFAULT_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("SOSKDT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_VIEWPORT = {"width": 360, "height": 740}
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("SOSKDT_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts"))
SCREENSHOTS = ARTIFACTS / "screenshots"
DEFAULT_TIMEOUT_MS = 10_000

Shoot = Callable[["Page", str], Path]


def _close_idle_connections() -> None:
    # While Playwright's loop runs, asgiref stores Django's connections per context instead of per thread,
    # so a connection opened before (or during) the session would be orphaned and PostgreSQL would refuse
    # to drop the test database ("being accessed by other users"). Closing an in-memory SQLite test
    # database is a no-op in Django, and a connection inside a transaction is left alone.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch Debian's chromium once per session (each xdist worker gets its own)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in the main thread, which makes Django refuse ORM calls
    # from test bodies ("SynchronousOnlyOperation"). Nothing here is actually async, so allow them while
    # Playwright runs, and only then: sessions without browser tests keep Django's check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        _close_idle_connections()
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield launched
            finally:
                launched.close()
                _close_idle_connections()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new page in its own context (no cookies shared between tests), sized like a small phone."""
    context = browser.new_context(
        viewport=PHONE_VIEWPORT,  # type: ignore[arg-type]
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120] or "shot"


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Shoot:
    """Return ``shoot(page, name)``: a numbered full-page screenshot under test-artifacts/screenshots/<test>/."""
    folder = SCREENSHOTS / _slug(request.node.name)
    # Start clean so that a shorter walk than last time leaves no stale screenshots behind.
    shutil.rmtree(folder, ignore_errors=True)
    numbers = itertools.count(1)

    def take(target: Page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{next(numbers):02d}-{_slug(name)}.png"
        target.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page: Page, base_url: str, username: str, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the citizen login page and wait for the page it leads to."""
    from django.urls import reverse

    page.goto(base_url + reverse("identity:login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def log_out(page: Page) -> None:
    """Sign out with the top bar's button."""
    with page.expect_navigation():
        page.click("form.logout button[type=submit]")


# The fixtures, for `from soskdt.browser_testing import *` in conftest.py; helpers are imported by name.
__all__ = ["browser", "page", "shoot"]

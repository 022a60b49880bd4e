"""Real Chromium for the browser tests, driven by Playwright for Python (imported by the test
modules and conftests that need it: `from tests.browser.fixtures import browser, page`).

The browser is the system's (Debian's `chromium`, which `make browser` installs as root with
apt-get; $FLEET_CHROMIUM names another): Playwright's own download is never used. Without one the
tests skip and say why, except under CI=true, where that is a failure: CI must not pass by
skipping every browser test. Each page records its console errors and uncaught exceptions
(`page.errors`, asserted empty by the tests) and the URLs it requested. Screenshots go to
test-artifacts/screenshots/ (git-ignored), kept after the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
# Playwright already passes --headless, --no-sandbox, --disable-background-networking, a fresh
# profile, ...; these two keep Chromium off the GPU and off QUIC on a headless CI machine.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic"]


def chromium_executable() -> str | None:
    return os.environ.get("FLEET_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    exe = chromium_executable()
    if exe is None:
        why = ("no Chromium: `make test` installs Debian's chromium as root with apt-get (`make browser`); "
               "elsewhere install it or set FLEET_CHROMIUM")
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    pg.errors = []
    pg.requested = []
    pg.on("pageerror", lambda exc: pg.errors.append(f"uncaught: {exc}"))
    pg.on("console", lambda msg: pg.errors.append(msg.text) if msg.type in ("error", "assert") else None)
    pg.on("request", lambda request: pg.requested.append(request.url))
    yield pg
    context.close()


def shot(page: Any, name: str, full_page: bool = False) -> Path:
    """A screenshot kept as a test artefact: test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def until(page: Any, expression: str, timeout_s: float = 30.0) -> Any:
    """Poll a JavaScript expression until it is truthy. Not `page.wait_for_function`: that compiles
    the expression in the page, which the console's Content-Security-Policy (no 'unsafe-eval')
    rightly refuses; `page.evaluate` runs it over the DevTools protocol instead."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = page.evaluate(expression)
        except Exception as exc:  # a page mid-navigation: try again
            if "navigat" not in str(exc).lower() and "context was destroyed" not in str(exc).lower():
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout_s:g} s: {expression}")
        time.sleep(0.05)

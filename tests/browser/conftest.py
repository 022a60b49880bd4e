"""The browser tests' fixtures (fixtures.py): real Chromium through Playwright."""

from tests.browser.fixtures import browser, page  # noqa: F401 - fixtures for the tests here

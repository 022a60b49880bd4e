"""The browser tests' fixtures (fixtures.py: real Chromium) are the whole suite's, from tests/conftest.py:
one Playwright per session, whichever folders run."""

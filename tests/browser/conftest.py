"""The real-browser test runs only through ``make browser-test`` (COURSE_BROWSER_TEST=1), never inside
``make test``: it builds the book and a deck and drives Chromium over them (about a minute or two)."""
import os

if os.environ.get("COURSE_BROWSER_TEST") != "1":
    collect_ignore_glob = ["test_*.py"]


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium (``$CHROMIUM``), headless, driven by Playwright: one for the whole session."""
    from pathlib import Path

    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).is_file():
        pytest.fail(f"no Chromium at {chromium}: apt-get install -y chromium (Debian), or set CHROMIUM=/path/to/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        yield b
        b.close()

"""The real-browser test runs only through ``make browser-test`` (COURSE_BROWSER_TEST=1), never inside
``make test``: it builds the book and a deck and drives Chromium over them (about a minute or two)."""
import os

if os.environ.get("COURSE_BROWSER_TEST") != "1":
    collect_ignore_glob = ["test_*.py"]

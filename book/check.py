"""Check a built book: every page, image and internal link resolves; nothing is fetched from the network;
no page shows unrendered markdown or ``$…$`` outside math. Used by tests/test_book.py and ``make book``.

    python book/check.py [_build/book]

What counts as a problem:

* a ``src`` (any tag), a ``<link href>`` or a ``<script>``/``@import``/``url()`` pointing at ``http(s)://``
  or ``//`` — the page would fetch it at view time (a seminar room without the network shows nothing);
  ordinary ``<a href="https://…">`` links to papers are reader navigation and are allowed;
* a relative ``href``/``src`` whose file does not exist, or whose ``#fragment`` names no id in the
  target page (links out of the book are allowed only to the slides, ``../slides/index.html``, and only
  when they were built there);
* visible text (outside code, preformatted output, math, scripts and styles) containing ``**``,
  ``__`` or a ``$…$`` pair: markdown or LaTeX that did not render;
* a missing ``searchindex.js`` or one that does not index every page.
"""
from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

REMOTE_RE = re.compile(r"^(https?:)?//", re.I)
SKIP_TEXT_TAGS = {"script", "style", "pre", "code", "kbd", "samp", "textarea", "math", "svg", "title"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
UNRENDERED = [
    (re.compile(r"\*\*\S"), "unrendered bold (**)"),
    (re.compile(r"(?<![\w.])__\w"), "unrendered bold/underline (__)"),
    (re.compile(r"(?<!\\)\$[^$\s][^$]*?(?<!\\)\$"), "unrendered math ($…$)"),
    (re.compile(r"\$\$"), "unrendered display math ($$)"),
    # a pipe table's separator row; smartquotes may have turned its "---" into an em dash
    (re.compile(r"\|\s*:?(-{3,}|[—–]-*):?\s*\|"), "unrendered markdown table (|---|)"),
]
CSS_REMOTE_RE = re.compile(r"""(@import\s+(url\()?\s*["']?|url\(\s*["']?)(https?:)?//""", re.I)
SLIDES_LINK = "slides/index.html"


class Page(HTMLParser):
    """Collect links, ids, inline scripts and visible text of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._skip: list[str] = []  # stack of tags whose text is not prose
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        for key in ("src", "href", "data", "poster"):
            if a.get(key) is not None:
                self.refs.append((tag, key, a[key]))
        if a.get("srcset"):
            for part in a["srcset"].split(","):
                if part.strip():
                    self.refs.append((tag, "srcset", part.split()[0]))
        if tag in VOID:
            return
        classes = set((a.get("class") or "").split())
        if tag in SKIP_TEXT_TAGS or classes & {"math", "highlight", "MathJax", "MathJax_Preview"} or self._skip:
            self._skip.append(tag)
        self._in_script = tag == "script"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self._skip:
            # pop up to the matching tag (tolerates sloppy nesting)
            for k in range(len(self._skip) - 1, -1, -1):
                if self._skip[k] == tag:
                    del self._skip[k:]
                    break
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)
        if not self._skip:
            self.text.append(data)


def parse(path: Path) -> Page:
    p = Page()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    p.close()
    return p


def pages(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.html") if "_static" not in p.relative_to(root).parts
                  and not p.relative_to(root).parts[0].startswith((".", "_")))


def check(root: Path) -> list[str]:
    """Return a list of problems found in the book built at ``root`` (empty when it is sound)."""
    root = Path(root).resolve()
    problems: list[str] = []
    if not (root / "index.html").exists():
        return [f"{root}: no index.html"]
    parsed = {p: parse(p) for p in pages(root)}
    css_seen: set[Path] = set()
    for page, doc in parsed.items():
        rel = page.relative_to(root).as_posix()
        for tag, attr, value in doc.refs:
            value = value.strip()
            if not value or value.startswith(("mailto:", "javascript:", "data:", "tel:")):
                continue
            if REMOTE_RE.match(value):
                if attr != "href" or tag in ("link", "script", "base"):
                    problems.append(f"{rel}: remote {tag} {attr}={value} would be fetched at view time")
                continue
            if re.match(r"^[a-z][a-z0-9+.-]*:", value, re.I):
                problems.append(f"{rel}: unexpected URL scheme in {tag} {attr}={value}")
                continue
            parts = urlsplit(value)
            if not parts.path:  # "#fragment" on the same page
                if parts.fragment and unquote(parts.fragment) not in doc.ids:
                    problems.append(f"{rel}: link to missing anchor #{parts.fragment}")
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            try:
                target.relative_to(root)
            except ValueError:
                # the only way out of the book: the slides, built beside it by `make book` (a book built
                # without them does not link to them, book/build.py): the link must lead somewhere
                if target == (root.parent / SLIDES_LINK).resolve():
                    if not target.is_file():
                        problems.append(f"{rel}: links to the slides ({value}), which were not built beside the book")
                    continue
                problems.append(f"{rel}: {tag} {attr}={value} points outside the book")
                continue
            if not target.exists():
                problems.append(f"{rel}: {tag} {attr}={value} does not exist")
                continue
            if parts.fragment and target.suffix == ".html" and target in parsed:
                if unquote(parts.fragment) not in parsed[target].ids:
                    problems.append(f"{rel}: {value}: no anchor #{parts.fragment} in {target.relative_to(root)}")
            if target.suffix == ".css":
                css_seen.add(target)
        for script in doc.scripts:
            if re.search(r"""(src\s*=\s*|import\s*\(\s*|\.src\s*=\s*|fetch\s*\(\s*)["'](https?:)?//""", script):
                problems.append(f"{rel}: an inline script loads something remote")
        text = re.sub(r"\s+", " ", " ".join(doc.text))
        for pattern, what in UNRENDERED:
            for m in pattern.finditer(text):
                problems.append(f"{rel}: {what}: …{text[max(0, m.start() - 40): m.end() + 40]}…")
    for css in sorted(css_seen):
        if CSS_REMOTE_RE.search(css.read_text(encoding="utf-8", errors="replace")):
            problems.append(f"{css.relative_to(root)}: stylesheet imports something remote")
    index = root / "searchindex.js"
    if not index.exists() or index.stat().st_size < 100:
        problems.append("searchindex.js is missing or empty: no full-text search")
    else:
        text = index.read_text(encoding="utf-8", errors="replace")
        for page in parsed:
            name = page.relative_to(root).with_suffix("").as_posix()
            if name in ("search", "genindex") or name.startswith("prf-") or name.startswith("exercise"):
                continue
            if f'"{name}"' not in text:
                problems.append(f"searchindex.js does not index {name}")
    return problems


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "_build" / "book")
    found = check(root)
    for p in found:
        print(p)
    n = len(pages(root))
    print(f"checked {n} pages in {root}: {len(found)} problems")
    sys.exit(1 if found else 0)

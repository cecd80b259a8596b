"""The book and a slide deck, opened in a real browser (Debian's Chromium, driven by Playwright).

    make browser-test        # = COURSE_BROWSER_TEST=1 pytest tests/browser (CHROMIUM=/usr/bin/chromium)

Builds the book and notebook 04's deck into a temporary folder (the book links to the deck), then opens
every page from ``file://`` -- as a reader who double-clicks index.html -- and fails on:

* any request that leaves the machine (anything but file:, data:, blob:, about:): it is aborted and
  reported -- a seminar room without the network would miss it;
* any local request that fails (a missing script, font, stylesheet, image) and any broken image
  (``naturalWidth == 0`` once loaded);
* markdown or math that did not render in the browser: ``**`` or a ``$…$`` pair, or MathJax's own
  ``\\(`` ``\\[`` delimiters, in visible prose (outside code, preformatted output and math), or a MathJax
  error box;
* at 390 px (a phone): any element of a notebook page that cuts off its content (overflow hidden with
  wider content) -- formulas and proofs must scroll instead;
* search on file://: a result without an excerpt, or a result that does not land on the hit;
* a static explorable whose slider does not change what is shown (:func:`check_static_explorables`):
  every slider found on a page is moved and the page's rendered canvases/SVG must change; on the pages
  listed in ``EXPECTED_SLIDER_PAGES`` a slider must be found at all.

Screenshots of a few pages (1280 and 390 px) land in ``_build/browser-test/`` for a person to look at.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book"))

import build  # noqa: E402
import slides  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "_build" / "browser-test"
DECK = "04"  # the deck built and opened (math, a proof, a figure linked from the notebook)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

#: Pages (relative to the build root: "book/notebooks/NN_x.html" or "slides/NN_x.slides.html") that must
#: hold a static explorable whose slider changes what is shown: the three slider explorables in the book and
#: in the deck this test builds. (Notebook 09's explorable is driven by buttons, not a slider: the check
#: does not press buttons, so it is not listed; test_explore / test_static_explorable check its states.)
EXPECTED_SLIDER_PAGES: list[str] = [
    "book/notebooks/02a_unseen_words_convex_hull.html", "book/notebooks/04_rare_words.html",
    "book/notebooks/06_pretrained_word_embeddings.html", "slides/04_rare_words.slides.html"]

# --------------------------------------------------------------------------------------------- JS probes

# visible prose: text nodes outside code, preformatted output, math, scripts, styles, hidden elements
PROSE_JS = r"""() => {
  const SKIP = new Set(['SCRIPT','STYLE','PRE','CODE','KBD','SAMP','TEXTAREA','NOSCRIPT','TEMPLATE','svg','SVG','MATH']);
  const out = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) { out.push(child.nodeValue); continue; }
      if (child.nodeType !== Node.ELEMENT_NODE) continue;
      const tag = child.tagName;
      if (SKIP.has(tag) || tag.startsWith('MJX-')) continue;
      const cls = child.classList;
      if (cls.contains('highlight') || cls.contains('MathJax') || cls.contains('math') && tag === 'SPAN' && child.querySelector('mjx-container')) continue;
      if (child.getAttribute('aria-hidden') === 'true') continue;
      walk(child);
    }
  };
  walk(document.body);
  return out.join(' ').replace(/\s+/g, ' ');
}"""

IMAGES_JS = r"""async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; setTimeout(r, 5000); })));
  return imgs.filter(i => i.getAttribute('src') && i.naturalWidth === 0).map(i => i.getAttribute('src'));
}"""

MATHJAX_DONE_JS = r"""async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  return document.querySelectorAll('mjx-merror, mjx-container [data-mjx-error]').length;
}"""

# content a reader cannot reach: a box that clips its wider content (overflow hidden), or anything drawn past
# the screen's right edge without a horizontally scrolling box between it and the article
CLIPPED_JS = r"""() => {
  const out = [];
  const root = document.querySelector('article') || document.body;
  const edge = document.documentElement.clientWidth + 1;
  const name = (el) => el.tagName.toLowerCase() + '.' + String(el.className).split(' ')[0];
  for (const el of root.querySelectorAll('*')) {
    if (el.closest('mjx-assistive-mml')) continue;
    const cs = getComputedStyle(el);
    if ((cs.overflowX === 'hidden' || cs.overflowX === 'clip') && el.scrollWidth > el.clientWidth + 2) {
      out.push(name(el) + ' (' + el.scrollWidth + ' px of content in ' + el.clientWidth + ' px): ' + (el.textContent || '').trim().slice(0, 60));
      continue;
    }
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > edge) {
      let a = el.parentElement, scrolls = false;
      while (a && a !== root.parentElement) {
        const ox = getComputedStyle(a).overflowX;
        if (ox === 'auto' || ox === 'scroll') { scrolls = true; break; }
        a = a.parentElement;
      }
      if (!scrolls) out.push(name(el) + ' ends ' + Math.round(r.right - edge + 1) + ' px past the screen edge: ' + (el.textContent || '').trim().slice(0, 60));
    }
  }
  return out;
}"""

# everything a plot draws, across shadow roots (Bokeh renders inside them): canvases' pixels, SVG markup
DRAWN_JS = r"""() => {
  const parts = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'CANVAS') { try { parts.push(el.toDataURL()); } catch (e) { parts.push('tainted:' + el.width + 'x' + el.height); } }
      else if (el.tagName === 'svg' && !el.closest('mjx-container') && el.getBoundingClientRect().width > 80) parts.push(el.outerHTML);
      if (el.shadowRoot) visit(el.shadowRoot);
    }
  };
  visit(document);
  return parts;
}"""

UNRENDERED = [
    (re.compile(r"\*\*\S"), "unrendered bold (**)"),
    (re.compile(r"(?<!\\)\$[^$\s][^$]{0,200}?(?<!\\)\$"), "unrendered math ($…$)"),
    (re.compile(r"\$\$"), "unrendered display math ($$)"),
    (re.compile(r"\\\(|\\\[(?!\])"), "math MathJax did not typeset (\\( or \\[)"),
]


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The book and one deck, built the way `make book` lays them out: <root>/book and <root>/slides."""
    root = tmp_path_factory.mktemp("site")
    slides.build_slides(root / "slides", only=[DECK])
    summary = build.build(out=root / "book", src=root / "book_src", jobs=1)
    assert summary["slides_linked"] and summary["warnings"] == []
    return root


class Visit:
    """A page opened with every request watched: remote ones aborted and recorded, failed local ones recorded."""

    def __init__(self, browser, width=1280, height=900):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.remote: list[str] = []
        self.failed: list[str] = []
        self.current = ""

        def route(r):
            url = r.request.url
            if url.startswith(LOCAL_SCHEMES):
                r.continue_()
            else:
                self.remote.append(f"{self.current}: {url}")
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("requestfailed", lambda req: req.url.startswith(LOCAL_SCHEMES)
                     and self.failed.append(f"{self.current}: {req.url} ({req.failure})"))

    def open(self, path: Path, label: str):
        self.current = label
        self.page.goto(path.as_uri(), wait_until="load")
        errors = self.page.evaluate(MATHJAX_DONE_JS)
        return errors

    def close(self):
        self.context.close()


def _pages(site: Path) -> list[tuple[Path, str]]:
    book = [p for p in sorted((site / "book").rglob("*.html"))
            if not p.relative_to(site / "book").parts[0].startswith(("_", "."))]
    decks = sorted((site / "slides").glob("*.html"))
    return [(p, p.relative_to(site).as_posix()) for p in book + decks]


# --------------------------------------------------------------------------------------------- the checks


def test_every_page_offline_images_prose_and_explorables(site, browser):
    """One sweep over every page of the book and the deck (each check's problems are all reported)."""
    v = Visit(browser)
    problems, explorables = [], []
    pages = _pages(site)
    assert len(pages) > 25, [label for _, label in pages]
    labels = {label for _, label in pages}
    missing = [p for p in EXPECTED_SLIDER_PAGES if p not in labels]
    assert not missing, f"EXPECTED_SLIDER_PAGES names pages that were not built: {missing}"
    for path, label in pages:
        errors = v.open(path, label)
        if errors:
            problems.append(f"{label}: {errors} MathJax error box(es)")
        for src in v.page.evaluate(IMAGES_JS):
            problems.append(f"{label}: broken image {src}")
        prose = v.page.evaluate(PROSE_JS)
        for pattern, what in UNRENDERED:
            for m in pattern.finditer(prose):
                problems.append(f"{label}: {what}: …{prose[max(0, m.start() - 50): m.end() + 50]}…")
        if label in ("book/index.html", f"book/notebooks/{_stem(site, DECK)}.html", f"slides/{_stem(site, DECK)}.slides.html"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            v.page.screenshot(path=str(SHOTS / (label.replace("/", "_") + ".png")))
        explorables += check_static_explorables(v.page, label, expected=label in EXPECTED_SLIDER_PAGES)
    v.close()
    problems += explorables
    problems += [f"request left the machine: {r}" for r in v.remote]
    problems += [f"local request failed: {f}" for f in v.failed]
    assert not problems, "\n".join(problems[:40])


def _stem(site: Path, nn: str) -> str:
    return next((site / "book" / "notebooks").glob(f"{nn}_*.html")).stem


def test_the_deck_renders_math_with_its_fonts_and_moves(site, browser):
    v = Visit(browser)
    deck = site / "slides" / f"{_stem(site, DECK)}.slides.html"
    v.open(deck, "deck")
    info = v.page.evaluate("""() => ({
        reveal: typeof Reveal !== 'undefined' && Reveal.isReady(),
        total: typeof Reveal !== 'undefined' ? Reveal.getTotalSlides() : 0,
        svgMath: document.querySelectorAll('mjx-container[jax="SVG"] svg').length,
        glyphs: document.querySelectorAll('mjx-container svg use, mjx-container svg path').length })""")
    assert info["reveal"] and info["total"] > 5, info
    assert info["svgMath"] > 20 and info["glyphs"] > 100, info  # TeX glyphs drawn as SVG paths, no font file
    v.page.keyboard.press("ArrowRight")
    v.page.wait_for_timeout(400)
    assert v.page.evaluate("Reveal.getIndices().h") == 1
    v.close()
    assert not v.remote and not v.failed, v.remote + v.failed


def test_nothing_is_cut_off_on_a_phone(site, browser):
    v = Visit(browser, width=390, height=844)
    problems = []
    for path, label in _pages(site):
        if "/notebooks/" not in label:
            continue
        v.open(path, label)
        v.page.wait_for_timeout(200)  # course.js marks wide inline formulas after MathJax
        problems += [f"{label}: {c}" for c in v.page.evaluate(CLIPPED_JS)]
        width = v.page.evaluate("document.documentElement.scrollWidth")
        if width > 392:
            problems.append(f"{label}: the page is {width} px wide at a 390 px viewport")
        if label.endswith(f"{_stem(site, DECK)}.html"):
            proof = v.page.locator("div.proof.admonition").first
            proof.scroll_into_view_if_needed()
            SHOTS.mkdir(parents=True, exist_ok=True)
            proof.screenshot(path=str(SHOTS / "book_04_proof_390px.png"))
    v.close()
    assert not problems, "\n".join(problems[:40])


def test_search_on_file_urls_gives_excerpts_and_lands_on_the_hit(site, browser):
    v = Visit(browser)
    v.open(site / "book" / "search.html", "search")
    v.page.goto((site / "book" / "search.html").as_uri() + "?q=Rosset")
    v.page.wait_for_selector("ul.search li p.context", timeout=20000)
    first = v.page.locator("ul.search li").first
    assert "Rosset" in first.inner_text()
    first.locator("a").first.click()
    v.page.wait_for_load_state("load")
    v.page.evaluate(MATHJAX_DONE_JS)
    v.page.wait_for_selector(".course-first-hit", timeout=10000)
    hit = v.page.evaluate("""() => { const h = document.querySelector('.course-first-hit');
        const r = h.getBoundingClientRect(); return [h.textContent, r.top, window.innerHeight, window.scrollY]; }""")
    v.close()
    text, top, height, scrolled = hit
    assert text.lower() == "rosset" and 0 <= top <= height and scrolled > 1000, hit
    assert not v.remote and not v.failed, v.remote + v.failed


# --------------------------------------------------------------------------------------------- explorables


def _fingerprint(page) -> str:
    return hashlib.sha256("\n".join(page.evaluate(DRAWN_JS)).encode()).hexdigest()


def _slider_handles(page):
    """Every slider on the page a reader can drag: Bokeh's (noUiSlider handles, inside shadow roots -- Playwright's
    CSS locators pierce them) and plain HTML range inputs."""
    return [("bokeh", page.locator(".noUi-handle")), ("range", page.locator("input[type=range]"))]


def _move(page, kind, handle) -> None:
    if page.evaluate("typeof Reveal !== 'undefined'"):  # a deck: show the slide that holds it first
        handle.evaluate("""h => { let n = h; while (n && !(n.tagName === 'SECTION')) n = n.parentNode || n.host;
                              if (n) { const i = Reveal.getIndices(n); Reveal.slide(i.h, i.v); } }""")
        page.wait_for_timeout(600)
    handle.scroll_into_view_if_needed()
    if kind == "range":
        handle.evaluate("""el => { const lo = +el.min || 0, hi = el.max === '' ? 100 : +el.max;
                             el.value = (+el.value - lo) > (hi - lo) / 2 ? lo : hi;
                             el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); }""")
        return
    box = handle.bounding_box()
    track = handle.evaluate("""h => { let t = h; while (t && !(t.classList && t.classList.contains('noUi-target'))) t = t.parentNode || t.host;
                                  const r = (t || h).getBoundingClientRect(); return [r.left, r.right]; }""")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    left, right = track
    target = right - 2 if (x - left) < (right - left) / 2 else left + 2  # drag to the far end it is not at
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move((x + target) / 2, y, steps=5)
    page.mouse.move(target, y, steps=5)
    page.mouse.up()


def check_static_explorables(page, label: str, expected: bool) -> list[str]:
    """THE HOOK for issue 26's static explorables: move every slider found on the open page and require that
    what the page draws (its canvases' pixels and plot SVG, across shadow roots) changes each time.

    ``expected``: the page is listed in EXPECTED_SLIDER_PAGES, so finding no slider is itself a failure.
    Returns the problems found (empty when every slider moved what is shown)."""
    problems = []
    found = 0
    for kind, handles in _slider_handles(page):
        for i in range(handles.count()):
            handle = handles.nth(i)
            if not handle.is_visible() and page.evaluate("typeof Reveal === 'undefined'"):
                continue
            found += 1
            before = _fingerprint(page)
            _move(page, kind, handle)
            page.wait_for_timeout(700)
            if _fingerprint(page) == before:
                problems.append(f"{label}: moving {kind} slider #{i + 1} did not change what is shown")
    if expected and not found:
        problems.append(f"{label}: no slider found, but a static explorable is expected here")
    return problems


def test_the_explorable_check_can_fail(tmp_path, browser):
    """check_static_explorables on two Bokeh pages made here (BokehJS inline, from the wheel): a slider whose
    callback redraws the plot passes; one whose callback changes nothing shown fails; a page expected to
    hold an explorable but holding none fails."""
    from bokeh.embed import file_html
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, CustomJS, Slider
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    def page(redraw: bool) -> Path:
        src = ColumnDataSource({"x": [0, 1, 2], "y": [0, 1, 4]})
        fig = figure(width=300, height=200, toolbar_location=None)
        fig.line("x", "y", source=src)
        slider = Slider(start=1, end=3, value=2, step=1, title="power")
        code = ("const p = cb_obj.value; source.data = {x: [0, 1, 2], y: [0, 1, 2 ** p]};" if redraw
                else "console.log(cb_obj.value);")
        slider.js_on_change("value", CustomJS(args={"source": src}, code=code))
        out = tmp_path / f"bokeh_{redraw}.html"
        out.write_text(file_html(column(slider, fig), INLINE, "explorable"), encoding="utf-8")
        return out

    v = Visit(browser)
    v.open(page(True), "redraws")
    v.page.wait_for_timeout(500)
    assert check_static_explorables(v.page, "redraws", expected=True) == []
    v.open(page(False), "does-nothing")
    v.page.wait_for_timeout(500)
    assert check_static_explorables(v.page, "does-nothing", expected=True) == [
        "does-nothing: moving bokeh slider #1 did not change what is shown"]
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><p>no explorable</p></body></html>")
    v.open(empty, "empty")
    assert check_static_explorables(v.page, "empty", expected=True) == [
        "empty: no slider found, but a static explorable is expected here"]
    v.close()
    assert not v.remote, v.remote

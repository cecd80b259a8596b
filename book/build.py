"""Build the course book: a Sphinx site (myst-nb + sphinx-book-theme), offline, nothing executed.

    python book/build.py                    # -> _build/book/index.html
    python book/build.py --out DIR --only 04 --only 10   # a subset (the render test uses this)

Steps:
1. stage a Sphinx source tree in ``_build/book_src`` that mirrors the repository's layout
   (``notebooks/``, ``notebooks/solutions/``, ``figures/``), so every relative link and every
   ``../figures/*.png`` in the notebooks resolves as it does in Jupyter. The notebooks are copied
   rewritten by ``book/transform.py``: theorem/proof paragraphs become sphinx-proof blocks, each
   ``## Exercises`` section gets a link to its solutions page, live widget outputs become a note -- or,
   in a cell whose metadata names a static explorable (``figures/explorables/NAME.json``, written by
   ``helpers.explore``), that explorable: Bokeh sliders swapping the precomputed states.
   The landing page ``index.md`` is README.md's title, introduction and course map; the table of
   contents is built from the notebooks present (a glob, not a list). Files are only rewritten when
   their content changes, so a second build is incremental.
2. ``sphinx-build -c book`` with execution off (myst-nb shows the stored, nbval-verified outputs).
3. copy MathJax 3 from the ``django-static-mathjax`` wheel into ``_static/mathjax`` (book/assets.py) and BokehJS
   from the ``bokeh`` wheel into ``_static/bokeh`` (the static explorables; never a CDN).

The slides are built by ``book/slides.py`` (``make slides``) into ``_build/slides``; the book's
sidebar links to them.
"""
from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
import time
from pathlib import Path

from html.parser import HTMLParser

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import assets  # noqa: E402
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # helpers (the static explorables)
import transform  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "book"
NB_DIR = ROOT / "notebooks"
FIG_DIR = ROOT / "figures"
MATHJAX_DIR = "mathjax"  # under _static; conf.py's mathjax_path points there
SEARCH_TEXT_JS = "course-search-text.js"  # under _static; conf.py loads it on the search page


def notebook_id(path: Path) -> str:
    """A notebook's id: its file name up to the first underscore ("05" for 05_tiny_bert_lab.ipynb, "02a" for a part
    of a notebook split in three, and the same id for its solutions, 02a_solutions.ipynb)."""
    return path.name.split("_", 1)[0]


BOKEH_DIR = "bokeh"      # under _static: BokehJS for the static explorables
EXPLORABLES_DIR = FIG_DIR / "explorables"


def explorable_embedder(rel: Path, exports_dir: Path = EXPLORABLES_DIR):
    """``transform.explorable_embedder`` for the page of ``rel`` (a path under the source root): BokehJS from
    ``_static/bokeh``."""
    return transform.explorable_embedder(exports_dir, "../" * (len(rel.parts) - 1) + f"_static/{BOKEH_DIR}/", str(rel))


def course_notebooks(only: list[str] | None = None) -> tuple[list[Path], list[Path]]:
    """The numbered notebooks and their solutions present on disk (optionally those whose id, or number, is in
    ``only``: "02" selects 02a, 02b and 02c)."""
    main = sorted(NB_DIR.glob("[0-9][0-9]*_*.ipynb"))
    sols = sorted((NB_DIR / "solutions").glob("[0-9][0-9]*_*.ipynb"))
    if only:
        keep = {o.zfill(2) for o in only}
        main = [p for p in main if notebook_id(p) in keep or notebook_id(p)[:2] in keep]
        sols = [p for p in sols if notebook_id(p) in keep or notebook_id(p)[:2] in keep]
    return main, sols


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _readme_section(readme: str, heading: str) -> str:
    m = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", readme, re.M | re.S)
    return m.group(1).strip() if m else ""


def landing_page(main: list[Path], sols: list[Path], slides: bool = False) -> str:
    """index.md: README's title, introduction and course map, and the table of contents (from the files present).

    ``slides``: whether the slides were built beside the book (``../slides/index.html``); only then is
    there a link to them -- a book built alone says how to build them instead of linking to nothing."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    title = re.search(r"^# (.+)$", readme, re.M).group(1).strip()
    intro = re.search(r"^# .+?$(.*?)(?=^## )", readme, re.M | re.S).group(1).strip()
    course_map = _readme_section(readme, "The course map")
    # the README links notebooks/solutions/ (a folder); the book has a page for it
    course_map = course_map.replace("(notebooks/solutions/)", "(solutions.md)")
    present = {p.relative_to(ROOT).as_posix() for p in main + sols}
    # a link to a notebook not in this build (a subset build, or a notebook renamed before README
    # caught up) or to a file that does not exist keeps its text and loses the link
    def unlink(m: re.Match) -> str:
        target = m.group(2).split("#")[0]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or not target or target.endswith(".md"):
            return m.group(0)
        if target.endswith(".ipynb"):
            return m.group(0) if target in present else m.group(1)
        return m.group(0) if (ROOT / target).exists() else m.group(1)

    course_map = re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", unlink, course_map)
    toc = "\n".join(p.relative_to(ROOT).with_suffix("").as_posix() for p in main)
    if slides:
        slides_item = ('- <a href="../slides/index.html">Slides</a>: one reveal.js deck per notebook, built with the book\n'
                       '  by `make book` (or alone by `make slides`); they work offline.')
    else:
        slides_item = ("- Slides: one reveal.js deck per notebook. This copy of the book was built without them;\n"
                       "  `make book` builds both (`make slides` the decks alone, into `_build/slides/`).")
    return f"""# {title}

{intro}

:::{{tip}}
This book shows the notebooks exactly as CI verified them: every output on these pages was
produced by executing the notebook and is compared by strict nbval on every change. To run them
yourself and move the sliders of the explorables, open them in Jupyter Lab (`make lab`).
For a seminar there are [slides](#seminar-slides), one reveal.js deck per notebook.
:::

## The course map

{course_map}

(seminar-slides)=
## Slides and solutions

{slides_item}
- [Solutions to the exercises](solutions.md): executed and verified by strict nbval like the course.

```{{toctree}}
:hidden:
:caption: Course
:maxdepth: 1

{toc}
```

```{{toctree}}
:hidden:
:caption: Exercises

solutions
```

```{{toctree}}
:hidden:
:caption: References

bibliography
```
"""


def solutions_page(sols: list[Path]) -> str:
    toc = "\n".join(p.relative_to(ROOT).with_suffix("").as_posix() for p in sols)
    return f"""# Solutions to the exercises

Each notebook ends with 2–4 exercises; their solutions below are notebooks too, executed and
verified by strict nbval like the course, so a teacher can hand them out knowing they run.

```{{toctree}}
:maxdepth: 1

{toc}
```
"""


BIBLIOGRAPHY_PAGE = """# Bibliography

Every work the notebooks cite, from the course's one BibTeX file (`book/references.bib`), with its DOI
where it has one. A label such as [GHT+19] at the end of a notebook's reference links here.

```{bibliography}
:all:
```
"""


def _title(path: Path) -> str | None:
    """The first markdown heading of a notebook (its page title in the book)."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return None


def stage(src: Path, only: list[str] | None = None, slides: bool = False) -> dict:
    """Write the Sphinx source tree into ``src``; return a summary (pages, proof blocks, solution links)."""
    main, sols = course_notebooks(only)
    if not main:
        raise ValueError(f"no notebooks to build (only={only!r}) in {NB_DIR}")
    summary = {"notebooks": len(main), "solutions": len(sols), "proof_blocks": 0, "solutions_links": 0, "widgets": 0,
               "citations": 0, "explorables": 0}
    wanted = set()
    sol_names = {notebook_id(p): p for p in sols}
    for path in main + sols:
        nb = nbformat.read(path, as_version=4)
        rel = path.relative_to(ROOT)
        sol = sol_names.get(notebook_id(path)) if path.parent == NB_DIR else None
        href = sol.relative_to(NB_DIR).as_posix() if sol else None
        nb, s = transform.rewrite_notebook(nb, label_prefix=path.stem, solutions_href=href,
                                           solutions_title=_title(sol) if sol else None,
                                           embed=explorable_embedder(rel))
        summary["proof_blocks"] += s["proof_blocks"]
        summary["solutions_links"] += int(s["solutions_link"])
        summary["widgets"] += s["widgets"]
        summary["citations"] += len(s["citations"])
        summary["explorables"] += s["explorables"]
        _write_if_changed(src / rel, nbformat.writes(nb))
        wanted.add(rel.as_posix())
    # drop staged notebooks that are gone from the repository (renamed, or not in this subset)
    for old in list(src.glob("notebooks/**/*.ipynb")):
        if old.relative_to(src).as_posix() not in wanted:
            old.unlink()
    # figures: the notebooks reference them as ../figures/*.png
    figs = src / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    for f in FIG_DIR.glob("*"):
        if f.is_file():
            dest = figs / f.name
            if not dest.exists() or dest.stat().st_mtime < f.stat().st_mtime or dest.stat().st_size != f.stat().st_size:
                shutil.copy2(f, dest)
    _write_if_changed(src / "index.md", landing_page(main, sols, slides))
    _write_if_changed(src / "solutions.md", solutions_page(sols))
    _write_if_changed(src / "bibliography.md", BIBLIOGRAPHY_PAGE)
    _write_if_changed(src / "references.bib", (CONF_DIR / "references.bib").read_text(encoding="utf-8"))
    return summary


def copy_bokeh(out: Path) -> None:
    from helpers import static_explorable

    static_explorable.copy_bokeh_js(out / "_static" / BOKEH_DIR)


class _ArticleText(HTMLParser):
    """The text of a page's article, with the ids of its sections (for search excerpts, see course.js)."""

    SKIP = {"script", "style", "svg", "img", "button", "template", "noscript", "mjx-container"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    BLOCK = {"p", "div", "section", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "td", "th", "dt", "dd", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, its start tag was written)
        self.depth = 0  # inside <article>
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if not self.depth:
            if tag == "article" and "bd-article" in (a.get("class") or ""):
                self.depth = 1
                self.stack = [(tag, False)]
            return
        if tag in self.VOID:
            return
        skip = tag in self.SKIP or "headerlink" in (a.get("class") or "").split()
        if skip or self.skip:
            self.skip += 1
            self.stack.append((tag, False))
            return
        if tag in self.BLOCK:
            self.out.append(" ")
        keep = bool(a.get("id")) and tag in ("section", "div", "p", "dl", "dt")
        if keep:
            self.out.append(f'<{tag} id="{html.escape(a["id"])}">')
        self.stack.append((tag, keep))

    def handle_endtag(self, tag):
        if not self.depth or tag in self.VOID:
            return
        while self.stack:
            t, kept = self.stack.pop()
            if self.skip:
                self.skip -= 1
            elif kept:
                self.out.append(f"</{t}>")
            if t == tag:
                break
        if not self.stack:
            self.depth = 0

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.out.append(html.escape(data, quote=False))


def write_search_text(out: Path) -> int:
    """_static/course-search-text.js: each page's article text (with section ids), keyed like searchindex.js.

    Sphinx's search page fetches a result's page for the excerpt around the hit; on file:// the browser
    refuses, and course.js answers from this file instead. Returns its size in bytes."""
    store = {}
    for page in sorted(out.rglob("*.html")):
        rel = page.relative_to(out)
        if rel.parts[0].startswith(("_", ".")) or rel.as_posix() in ("search.html", "genindex.html"):
            continue
        page_html = page.read_text(encoding="utf-8", errors="replace")
        start, end = page_html.find("<article"), page_html.rfind("</article>")
        if start < 0 or end < 0:
            continue
        # images (base64 outputs, megabytes) and scripts hold no text: drop them before parsing
        # and the tens of thousands of <span>s of highlighted code carry no id a search result points at
        article = re.sub(r"<img\b[^>]*>|<script\b.*?</script>|</?span\b[^>]*>", "", page_html[start: end + len("</article>")],
                         flags=re.S)
        parser = _ArticleText()
        parser.feed(article)
        parser.close()
        text = re.sub(r"\s+", " ", "".join(parser.out)).strip()
        if text:
            store[rel.with_suffix("").as_posix()] = text
    body = "window.COURSE_PAGE_TEXT = " + json.dumps(store, ensure_ascii=False, separators=(",", ":")) + ";\n"
    target = out / "_static" / SEARCH_TEXT_JS
    target.write_text(body, encoding="utf-8")
    return len(body.encode("utf-8"))


def copy_mathjax(out: Path) -> None:
    assets.copy_mathjax(out / "_static" / MATHJAX_DIR)


def slides_beside(out: Path) -> bool:
    """Are the slides built beside the book (``out/../slides/index.html``, where its links point)?"""
    return (Path(out).parent / "slides" / "index.html").is_file()


def build(out: Path | None = None, src: Path | None = None, only: list[str] | None = None,
          jobs: int = 1, quiet: bool = True, fresh: bool = False) -> dict:
    """Stage and build the book; return the staging summary plus ``warnings`` (list of str) and ``seconds``.

    The book links to the slides (landing page, sidebar) only if they exist beside it (:func:`slides_beside`);
    ``python book/build.py`` (``make book``) builds them first."""
    from sphinx.cmd.build import build_main

    out = Path(out or ROOT / "_build" / "book")
    src = Path(src or out.parent / f"{out.name}_src")  # staging beside the output: _build/book_src
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(src, ignore_errors=True)
    t0 = time.perf_counter()
    slides = slides_beside(out)
    summary = stage(src, only, slides)
    summary["slides_linked"] = slides
    warnings_file = out.parent / f".{out.name}-warnings.txt"
    out.mkdir(parents=True, exist_ok=True)
    args = ["-b", "html", "-c", str(CONF_DIR), "-d", str(out / ".doctrees"), "-w", str(warnings_file), "-j", str(jobs),
            "-A", f"course_slides={int(slides)}"]
    if quiet:
        args.append("-q")
    rc = build_main(args + [str(src), str(out)])
    copy_mathjax(out)
    summary["search_text_bytes"] = write_search_text(out)
    copy_bokeh(out)
    summary["warnings"] = [w for w in warnings_file.read_text().splitlines() if w.strip()] if warnings_file.exists() else []
    summary["seconds"] = time.perf_counter() - t0
    if rc != 0:
        raise RuntimeError(f"sphinx-build failed (exit {rc}); warnings:\n" + "\n".join(summary["warnings"]))
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="output folder (default _build/book)")
    ap.add_argument("--only", action="append", help="build only notebook NN (repeatable)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="Sphinx parallel jobs")
    ap.add_argument("--fresh", action="store_true", help="rebuild from scratch")
    ap.add_argument("--no-slides", action="store_true",
                    help="do not build the slides beside the book first (the book then links to them only if they exist)")
    a = ap.parse_args(argv)
    out = a.out or ROOT / "_build" / "book"
    if not a.no_slides:
        import slides as slides_mod

        try:
            d = slides_mod.build_slides(Path(out).parent / "slides", a.only)
        except (slides_mod.SlidesError, assets.AssetError) as e:
            print(f"make book: error: the slides: {e}", file=sys.stderr)
            return 2
        print(f"slides: {d['decks']} decks -> {d['out'] / 'index.html'}")
    try:
        s = build(out=out, only=a.only, jobs=a.jobs, quiet=True, fresh=a.fresh)
    except assets.AssetError as e:
        print(f"make book: error: {e}", file=sys.stderr)
        return 2
    for w in s["warnings"]:
        print("warning:", w)
    print(f"book: {s['notebooks']} notebooks + {s['solutions']} solutions, {s['proof_blocks']} theorem/proof blocks, "
          f"{s['solutions_links']} exercise->solutions links, {s['widgets']} widget outputs replaced "
          f"({s['explorables']} by static explorables), {s['citations']} citations, "
          f"{len(s['warnings'])} warnings, {s['seconds']:.1f} s -> {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

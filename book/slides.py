"""Build reveal.js slides from the executed notebooks, offline (``make slides``).

    python book/slides.py                 # -> _build/slides/index.html, one deck per notebook
    python book/slides.py --out DIR       # elsewhere (the browser test builds one deck: --only 04)

The book itself is a Sphinx site (book/build.py, ``make book``, which builds these decks too); it links
to them. Nothing is executed: the slides show exactly the outputs that strict nbval verified.

Everything a deck loads is a local file copied from a Python wheel (book/assets.py): reveal.js from
``sphinx-revealjs``, MathJax 3 (SVG output, TeX fonts inside the script) from ``django-static-mathjax``.
No Node.js, no npm, no network, on the first build or any other; a missing wheel is one error line.
The decks use a template of our own (``book/slides_template/offline_reveal``) that drops what
nbconvert's reveal template loads from CDNs (jQuery, RequireJS, mermaid, the widget manager, the
theme's Google Fonts). Images the notebooks link as ``../figures/*.png`` are copied to
``slides/figures/``; live widget outputs become the same note as in the book; test markers
(``# NBVAL_IGNORE_OUTPUT``) are removed from the code shown. Each deck is checked after writing: a
reference to anything remote, or to a local file that is not there, stops the build.

Slides use each cell's ``slideshow.slide_type`` metadata where a notebook sets it; otherwise a
default: a markdown cell that opens a ``##`` section starts a slide, check cells (code with an
``assert``) appear as fragments, set-up and parameters cells are skipped.
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # helpers (the static explorables)
import assets  # noqa: E402
import transform  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
FIG_DIR = ROOT / "figures"
OUT = ROOT / "_build" / "slides"
TEMPLATE_DIR = ROOT / "book" / "slides_template"
TEMPLATE = "offline_reveal"
THEME = "white"
MATHJAX_URL = f"mathjax/{assets.MATHJAX_SCRIPT}"
# where the book's pages are, seen from the slides folder (make book builds both under _build/)
BOOK_FROM_SLIDES = "../book"

REMOTE_PATTERNS = [
    re.compile(r"""<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//""", re.I),
    re.compile(r"""<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//""", re.I),
    re.compile(r"""\bimport\s*(?:\(\s*)?(?:[\w{}\s,*]+from\s*)?["'](?:https?:)?//""", re.I),
    re.compile(r"""@import\s+(?:url\()?\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//""", re.I),
    re.compile(r"""(?:fetch\s*\(|\.src\s*=)\s*["'](?:https?:)?//""", re.I),
    re.compile(r"unpkg\.com|cdnjs\.|jsdelivr\.net|fonts\.googleapis\.com", re.I),
]


class SlidesError(RuntimeError):
    """The decks cannot be built as they must be (one-line message)."""


def notebooks(only: list[str] | None = None) -> list[Path]:
    main = sorted(NB_DIR.glob("[0-9][0-9]*_*.ipynb"))   # 02a_, 02b_, 02c_ too
    if only:
        keep = {o.zfill(2) for o in only}                  # "02" selects all its parts
        main = [p for p in main if p.name[:2] in keep or p.name.split("_")[0] in set(only)]
    return main


def title_and_blurb(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.strip().splitlines()
            title = lines[0].lstrip("# ").strip() if lines else ""
            body = " ".join(l.strip() for l in lines[1:] if l.strip())
            blurb = re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0] if body else ""
            return title, blurb
    return "", ""


def default_slide_type(cell, first_md_seen: bool) -> str:
    src = cell.source.lstrip()
    if cell.cell_type == "markdown":
        if not first_md_seen or re.match(r"^#{1,2}\s", src):
            return "slide"
        if re.match(r"^#{3,}\s", src):
            return "subslide"
        return "-"
    tags = set(cell.metadata.get("tags", []))
    if "parameters" in tags or src.startswith("# NBVAL_IGNORE_OUTPUT"):
        return "skip"
    if re.search(r"^\s*assert\b", cell.source, re.M):
        return "fragment"
    return "-"


def prepare(nb, embed=None) -> nbformat.NotebookNode:
    """Slide types, widget outputs -> the static explorable a cell names (through ``embed``, as in the book;
    ``transform.explorable_embedder``) or a note, test markers out of the code (on a copy of ``nb``)."""
    nb = nbformat.from_dict(nb)  # a copy
    nb.cells = [c for c in nb.cells if not transform.is_notebook_copy(c)]
    first_md, shown = False, 0
    for cell in nb.cells:
        if "slide_type" not in cell.metadata.get("slideshow", {}):
            cell.metadata.setdefault("slideshow", {})["slide_type"] = default_slide_type(cell, first_md)
        if cell.cell_type == "markdown":
            first_md = True
        elif cell.cell_type == "code":
            found = transform.embed_explorables(cell, embed, shown)
            shown += len(found)
            transform.replace_widget_outputs(cell, found)
            cell.source = transform.strip_test_markers(cell.source)
    nb.metadata.pop("widgets", None)  # saved widget state: nothing on the page would use it
    return nb


def fix_links(body: str, main_stems: set[str]) -> tuple[str, set[str]]:
    """Point the notebooks' relative links at what exists beside the decks; return (body, figures used)."""
    figures: set[str] = set()

    def figure(m: re.Match) -> str:
        figures.add(m.group(2))
        return f'{m.group(1)}="figures/{m.group(2)}"'

    body = re.sub(r'\b(src|href)="\.\./figures/([^"#?/]+)"', figure, body)

    def notebook_link(m: re.Match) -> str:
        path, anchor = m.group(1), m.group(2) or ""
        stem = path.rsplit("/", 1)[-1]
        if "/" not in path and stem in main_stems:  # another deck
            return f'href="{stem}.slides.html{anchor}"'
        # a solutions notebook (or anything else): its page in the book
        return f'href="{BOOK_FROM_SLIDES}/notebooks/{path}.html{anchor}"'

    body = re.sub(r'href="(?!https?:|/)([^"#:]+)\.ipynb(#[^"]*)?"', notebook_link, body)
    return body, figures


def problems_in(page: Path) -> list[str]:
    """Remote loads and missing local files referenced by one written deck."""
    text = page.read_text(encoding="utf-8")
    found = []
    for pattern in REMOTE_PATTERNS:
        for m in pattern.finditer(text):
            found.append(f"{page.name}: loads something remote: {text[m.start(): m.end() + 60]!r}")
    for m in re.finditer(r'<(?:script|img|link|source)\b[^>]*\b(?:src|href)="([^"#?:]+)(?:[?#][^"]*)?"', text):
        target = (page.parent / m.group(1)).resolve()
        if not target.exists():
            found.append(f"{page.name}: {m.group(1)} does not exist")
    return found


def build_slides(out: Path | None = None, only: list[str] | None = None) -> dict:
    """Write one deck per notebook and an index into ``out``; return a summary."""
    from nbconvert import SlidesExporter

    dest = Path(out or OUT)
    main = notebooks(only)
    if not main:
        raise SlidesError(f"no notebooks to build (only={only!r}) in {NB_DIR}")
    dest.mkdir(parents=True, exist_ok=True)
    assets.copy_reveal(dest / "reveal.js")
    assets.copy_mathjax(dest / "mathjax")
    stems = {p.stem for p in notebooks()}
    exporter = SlidesExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)], template_name=TEMPLATE,
        reveal_url_prefix="reveal.js", reveal_theme=THEME, reveal_scroll=True, mathjax_url=MATHJAX_URL,
    )
    links, figures, problems = [], set(), []
    from helpers import static_explorable

    for path in main:
        embed = transform.explorable_embedder(FIG_DIR / "explorables", "bokeh/", path.name,
                                              on_first=lambda: static_explorable.copy_bokeh_js(dest / "bokeh"))
        nb = prepare(nbformat.read(path, as_version=4), embed)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        body, used = fix_links(body, stems)
        figures |= used
        page = dest / f"{path.stem}.slides.html"
        page.write_text(body, encoding="utf-8")
        links.append((page.name, title_and_blurb(nb)[0]))
    (dest / "figures").mkdir(exist_ok=True)
    for name in sorted(figures):
        src = FIG_DIR / name
        if src.is_file():
            shutil.copy2(src, dest / "figures" / name)
    for name, _ in links:
        problems += problems_in(dest / name)
    if problems:
        raise SlidesError(f"{len(problems)} problem(s) in the decks; first: {problems[0]}")
    items = "\n".join(f'<li><a href="{n}">{html.escape(t)}</a></li>' for n, t in links)
    (dest / "index.html").write_text(SLIDES_INDEX.format(items=items), encoding="utf-8")
    return {"decks": len(links), "figures": len(figures), "out": dest}


SLIDES_INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Representation degeneration: slides</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6; }}</style>
</head><body><h1>Slides, one deck per notebook</h1>
<p>Arrow keys move between slides; <kbd>s</kbd> opens the speaker view. Check cells appear as fragments.
The full pages, with search and solutions, are in <a href="../book/index.html">the book</a> (<code>make book</code>).</p>
<ul>
{items}
</ul></body></html>
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="output folder (default _build/slides)")
    ap.add_argument("--only", action="append", help="build only notebook NN's deck (repeatable)")
    a = ap.parse_args(argv)
    try:
        s = build_slides(a.out, a.only)
    except (SlidesError, assets.AssetError) as e:
        print(f"make slides: error: {e}", file=sys.stderr)
        return 2
    print(f"slides: {s['decks']} decks, {s['figures']} figures -> {s['out'] / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

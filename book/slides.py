"""Build reveal.js slides from the executed notebooks, offline (``make slides``).

    python book/slides.py          # -> _build/slides/index.html, one deck per notebook

The book itself is a Sphinx site (book/build.py, ``make book``); it links to these decks.
Nothing is executed: the slides show exactly the outputs that strict nbval verified.
MathJax 2 comes from the PyPI wheel ``jupyter-server-mathjax`` and is copied next to the pages;
reveal.js 4 comes from the npm registry into ``_build/vendor`` on first use.
So the built decks need no network to render math, figures and slides.

Slides use each cell's ``slideshow.slide_type`` metadata where a notebook sets it; otherwise a
default: a markdown cell that opens a ``##`` section starts a slide, check cells (code with an
``assert``) appear as fragments, set-up and parameters cells are skipped.
"""
from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
OUT = ROOT / "_build"
REVEAL_VERSION = "4.0.2"  # the version nbconvert's reveal template is written for
# nbconvert's reveal template also loads these two from a CDN; the slides get local copies
JS_FROM_CDN = {
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/2.0.3/jquery.min.js": ("jquery@2.2.4", "jquery/dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js": ("requirejs@2.1.10", "requirejs/require.js"),
}


def notebooks():
    main = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
    sols = sorted((NB_DIR / "solutions").glob("*.ipynb"))
    return main, sols


def title_and_blurb(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.strip().splitlines()
            title = lines[0].lstrip("# ").strip() if lines else ""
            body = " ".join(l.strip() for l in lines[1:] if l.strip())
            blurb = re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0] if body else ""
            return title, blurb
    return "", ""


def copy_mathjax(dest: Path) -> str:
    import jupyter_server_mathjax

    src = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = dest / "mathjax"
    if not target.exists():
        shutil.copytree(src, target)
    return "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"  # the config this wheel ships


def fix_links(body: str) -> str:
    # links between notebooks point at the rendered pages
    return re.sub(r'href="([^"#:]+)\.ipynb(#[^"]*)?"', lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', body)


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


def add_static_explorables(nb, dest: Path) -> int:
    """Show each static explorable a cell names (``"explorable": name``) in place of its live widget, as in the book.

    BokehJS is copied from the ``bokeh`` wheel into ``dest/bokeh``; the export is ``figures/explorables/NAME.json``.
    Returns how many were added."""
    import sys

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import transform
    from helpers import explore, static_explorable

    added = 0
    for cell in nb.cells:
        found = []
        for name in transform.cell_explorables(cell):
            path = ROOT / "figures" / "explorables" / f"{name}.json"
            if path.exists():
                if not added:
                    static_explorable.copy_bokeh_js(dest / "bokeh")
                exp = explore.read_export(path)
                found.append((static_explorable.embed_html(exp, f"explorable-{name}", js_prefix="bokeh/" if not added else None),
                              exp["helper"]))
                added += 1
        if found:
            transform.replace_widget_outputs(cell, found)
    return added


def ensure_reveal() -> Path:
    vendor = OUT / "vendor"
    reveal = vendor / "node_modules" / "reveal.js"
    wanted = [reveal / "dist" / "reveal.js"] + [vendor / "node_modules" / f for _, f in JS_FROM_CDN.values()]
    if not all(p.exists() for p in wanted):
        vendor.mkdir(parents=True, exist_ok=True)
        pkgs = [f"reveal.js@{REVEAL_VERSION}"] + [p for p, _ in JS_FROM_CDN.values()]
        cmd = ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(vendor), *pkgs]
        print("fetching reveal.js once:", " ".join(cmd))
        subprocess.run(cmd, check=True)
    return reveal


def build_slides():
    dest = OUT / "slides"
    dest.mkdir(parents=True, exist_ok=True)
    reveal = ensure_reveal()
    if not (dest / "reveal.js").exists():
        shutil.copytree(reveal, dest / "reveal.js", ignore=shutil.ignore_patterns("node_modules", "test", "examples"))
    (dest / "js").mkdir(exist_ok=True)
    local_js = {}
    for url, (_, rel) in JS_FROM_CDN.items():
        shutil.copy(OUT / "vendor" / "node_modules" / rel, dest / "js" / Path(rel).name)
        local_js[url] = f"js/{Path(rel).name}"
    mj = copy_mathjax(dest)
    main, _ = notebooks()
    links = []
    for path in main:
        nb = nbformat.read(path, as_version=4)
        add_static_explorables(nb, dest)
        first_md = False
        for cell in nb.cells:
            if "slide_type" not in cell.metadata.get("slideshow", {}):
                cell.metadata.setdefault("slideshow", {})["slide_type"] = default_slide_type(cell, first_md)
            if cell.cell_type == "markdown":
                first_md = True
        exporter = SlidesExporter(reveal_url_prefix="reveal.js", reveal_scroll=True, mathjax_url=mj)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        for url, local in local_js.items():
            body = body.replace(url, local)
        remote = re.findall(r'<script[^>]+src="https?://[^"]+"|<link[^>]+href="https?://[^"]+\.css"', body)
        assert not remote, f"slides would still load from the network: {remote}"
        out = dest / f"{path.stem}.slides.html"
        out.write_text(fix_links(body))
        links.append((out.name, title_and_blurb(nb)[0]))
    items = "\n".join(f'<li><a href="{n}">{html.escape(t)}</a></li>' for n, t in links)
    (dest / "index.html").write_text(SLIDES_INDEX.format(items=items))
    print(f"slides: {len(links)} decks -> {dest / 'index.html'}")


SLIDES_INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Representation degeneration: slides</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; line-height: 1.6; }}</style>
</head><body><h1>Slides, one deck per notebook</h1>
<p>Arrow keys move between slides; <kbd>s</kbd> opens the speaker view. Check cells appear as fragments.
The full pages, with search and solutions, are in <a href="../book/index.html">the book</a> (<code>make book</code>).</p>
<ul>
{items}
</ul></body></html>
"""

if __name__ == "__main__":
    build_slides()

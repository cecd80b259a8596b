"""The slides (book/slides.py, ``make slides``): offline decks from the notebooks, without Node.

Building all eleven decks takes ~20 s of nbconvert; the real-browser test (``make browser-test``,
tests/browser/) builds one and opens it in Chromium. Here: the pieces that decide what a deck loads.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book"))

import assets  # noqa: E402
import slides  # noqa: E402


def test_links_point_at_what_exists_beside_the_decks():
    body = ('<img src="../figures/04_explorable_grid.png"><a href="02_unseen_words_convex_hull.ipynb#sec">02</a>'
            '<a href="solutions/04_solutions.ipynb">sol</a><a href="https://arxiv.org/abs/1">paper</a>')
    out, figures = slides.fix_links(body, {"02_unseen_words_convex_hull", "04_rare_words"})
    assert figures == {"04_explorable_grid.png"}
    assert 'src="figures/04_explorable_grid.png"' in out
    assert 'href="02_unseen_words_convex_hull.slides.html#sec"' in out
    assert 'href="../book/notebooks/solutions/04_solutions.html"' in out
    assert 'href="https://arxiv.org/abs/1"' in out


def test_a_deck_that_would_load_anything_remote_or_missing_is_refused(tmp_path):
    page = tmp_path / "x.slides.html"
    page.write_text('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Lato">'
                    '<script type="module">import mermaid from "https://cdnjs.cloudflare.com/m.mjs";</script>'
                    '<script src="reveal.js/dist/reveal.js"></script><img src="figures/gone.png">'
                    '<style>@import url(https://example.org/a.css);</style>')
    found = "\n".join(slides.problems_in(page))
    assert "fonts.googleapis.com" in found and "cdnjs.cloudflare.com" in found and "example.org/a.css" in found
    assert "reveal.js/dist/reveal.js does not exist" in found and "figures/gone.png does not exist" in found
    (tmp_path / "ok.slides.html").write_text('<a href="https://arxiv.org/abs/1">a paper link is fine</a>')
    assert slides.problems_in(tmp_path / "ok.slides.html") == []


def test_prepare_sets_slide_types_and_hides_test_markers_and_widgets():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(1)"),
                nbformat.v4.new_code_cell("assert x > 0\nprint('held')"), nbformat.v4.new_markdown_cell("## 1 · Next")]
    nb.cells[2].outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "m", "version_major": 2, "version_minor": 0}})]
    nb.metadata["widgets"] = {"state": {}}
    nb.cells.append(nbformat.v4.new_code_cell("static_explorable.show('04_rare_word')",
                                              metadata={"explorable_notebook_copy": "04_rare_word"}))
    out = slides.prepare(nb)
    assert len(out.cells) == 4 and len(nb.cells) == 5   # the notebook's own copy of an explorable is dropped
    types = [c.metadata["slideshow"]["slide_type"] for c in out.cells]
    assert types == ["slide", "skip", "fragment", "slide"]
    assert out.cells[1].source == "print(1)"
    assert "application/vnd.jupyter.widget-view+json" not in out.cells[2].outputs[0]["data"]
    assert "widgets" not in out.metadata and "widgets" in nb.metadata  # the original is untouched


def test_the_decks_javascript_comes_from_installed_wheels(tmp_path):
    assert (assets.reveal_dir() / "dist" / "reveal.js").is_file()
    assert (assets.mathjax_dir() / assets.MATHJAX_SCRIPT).is_file()
    mj = assets.copy_mathjax(tmp_path / "mathjax")
    assert (mj / assets.MATHJAX_SCRIPT).is_file() and not (mj / "sre").exists()
    rv = assets.copy_reveal(tmp_path / "reveal.js")
    assert (rv / "dist" / "reveal.js").is_file() and (rv / "plugin" / "notes" / "notes.js").is_file()
    template = (ROOT / "book" / "slides_template" / "offline_reveal" / "index.html.j2").read_text()
    assert "http://" not in template and "https://" not in template  # the deck template names no server


def test_a_missing_wheel_is_one_clear_error(monkeypatch, capsys):
    real = assets.importlib.util.find_spec
    monkeypatch.setattr(assets.importlib.util, "find_spec", lambda name: None if name == "sphinx_revealjs" else real(name))
    with pytest.raises(assets.AssetError, match="sphinx-revealjs, which is not installed: run `make venv`"):
        assets.reveal_dir()
    assert slides.main(["--out", "/nonexistent/never-written"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("make slides: error: reveal.js comes from the PyPI package sphinx-revealjs")

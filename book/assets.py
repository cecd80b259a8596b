"""The JavaScript the book and the slides load, copied from Python wheels (never fetched at view time).

* MathJax 3.2.2 from the PyPI wheel ``django-static-mathjax`` (it ships MathJax's own ``es5`` build and
  depends on nothing, Django included). We use its SVG output (``tex-svg-full.js``): the TeX fonts'
  glyphs are inside the script, so no font file is requested -- a browser blocks web fonts on
  ``file://`` pages, and a missing font file was what made formulas fall apart before.
* reveal.js 5.2.0 (``dist/`` and the speaker-notes plugin) from the PyPI wheel ``sphinx-revealjs``,
  which bundles it; the wheel's Sphinx extension itself is not used.

Both are dev dependencies in pyproject.toml (``make venv`` installs them), so a first build needs
neither Node.js nor the network. A missing package is reported as one line (:class:`AssetError`).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
from pathlib import Path

MATHJAX_SCRIPT = "tex-svg-full.js"
# what the SVG configuration can load besides the combined script: TeX extensions (\require),
# the context menu and the Safe extension; not the speech engine, the CHTML fonts or other combined builds
_MATHJAX_SKIP = ("sre", "chtml", "chtml.js", "mml-chtml.js", "mml-svg.js", "tex-chtml*.js", "tex-mml-*.js",
                 "tex-svg.js", "node-main.js", "*.map")
MARKER = ".copied-from"


class AssetError(RuntimeError):
    """A wheel that provides the pages' JavaScript is not installed (one-line message)."""


def _package_dir(module: str, pip_name: str, what: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise AssetError(f"{what} comes from the PyPI package {pip_name}, which is not installed: "
                         f"run `make venv` (or `.venv/bin/pip install -e '.[dev]'`)")
    return Path(list(spec.submodule_search_locations)[0])


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - found by find_spec above
        return "?"


def mathjax_dir() -> Path:
    """MathJax 3's ``es5`` folder inside the django-static-mathjax wheel."""
    es5 = _package_dir("mathjax", "django-static-mathjax", "MathJax") / "static" / "mathjax" / "es5"
    if not (es5 / MATHJAX_SCRIPT).is_file():
        raise AssetError(f"MathJax: {es5 / MATHJAX_SCRIPT} is missing (is another package called 'mathjax' "
                         f"installed? reinstall django-static-mathjax)")
    return es5


def reveal_dir() -> Path:
    """reveal.js as bundled by the sphinx-revealjs wheel (``dist/``, ``plugin/``)."""
    reveal = _package_dir("sphinx_revealjs", "sphinx-revealjs", "reveal.js") / "_static" / "revealjs"
    if not (reveal / "dist" / "reveal.js").is_file():
        raise AssetError(f"reveal.js: {reveal / 'dist' / 'reveal.js'} is missing (reinstall sphinx-revealjs)")
    return reveal


def _copy(src: Path, target: Path, stamp: str, ignore=None) -> Path:
    marker = target / MARKER
    if marker.is_file() and marker.read_text() == stamp:
        return target
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(src, target, ignore=ignore)
    marker.write_text(stamp)
    return target


def copy_mathjax(target: Path) -> Path:
    """Copy MathJax (SVG output) to ``target``; the page loads ``target/tex-svg-full.js``."""
    src = mathjax_dir()
    return _copy(src, Path(target), f"django-static-mathjax {_version('django-static-mathjax')} {src}",
                 shutil.ignore_patterns(*_MATHJAX_SKIP))


def copy_reveal(target: Path) -> Path:
    """Copy reveal.js's ``dist/`` and speaker-notes plugin to ``target``."""
    src = reveal_dir()
    target = Path(target)
    stamp = f"sphinx-revealjs {_version('sphinx-revealjs')} {src}"
    marker = target / MARKER
    if marker.is_file() and marker.read_text() == stamp:
        return target
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(src / "dist", target / "dist")
    shutil.copytree(src / "plugin" / "notes", target / "plugin" / "notes")
    license_file = src / "LICENSE"
    if license_file.exists():
        shutil.copy(license_file, target / "LICENSE")
    marker.write_text(stamp)
    return target

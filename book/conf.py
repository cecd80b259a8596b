"""Sphinx configuration of the course book (built by ``book/build.py``; see its docstring).

The source directory is a staging copy written by book/build.py (notebooks rewritten for the book,
figures, the landing page from README.md); this file is used with ``sphinx-build -c book``.
Everything the pages load is local: the theme bundles its CSS, JS and icon fonts, MathJax 3 comes
from the ``django-static-mathjax`` wheel (copied to ``_static/mathjax`` by build.py, see book/assets.py).
"""
from __future__ import annotations

project = "Representation degeneration"
author = "the course authors"
copyright = "2026, the course authors"

extensions = [
    "myst_nb",
    "sphinx_proof",
    "sphinx_copybutton",
    "sphinxcontrib.bibtex",
]

# one bibliography for the whole course: book/references.bib (build.py copies it into the staged source);
# the notebooks' References cite its keys (<!-- cite: key --> comments, see book/transform.py) and the
# page bibliography.md lists every entry with its DOI
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "alpha"
bibtex_reference_style = "label"

# the site shows exactly the outputs strict nbval verified
nb_execution_mode = "off"
# no widget manager from a CDN: a live widget needs a kernel anyway (build.py swaps its output for a note)
nb_ipywidgets_js = {}
nb_merge_streams = True
# markdown outputs (e.g. the ledger's table) are parsed as MyST: tables and math, not bare CommonMark
nb_render_markdown_format = "myst"

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "html_image", "html_admonition", "smartquotes"]
myst_heading_anchors = 3
myst_dmath_double_inline = True  # "$$…$$" inside a paragraph (the notebooks do this) is display math

# MathJax 3 from the django-static-mathjax wheel (book/assets.py copies it to _static/mathjax), SVG output:
# the TeX fonts' glyphs are inside the script, so no font file is fetched (none can 404, and a browser's
# block on web fonts from file:// does not matter). myst-parser adds the processHtmlClass option.
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {
    "svg": {"fontCache": "global"},
    "loader": {"load": ["ui/safe"]},
}
mathjax4_config = None

# theorems keep the numbers the notebooks give them ("Theorem 3 (Gao et al. 2019)")
proof_title_format = "%t"

html_theme = "sphinx_book_theme"
html_title = "Representation degeneration"
html_static_path = ["_static"]
html_css_files = ["course.css"]
# course.js: search excerpts on file://, search results land on the hit, wide inline formulas scroll
html_js_files = ["course.js"]
templates_path = ["_templates"]
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "navigation_with_keys": False,
    "extra_footer": "",
}
html_sidebars = {"**": ["navbar-logo.html", "search-button-field.html", "sbt-sidebar-nav.html", "slides-link.html"]}
html_show_sourcelink = False
html_copy_source = True
html_last_updated_fmt = None

exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]
numfig = False


SEARCH_TEXT_JS = "course-search-text.js"  # written by book/build.py after the HTML (the pages' text, for course.js)


def _search_page_text(app, pagename, templatename, context, doctree):
    if pagename == "search":
        app.add_js_file(SEARCH_TEXT_JS)


def setup(app):
    app.connect("html-page-context", _search_page_text)

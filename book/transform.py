"""Build-time rewrites of the course notebooks for the book (the notebooks themselves stay plain).

The notebooks are written to read well in Jupyter: a theorem is a markdown paragraph or cell that
opens with ``**Theorem 3 (Gao et al. 2019).**`` (also Lemma, Proposition, Corollary, Definition), a
proof one that opens with ``**Proof.**``, ``**Proof (sketch).**`` or ``**Proof, in three lines.**``.
For the book, :func:`rewrite_markdown` turns them into sphinx-proof directives
(``{prf:theorem}`` / ``{prf:proof}``), so they render as theorem and proof blocks.

Where a block ends:

* a cell that *opens* with the marker: the block runs to the end of the cell, or up to the next
  proof marker, theorem marker or heading inside it (a proof: or to its end mark, see below);
* a marker further down a cell: a theorem is that paragraph (display math ``$$ … $$`` and list
  items without blank lines stay in it); a proof runs to the line that holds its end mark
  (∎, □, ``\\blacksquare``, ``\\qed``) if one comes before the next heading or bold-led paragraph,
  else to the next heading or bold-led paragraph.

:func:`add_solutions_link` appends a link to the solutions page at the end of the notebook's
``## Exercises`` section; :func:`replace_widget_outputs` swaps a live ipywidget's output (which a
static page cannot run) for a sentence that says how to open it live -- or, in a code cell whose
metadata names a static explorable (``"explorable": "04_rare_word"``, an export of
``helpers.explore``), for that explorable: Bokeh sliders that swap the precomputed states in the
browser (:func:`static_explorable_output`; the HTML comes from ``book/build.py``); :func:`strip_test_markers`
removes nbval's comment markers (``# NBVAL_IGNORE_OUTPUT`` …) from the code shown;
:func:`cite_comments` turns a reference's ``<!-- cite: key -->`` (invisible in Jupyter) into a citation
of the book's one BibTeX file, book/references.bib (sphinxcontrib-bibtex).
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

KINDS = {
    "theorem": "theorem",
    "lemma": "lemma",
    "proposition": "proposition",
    "corollary": "corollary",
    "definition": "definition",
}
# **Theorem 3 (Gao et al. 2019).**   **Lemma.**   **Theorem 1A.**   **Proposition 2 (hull margin)**
STATEMENT_RE = re.compile(
    r"^\*\*(?P<kind>Theorem|Lemma|Proposition|Corollary|Definition)\b(?P<rest>[^*]*?)\s*[.:]?\*\*[ \t]*",
)
# **Proof.**   **Proof (sketch).**   **Proof, in three lines.**   **Proof of Theorem 2.**
PROOF_RE = re.compile(r"^\*\*(?P<kind>Proof)\b(?P<rest>[^*]*?)\s*[.:]?\*\*[ \t]*")
HEADING_RE = re.compile(r"^#{1,6}\s")
BOLD_LEAD_RE = re.compile(r"^\*\*\S")
END_MARK_RE = re.compile(r"(∎|□|\\blacksquare|\\qed|\\square)\s*\$*\s*$")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    "*Live explorable: this output is an interactive widget, which needs a running Python kernel. "
    "Open the notebook in Jupyter Lab (`make lab`) to move its sliders; the static figures on "
    "this page show its states.*"
)


def _title(kind: str, rest: str) -> str:
    """'Theorem', ' 3 (Gao et al. 2019)' -> 'Theorem 3 (Gao et al. 2019)'; ', in three lines' -> 'Proof, in three lines'."""
    rest = rest.rstrip(" .:")
    if not rest:
        return kind
    return kind + (rest if rest[0] in " ,;" else " " + rest)


def _paragraph_end(lines: list[str], start: int) -> int:
    """Index one past the paragraph that starts at ``start`` (a blank line ends it, except inside $$…$$ or ``` fences)."""
    in_math = in_fence = False
    i = start
    while i < len(lines):
        s = lines[i].strip()
        if i > start and not s and not in_math and not in_fence:
            return i
        if s.startswith("```") or s.startswith(":::"):
            in_fence = not in_fence
        elif not in_fence and s.count("$$") % 2 == 1:
            in_math = not in_math
        i += 1
    return i


def _starts_block(lines: list[str], i: int) -> bool:
    """Is line i the first line of a paragraph (first line, or after a blank line)?"""
    return i == 0 or not lines[i - 1].strip()


def _block_end(lines: list[str], start: int, is_proof: bool, whole_cell: bool) -> int:
    """Index one past the last line of the theorem/proof block that starts at ``start``."""
    # candidate stops: a heading, or a paragraph led by bold text (another statement, proof or remark)
    stop = len(lines)
    i = _paragraph_end(lines, start)
    while i < len(lines):
        s = lines[i]
        if s.strip() and _starts_block(lines, i):
            if HEADING_RE.match(s) or STATEMENT_RE.match(s) or PROOF_RE.match(s):
                stop = i
                break
            if not whole_cell and BOLD_LEAD_RE.match(s):
                stop = i
                break
        if s.strip() and _starts_block(lines, i):
            i = _paragraph_end(lines, i)
        else:
            i += 1
    marks = [j for j in range(start, stop) if END_MARK_RE.search(lines[j])] if is_proof else []
    if marks:  # a proof ends at its end mark, also when it fills a cell with remarks after it
        end = marks[0] + 1
    elif whole_cell or is_proof:
        end = stop
    else:
        end = _paragraph_end(lines, start)
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _directive(kind: str, title: str, body: list[str], label: str | None) -> list[str]:
    body = list(body)
    while body and not body[-1].strip():
        body.pop()
    depth = 3
    for line in body:  # fence deeper than any colon fence inside the body
        m = re.match(r"^\s*(:{3,})", line)
        if m:
            depth = max(depth, len(m.group(1)) + 1)
    fence = ":" * depth
    head = [f"{fence}{{prf:{kind}}} {title}".rstrip()]
    if kind != "proof":  # sphinx-proof's proof directive takes no title, label or numbering options
        if label:
            head.append(f":label: {label}")
        head.append(":nonumber:")
        while body and not body[0].strip():
            body.pop(0)
        return head + [""] + body + [fence]
    # the proof directive prefixes its first content line with "Proof. "; keep that line a paragraph
    return head + [""] + body + [fence]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def rewrite_markdown(source: str, label_prefix: str = "") -> tuple[str, int]:
    """Rewrite theorem/lemma/proof paragraphs of one markdown cell into sphinx-proof directives.

    Returns (new source, number of blocks rewritten). Text outside the blocks is unchanged.
    """
    lines = source.split("\n")
    out: list[str] = []
    count = 0
    i = 0
    in_fence = False
    first_text = next((k for k, l in enumerate(lines) if l.strip()), 0)
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            in_fence = not in_fence
        m_stmt = None if in_fence or not _starts_block(lines, i) else STATEMENT_RE.match(line)
        m_proof = None if in_fence or not _starts_block(lines, i) or m_stmt else PROOF_RE.match(line)
        m = m_stmt or m_proof
        if not m:
            out.append(line)
            i += 1
            continue
        is_proof = m_proof is not None
        end = _block_end(lines, i, is_proof, whole_cell=(i == first_text))
        first = line[m.end():].strip()
        if is_proof:
            # "**Proof (sketch).** text" -> first line "*(Sketch.)* text"; "**Proof, in three lines.**" -> "*In three lines.*"
            desc = m.group("rest").strip(" ,.:")
            if desc:
                paren = desc.startswith("(") and desc.endswith(")")
                desc = desc.strip("()")
                desc = desc[0].upper() + desc[1:]
                desc = f"*({desc}.)*" if paren else f"*{desc}.*"
                first = f"{desc} {first}".rstrip()
            kind, title, label = "proof", "", None
        else:
            kind = KINDS[m.group("kind").lower()]
            # the directive prints the kind itself ("Theorem "), then this title: "3 (Gao et al. 2019)"
            title = m.group("rest").strip()
            label = _slug(f"{label_prefix}-{_title(m.group('kind'), title)}") if label_prefix else None
        # a marker alone on its line: keep its first line (the descriptor) a paragraph of its own
        gap = [""] if not line[m.end():].strip() and i + 1 < end and lines[i + 1].strip() else []
        body = [first] + gap + lines[i + 1 : end]
        if out and out[-1].strip():
            out.append("")
        out.extend(_directive(kind, title, body, label))
        count += 1
        i = end
        if i < len(lines) and lines[i].strip():
            out.append("")
    return "\n".join(out), count


def add_solutions_link(source: str, solutions_href: str, title: str | None = None) -> tuple[str, bool]:
    """Append a link to the solutions page (text ``title``, else the file name) at the end of a ``## Exercises`` section, if the cell has one."""
    m = re.search(r"^##\s+Exercises\b.*?(?=^#{1,2}\s|\Z)", source, re.M | re.S)
    if not m:
        return source, False
    section = m.group(0).rstrip("\n")
    text = (title or solutions_href.rsplit("/", 1)[-1].removesuffix(".ipynb")).replace("[", "(").replace("]", ")")
    note = (
        "\n\n:::{admonition} Solutions\n:class: tip\n"
        f"Worked solutions, executed and verified by strict nbval like this page: [{text}]({solutions_href}).\n"
        ":::\n"
    )
    tail = source[m.end():]
    return source[: m.start()] + section + note + ("\n" + tail if tail else ""), True


EXPLORABLE_KEY = "explorable"   # code-cell metadata: the static explorable shown in place of the live widget
EXPLORABLE_NOTE = (
    "<p class=\"explorable-note\"><em>Static explorable: the sliders below swap states precomputed by the same "
    "function the live widget calls (<code>{helper}</code>), so each position shows what the kernel computes there. "
    "Open the notebook in Jupyter Lab (<code>make lab</code>) to run the live widget at any position.</em></p>\n"
)


#: code-cell metadata of the cell that shows a static explorable as a *notebook* output
#: (``helpers.static_explorable.show``; BokehJS from the Jupyter server): the book and the decks drop that cell,
#: since they show the same explorable at its live widget's cell (``EXPLORABLE_KEY``), with BokehJS of their own.
NOTEBOOK_COPY_KEY = "explorable_notebook_copy"


def is_notebook_copy(cell) -> bool:
    """Whether ``cell`` is a static explorable's notebook-output cell (dropped from the book and the decks)."""
    return cell.get("cell_type") == "code" and bool(cell.get("metadata", {}).get(NOTEBOOK_COPY_KEY))


def cell_explorables(cell) -> list[str]:
    """The static explorables a code cell's metadata names (``"explorable": name`` or a list of names)."""
    names = cell.get("metadata", {}).get(EXPLORABLE_KEY) if cell.get("cell_type") == "code" else None
    if names is None:
        return []
    names = [names] if isinstance(names, str) else list(names)
    if not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"cell metadata {EXPLORABLE_KEY!r} must be a name or a list of names, got {names!r}")
    return names


def static_explorable_output(html: str, helper: str) -> dict:
    """A display_data output that shows a static explorable (``html`` from ``helpers.static_explorable.embed_html``)."""
    import nbformat

    return nbformat.v4.new_output("display_data", data={"text/html": EXPLORABLE_NOTE.format(helper=helper) + html,
                                                         "text/plain": "static explorable"})


def replace_widget_outputs(cell, explorables: list | None = None) -> bool:
    """Replace ipywidget outputs of a code cell (dead in a static page); True if any were.

    ``explorables``: ``[(html, helper), ...]`` static explorables to show instead (in place of the first
    widget output, or after the cell's outputs when it has none); without them each widget output
    becomes a note saying how to open it live.
    """
    if cell.get("cell_type") != "code":
        return False
    changed = False
    outs = cell.get("outputs", [])
    new = [static_explorable_output(h, helper) for h, helper in (explorables or [])]
    for i, out in enumerate(outs):
        data = out.get("data", {})
        if WIDGET_MIME in data:
            if new:
                outs[i: i + 1] = new
                new = []
            else:
                out["data"] = {"text/markdown": WIDGET_NOTE}
            changed = True
    if new:
        outs.extend(new)
        cell["outputs"] = outs
        changed = True
    return changed


CITE_RE = re.compile(r"[ \t]*<!--\s*cite:\s*([^>]*?)\s*-->")


def cite_comments(source: str) -> tuple[str, list[str]]:
    """``… ICLR 2019. <!-- cite: gao2019representation -->`` -> ``… ICLR 2019. {cite:p}`gao2019representation```.

    The notebooks name the BibTeX keys a reference stands for in an HTML comment, which Jupyter does not
    show, so the notebook reads as plain text there; in the book the comment becomes a citation whose
    label links to the entry (authors, venue, DOI) on the bibliography page. Returns (source, keys)."""
    keys: list[str] = []

    def role(m: re.Match) -> str:
        ks = [k.strip() for k in m.group(1).split(",") if k.strip()]
        if not ks or not all(re.fullmatch(r"[A-Za-z0-9_:.\-]+", k) for k in ks):
            raise ValueError(f"a cite comment must list BibTeX keys separated by commas, not {m.group(0).strip()!r}")
        keys.extend(ks)
        return " {cite:p}`" + ",".join(ks) + "`"

    return CITE_RE.sub(role, source), keys


TEST_MARKER_RE = re.compile(r"^[ \t]*#[ \t]*NBVAL_[A-Z_]+[ \t]*(?:\n|$)", re.M)


def strip_test_markers(source: str) -> str:
    """Drop the lines that hold only an nbval marker (``# NBVAL_IGNORE_OUTPUT``, ``# NBVAL_SKIP`` …): they
    tell the test runner what to compare and mean nothing to a reader."""
    return TEST_MARKER_RE.sub("", source)


def embed_explorables(cell, embed, on_page: int = 0) -> list:
    """``[(html, helper)]`` of the static explorables ``cell`` names that ``embed(name, first)`` can show (``[]``
    without ``embed``); ``on_page``: how many the page holds before this cell -- its first one loads BokehJS."""
    found = []
    for name in cell_explorables(cell) if embed else []:
        got = embed(name, on_page + len(found) == 0)
        if got is not None:
            found.append(got)
    return found


def explorable_embedder(exports_dir: Path, js_prefix: str, label: str, on_first=None):
    """``embed(name, first)`` for :func:`rewrite_notebook` and the slides: the static explorable ``name``'s HTML
    (``exports_dir/NAME.json``, an export of ``helpers.explore``) and the helper it was computed with, or None
    (with a warning naming ``label``) when it has no export. The page's first one loads BokehJS from ``js_prefix``,
    after ``on_first()`` (e.g. copying BokehJS beside a deck) has run."""

    def embed(name: str, first: bool):
        from helpers import explore, static_explorable

        path = Path(exports_dir) / f"{name}.json"
        if not path.exists():
            print(f"warning: {label}: no static explorable {path} (python -m helpers.explore, or run its notebook); "
                  "the live widget becomes a note")
            return None
        if first and on_first is not None:
            on_first()
        exp = explore.read_export(path)
        return static_explorable.embed_html(exp, f"explorable-{name}", js_prefix=js_prefix if first else None), exp["helper"]

    return embed


def rewrite_notebook(nb, label_prefix: str = "", solutions_href: str | None = None, solutions_title: str | None = None,
                     embed=None):
    """Return a copy of notebook ``nb`` (an nbformat node) rewritten for the book, and a summary dict.

    ``embed(name, first)``: the HTML of static explorable ``name`` and the helper it was computed with,
    ``(html, helper)``, or None when it has no export (``first``: the page's first explorable, which loads
    BokehJS); cells whose metadata names an explorable show it in place of their live widget.
    """
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if not is_notebook_copy(c)]
    summary = {"proof_blocks": 0, "solutions_link": False, "widgets": 0, "explorables": 0, "citations": []}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            src, keys = cite_comments(cell.source)
            summary["citations"] += keys
            src, n = rewrite_markdown(src, label_prefix)
            summary["proof_blocks"] += n
            if solutions_href and not summary["solutions_link"]:
                src, added = add_solutions_link(src, solutions_href, solutions_title)
                summary["solutions_link"] = added
            cell.source = src
        else:
            if cell.cell_type == "code":
                cell.source = strip_test_markers(cell.source)
            found = embed_explorables(cell, embed, summary["explorables"])
            summary["explorables"] += len(found)
            if replace_widget_outputs(cell, found):
                summary["widgets"] += 1
    nb.metadata.pop("widgets", None)  # saved widget state: no JS on the page will use it
    return nb, summary

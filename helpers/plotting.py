"""Plotting conveniences. Numerical helpers return arrays; drawing lives here.

- :func:`save` writes a figure to ``figures/NAME.png`` with deterministic metadata;
- :func:`roadmap` draws the chain of the course's argument, one box per step naming the notebooks that cover it
  (notebook 00 and the book's front page show it);
- :func:`live_explorable` is the notebooks' live explorable for Jupyter: ipywidgets controls above an
  ``Image`` widget that shows a matplotlib figure of the current state. The default state is drawn into
  the image when the cell runs, so the notebook's saved widget state shows sliders and figure before
  any kernel runs, the figure sits where the sliders redraw it (no stale copy above them), and nothing
  is printed into the cell's output (strict nbval sees one stable widget line).
"""
from __future__ import annotations

import io
import textwrap
from pathlib import Path

from . import figures_dir

__all__ = ["save", "roadmap", "ROADMAP", "png_bytes", "live_explorable"]


def save(fig, name: str, dpi: int = 110) -> Path:
    """Write ``fig`` to ``figures/NAME.png`` (deterministic metadata) and return the path."""
    if not name or "/" in name or "\\" in name:
        raise ValueError("name must be a plain file name such as '05_cone'")
    path = figures_dir() / (name if name.endswith(".png") else f"{name}.png")
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path


#: The chain of the argument, in order: (step, what it establishes, the notebooks that cover it, kind).
#: ``kind`` is "derived" (proofs and toy models with frozen parts), "measured" (trained and pretrained models)
#: or "remedy"/"verdict". Notebook ids are file-name prefixes ("02b" is notebooks/02b_*.ipynb).
ROADMAP = (
    ("Zero-sum gradient",
     "the rows' gradients sum to zero: a word that is never a target is only ever pushed", ("01",), "derived"),
    ("The unseen word's loss",
     "no minimiser unless the origin is inside the hidden states' hull (Theorems 1–2, a trichotomy)", ("02a",), "derived"),
    ("Hull and layer norm",
     "layer norm puts every state on a hyperplane: when, and how far, real states miss the origin", ("03",), "derived"),
    ("The optimizer's geometry",
     "which way the word runs: GD → ℓ2 max margin, sign descent → ℓ∞, Adam by its regime", ("02b",), "derived"),
    ("Joint training",
     "the other words train too: rare words (Theorem 3); a trained model's drift and common shift", ("04", "02c"),
     "derived"),
    ("The measured cone",
     "a tiny BERT trained on a CPU; pretrained embeddings, frequency buckets, layer by layer", ("05", "06", "07"),
     "measured"),
    ("What causes it",
     "optimizer, tying, bias, objective; Adam's ε as a dose; equal loss; seen words only; a larger model; β2, width",
     ("09", "09b", "09c", "09d", "09e"), "measured"),
    ("Remedies", "cosine regularisation, removing directions, whitening, flows, contrastive learning", ("08",), "remedy"),
    ("The claims ledger", "every claim of the literature, the number we measured, a verdict", ("10",), "verdict"),
)

_KIND_COLOURS = {"derived": "#dbe9f6", "measured": "#fde3c8", "remedy": "#d9f0d3", "verdict": "#e8e1f3"}
_KIND_LABELS = {"derived": "derived: proofs, toy models", "measured": "measured: trained and pretrained models",
                "remedy": "remedies, compared", "verdict": "verdicts"}


def _check_stages(stages) -> list:
    stages = list(stages)
    if not stages:
        raise ValueError("roadmap needs at least one stage")
    for s in stages:
        if not (isinstance(s, (tuple, list)) and len(s) == 4):
            raise ValueError(f"each roadmap stage is (title, text, notebook ids, kind), got {s!r}")
        title, text, nbs, kind = s
        if not title or not isinstance(title, str) or not isinstance(text, str):
            raise ValueError(f"a roadmap stage needs a title and a text, got {s!r}")
        if isinstance(nbs, str) or not nbs or not all(isinstance(n, str) and n for n in nbs):
            raise ValueError(f"stage {title!r}: name its notebooks as a tuple of ids such as ('02a',), got {nbs!r}")
        if kind not in _KIND_COLOURS:
            raise ValueError(f"stage {title!r}: kind must be one of {', '.join(_KIND_COLOURS)}, got {kind!r}")
    return stages


def roadmap(stages=ROADMAP, per_row: int = 5):
    """Draw the chain of the argument as boxes joined by arrows and return the matplotlib ``Figure``.

    ``stages``: a sequence of ``(title, text, notebook ids, kind)`` (default :data:`ROADMAP`), drawn in order as a
    snake of rows of ``per_row`` boxes (left to right, then right to left), each box naming its notebooks.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    stages = _check_stages(stages)
    if not isinstance(per_row, int) or per_row < 1:
        raise ValueError(f"per_row must be a positive integer, got {per_row!r}")
    rows = -(-len(stages) // per_row)
    cols = min(per_row, len(stages))
    w, h, gx, gy = 2.6, 1.45, 0.45, 0.55              # box size and gaps, in axis units
    fig, ax = plt.subplots(figsize=(2.9 * cols + 0.3, 2.1 * rows + 0.6))
    ax.set_xlim(-0.1, cols * (w + gx) - gx + 0.1)
    ax.set_ylim(-0.1, rows * (h + gy) - gy + 0.1)
    ax.axis("off")

    def corner(k):                                     # lower-left corner of box k (snake order)
        r, c = divmod(k, per_row)
        if r % 2:
            c = per_row - 1 - c
        return c * (w + gx), (rows - 1 - r) * (h + gy)

    for k, (title, text, nbs, kind) in enumerate(stages):
        x, y = corner(k)
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                    fc=_KIND_COLOURS[kind], ec="#444444", lw=1.0))
        ax.text(x + 0.1, y + h - 0.12, title, ha="left", va="top", fontsize=10, fontweight="bold")
        ax.text(x + 0.1, y + h - 0.42, textwrap.fill(text, 29), ha="left", va="top", fontsize=8.2, linespacing=1.3)
        label = ("notebook " if len(nbs) == 1 else "notebooks ") + ", ".join(nbs)
        ax.text(x + w - 0.08, y + 0.1, label, ha="right", va="bottom", fontsize=8.6, fontweight="bold", color="#1f3f73",
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#1f3f73", lw=0.7))
        if k:                                          # arrow from the previous box
            px, py = corner(k - 1)
            if py == y:                                # same row: side to side
                start, end = ((px + w, py + h / 2), (x, y + h / 2)) if px < x else ((px, py + h / 2), (x + w, y + h / 2))
            else:                                      # next row: straight down
                start, end = (px + w / 2, py), (x + w / 2, y + h)
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=16, lw=1.4, color="#444444",
                                         shrinkA=2, shrinkB=2))
    kinds = [k for k in _KIND_COLOURS if any(s[3] == k for s in stages)]
    ax.legend(handles=[Patch(fc=_KIND_COLOURS[k], ec="#444444", label=_KIND_LABELS[k]) for k in kinds],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(kinds), fontsize=8.5, frameon=False)
    ax.set_title("The chain of the argument, and the notebook that covers each step", fontsize=12)
    return fig


def png_bytes(fig, dpi: int = 96) -> bytes:
    """``fig`` as PNG bytes (deterministic metadata); the figure is closed, so Jupyter does not show it too."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return buf.getvalue()


def live_explorable(draw, controls: dict, dpi: int = 96):
    """A live explorable: ``controls`` (``{name: ipywidget}``) above an image of ``draw(**values)``.

    ``draw`` returns a matplotlib figure for the controls' values (keyword arguments named as in
    ``controls``). Returns the ``VBox`` to display; the image is drawn once now (the default state)
    and again whenever a control's value changes. Labels get their natural width ("log10 lambda" is
    not cut).
    """
    import ipywidgets as widgets

    if not callable(draw):
        raise ValueError("draw must be a function of the controls' values that returns a figure")
    if not isinstance(controls, dict) or not controls or not all(hasattr(w, "observe") for w in controls.values()):
        raise ValueError("controls must be a non-empty {name: ipywidget} mapping")
    image = widgets.Image(format="png")

    def redraw(change=None):
        image.value = png_bytes(draw(**{k: w.value for k, w in controls.items()}), dpi=dpi)

    for w in controls.values():
        if hasattr(w, "style") and hasattr(w.style, "description_width"):
            w.style.description_width = "initial"
        w.observe(redraw, names="value")
    redraw()
    # flex-start: the image keeps its own size (a VBox would stretch it to the cell's width, blurred)
    return widgets.VBox([*controls.values(), image], layout=widgets.Layout(align_items="flex-start"))

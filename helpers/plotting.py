"""Plotting conveniences. Numerical helpers return arrays; drawing lives here.

- :func:`save` writes a figure to ``figures/`` with deterministic metadata;
- :func:`live_explorable` is the notebooks' live explorable for Jupyter: ipywidgets controls above an
  ``Image`` widget that shows a matplotlib figure of the current state. The default state is drawn into
  the image when the cell runs, so the notebook's saved widget state shows sliders and figure before
  any kernel runs, the figure sits where the sliders redraw it (no stale copy above them), and nothing
  is printed into the cell's output (strict nbval sees one stable widget line).
"""
from __future__ import annotations

import io
from pathlib import Path

from . import figures_dir

__all__ = ["save", "png_bytes", "live_explorable"]


def save(fig, name: str, dpi: int = 110) -> Path:
    """Write ``fig`` to ``figures/NAME.png`` (deterministic metadata) and return the path."""
    if not name or "/" in name or "\\" in name:
        raise ValueError("name must be a plain file name such as '05_cone'")
    path = figures_dir() / (name if name.endswith(".png") else f"{name}.png")
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path


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

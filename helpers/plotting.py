"""Plotting conveniences. Numerical helpers return arrays; drawing lives here."""
from __future__ import annotations

from pathlib import Path

from . import figures_dir

__all__ = ["save"]


def save(fig, name: str, dpi: int = 110) -> Path:
    """Write ``fig`` to ``figures/NAME.png`` (deterministic metadata) and return the path."""
    if not name or "/" in name or "\\" in name:
        raise ValueError("name must be a plain file name such as '05_cone'")
    path = figures_dir() / (name if name.endswith(".png") else f"{name}.png")
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path

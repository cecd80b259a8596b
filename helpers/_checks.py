"""Input validation shared by the numerical helpers: one clear ``ValueError`` for bad input."""
from __future__ import annotations

import numpy as np


def as_matrix(X, name: str = "X", min_rows: int = 1, dtype=None) -> np.ndarray:
    """Return ``X`` as a finite, real, 2-D floating array of shape (n, d), or raise ``ValueError``.

    A floating input keeps its precision unless ``dtype`` is given; integer and boolean inputs
    become float64. ``min_rows`` is the number of rows the calling measurement needs.
    """
    try:
        A = np.asarray(X)
    except Exception:  # pragma: no cover - exotic inputs
        raise ValueError(f"{name} must be a 2-D numeric array of shape (n, d)") from None
    if A.dtype == object or not (np.issubdtype(A.dtype, np.number) or A.dtype == bool):
        raise ValueError(f"{name} must be a 2-D numeric array of shape (n, d), got dtype {A.dtype}")
    if np.iscomplexobj(A):
        raise ValueError(f"{name} must be real, got a complex array")
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (n, d); got {A.ndim} dimension(s) {A.shape}")
    if A.shape[1] < 1:
        raise ValueError(f"{name} has no columns: need at least one dimension")
    if A.shape[0] < max(min_rows, 1):
        raise ValueError(f"{name} has {A.shape[0]} row(s); this needs at least {max(min_rows, 1)}")
    if dtype is not None:
        A = A.astype(dtype, copy=False)
    elif not np.issubdtype(A.dtype, np.floating):
        A = A.astype(np.float64)
    if not np.isfinite(A).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or drop those rows first")
    return A


def as_int(v, name: str, lo: int = 1, hi: int | None = None) -> int:
    """Return ``v`` as an ``int`` in ``[lo, hi]`` (``hi=None``: no upper bound), or raise ``ValueError``.

    Booleans and floats are refused: a count or a size must be a whole number.
    """
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name} must be an integer; got {v!r}")
    v = int(v)
    if v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        raise ValueError(f"{name} must be {rng}; got {v}")
    return v

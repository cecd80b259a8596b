"""The metric zoo: every isotropy measure the course uses, with what each is blind to (notebooks 05-09).

Papers disagree about whether an embedding matrix is "degenerate" partly because they measure
different things. One matrix ``X: (n, d)`` (rows = word vectors) gets all of them here, and
``INVARIANCES`` states, for each, whether it is unchanged when ``X`` is

- **scaled**: ``X -> s X`` for one number ``s > 0``;
- **rotated**: ``X -> X Q`` for an orthogonal ``Q`` (a change of basis);
- **shifted**: ``X -> X + c`` for one vector ``c`` added to every row (a common drift, Biś et al. 2021).

``tests/test_metrics.py`` tests exactly those properties (hypothesis), and shows for every
"False" an instance where the metric moves.

========================== ===================================================== ===== ======== =====
key                        what                                                  scale rotation shift
========================== ===================================================== ===== ======== =====
random_pair_cosine         mean cosine of random pairs of distinct rows           yes   yes      no
                           (Ethayarajh 2019; near 1 = narrow cone)
random_pair_cosine_weighted the same, each row drawn with probability ∝ weight    yes   yes      no
                           (word frequency: pairs of running-text tokens)
random_pair_cosine_top     type-uniform pairs among the ``top`` heaviest rows     yes   yes      no
iw_unit                    Mu & Viswanath (2018) I(W) of the unit-normalised rows yes   yes      no
                           (near 1 isotropic, near 0 a cone). Raw I(W) depends on
                           the vectors' length, so it is never compared across
                           models here.
isoscore                   Rudman et al. (2022) IsoScore: how evenly the variance yes   yes      yes
                           spreads over dimensions (0: one dimension holds it
                           all, (k-1)/(d-1): k of d share it equally, 1: all d)
top_pc_share               σ₁² / Σσ² of the centred matrix                        yes   yes      yes
effective_rank             Roy & Vetterli (2007): exp(entropy of σ/Σσ), centred   yes   yes      yes
top_dim_share              largest coordinate's share of the total variance       yes   no       yes
                           (a "rogue dimension", Timkey & van Schijndel 2021)
========================== ===================================================== ===== ======== =====

So a common shift makes the cosine measures cry "cone" while IsoScore, the top-PC share and the
effective rank do not move; a rotation hides a rogue dimension from ``top_dim_share`` only.
``disagreement_cloud`` builds synthetic clouds on which they disagree (the "metrics disagree"
explorable).
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from ._checks import as_int, as_matrix
from .geometry import isoscore, isotropy_partition, random_pair_cosine  # random_pair_cosine: re-exported (one implementation)

__all__ = [
    "INVARIANCES",
    "random_pair_cosine",
    "iw_unit",
    "top_pc_share",
    "effective_rank",
    "top_dim_share",
    "metric_zoo",
    "zoo_table",
    "disagreement_cloud",
]

#: For each metric of ``metric_zoo``: is it invariant to a global scale, a rotation, a common shift?
INVARIANCES = {
    "random_pair_cosine": {"scale": True, "rotation": True, "shift": False},
    "random_pair_cosine_weighted": {"scale": True, "rotation": True, "shift": False},
    "random_pair_cosine_top": {"scale": True, "rotation": True, "shift": False},
    "iw_unit": {"scale": True, "rotation": True, "shift": False},
    "isoscore": {"scale": True, "rotation": True, "shift": True},
    "top_pc_share": {"scale": True, "rotation": True, "shift": True},
    "effective_rank": {"scale": True, "rotation": True, "shift": True},
    "top_dim_share": {"scale": True, "rotation": False, "shift": True},
}


def _unit(X: np.ndarray) -> np.ndarray:
    X = X.astype(np.float64)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError("X has an all-zero row: its cosine with anything is undefined")
    return X / norms


def iw_unit(X) -> float:
    """Mu & Viswanath (2018)'s I(W) of the **unit-normalised** rows of ``X`` (scale-free; see module doc).

    Raw I(W) grows towards 1 as the vectors shrink (exp(c^T w) -> 1 for every w), so it compares
    clouds of different norms unfairly; on unit rows it measures direction only. Because
    exp(c^T w) lies in [1/e, e] for unit c and w, I(W) of unit rows lies in [e^-2, 1] (0.135 .. 1):
    a perfect cone scores about 0.14, not 0.
    """
    return isotropy_partition(_unit(as_matrix(X, "X", min_rows=2)))


def _centred_spectrum(X) -> np.ndarray:
    """Squared singular values of the centred ``X`` (= n × covariance eigenvalues), descending."""
    A = as_matrix(X, "X", min_rows=2)
    A = (A - A.mean(axis=0, dtype=np.float64)).astype(A.dtype)  # float32 input: a float32 Gram (2x faster)
    G = A.T @ A if A.shape[0] >= A.shape[1] else A @ A.T
    lam = np.linalg.eigvalsh(G.astype(np.float64))
    lam = np.clip(lam[::-1], 0.0, None)
    if lam[0] <= 0:
        raise ValueError("X has the same row repeated (zero variance): its spectrum is undefined")
    return lam


def _top_share(lam: np.ndarray) -> float:
    return float(lam[0] / lam.sum())


def _effective_rank(lam: np.ndarray) -> float:
    s = np.sqrt(lam)
    p = s / s.sum()
    p = p[p > 0]
    return float(math.exp(-(p * np.log(p)).sum()))


def top_pc_share(X) -> float:
    """σ₁² / Σ σ² of the centred ``X: (n, d)``: the share of the variance along the first principal axis."""
    return _top_share(_centred_spectrum(X))


def effective_rank(X) -> float:
    """Roy & Vetterli (2007)'s effective rank of the centred ``X``: exp(H(σ / Σσ)), in [1, min(n, d)]."""
    return _effective_rank(_centred_spectrum(X))


def top_dim_share(X) -> float:
    """Largest coordinate variance / total variance of ``X: (n, d)`` (1/d for a round cloud, 1 for one axis).

    Basis-dependent on purpose: a "rogue dimension" is a property of the coordinates a model uses.
    """
    A = as_matrix(X, "X", min_rows=2).astype(np.float64)
    v = A.var(axis=0)
    if v.sum() <= 0:
        raise ValueError("X has zero variance in every dimension: no coordinate carries a share")
    return float(v.max() / v.sum())


def metric_zoo(X, weights=None, top: int | None = None, n_pairs: int | None = 100_000, seed=0) -> dict:
    """Every metric of the zoo for ``X: (n, d)`` as ``{key: float}`` (keys and invariances: module doc).

    ``weights`` (n,) >= 0, e.g. token counts, adds ``random_pair_cosine_weighted`` and, with ``top``,
    ``random_pair_cosine_top`` (type-uniform pairs among the ``top`` rows of largest weight; ties
    broken by row index). IsoScore needs n >= 3 and d >= 2.
    """
    A = as_matrix(X, "X", min_rows=3)
    out = {"random_pair_cosine": random_pair_cosine(A, n_pairs=n_pairs, seed=seed)}
    if weights is not None:
        out["random_pair_cosine_weighted"] = random_pair_cosine(A, n_pairs=n_pairs, seed=seed, weights=weights)
        if top is not None:
            top = as_int(top, "top", 2, A.shape[0])
            w = np.asarray(weights, dtype=np.float64)
            idx = np.argsort(-w, kind="stable")[:top]
            out["random_pair_cosine_top"] = random_pair_cosine(A[np.sort(idx)], n_pairs=n_pairs, seed=seed)
    elif top is not None:
        raise ValueError("top needs weights: the top rows are the ones of largest weight")
    out["iw_unit"] = iw_unit(A)
    out["isoscore"] = isoscore(A)
    lam = _centred_spectrum(A)  # once for both spectral metrics
    out["top_pc_share"] = _top_share(lam)
    out["effective_rank"] = _effective_rank(lam)
    out["top_dim_share"] = top_dim_share(A)
    return out


def zoo_table(clouds: Mapping[str, object], weights=None, top: int | None = None, n_pairs: int | None = 100_000,
              seed=0) -> pd.DataFrame:
    """``metric_zoo`` of each named matrix, one row per name (columns = metric keys).

    ``weights``: None, one (n,) array for all (same n), or ``{name: (n,) array}``.
    """
    if not isinstance(clouds, Mapping) or not clouds:
        raise ValueError("clouds must be a non-empty mapping {name: (n, d) array}")
    rows = {}
    for name, X in clouds.items():
        w = weights.get(name) if isinstance(weights, Mapping) else weights
        rows[name] = metric_zoo(X, weights=w, top=top if w is not None else None, n_pairs=n_pairs, seed=seed)
    return pd.DataFrame.from_dict(rows, orient="index")


def disagreement_cloud(n: int = 2000, d: int = 32, shift: float = 0.0, rogue: float = 0.0, zipf: float = 0.0,
                       clusters: int = 1, seed=0):
    """A synthetic embedding matrix on which the metrics disagree: returns ``(X, weights)``.

    Rows start as an isotropic Gaussian cloud N(0, I_d), split into ``clusters`` groups whose centres
    are drawn N(0, 4 I_d) (``clusters=1``: one group, centre 0). Then
    ``shift``  adds ``shift * sqrt(d) * e`` to every row (a common drift along a random unit vector e,
    the same length scale as a row);
    ``rogue``  multiplies coordinate 0 by ``1 + rogue`` (one dimension with outsized variance);
    ``zipf``   sets ``weights ∝ 1 / rank^zipf`` over a random order of the rows (frequencies; 0: uniform)
    and moves each row away from the centre by ``(rank / n)^(zipf/4)`` relative factor -- rare rows
    sit farther out, as in trained embeddings.
    """
    n = as_int(n, "n", 3)
    d = as_int(d, "d", 2)
    clusters = as_int(clusters, "clusters", 1, n)
    for name, v in (("shift", shift), ("rogue", rogue), ("zipf", zipf)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if rogue < 0 or zipf < 0 or shift < 0:
        raise ValueError("shift, rogue and zipf must be >= 0")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if clusters > 1:
        centres = 2.0 * rng.standard_normal((clusters, d))
        X += centres[rng.integers(clusters, size=n)]
    rank = rng.permutation(n) + 1
    if zipf > 0:
        X *= ((rank / n) ** (zipf / 4.0))[:, None] / np.mean((rank / n) ** (zipf / 4.0))
    e = rng.standard_normal(d)
    e /= np.linalg.norm(e)
    X += float(shift) * math.sqrt(d) * e
    X[:, 0] *= 1.0 + float(rogue)
    w = 1.0 / rank.astype(np.float64) ** float(zipf)
    return X.astype(np.float64), w

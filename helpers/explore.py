"""Computations behind the course's explorables (the widgets of notebooks 02, 04, 06 and 09).

Each function returns plain numbers and arrays for one state of the sliders; the notebooks draw
them (a static matplotlib figure of the default state, compared by nbval, plus a thin ipywidgets
layer when ``ipywidgets`` is importable). Keeping the maths here means it is unit-tested
(``tests/test_explore.py``) instead of living in a callback.

- :func:`hull_explorable` (notebook 02a): a 2-D cloud of hidden states, shifted and spread by the
  sliders; where the origin lies relative to its hull (:func:`helpers.theory.origin_position`), the
  cone of uniformly negative directions, a separating line, and gradient descent's path for a
  never-seen word's embedding on ``L(w) = mean_i log(exp<h_i, w> + C_i)``.
- :func:`rare_word_explorable` (notebook 04): a word seen in a fraction ``eps`` of the contexts
  with weight decay ``lam``; its minimiser, the never-seen minimiser and Gao et al.'s Theorem 3
  radius ``sqrt(2 eps g(x*) / (2 lam (1 - eps)))``, with a flag for when that radius is vacuous.

- :func:`metrics_disagree_explorable` (notebook 06): the metric zoo on ``metrics.disagreement_cloud``
  with its four knobs (common shift, rogue dimension, Zipfian weights, clusters).
- :func:`optimizer_cone_explorable` (notebook 09): the optimiser choice against the cone, read from a
  part of notebook 09's record (its per-run table: random-pair cosine, held-out loss above the unigram
  model, effective rank...).

**Static explorables.** The book, the slides and a notebook opened without a kernel cannot call Python,
so :func:`export` precomputes every state of a slider grid with *these same functions* and writes
them as JSON (``figures/explorables/NAME.json``, ``python -m helpers.explore``);
``helpers.static_explorable`` turns such a file into a Bokeh page whose sliders swap the stored
states in the browser. Each grid (``GRIDS``) is a subset of the positions the notebook's live sliders
reach, so at those positions the page shows exactly what the kernel would compute
(``tests/test_explore.py`` recomputes a few of them). Notebook 09's export is written by the
notebook itself from the numbers it verified in that run (:func:`optimizer_cone_export`).

Everything is float64 numpy, seeded by ``seed``, and budgeted in steps.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.special

from . import figures_dir, metrics, simulate, theory, write_atomic

__all__ = ["HullState", "hull_explorable", "RareWordState", "rare_word_explorable", "DISAGREE_METRICS",
           "metrics_disagree_explorable", "OPTIMIZER_LABELS", "optimizer_cone_explorable", "GRIDS", "export",
           "export_hull", "export_rare_word", "export_metrics_disagree", "optimizer_cone_export", "state_at",
           "write_export", "read_export", "exports_dir", "hull_state_record", "hull_path_steps", "rare_word_state_record"]


def _finite(x, name: str, lo: float | None = None, hi: float | None = None, strict_lo: bool = False) -> float:
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a number, got {x!r}")
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {x!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if lo is not None and (v <= lo if strict_lo else v < lo):
        raise ValueError(f"{name} must be {'>' if strict_lo else '>='} {lo}, got {x!r}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {x!r}")
    return v


def _int(x, name: str, lo: int) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {x!r}")
    return int(x)


# ------------------------------------------------------------------------------ notebook 02a
@dataclass(frozen=True)
class HullState:
    """One state of notebook 02a's explorable (all arrays float64).

    H: (n, 2) hidden states; log_C: (n,); hull: (k,) indices of the hull's vertices in order;
    position: "outside" | "boundary" | "interior" (``theory.origin_position``);
    p_star: (2,) the hull's point nearest the origin; u_star: (2,) unit max-margin direction or None;
    margin: ``||p_star||``; cone: (lo, hi) angles in radians of the open cone of uniformly negative
    directions (``lo < hi``, ``hi - lo < pi``), or None when there is none;
    line: (point, normal) of the separating line ``<x, p*> = ||p*||^2 / 2`` or None;
    path: (steps + 1, 2) gradient-descent iterates from ``w = 0``; grad_norm: ``||grad L||`` at the
    end; norm_growth: ``||w_T|| - ||w_{T/10}||``; log_slope: the least-squares slope of ``||w_t||``
    against ``log t`` over the last decade of steps (Soudry et al.: it tends to ``1 / margin`` when the
    origin is outside, to 0 when GD converges); verdict: "converged" (``||grad L|| < 1e-6`` at the end)
    or "still moving" (what GD does forever when the origin is outside or on the boundary, and for a
    while when it is inside but near the boundary, where the minimiser is far out).
    """

    H: np.ndarray
    log_C: np.ndarray
    hull: np.ndarray
    position: str
    p_star: np.ndarray
    u_star: np.ndarray | None
    margin: float
    cone: tuple | None
    line: tuple | None
    path: np.ndarray
    grad_norm: float
    norm_growth: float
    log_slope: float
    verdict: str


def _unseen_grad(w, H, log_C):
    return scipy.special.expit(H @ w - log_C) @ H / len(H)


def _hull_vertices(H: np.ndarray) -> np.ndarray:
    """Indices of the 2-D convex hull's vertices, counter-clockwise (Andrew's monotone chain)."""
    order = np.lexsort((H[:, 1], H[:, 0]))
    pts = [int(i) for i in order]

    def cross(o, a, b):
        return (H[a, 0] - H[o, 0]) * (H[b, 1] - H[o, 1]) - (H[a, 1] - H[o, 1]) * (H[b, 0] - H[o, 0])

    lower, upper = [], []
    for i in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], i) <= 0:
            lower.pop()
        lower.append(i)
    for i in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], i) <= 0:
            upper.pop()
        upper.append(i)
    return np.array(lower[:-1] + upper[:-1], dtype=np.int64)


def hull_explorable(shift: float = 1.5, spread: float = 0.6, *, n: int = 30, seed: int = 0,
                    steps: int = 3000, lr: float = 1.0, boundary: bool = False) -> HullState:
    """Compute one state of notebook 02a's explorable.

    The cloud is ``spread * z_i + shift * (2, 1)/sqrt(5)`` with ``z_i`` standard normal in 2-D
    (``n`` points, ``seed``), and ``log C_i ~ N(1, 0.5^2)``. ``shift`` moves the cloud away from the
    origin, ``spread`` widens it. ``boundary=True`` is the preset that puts the origin on the hull's
    boundary, which no slider position reaches: the first two points become ``+-spread * t`` (``t`` a
    unit vector orthogonal to ``(2, 1)``) and the others are reflected to the side ``<x, (2, 1)> > 0``
    (then moved out by ``shift``), so the origin is the midpoint of an edge. Gradient descent
    (``steps`` steps of size ``lr`` from ``w = 0``) runs on the unseen-word loss; the verdict is
    "converged" when the final gradient norm is below ``1e-6``, else "still moving".
    """
    shift = _finite(shift, "shift")
    spread = _finite(spread, "spread", lo=0.0, strict_lo=True)
    n = _int(n, "n", 3)
    steps = _int(steps, "steps", 10)
    lr = _finite(lr, "lr", lo=0.0, strict_lo=True)
    seed = _int(seed, "seed", 0)
    if not isinstance(boundary, (bool, np.bool_)):
        raise ValueError(f"boundary must be True or False, got {boundary!r}")
    rng = np.random.default_rng(seed)
    normal = np.array([2.0, 1.0]) / np.sqrt(5.0)
    H = spread * rng.standard_normal((n, 2)) + shift * normal
    log_C = rng.normal(1.0, 0.5, n)
    if boundary:
        tang = np.array([-normal[1], normal[0]])
        a = H[2:] @ normal
        H[2:] += np.outer(np.abs(a) - a + np.maximum(shift, 0.1 * spread), normal)   # all on the side <x, n> > 0
        H[0], H[1] = spread * tang, -spread * tang                                   # the origin: an edge's midpoint
    pos, oc = theory.origin_position(H, return_certificate=True)
    cert = theory.hull_certificate(H)
    u = cert.direction
    cone = line = None
    if u is not None:
        phi_p = np.arctan2(cert.point[1], cert.point[0])
        delta = np.angle(np.exp(1j * (np.arctan2(H[:, 1], H[:, 0]) - phi_p)))   # wrapped to (-pi, pi]
        lo, hi = phi_p + delta.max() + np.pi / 2, phi_p + delta.min() + 3 * np.pi / 2
        cone = (float(lo), float(hi))
        line = (cert.point / 2.0, cert.point / cert.margin)
    path = np.empty((steps + 1, 2))
    w = np.zeros(2)
    path[0] = w
    for t in range(1, steps + 1):
        w = w - lr * _unseen_grad(w, H, log_C)
        path[t] = w
    g = float(np.linalg.norm(_unseen_grad(w, H, log_C)))
    norms = np.linalg.norm(path, axis=1)
    growth = float(norms[-1] - norms[steps // 10])
    t = np.arange(max(steps // 10, 1), steps + 1)
    slope = float(np.polyfit(np.log(t), norms[t], 1)[0])
    verdict = "converged" if g < 1e-6 else "still moving"
    return HullState(H, log_C, _hull_vertices(H), pos, cert.point, u, float(cert.margin), cone, line, path,
                     g, growth, slope, verdict)


# ------------------------------------------------------------------------------ notebook 04
@dataclass(frozen=True)
class RareWordState:
    """One state of notebook 04's explorable.

    H: (n, 2) hidden states; seen: (n,) bool, contexts whose target is the word; u_star: (2,);
    x_star: (2,) minimiser of the never-seen loss with weight decay (``eps = 0``); x_eps: (2,) the
    rare word's minimiser; dist: ``||x_eps - x_star||``; radius: Theorem 3's radius
    ``sqrt(2 eps g(x*) / (alpha (1 - eps)))`` with ``alpha = 2 lam``; vacuous: ``radius >= ||x*||``
    (the guaranteed ball then contains the origin, so it cannot even fix the word's direction);
    g_star: ``g(x*)``; eps_vacuous: the ``eps`` above which the radius exceeds ``||x*||``
    (``r / (1 + r)`` with ``r = 2 lam ||x*||^2 / (2 g(x*))``).
    """

    H: np.ndarray
    seen: np.ndarray
    u_star: np.ndarray
    x_star: np.ndarray
    x_eps: np.ndarray
    dist: float
    radius: float
    vacuous: bool
    g_star: float
    eps: float
    lam: float
    eps_vacuous: float


def rare_word_explorable(eps: float = 0.01, lam: float = 1e-2, *, n: int = 200, n_seen: int = 6,
                         seed: int = 0) -> RareWordState:
    """Compute one state of notebook 04's explorable (Theorem 3 with weight decay, in 2-D).

    ``n`` hidden states ``0.35 z_i + (1.2, 0.6)`` (hull misses the origin), ``log C_i`` from 20 random
    other words, and ``n_seen`` contexts whose target is the word. The word's loss is Gao et al.'s
    split ``(1 - eps) f + eps g`` with ``lam ||w||^2`` on both parts (``simulate.word_loss``), so
    ``alpha = 2 lam`` and, since ``g >= 0``, ``||x* - x*_eps||^2 <= 2 eps g(x*) / (alpha (1 - eps))``.
    """
    eps = _finite(eps, "eps", lo=0.0, hi=0.99)
    lam = _finite(lam, "lam", lo=0.0, strict_lo=True)
    n = _int(n, "n", 3)
    n_seen = _int(n_seen, "n_seen", 1)
    if n_seen >= n:
        raise ValueError(f"n_seen must be smaller than n ({n}), got {n_seen}")
    seed = _int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    H = 0.35 * rng.standard_normal((n, 2)) + np.array([1.2, 0.6])
    W_other = rng.standard_normal((20, 2))
    Z = H @ W_other.T
    log_C = scipy.special.logsumexp(Z, axis=1)
    seen = np.zeros(n, dtype=bool)
    seen[rng.choice(n, n_seen, replace=False)] = True
    u = theory.uniformly_negative_direction(H)
    x_star = simulate.minimise_word_loss(H, log_C, seen=seen, lam=lam, eps=0.0)
    x_eps = simulate.minimise_word_loss(H, log_C, seen=seen, lam=lam, eps=eps, w0=x_star)
    g_star = simulate.word_loss(x_star, H[seen], log_C[seen], seen=np.ones(n_seen, dtype=bool), lam=lam)[0]
    radius = float(np.sqrt(2 * eps * g_star / (2 * lam * (1 - eps))))
    dist = float(np.linalg.norm(x_eps - x_star))
    r = lam * float(x_star @ x_star) / g_star
    return RareWordState(H, seen, u, x_star, x_eps, dist, radius, bool(radius >= np.linalg.norm(x_star)),
                         float(g_star), eps, lam, r / (1 + r))


# ------------------------------------------------------------------------------ notebook 06
#: metric_zoo key -> the label notebook 06's explorable shows (bar order)
DISAGREE_METRICS = {"random_pair_cosine": "random-pair cos", "random_pair_cosine_weighted": "weighted cos",
                    "iw_unit": "I(W) unit rows", "isoscore": "IsoScore", "top_dim_share": "top-dim share"}


def metrics_disagree_explorable(shift: float = 0.0, rogue: float = 0.0, zipf: float = 0.0, clusters: int = 1, *,
                                n: int = 2000, d: int = 32, n_pairs: int = 20_000, seed: int = 0) -> dict:
    """One state of notebook 06's "metrics disagree" explorable: ``{label: value}`` (labels: ``DISAGREE_METRICS``).

    The cloud is ``metrics.disagreement_cloud(n, d, shift, rogue, zipf, clusters, seed)`` (its docstring says
    what each knob does); the values are ``metrics.metric_zoo`` of it with the cloud's Zipfian weights and
    ``n_pairs`` random pairs.
    """
    if isinstance(clusters, (float, np.floating)) and float(clusters).is_integer():
        clusters = int(clusters)   # a slider's 3.0
    X, w = metrics.disagreement_cloud(n=n, d=d, shift=shift, rogue=rogue, zipf=zipf, clusters=clusters, seed=seed)
    z = metrics.metric_zoo(X, weights=w, n_pairs=n_pairs, seed=seed)
    return {label: float(z[key]) for key, label in DISAGREE_METRICS.items()}


# ------------------------------------------------------------------------------ notebook 09
#: optimiser key in notebook 09's cell names ("sgd / tied / bias / mlm") -> its label
OPTIMIZER_LABELS = {"adam": "Adam", "coupled_adam": "Coupled Adam", "sgd": "SGD", "sign": "sign descent"}
#: run-table column -> short key in a state (notebook 09's `measure`: what each means is printed there)
_RUN_FIELDS = {"cos": "cos", "loss - unigram": "loss_gap", "eff rank": "eff_rank", "common share": "common_share",
               "top dim": "top_dim"}


def _check_part(part) -> list:
    if not isinstance(part, dict) or not isinstance(part.get("runs"), list) or not part["runs"]:
        raise ValueError("part must be one part of notebook 09's record: a dict with a non-empty list 'runs'")
    for r in part["runs"]:
        missing = [k for k in ("cell", "seed", *_RUN_FIELDS) if not isinstance(r, dict) or k not in r]
        if missing:
            raise ValueError(f"a run of the record lacks {missing}: {str(r)[:120]}")
        if r["cell"].split(" / ")[0] not in OPTIMIZER_LABELS:
            raise ValueError(f"unknown optimiser in run cell {r['cell']!r} (known: {list(OPTIMIZER_LABELS)})")
    return part["runs"]


def optimizer_cone_explorable(part: dict, optimizer: str = "adam") -> dict:
    """One state of notebook 09's explorable: the runs trained with ``optimizer`` in one part of its record.

    ``part`` is a part of notebook 09's record (``notebooks/measured/09_full.json``'s ``"ci"`` or
    ``"full"``, or the same tree the notebook builds from the run it just measured): ``{"steps", "seeds",
    "runs": [row, ...]}``, a row per run with ``cell`` ("adam / tied / bias / mlm"), ``seed``, ``cos``
    (random-pair cosine of the output embeddings: the cone), ``loss - unigram`` (held-out loss above the
    unigram model, nats: the fit), ``eff rank``, ``common share``, ``top dim``. Returns
    ``{"optimizer", "label", "runs": [...], "others": [...], "mean": {...}}``: ``runs`` are the optimiser's
    runs (context = the cell without the optimiser), ``others`` every other run of the part, ``mean``
    the optimiser's means over its runs.
    """
    runs = _check_part(part)
    if optimizer not in OPTIMIZER_LABELS:
        raise ValueError(f"optimizer must be one of {list(OPTIMIZER_LABELS)}, got {optimizer!r}")

    def row(r):
        out = {"context": r["cell"].split(" / ", 1)[1], "seed": int(r["seed"])}
        out.update({short: float(r[key]) for key, short in _RUN_FIELDS.items()})
        return out

    mine = [row(r) for r in runs if r["cell"].split(" / ")[0] == optimizer]
    others = [{**row(r), "optimizer": r["cell"].split(" / ")[0]} for r in runs if r["cell"].split(" / ")[0] != optimizer]
    mean = {k: float(np.mean([m[k] for m in mine])) for k in _RUN_FIELDS.values()} if mine else None
    return {"optimizer": optimizer, "label": OPTIMIZER_LABELS[optimizer], "runs": mine, "others": others, "mean": mean}


# ------------------------------------------------------------------------------ static explorables
def _steps(lo: float, hi: float, step: float) -> list:
    k = int(round((hi - lo) / step))
    return [round(lo + i * step, 10) for i in range(k + 1)]


#: The slider grids of the static explorables: (name, label, values, default) per slider. Each is a subset
#: of the positions the notebook's live sliders reach (02: steps 0.1; 04: 0.25; 06: shift 0.075, rogue 0.5,
#: zipf 0.1, clusters 1), so every stored state is one the kernel computes at that position.
GRIDS = {
    "02_hull": [("shift", "shift", _steps(0.0, 3.0, 0.3), 1.5), ("spread", "spread", _steps(0.2, 1.4, 0.2), 0.6),
                ("boundary", "pin the origin to an edge (boundary preset)", [0, 1], 0)],
    "04_rare_word": [("log_eps", "log10 eps", _steps(-5.0, -0.5, 0.25), -4.0),
                     ("log_lam", "log10 lambda", _steps(-4.0, 0.0, 0.25), -2.0)],
    "06_metrics_disagree": [("shift", "shift", _steps(0.0, 1.5, 0.3), 0.0), ("rogue", "rogue", _steps(0.0, 10.0, 2.0), 0.0),
                            ("zipf", "zipf", _steps(0.0, 2.0, 0.5), 0.0), ("clusters", "clusters", _steps(1, 8, 1), 1)],
}
#: GD iterates kept per hull state (the path is drawn, not measured: 0 and ~40 log-spaced steps)
_PATH_POINTS = 40
_DIGITS = 5   # significant digits of a stored float: far below a pixel, far above float noise


def _plain(x, digits: int = _DIGITS):
    """JSON-ready copy: numpy -> Python, floats to ``digits`` significant digits, tuples -> lists."""
    if isinstance(x, dict):
        return {str(k): _plain(v, digits) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v, digits) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist(), digits)
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if not math.isfinite(v):
            raise ValueError(f"refusing to export a non-finite value ({v})")
        return float(f"{v:.{digits}g}")
    if x is None or isinstance(x, str):
        return x
    raise ValueError(f"cannot export a value of type {type(x).__name__}")


def _header(name: str, title: str, helper: str, seed: int, grid=None) -> dict:
    grid = GRIDS[name] if grid is None else grid
    return {"name": name, "title": title, "helper": f"helpers.explore.{helper}", "seed": seed, "format": 1,
            "params": [{"name": p, "label": lab, "values": list(vals), "default": d} for p, lab, vals, d in grid]}


def _product(grid):
    return list(itertools.product(*[vals for _, _, vals, _ in grid]))


def hull_path_steps(steps: int) -> np.ndarray:
    """The GD steps a hull state keeps of its path: 0 and ~40 log-spaced steps up to ``steps``."""
    return np.unique(np.r_[0, np.round(np.geomspace(1, steps, _PATH_POINTS))].astype(int))


def hull_state_record(st: HullState) -> dict:
    """The part of a :class:`HullState` the static explorable draws (GD's path thinned to ~40 log-spaced steps)."""
    keep = hull_path_steps(len(st.path) - 1)
    drawn = _plain({"H": st.H, "path": st.path[keep]}, 4)   # coordinates on a plot 8 units wide: 4 digits
    return {**drawn, **_plain({"hull": st.hull, "position": st.position, "verdict": st.verdict, "margin": st.margin,
                               "cone": st.cone, "line": st.line,
                               "log_slope": st.log_slope, "grad_norm": st.grad_norm})}


def export_hull(seed: int = 0) -> dict:
    """Every state of notebook 02a's hull explorable on ``GRIDS["02_hull"]`` (``hull_explorable(shift, spread, seed=seed, boundary=b)``)."""
    out = _header("02_hull", "Where the origin lies relative to the hull, and what gradient descent does",
                  "hull_explorable", seed)
    out["path_steps"] = _plain(hull_path_steps(3000))   # hull_explorable's default steps
    out["states"] = [hull_state_record(hull_explorable(sh, sp, seed=seed, boundary=bool(b)))
                     for sh, sp, b in _product(GRIDS["02_hull"])]
    return out


def rare_word_state_record(st: RareWordState) -> dict:
    """The part of a :class:`RareWordState` that changes with the sliders (``H`` and ``seen`` are fixed by the seed)."""
    return _plain({"x_star": st.x_star, "x_eps": st.x_eps, "radius": st.radius, "dist": st.dist,
                   "vacuous": st.vacuous, "norm_x_star": float(np.linalg.norm(st.x_star)),
                   "eps_vacuous": st.eps_vacuous, "g_star": st.g_star, "eps": st.eps, "lam": st.lam})


def export_rare_word(seed: int = 0) -> dict:
    """Every state of notebook 04's Theorem 3 explorable on ``GRIDS["04_rare_word"]``
    (``rare_word_explorable(10 ** log_eps, 10 ** log_lam, seed=seed)``); the contexts, which the sliders do
    not move, are stored once under ``fixed``."""
    out = _header("04_rare_word", "Theorem 3's ball around the never-seen minimiser, and where it is vacuous",
                  "rare_word_explorable", seed)
    states = [rare_word_explorable(10.0 ** le, 10.0 ** ll, seed=seed) for le, ll in _product(GRIDS["04_rare_word"])]
    out["fixed"] = _plain({"H": states[0].H, "seen": states[0].seen})
    out["states"] = [rare_word_state_record(st) for st in states]
    return out


def export_metrics_disagree(seed: int = 0) -> dict:
    """Every state of notebook 06's explorable on ``GRIDS["06_metrics_disagree"]`` (``metrics_disagree_explorable``)."""
    out = _header("06_metrics_disagree", "The metrics disagree: each knob moves some measures and not others",
                  "metrics_disagree_explorable", seed)
    out["metrics"] = list(DISAGREE_METRICS.values())   # each state: these values, in this order
    out["states"] = [_plain(list(metrics_disagree_explorable(sh, ro, zi, int(cl), seed=seed).values()))
                     for sh, ro, zi, cl in _product(GRIDS["06_metrics_disagree"])]
    return out


def optimizer_cone_export(parts: dict, init: dict | None = None, source: str = "") -> dict:
    """Notebook 09's static explorable: every (record part, optimiser) state of :func:`optimizer_cone_explorable`.

    ``parts``: ``{label: part}`` in the order to offer them (e.g. ``{"CI design: 50 steps, 2 seeds": ci}``,
    plus the FULL grid when its record is current); ``init``: the untrained model's ``cos`` / ``eff rank``
    (drawn as a reference), ``source``: where the numbers come from (shown under the plot).
    """
    if not isinstance(parts, dict) or not parts:
        raise ValueError("parts must be a non-empty {label: record part} mapping")
    opts = list(OPTIMIZER_LABELS)
    grid = [("part", "training", list(range(len(parts))), 0), ("optimizer", "optimiser", list(range(len(opts))), 0)]
    out = _header("09_optimizer_cone", "The optimiser against the cone: random-pair cosine and fit of every run",
                  "optimizer_cone_explorable", 0, grid)
    out["params"][0]["labels"] = list(parts)
    out["params"][1]["labels"] = [OPTIMIZER_LABELS[o] for o in opts]
    out["steps"] = [int(p.get("steps", 0)) for p in parts.values()]
    out["init"] = _plain({k: init[k] for k in ("cos", "eff rank") if k in init}) if init else None
    out["source"] = source
    out["states"] = [_plain(optimizer_cone_explorable(p, o)) for p in parts.values() for o in opts]
    return out


_EXPORTERS = {"02_hull": export_hull, "04_rare_word": export_rare_word, "06_metrics_disagree": export_metrics_disagree}


def export(name: str, seed: int = 0) -> dict:
    """The static explorable ``name`` (a key of ``GRIDS``) with every state computed now."""
    if name not in _EXPORTERS:
        raise ValueError(f"unknown explorable {name!r}; known: {sorted(_EXPORTERS)} (09's is written by notebook 09)")
    return _EXPORTERS[name](seed=seed)


def state_at(exp: dict, **values) -> dict:
    """The stored state of export ``exp`` at the slider values given (every slider; a value must be on its grid)."""
    names = [p["name"] for p in exp["params"]]
    if sorted(values) != sorted(names):
        raise ValueError(f"give a value for each slider {names}, got {sorted(values)}")
    index = 0
    for p in exp["params"]:
        hits = [i for i, v in enumerate(p["values"]) if math.isclose(v, float(values[p["name"]]), abs_tol=1e-9)]
        if not hits:
            raise ValueError(f"{p['name']} = {values[p['name']]!r} is not on the grid {p['values']}")
        index = index * len(p["values"]) + hits[0]
    return exp["states"][index]


def exports_dir() -> Path:
    """Where the static explorables' JSON lives: ``figures/explorables`` (``$COURSE_FIGURES_DIR``)."""
    d = figures_dir() / "explorables"
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_export(exp: dict, path=None) -> Path:
    """Write ``exp`` as JSON (one state per line, keys sorted: a re-export that changes nothing changes no byte)."""
    path = Path(path) if path is not None else exports_dir() / f"{exp['name']}.json"
    head = json.dumps({k: v for k, v in exp.items() if k != "states"}, sort_keys=True, separators=(",", ":"))
    states = ",\n".join(json.dumps(s, sort_keys=True, separators=(",", ":")) for s in exp["states"])
    write_atomic(path, head[:-1] + ',"states":[\n' + states + "\n]}\n")
    return path


def read_export(name_or_path) -> dict:
    """Read a static explorable written by :func:`write_export` (a name such as ``"04_rare_word"`` or a path).

    A name is looked up in :func:`exports_dir` (where a run writes it, e.g. notebook 09's), then in the repository's
    committed ``figures/explorables`` (02/04/06's, written by ``python -m helpers.explore``), which a run with
    another ``$COURSE_FIGURES_DIR`` -- CI's portability pass -- does not have beside it.
    """
    p = Path(name_or_path)
    if p.suffix != ".json":
        p = exports_dir() / f"{name_or_path}.json"
        committed = Path(__file__).resolve().parents[1] / "figures" / "explorables" / p.name
        if not p.exists() and committed.exists():
            p = committed
    if not p.exists():
        raise FileNotFoundError(f"{p} does not exist: run `python -m helpers.explore` (02/04/06) or notebook 09")
    exp = json.loads(p.read_text(encoding="utf-8"))
    n = math.prod(len(q["values"]) for q in exp["params"])
    if len(exp["states"]) != n:
        raise ValueError(f"{p}: {len(exp['states'])} states for a grid of {n}")
    return exp


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Precompute the static explorables (figures/explorables/NAME.json).")
    ap.add_argument("names", nargs="*", default=sorted(_EXPORTERS), help=f"which (default: all of {sorted(_EXPORTERS)})")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    for name in a.names:
        path = write_export(export(name, seed=a.seed))
        print(f"{path}: {path.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

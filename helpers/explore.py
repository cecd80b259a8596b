"""Computations behind the course's explorables (the widgets of notebooks 02 and 04).

Each function returns plain numbers and arrays for one state of the sliders; the notebooks draw
them (a static matplotlib figure of the default state, compared by nbval, plus a thin ipywidgets
layer when ``ipywidgets`` is importable). Keeping the maths here means it is unit-tested
(``tests/test_explore.py``) instead of living in a callback.

- :func:`hull_explorable` (notebook 02): a 2-D cloud of hidden states, shifted and spread by the
  sliders; where the origin lies relative to its hull (:func:`helpers.theory.origin_position`), the
  cone of uniformly negative directions, a separating line, and gradient descent's path for a
  never-seen word's embedding on ``L(w) = mean_i log(exp<h_i, w> + C_i)``.
- :func:`rare_word_explorable` (notebook 04): a word seen in a fraction ``eps`` of the contexts
  with weight decay ``lam``; its minimiser, the never-seen minimiser and Gao et al.'s Theorem 3
  radius ``sqrt(2 eps g(x*) / (2 lam (1 - eps)))``, with a flag for when that radius is vacuous.

Everything is float64 numpy, seeded by ``seed``, and budgeted in steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.special

from . import simulate, theory

__all__ = ["HullState", "hull_explorable", "RareWordState", "rare_word_explorable"]


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


# ------------------------------------------------------------------------------ notebook 02
@dataclass(frozen=True)
class HullState:
    """One state of notebook 02's explorable (all arrays float64).

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
    """Compute one state of notebook 02's explorable.

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

"""Convex-hull geometry behind the unseen-word theorems of Gao et al. (ICLR 2019).

Notebook 02 (``02_unseen_words_convex_hull``) explains every function here.

For hidden states ``H: (n, d)`` (one row ``h_i`` per context), an embedding ``w`` of a word that
never appears as a target has the loss ``L(w) = mean_i log(exp<h_i, w> + C_i)`` with ``C_i > 0``.
Gao et al. show (Theorems 1 and 2) that ``L`` has no minimiser -- it is decreased forever by
pushing ``w`` to infinity -- exactly when there is a *uniformly negative direction* ``u`` with
``<h_i, u> < 0`` for every ``i``, and that such a direction exists iff the origin is **not** in
the convex hull ``conv(h_1, ..., h_n)``.

Everything reduces to one convex problem, the *minimum-norm point* of the hull::

    p* = argmin_{p in conv(H)} ||p||       (a quadratic programme over the simplex)

- if ``p* = 0`` the hull contains the origin and no uniformly negative direction exists;
- otherwise ``u* = -p*/||p*||`` is the unit direction with the largest margin
  ``min_i -<h_i, u>`` (the l2 max-margin / "hard-margin SVM through the origin" direction), and
  that margin equals ``||p*||`` (minimum-norm duality). Gradient descent on ``L`` converges in
  direction to ``u*`` (Soudry et al., 2018).

Algorithm
---------
``hull_certificate`` runs Wolfe's (1976) minimum-norm-point algorithm -- an active-set method that
keeps a small affinely independent "corral" of rows and finishes in finitely many steps with the
exact optimum -- inside a column-generation loop: Wolfe works on a pool of the rows that matter
(those most opposed to the current point) and a full pass over ``H`` (float64 blocks of 4096 rows)
adds the rows that violate optimality, until none does. The affine sub-problems use a QR
factorisation updated one column at a time. On 30,000 x 384 matrices it takes under a second and on
30,000 x 768 a few seconds (``bench/bench_hull.py``), where a dense LP takes many minutes.

Every verdict is certified before it is returned:

- "misses": the returned direction ``u`` satisfies ``max_i <h_i, u> < 0`` (recomputed over all
  rows in float64); otherwise ``RuntimeError``;
- "contains": the weights ``lambda`` (``>= 0``, summing to 1) give ``||H^T lambda|| <= tol``.

Tolerances are absolute, in the units of ``H`` (``tol=1e-6`` by default): the hull "contains" the
origin when its minimum-norm point is within ``tol`` of it. If the hull misses the origin by more
than ``tol`` but by so little that rounding defeats the direction check, ``RuntimeError`` says so.

Practicalities: each one-answer function (``min_norm_point``, ``hull_margin``, ...) solves the
problem again -- call :func:`hull_certificate` once when you need several answers. The solver runs
BLAS single-threaded (``threadpoolctl``): its thousands of small products are faster that way.
Memory: a floating-point ``H`` is never copied whole; float32 rows are converted to float64 4,096 at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_matrix

__all__ = [
    "HullCertificate",
    "hull_certificate",
    "min_norm_point",
    "uniformly_negative_direction",
    "hull_contains_origin",
    "hull_margin",
    "max_margin_direction",
    "LINF_MAX_ENTRIES",
]

#: Largest ``n * d`` that :func:`max_margin_direction` accepts for ``norm="linf"`` (an LP).
#: Measured with scipy 1.17 HiGHS on 2 shared cores (bench/bench_hull.py): 2,000 x 64 about 0.3 s,
#: 10,000 x 100 about 2-5 s, 20,000 x 100 about 12 s; 30,000 x 384 did not finish in 10 minutes.
LINF_MAX_ENTRIES = 1_000_000

_BLOCK = 4096


# --------------------------------------------------------------------------------------------
# validation and blocked float64 products
# --------------------------------------------------------------------------------------------
def _check_matrix(H, name: str = "H") -> np.ndarray:
    return as_matrix(H, name)


def _check_tol(tol) -> float:
    try:
        t = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"tol must be a non-negative number, got {tol!r}.") from None
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"tol must be a finite non-negative number, got {tol!r}.")
    return t


def _matvec(H: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``H @ x`` in float64, ``_BLOCK`` rows at a time (no full float64 copy of a float32 ``H``)."""
    n = H.shape[0]
    if H.dtype == np.float64:
        return H @ x
    out = np.empty(n)
    for s in range(0, n, _BLOCK):
        out[s:s + _BLOCK] = H[s:s + _BLOCK].astype(np.float64) @ x
    return out


def _mean_rows(H: np.ndarray) -> np.ndarray:
    acc = np.zeros(H.shape[1])
    for s in range(0, H.shape[0], _BLOCK):
        acc += H[s:s + _BLOCK].astype(np.float64).sum(axis=0)
    return acc / H.shape[0]


def _max_row_norm(H: np.ndarray) -> float:
    m = 0.0
    for s in range(0, H.shape[0], _BLOCK):
        b = H[s:s + _BLOCK].astype(np.float64)
        m = max(m, float(np.sqrt(np.einsum("ij,ij->i", b, b).max())))
    return m


# --------------------------------------------------------------------------------------------
# Wolfe's minimum-norm-point algorithm on a pool of rows
# --------------------------------------------------------------------------------------------
class _Corral:
    """Affinely independent rows ``S`` with convex weights ``lam > 0`` and ``x = sum lam_s h_s``.

    Keeps a thin QR factorisation ``M = Q R`` of ``M = [c 1^T ; H_S^T]`` ((d+1) x k) in
    preallocated buffers, so that the affine minimiser of ``S`` is ``alpha ~ (M^T M)^{-1} 1`` (two
    triangular solves with ``R``). Columns are appended by classical Gram-Schmidt with one
    re-orthogonalisation and removed with scipy's ``qr_delete``.
    """

    def __init__(self, d: int, c: float):
        from scipy import linalg

        self._linalg = linalg
        self.c = c
        self.m = d + 1
        self.k = 0
        self.idx: list[int] = []
        self.members: set[int] = set()
        self.V = np.zeros((self.m, d))
        self.Q = np.zeros((self.m, self.m), order="F")
        # R is kept as the m x m matrix [[R_k, 0], [0, I]] so the triangular solves can run on the
        # whole (contiguous) buffer without copying the k x k block.
        self.R = np.eye(self.m, order="F")
        self.lam = np.zeros(0)

    def _col(self, v):
        return np.concatenate(([self.c], v))

    def start(self, i: int, v: np.ndarray):
        self.k = 0
        self.idx, self.members = [], set()
        self.add(i, v)
        self.lam = np.ones(1)

    def add(self, i: int, v: np.ndarray) -> bool:
        k = self.k
        if k >= self.m or i in self.members:
            return False
        col = self._col(v)
        Qk = self.Q[:, :k]
        r = Qk.T @ col
        q = col - Qk @ r
        r2 = Qk.T @ q
        q -= Qk @ r2
        r += r2
        rho = float(np.linalg.norm(q))
        if rho <= 1e-11 * float(np.linalg.norm(col)):
            return False  # numerically in the affine hull of S: cannot improve
        self.Q[:, k] = q / rho
        self.R[:k, k] = r
        self.R[k, :k] = 0.0
        self.R[k, k] = rho
        self.V[k] = v
        self.k = k + 1
        self.idx.append(i)
        self.members.add(i)
        self.lam = np.append(self.lam, 0.0)
        return True

    def remove(self, j: int):
        k = self.k
        if j < k - 1:
            Q1, R1 = self._linalg.qr_delete(self.Q[:, :k], self.R[:k, :k], j, 1, which="col",
                                            check_finite=False)
            # with k == m the thin factors are square and scipy returns full ones: trim them
            self.Q[:, :k - 1] = Q1[:, :k - 1]
            self.R[:k - 1, :k - 1] = R1[:k - 1, :k - 1]
            self.V[j:k - 1] = self.V[j + 1:k]
        self.R[:k, k - 1] = 0.0
        self.R[k - 1, k - 1] = 1.0
        self.k = k - 1
        self.members.discard(self.idx[j])
        del self.idx[j]
        self.lam = np.delete(self.lam, j)

    def _solve(self, b: np.ndarray) -> np.ndarray:
        """``(M^T M)^{-1} b`` for ``b: (k,)`` via ``R^T R``."""
        from scipy.linalg.blas import dtrsv

        k = self.k
        rhs = np.zeros(self.m)
        rhs[:k] = b
        y = dtrsv(self.R, rhs, lower=0, trans=1, overwrite_x=1)  # R^T y = b
        return dtrsv(self.R, y, lower=0, trans=0, overwrite_x=1)[:k]  # R z = y

    def affine_min(self) -> np.ndarray:
        """Weights ``alpha`` (sum 1) of the point of ``aff(S)`` nearest the origin.

        ``alpha ~ (M^T M)^{-1} 1``; one step of iterative refinement on the optimality condition
        ``G alpha = mu 1`` (``G = H_S H_S^T``, residual computed directly from the rows) recovers
        the accuracy the semi-normal equations lose when ``S`` is ill-conditioned.
        """
        k = self.k
        e = np.ones(k)
        z = self._solve(e)
        ez = z.sum()
        alpha = z / ez
        V = self.V[:k]
        x = alpha @ V
        r = V @ x - (x @ x)
        dp = self._solve(-r)
        alpha = alpha + dp - (dp.sum() / ez) * z
        return alpha / alpha.sum()

    @property
    def vecs(self) -> np.ndarray:
        return self.V[:self.k]

    @property
    def x(self) -> np.ndarray:
        return self.lam @ self.V[:self.k]


def _wolfe_on_pool(P, pool_idx, corral: _Corral, rel: float, max_major: int):
    """Run Wolfe's major/minor cycles with the linear oracle restricted to rows ``P`` (pool).

    Optimality test (scale-free): ``||x||^2 - min_j <p_j, x> <= rel * ||x||`` with
    ``rel = 1e-12 * max_j ||h_j||``; it keeps going while ``x`` shrinks toward the origin, so a
    "contains" answer ends with ``||x||`` at rounding level rather than at ``sqrt(tolerance)``.
    Returns ``(x, majors, status)`` with status "optimal", "stalled" (no further decrease is
    possible in floating point) or "max_iter".
    """
    majors = 0
    x = corral.x
    xx = float(x @ x)
    while majors < max_major:
        s = P @ x
        j = int(np.argmin(s))
        if xx - s[j] <= rel * np.sqrt(xx):
            return x, majors, "optimal"
        if not corral.add(int(pool_idx[j]), P[j]):
            return x, majors, "stalled"
        majors += 1
        for _ in range(corral.m + 2):  # minor cycles; each one removes at least one row
            alpha = corral.affine_min()
            if np.all(alpha > 0):
                corral.lam = alpha
                break
            lam = corral.lam
            neg = np.flatnonzero(alpha <= 0)
            den = lam[neg] - alpha[neg]
            ratios = np.where(den > 0, lam[neg] / np.where(den > 0, den, 1.0), 0.0)
            b = int(np.argmin(ratios))
            theta = float(min(max(ratios[b], 0.0), 1.0))
            new = theta * alpha + (1.0 - theta) * lam
            new[neg[b]] = 0.0
            drop = np.flatnonzero(new <= 0.0)
            keep = np.ones(len(new), dtype=bool)
            keep[drop] = False
            for jj in sorted(drop.tolist(), reverse=True):
                corral.remove(jj)
            if corral.k == 0:  # pragma: no cover - cannot happen in exact arithmetic
                raise RuntimeError("Wolfe's algorithm emptied its corral (numerical breakdown)")
            new = new[keep]
            corral.lam = new / new.sum()
        x_new = corral.x
        xx_new = float(x_new @ x_new)
        if not xx_new < xx:  # a major cycle must decrease ||x||: we are at rounding level
            return x_new, majors, "stalled"
        x, xx = x_new, xx_new
    return x, majors, "max_iter"


@dataclass(frozen=True)
class HullCertificate:
    """Certified answer to "is the origin in conv(rows of H)?" (see :func:`hull_certificate`).

    Attributes
    ----------
    contains : bool
        True when the minimum-norm point is within ``tol`` of the origin.
    point : (d,) float64
        ``p = H^T weights``, the minimum-norm point of the hull (up to rounding).
    weights : (n,) float64
        Convex weights (``>= 0``, sum 1), non-zero only on ``support``: ``point = H^T weights``.
        When ``contains`` they *are* the certificate: ``||H^T weights|| <= tol``.
    support : (k,) int
        Indices of the rows with non-zero weight (an affinely independent set, ``k <= d + 1``).
    margin : float
        ``||p*||`` (0.0 when ``contains``): the largest ``min_i -<h_i, u>`` over unit vectors ``u``.
    margin_lower : float
        ``min_i -<h_i, direction>`` recomputed over every row (0.0 when ``contains``); the true
        max margin lies in ``[margin_lower, ||point||]`` and the two agree to rounding.
    direction : (d,) float64 or None
        ``-p/||p||``, a certified uniformly negative direction (``max_i <h_i, u> < 0``), or None.
    gap : float
        Final duality gap ``||p||^2 - min_i <h_i, p>`` (>= 0 up to rounding).
    iterations : int
        Wolfe major cycles, summed over all pool rounds.
    rounds : int
        Number of full passes over ``H``.
    """

    contains: bool
    point: np.ndarray
    weights: np.ndarray
    support: np.ndarray
    margin: float
    margin_lower: float
    direction: np.ndarray | None
    gap: float
    iterations: int
    rounds: int
    tol: float

    @property
    def residual(self) -> float:
        """``||H^T weights||``: ``<= tol`` is the "contains" certificate."""
        return float(np.linalg.norm(self.point))


def hull_certificate(H, tol: float = 1e-6, *, pool: int | None = None, max_iter: int | None = None
                     ) -> HullCertificate:
    """Minimum-norm point of ``conv(rows of H)`` with a certificate (Wolfe 1976 + column generation).

    Parameters
    ----------
    H : (n, d) array of float
        One point per row (hidden states in notebook 02).
    tol : float
        Absolute tolerance, in the units of ``H``: the hull contains the origin when
        ``||p*|| <= tol``.
    pool : int, optional
        Rows in the initial working pool (default ``max(2 (d + 1), 1000)``); an expert knob.
    max_iter : int, optional
        Cap on Wolfe major cycles (default ``50 (d + 1) + 1000``).

    Returns
    -------
    HullCertificate
        See its docstring. ``RuntimeError`` is raised if an answer cannot be certified.
    """
    A = _check_matrix(H)
    tol = _check_tol(tol)
    with _one_blas_thread():
        return _hull_certificate(A, tol, pool, max_iter)


def _one_blas_thread():
    """Wolfe's loop is thousands of small BLAS calls: one thread is faster (and far faster when
    the machine is shared) than OpenBLAS waking its pool for each of them."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _hull_certificate(A, tol, pool, max_iter) -> HullCertificate:
    n, d = A.shape
    scale = _max_row_norm(A)
    if scale == 0.0:  # every row is the origin
        w = np.zeros(n)
        w[0] = 1.0
        return HullCertificate(True, np.zeros(d), w, np.array([0]), 0.0, 0.0, None, 0.0, 0, 0, tol)
    rel = 1e-12 * scale
    max_iter = int(max_iter) if max_iter is not None else 50 * (d + 1) + 1000
    K = min(n, int(pool) if pool is not None else max(2 * (d + 1), 1000))
    add_k = max((d + 1) // 2, 256)

    x0 = _mean_rows(A)
    s0 = _matvec(A, x0)
    order = np.argsort(s0, kind="stable")
    in_pool = np.zeros(n, dtype=bool)
    pool_idx = order[:K]
    in_pool[pool_idx] = True
    P = A[pool_idx].astype(np.float64)

    corral = _Corral(d, scale)
    norms = np.einsum("ij,ij->i", P, P)
    j0 = int(np.argmin(norms))
    corral.start(int(pool_idx[j0]), P[j0])

    iterations = 0
    rounds = 0
    while True:
        x, majors, status = _wolfe_on_pool(P, pool_idx, corral, rel, max_iter - iterations)
        iterations += majors
        s = _matvec(A, x)
        rounds += 1
        xx = float(x @ x)
        viol = np.flatnonzero((s < xx - rel * np.sqrt(xx)) & ~in_pool)
        if len(viol) == 0 or status != "optimal":
            break
        if len(viol) > add_k:
            viol = viol[np.argpartition(s[viol], add_k)[:add_k]]
        in_pool[viol] = True
        pool_idx = np.concatenate([pool_idx, viol])
        P = np.vstack([P, A[viol].astype(np.float64)])

    # ---------------- certificate ----------------
    support = np.asarray(corral.idx, dtype=np.int64)
    lam = np.clip(corral.lam, 0.0, None)
    lam = lam / lam.sum()
    weights = np.zeros(n)
    weights[support] = lam
    p = lam @ A[support].astype(np.float64)
    pn = float(np.linalg.norm(p))
    s = _matvec(A, p)  # <h_i, p> for every row, float64
    gap = float(p @ p - s.min())
    if pn <= tol:
        return HullCertificate(True, p, weights, support, 0.0, 0.0, None, gap, iterations, rounds, tol)
    u = -p / pn
    worst = float(-s.min() / pn)  # max_i <h_i, u>
    if not worst < 0:
        raise RuntimeError(
            f"could not certify a uniformly negative direction (max_i <h_i,u> = {worst:.3g} >= 0 while "
            f"the minimum-norm point has norm {pn:.3g} > tol = {tol:g}); the hull nearly touches the "
            "origin -- raise tol or rescale H.")
    if iterations >= max_iter and gap > 1e-6 * scale * scale:
        raise RuntimeError(f"Wolfe's algorithm hit max_iter={max_iter} with duality gap {gap:.3g}.")
    return HullCertificate(False, p, weights, support, pn, -worst, u, gap, iterations, rounds, tol)


# --------------------------------------------------------------------------------------------
# the public one-answer functions
# --------------------------------------------------------------------------------------------
def min_norm_point(H) -> np.ndarray:
    """The point of ``conv(rows of H)`` closest to the origin, ``(d,)`` float64 (notebook 02).

    ``H: (n, d)``. Computed exactly (up to rounding) by :func:`hull_certificate`; when the hull
    contains the origin the returned point has norm ``<= 1e-6`` (typically ~1e-15).
    """
    return hull_certificate(H).point


def uniformly_negative_direction(H, tol: float = 1e-6) -> np.ndarray | None:
    """Unit l2 max-margin direction ``u* = -p*/||p*||`` of Gao et al.'s Theorem 2, or None.

    ``u*`` maximises ``min_i -<h_i, u>`` over unit vectors; it is returned only after checking
    ``max_i <h_i, u*> < 0`` over all rows. None means the hull contains the origin (within
    ``tol``), so no uniformly negative direction exists. ``H: (n, d)``; returns ``(d,)`` float64.
    """
    return hull_certificate(H, tol).direction


def hull_contains_origin(H, tol: float = 1e-6) -> bool:
    """Whether ``0 in conv(rows of H)`` (within ``tol``): then the unseen-word loss has a minimiser.

    Equivalent to ``uniformly_negative_direction(H, tol) is None``; the certificate (convex
    weights whose combination has norm ``<= tol``) is in ``hull_certificate(H, tol).weights``.
    """
    return hull_certificate(H, tol).contains


def hull_margin(H, tol: float = 1e-6) -> float:
    """``||p*||``, the distance from the origin to ``conv(rows of H)`` (0.0 when it contains it).

    By minimum-norm duality it equals the l2 max margin ``max_{||u||=1} min_i -<h_i, u>``.
    """
    return hull_certificate(H, tol).margin


def max_margin_direction(H, norm: str = "l2", tol: float = 1e-6) -> np.ndarray | None:
    """Max-margin uniformly negative direction under the l2 or l-infinity norm, or None.

    - ``norm="l2"``: ``argmax_{||u||_2 <= 1} min_i -<h_i, u>`` = :func:`uniformly_negative_direction`
      (fast, any size).
    - ``norm="linf"``: ``argmax_{||u||_inf <= 1} min_i -<h_i, u>``, solved as the linear programme
      ``max t  s.t.  H u + t <= 0,  -1 <= u <= 1`` with scipy's HiGHS. The solution is **returned
      rescaled to unit l2 norm** (same direction), so it can be compared with the l2 one by a dot
      product. This is the direction that sign-based optimisers such as Adam drift toward
      (notebook 02). The LP is dense: it is fine up to ``n * d <= LINF_MAX_ENTRIES`` (1e6;
      2,000 x 64 solves in ~0.3 s, 10,000 x 100 in 2-5 s on 2 shared cores, 20,000 x 100 in ~12 s)
      and larger inputs are refused with ``ValueError`` -- 30,000 x 384 did not finish in 10 min.

    Both return None when the hull contains the origin (within ``tol``); a returned ``u`` always
    satisfies ``max_i <h_i, u> < 0`` (checked; ``RuntimeError`` otherwise). ``H: (n, d)``.
    """
    if norm not in ("l2", "linf"):
        raise ValueError(f"norm must be 'l2' or 'linf', got {norm!r}.")
    A = _check_matrix(H)
    tol = _check_tol(tol)
    n, d = A.shape
    if norm == "linf" and n * d > LINF_MAX_ENTRIES:
        raise ValueError(
            f"H has n*d = {n}*{d} = {n * d:,} entries; the l-infinity max-margin LP is only run up to "
            f"{LINF_MAX_ENTRIES:,} entries (it takes minutes beyond). Subsample rows or use norm='l2'.")
    cert = hull_certificate(A, tol)
    if norm == "l2" or cert.contains:
        return cert.direction
    from scipy.optimize import linprog

    A64 = A.astype(np.float64)
    # variables z = (u_1..u_d, t); minimise -t
    c = np.zeros(d + 1)
    c[-1] = -1.0
    A_ub = np.hstack([A64, np.ones((n, 1))])
    b_ub = np.zeros(n)
    bounds = [(-1.0, 1.0)] * d + [(None, None)]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"the l-infinity max-margin LP failed: {res.message}")
    u = res.x[:d]
    nu = float(np.linalg.norm(u))
    if nu == 0.0 or res.x[-1] <= 0:
        raise RuntimeError("the l-infinity LP found no positive margin although the hull misses the origin")
    u = u / nu
    worst = float((A64 @ u).max())
    if not worst < 0:
        raise RuntimeError(f"l-infinity direction not certified: max_i <h_i,u> = {worst:.3g} >= 0")
    return u

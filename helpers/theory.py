"""Convex-hull geometry behind the unseen-word theorems of Gao et al. (ICLR 2019).

Notebooks 02a (``02a_unseen_words_convex_hull``: the hull, existence, the trichotomy) and 02b
(``02b_implicit_bias``: the max-margin directions) explain every function here.

For hidden states ``H: (n, d)`` (one row ``h_i`` per context), an embedding ``w`` of a word that
never appears as a target has the loss ``L(w) = mean_i log(exp<h_i, w> + C_i)`` with ``C_i > 0``.
Where the origin sits relative to the convex hull ``conv(h_1, ..., h_n)`` decides everything -- a
**trichotomy**, not an iff (see :func:`origin_position`):

- origin **outside** the hull: a *uniformly negative direction* ``u`` (``<h_i, u> < 0`` for every
  ``i``) exists (Gao et al.'s Theorem 2); ``L`` decreases forever along it toward its infimum
  ``mean_i log C_i``, which is not attained -- no minimiser;
- origin on the hull's **relative boundary**: there is *no* uniformly negative direction, and still
  *no* minimiser. Example: ``H = {(1,0), (-1,0), (0,1)}``; along ``u = (0,-1)`` one term decreases
  and the others stay fixed, so gradient descent runs off with ``w_2 ~ -log t``;
- origin in the hull's **relative interior** (inside the hull within its affine hull; the points
  may span only a subspace): ``L`` is coercive on the span of the ``h_i`` and has a minimiser.

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
- "contains": the weights ``lambda`` (``>= 0``, summing to 1) give
  ``||H^T lambda|| <= rtol * max_i ||h_i||``.

Tolerances are **relative** (``rtol=1e-9`` by default), so every answer is scale-invariant: the
hull "contains" the origin when its minimum-norm point is within ``rtol * max_i ||h_i||`` of it, and
``H`` and ``s * H`` get the same answer for every ``s > 0``. If the hull misses the origin by more
than that but by so little that rounding defeats the direction check, ``RuntimeError`` says so.

Practicalities: each one-answer function (``min_norm_point``, ``hull_margin``, ...) solves the
problem again -- call :func:`hull_certificate` once when you need several answers. The solver runs
BLAS single-threaded (``threadpoolctl``): its thousands of small products are faster that way.
Memory: a floating-point ``H`` is never copied whole; float32 rows are converted to float64 4,096 at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_matrix
from ._threads import single_thread

__all__ = [
    "HullCertificate",
    "hull_certificate",
    "origin_position",
    "OriginPosition",
    "LinfCertificate",
    "linf_max_margin_certificate",
    "min_norm_point",
    "uniformly_negative_direction",
    "hull_contains_origin",
    "hull_margin",
    "max_margin_direction",
    "LINF_MAX_ENTRIES",
    "wendel_probability",
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


def _check_tol(rtol) -> float:
    if isinstance(rtol, bool):
        raise ValueError(f"rtol must be a number in [0, 1), got {rtol!r}.")
    try:
        t = float(rtol)
    except (TypeError, ValueError):
        raise ValueError(f"rtol must be a number in [0, 1), got {rtol!r}.") from None
    if not np.isfinite(t) or t < 0 or t >= 1:
        raise ValueError(f"rtol (a relative tolerance) must be a finite number in [0, 1), got {rtol!r}.")
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
        True when the minimum-norm point is within ``rtol * max_i ||h_i||`` of the origin.
    point : (d,) float64
        ``p = H^T weights``, the minimum-norm point of the hull (up to rounding).
    weights : (n,) float64
        Convex weights (``>= 0``, sum 1), non-zero only on ``support``: ``point = H^T weights``.
        When ``contains`` they *are* the certificate: ``||H^T weights|| <= rtol * scale``.
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
    tol : float
        The relative tolerance ``rtol`` used.
    scale : float
        ``max_i ||h_i||``; the absolute threshold is ``tol * scale``.
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
    scale: float = 1.0

    @property
    def residual(self) -> float:
        """``||H^T weights||``: ``<= tol * scale`` is the "contains" certificate."""
        return float(np.linalg.norm(self.point))


def hull_certificate(H, rtol: float = 1e-9, *, pool: int | None = None, max_iter: int | None = None
                     ) -> HullCertificate:
    """Minimum-norm point of ``conv(rows of H)`` with a certificate (Wolfe 1976 + column generation).

    Parameters
    ----------
    H : (n, d) array of float
        One point per row (hidden states in notebook 02a).
    rtol : float
        Relative tolerance: the hull contains the origin when ``||p*|| <= rtol * max_i ||h_i||``.
        Relative, so ``H`` and ``s * H`` (any ``s > 0``) get the same verdict.
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
    tol = _check_tol(rtol)
    with single_thread(torch=False, blas=True):
        return _hull_certificate(A, tol, pool, max_iter)


def _hull_certificate(A, tol, pool, max_iter) -> HullCertificate:
    n, d = A.shape
    scale = _max_row_norm(A)
    if scale == 0.0:  # every row is the origin
        w = np.zeros(n)
        w[0] = 1.0
        return HullCertificate(True, np.zeros(d), w, np.array([0]), 0.0, 0.0, None, 0.0, 0, 0, tol, 0.0)
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
    pm = float(np.abs(p).max()) if p.size else 0.0
    tiny = 0.0 < pm < 1e-100  # ||p||^2 and <h_i, p> underflow (found by hypothesis at |p| ~ 1e-160)
    pn = pm * float(np.linalg.norm(p / pm)) if tiny else float(np.linalg.norm(p))
    s = _matvec(A, p)  # <h_i, p> for every row, float64
    gap = float(p @ p - s.min())
    if pn <= tol * scale:
        return HullCertificate(True, p, weights, support, 0.0, 0.0, None, gap, iterations, rounds, tol, scale)
    if tiny:  # work with p / max|p|; the usual formulas below are kept bit for bit for every other cloud
        u = -(p / pm) / float(np.linalg.norm(p / pm))
        worst = float(_matvec(A, u).max())
    else:
        u = -p / pn
        worst = float(-s.min() / pn)  # max_i <h_i, u>
    if not worst < 0:
        raise RuntimeError(
            f"could not certify a uniformly negative direction (max_i <h_i,u> = {worst:.3g} >= 0 while "
            f"the minimum-norm point has norm {pn:.3g} > rtol * max_i ||h_i|| = {tol * scale:.3g}); the hull "
            "nearly touches the origin -- raise rtol.")
    if iterations >= max_iter and gap > 1e-6 * scale * scale:
        raise RuntimeError(f"Wolfe's algorithm hit max_iter={max_iter} with duality gap {gap:.3g}.")
    return HullCertificate(False, p, weights, support, pn, -worst, u, gap, iterations, rounds, tol, scale)


# --------------------------------------------------------------------------------------------
# the public one-answer functions
# --------------------------------------------------------------------------------------------
def min_norm_point(H) -> np.ndarray:
    """The point of ``conv(rows of H)`` closest to the origin, ``(d,)`` float64 (notebook 02a).

    ``H: (n, d)``. Computed exactly (up to rounding) by :func:`hull_certificate`; when the hull
    contains the origin the returned point has norm ``<= 1e-9 * max_i ||h_i||`` (typically ~1e-15).
    """
    return hull_certificate(H).point


def uniformly_negative_direction(H, rtol: float = 1e-9) -> np.ndarray | None:
    """Unit l2 max-margin direction ``u* = -p*/||p*||`` of Gao et al.'s Theorem 2, or None.

    ``u*`` maximises ``min_i -<h_i, u>`` over unit vectors; it is returned only after checking
    ``max_i <h_i, u*> < 0`` over all rows. None means the hull contains the origin (within
    ``rtol * max_i ||h_i||``), so no uniformly negative direction exists -- which does **not** mean
    the unseen-word loss has a minimiser: on the hull's relative boundary it has none either (see
    :func:`origin_position`). ``H: (n, d)``; returns ``(d,)`` float64.
    """
    return hull_certificate(H, rtol).direction


def hull_contains_origin(H, rtol: float = 1e-9) -> bool:
    """Whether ``0 in conv(rows of H)`` (within ``rtol * max_i ||h_i||``; scale-invariant).

    Equivalent to ``uniformly_negative_direction(H, rtol) is None``; the certificate (convex
    weights whose combination has norm ``<= rtol * max_i ||h_i||``) is in
    ``hull_certificate(H, rtol).weights``. ``True`` does not by itself give the unseen-word loss a
    minimiser: that needs the origin in the hull's *relative interior* (:func:`origin_position`).

    A shortcut gives the same answer faster when the cloud is shifted off the origin (the hidden states
    of every trained model here): if every row has a positive projection on the rows' mean direction
    ``m``, then every convex combination ``p`` has ``||p|| >= <p, m> >= min_i <h_i, m> > 0``, so the
    distance to the hull exceeds ``rtol * max_i ||h_i||`` whenever that minimum does (checked with a
    factor-2 guard against rounding), and the answer is "no" without the Wolfe iterations.
    """
    A = _check_matrix(H)
    tol = _check_tol(rtol)
    if _mean_direction_separates(A, tol):
        return False
    return hull_certificate(A, tol).contains


def _mean_direction_separates(A: np.ndarray, tol: float) -> bool:
    """Whether ``min_i <h_i, m / ||m||> > 2 rtol max_i ||h_i||`` for the mean row ``m`` (a lower bound on the
    hull's distance from the origin that clears the tolerance)."""
    m = _mean_rows(A)
    norm = float(np.linalg.norm(m))
    scale = _max_row_norm(A)
    if norm == 0.0 or scale == 0.0:
        return False
    return float(_matvec(A, m / norm).min()) > 2.0 * tol * scale + 1e-12 * scale


def hull_margin(H, rtol: float = 1e-9) -> float:
    """``||p*||``, the distance from the origin to ``conv(rows of H)`` (0.0 when it contains it).

    By minimum-norm duality it equals the l2 max margin ``max_{||u||=1} min_i -<h_i, u>``.
    """
    return hull_certificate(H, rtol).margin


# --------------------------------------------------------------------------------------------
# the trichotomy: outside / relative boundary / relative interior
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OriginPosition:
    """Certified position of the origin relative to ``conv(rows of H)`` (see :func:`origin_position`).

    position : "outside" | "boundary" | "interior"
    direction : (d,) unit vector or None
        "outside": a uniformly negative direction (``max_i <h_i, u> < 0``, from the hull certificate).
        "boundary": a *supporting* direction: ``<h_i, u> <= 0`` for every row (zero up to rounding on
        the face that contains the origin) and ``< 0`` on at least one row -- so no convex
        combination with all weights positive can vanish, and the origin is not in the relative interior.
    weights : (n,) or None
        "interior": convex weights, **all strictly positive**, with ``||H^T weights|| <= rtol * scale``
        -- the relative-interior certificate. "boundary": convex weights (some zero) combining to ~0.
    face : (k,) int or None
        "boundary": the rows with ``<h_i, u> = 0`` (within tolerance), the face containing the origin.
    margin : float
        Distance from the origin to the hull (0.0 unless "outside").
    slack : float
        "interior": ``min_i weights_i`` (> 0); "boundary": ``-min_i <h_i, u> / scale`` (> 0), how far the
        certificate is from the threshold; "outside": ``margin / scale``.
    scale : float
        ``max_i ||h_i||``.
    """

    position: str
    direction: np.ndarray | None
    weights: np.ndarray | None
    face: np.ndarray | None
    margin: float
    slack: float
    scale: float


def _highs(c, A_ub=None, b_ub=None, A_eq=None, b_eq=None, bounds=None):
    from scipy.optimize import linprog

    return linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs",
                   options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})


def origin_position(H, rtol: float = 1e-9, *, return_certificate: bool = False):
    """Where the origin lies relative to ``conv(rows of H)``: "outside", "boundary" or "interior".

    The answer decides the never-seen word's loss ``L(w) = mean_i log(exp<h_i, w> + C_i)``
    (notebook 02a, section 5):

    - "outside": a uniformly negative direction exists; ``L`` has no minimiser (Gao et al. Thm 2);
    - "boundary": the origin is in the hull but on its *relative* boundary; there is no uniformly
      negative direction and still no minimiser (``H = {(1,0), (-1,0), (0,1)}``: ``w_2 -> -inf``);
    - "interior": the origin is in the hull's *relative interior* (within the affine hull of the
      rows, so points spanning only a subspace are handled); ``L`` has a minimiser.

    Method: the minimum-norm point (:func:`hull_certificate`) settles "outside". Otherwise one LP
    on ``H / max_i ||h_i||`` looks for a supporting direction ``u`` (``H u <= 0``, ``-1 <= u <= 1``,
    minimising ``sum_i <h_i, u>``); the origin is on the relative boundary iff some such ``u`` has
    ``H u != 0`` (the cone generated by the rows is then not a subspace). If none exists a second LP
    finds strictly positive convex weights with ``H^T weights = 0``. Every verdict is certified by
    recomputing it in float64 (``RuntimeError`` if it cannot be), and the tolerance is relative
    (``rtol * max_i ||h_i||``), so ``H`` and ``s * H`` give the same answer for every ``s > 0``.

    ``H: (n, d)``. When the hull contains the origin the LPs are dense: ``n * d`` must not exceed
    ``LINF_MAX_ENTRIES`` (``ValueError`` otherwise). Returns the position string, or
    ``(position, OriginPosition)`` with ``return_certificate=True``.
    """
    A = _check_matrix(H)
    tol = _check_tol(rtol)
    n, d = A.shape
    cert = hull_certificate(A, tol)
    scale = cert.scale
    if not cert.contains:
        res = OriginPosition("outside", cert.direction, None, None, cert.margin, cert.margin / scale, scale)
        return (res.position, res) if return_certificate else res.position
    if scale == 0.0:  # every row is the origin: the hull is {0}, and 0 is its relative interior
        res = OriginPosition("interior", None, np.full(n, 1.0 / n), None, 0.0, 1.0 / n, 0.0)
        return (res.position, res) if return_certificate else res.position
    if n * d > LINF_MAX_ENTRIES:
        raise ValueError(
            f"the hull of H ({n} x {d}) contains the origin; telling its relative boundary from its relative "
            f"interior needs a dense LP, run only up to n*d = {LINF_MAX_ENTRIES:,} entries. Subsample rows.")
    Hn = A.astype(np.float64) / scale
    thr = max(tol, 1e-9)   # LP feasibility is ~1e-10 on the normalised rows
    # LP 1: a supporting direction that is not orthogonal to every row
    r1 = _highs(Hn.sum(axis=0), A_ub=Hn, b_ub=np.zeros(n), bounds=[(-1.0, 1.0)] * d)
    if r1.status != 0:  # pragma: no cover - u = 0 is always feasible and the box bounds it
        raise RuntimeError(f"origin_position: the supporting-direction LP failed: {r1.message}")
    u = r1.x
    s = Hn @ u
    if s.min() < -100 * thr:
        # polish: make u exactly orthogonal to the face (rows with s ~ 0), keeping the rest negative
        face = np.flatnonzero(s > -10 * thr)
        if len(face):
            F = Hn[face]
            coef, *_ = np.linalg.lstsq(F.T, u, rcond=None)
            u = u - F.T @ coef
        nu = float(np.linalg.norm(u))
        s = Hn @ u / nu if nu > 0 else s
        u = u / nu if nu > 0 else u
        if nu > 0 and s.max() <= thr and s.min() < -10 * thr:
            face = np.flatnonzero(s > -thr)
            res = OriginPosition("boundary", u, cert.weights, face, 0.0, float(-s.min()), scale)
            return (res.position, res) if return_certificate else res.position
        raise RuntimeError("origin_position: could not certify a supporting direction although the LP "
                           "found one; the origin is within rounding of a face -- raise rtol.")
    # LP 2: strictly positive convex weights combining to the origin (relative interior)
    c = np.zeros(n + 1)
    c[-1] = -1.0                                        # maximise t
    A_eq = np.hstack([np.vstack([Hn.T, np.ones((1, n))]), np.zeros((d + 1, 1))])
    b_eq = np.r_[np.zeros(d), 1.0]
    A_ub = np.hstack([-np.eye(n), np.ones((n, 1))])      # t - lambda_i <= 0
    r2 = _highs(c, A_ub=A_ub, b_ub=np.zeros(n), A_eq=A_eq, b_eq=b_eq,
                bounds=[(0.0, None)] * n + [(0.0, 1.0 / n)])
    if r2.status != 0:  # pragma: no cover
        raise RuntimeError(f"origin_position: the relative-interior LP failed: {r2.message}")
    lam = r2.x[:n]
    # polish: least-norm correction so that H^T lam = 0 and sum lam = 1 hold to rounding
    M = np.vstack([Hn.T, np.ones((1, n))])
    delta, *_ = np.linalg.lstsq(M, -(M @ lam - b_eq), rcond=None)
    lam = lam + delta
    resid = float(np.linalg.norm(Hn.T @ lam))
    if lam.min() > 0 and resid <= thr and abs(lam.sum() - 1) < 1e-12 * n:
        res = OriginPosition("interior", None, lam, None, 0.0, float(lam.min()), scale)
        return (res.position, res) if return_certificate else res.position
    raise RuntimeError(
        f"origin_position: neither a supporting direction nor strictly positive weights could be certified "
        f"(min weight {lam.min():.2g}, residual {resid:.2g}); the origin is within rounding of the relative "
        "boundary -- raise rtol.")


# --------------------------------------------------------------------------------------------
# max-margin directions
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinfCertificate:
    """Certified solution of the l-infinity max-margin LP ``max_{||u||_inf <= 1} min_i -<h_i, u>``.

    direction : (d,) the solution rescaled to unit l2 norm (None when the hull contains the origin).
    u_box : (d,) the LP solution itself (``||u_box||_inf <= 1``).
    primal : ``min_i -<h_i, u_box>`` recomputed in float64 -- a lower bound on the optimum.
    dual : ``||H^T lam||_1`` for the convex weights ``lam`` read off the LP's dual -- an upper bound
        on the optimum (weak duality: ``min_i -<h_i,u> <= -lam^T H u <= ||H^T lam||_1`` for every
        feasible ``u`` and every convex ``lam``).
    gap : ``dual - primal`` (>= 0 up to rounding); a small gap *certifies* optimality, independently of
        the solver's status.
    weights : (n,) the convex weights ``lam`` (the dual certificate).
    """

    direction: np.ndarray | None
    u_box: np.ndarray | None
    primal: float
    dual: float
    gap: float
    weights: np.ndarray | None


def linf_max_margin_certificate(H, rtol: float = 1e-9) -> LinfCertificate:
    """Solve the l-infinity max-margin LP and certify optimality by a primal/dual gap (notebook 02b).

    ``H: (n, d)`` with ``n * d <= LINF_MAX_ENTRIES``. The LP ``max t s.t. H u + t <= 0, -1 <= u <= 1``
    is solved by scipy's HiGHS; its dual is ``min_{lam in simplex} ||H^T lam||_1``. Both values are
    recomputed here in float64, and ``RuntimeError`` is raised unless the gap is below
    ``1e-7 * max_i ||h_i||`` (the optimum's units). When the hull contains the origin (within ``rtol``)
    the margin is 0 and ``direction`` is None.
    """
    A = _check_matrix(H)
    tol = _check_tol(rtol)
    n, d = A.shape
    if n * d > LINF_MAX_ENTRIES:
        raise ValueError(
            f"H has n*d = {n}*{d} = {n * d:,} entries; the l-infinity max-margin LP is only run up to "
            f"{LINF_MAX_ENTRIES:,} entries (it takes minutes beyond). Subsample rows or use norm='l2'.")
    cert = hull_certificate(A, tol)
    if cert.contains:
        return LinfCertificate(None, None, 0.0, 0.0, 0.0, None)
    A64 = A.astype(np.float64)
    c = np.zeros(d + 1)
    c[-1] = -1.0
    A_ub = np.hstack([A64, np.ones((n, 1))])
    res = _highs(c, A_ub=A_ub, b_ub=np.zeros(n), bounds=[(-1.0, 1.0)] * d + [(None, None)])
    if res.status != 0:
        raise RuntimeError(f"the l-infinity max-margin LP failed: {res.message}")
    u_box = np.clip(res.x[:d], -1.0, 1.0)
    primal = float(-(A64 @ u_box).max())
    lam = np.abs(np.asarray(res.ineqlin.marginals, dtype=np.float64))
    if lam.sum() <= 0:
        raise RuntimeError("the l-infinity LP returned no dual weights")
    lam = lam / lam.sum()
    dual = float(np.abs(lam @ A64).sum())
    gap = dual - primal
    if not (primal > 0 and gap <= 1e-7 * cert.scale):
        raise RuntimeError(f"l-infinity max-margin LP not certified optimal: primal {primal:.6g}, dual {dual:.6g}, "
                           f"gap {gap:.3g}")
    u = u_box / float(np.linalg.norm(u_box))
    worst = float((A64 @ u).max())
    if not worst < 0:
        raise RuntimeError(f"l-infinity direction not certified: max_i <h_i,u> = {worst:.3g} >= 0")
    return LinfCertificate(u, u_box, primal, dual, gap, lam)


def max_margin_direction(H, norm: str = "l2", rtol: float = 1e-9) -> np.ndarray | None:
    """Max-margin uniformly negative direction under the l2 or l-infinity norm, or None.

    - ``norm="l2"``: ``argmax_{||u||_2 <= 1} min_i -<h_i, u>`` = :func:`uniformly_negative_direction`
      (fast, any size). Gradient descent on the unseen-word loss converges to it in direction
      (Soudry et al. 2018), and so does Adam with ``eps > 0`` and a constant step (Wang et al. 2022).
    - ``norm="linf"``: ``argmax_{||u||_inf <= 1} min_i -<h_i, u>``, the linear programme of
      :func:`linf_max_margin_certificate` (optimality certified by a primal/dual gap). The solution is
      **returned rescaled to unit l2 norm** (same direction), so it can be compared with the l2 one by
      a dot product. Sign descent converges to it (Gunasekar et al. 2018); so does Adam only with a
      negligible ``eps`` and a decaying step (Zhang, Zou & Cao 2024). Dense LP: refused with
      ``ValueError`` beyond ``n * d > LINF_MAX_ENTRIES`` (1e6; 2,000 x 64 solves in ~0.3 s, 10,000 x 100
      in 2-5 s on 2 shared cores) -- 30,000 x 384 did not finish in 10 min.

    Both return None when the hull contains the origin (within ``rtol * max_i ||h_i||``); a returned
    ``u`` always satisfies ``max_i <h_i, u> < 0`` (checked; ``RuntimeError`` otherwise). ``H: (n, d)``.
    """
    if norm not in ("l2", "linf"):
        raise ValueError(f"norm must be 'l2' or 'linf', got {norm!r}.")
    if norm == "linf":
        return linf_max_margin_certificate(H, rtol).direction
    return hull_certificate(_check_matrix(H), _check_tol(rtol)).direction


# --------------------------------------------------------------------------------------------
# the null baseline for hull verdicts
# --------------------------------------------------------------------------------------------
def wendel_probability(n, d) -> float:
    """Wendel (1962): P(0 not in conv of n points) for i.i.d. symmetric points in general position in R^d.

    ``P = 2^{-(n-1)} sum_{k=0}^{d-1} C(n-1, k)`` = P(Binomial(n-1, 1/2) <= d-1): 1 for ``n <= d``,
    1/2 at ``n = 2d``, and vanishing fast for ``n >> 2d``. It is what *chance alone* predicts for a hull
    verdict on ``n`` points in ``d`` dimensions (notebook 03): a "misses the origin" verdict on real
    states is informative only where this is small. Computed with scipy's binomial CDF (no overflow).
    """
    from scipy.stats import binom

    for name, v in (("n", n), ("d", d)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return float(min(1.0, binom.cdf(int(d) - 1, int(n) - 1, 0.5)))

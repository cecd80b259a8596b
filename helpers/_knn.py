"""Exact k nearest neighbours (l2) of every row of a matrix, using the symmetry of X X^T.

``helpers.geometry.knn_stats`` calls ``knn_stats`` here; bench/bench_knn.py measures it against a
bare blocked GEMM, the upper-triangle ("half") GEMM and scikit-learn's brute force.

Method for all rows as queries (never an n x n matrix):

1. Scores. With h_i = ||x_i||^2 / 2, the ranking score of the pair (i, j) is
   G_ij = x_i . x_j - h_i - h_j = -||x_i - x_j||^2 / 2 (larger = nearer). It comes out of *one*
   float32 matrix product of augmented rows, [x_i, -h_i, -1] . [x_j, 1, h_j], with no pass over the
   block afterwards; G is symmetric, so only the blocks on and above the diagonal are computed.
2. Bounds. Every row keeps its c = max(k) + extra best candidates and g_i, the c-th best score
   among them (a score some real neighbour reaches, so the true c-th best is >= g_i). A first
   cheap product against a random sample of rows gives every row an initial g_i; rows are then
   *ordered by g_i*, so that each block holds rows with similar bounds.
3. One pass per block. The diagonal blocks give every row its dense top-c (``torch.topk`` along
   contiguous rows). In an off-diagonal block (I, J), a score G_ij matters to row i only if
   G_ij >= g_i and to row j only if G_ij >= g_j. Both sets come out of *one* comparison of the
   block, with each row's bound lowered to the block's smallest column bound (rows are ordered by
   bound, so this rarely lowers anything); the few hits are then split by side. A row or
   column with more than c such entries in one block (a loose bound, or near-duplicate rows that
   tie by the hundred) offers only its c best (``torch.topk`` on those rows only). The products go
   into one reused buffer. The bounds tighten as hits are merged, after every block row.
4. Exact re-ranking: the c candidates of each row are re-scored in float64 and sorted (stable),
   exactly as before, so float32 round-off can only swap candidates whose distances agree to about
   1e-6 relative, and ``extra`` spare candidates absorb such swaps.

A query subset (``query`` given) has no symmetry to use: one product per block of query rows
against all rows and a dense top-c, as before.
"""
from __future__ import annotations

import numpy as np

__all__ = ["knn_candidates_all", "knn_candidates_query", "rerank"]


def _topk_rows(t, c: int):
    import torch

    v, j = torch.topk(t, c, dim=1, largest=True, sorted=False)
    return v, j


class _Best:
    """Each row's c best (score, column) so far, with pending hits merged in batches."""

    def __init__(self, n: int, c: int):
        self.c = c
        self.v = np.full((n, c), -np.inf, dtype=np.float32)
        self.i = np.full((n, c), -1, dtype=np.int64)
        self.pend_r: list[np.ndarray] = []
        self.pend_j: list[np.ndarray] = []
        self.pend_v: list[np.ndarray] = []

    def set_dense(self, rows: slice, v: np.ndarray, j: np.ndarray):
        self.v[rows] = v
        self.i[rows] = j

    def offer(self, r: np.ndarray, j: np.ndarray, v: np.ndarray):
        self.pend_r.append(r)
        self.pend_j.append(j)
        self.pend_v.append(v)

    def pending(self) -> int:
        return sum(len(r) for r in self.pend_r)

    def bound(self) -> np.ndarray:
        return self.v.min(axis=1)

    def merge(self):
        if not self.pend_r:
            return
        n, c = self.v.shape
        r = np.concatenate(self.pend_r)
        j = np.concatenate(self.pend_j)
        v = np.concatenate(self.pend_v)
        self.pend_r, self.pend_j, self.pend_v = [], [], []
        touched = np.unique(r)
        rr = np.concatenate([np.repeat(touched, c), r])
        jj = np.concatenate([self.i[touched].ravel(), j])
        vv = np.concatenate([self.v[touched].ravel(), v])
        order = np.lexsort((-vv, rr))  # by row, then best score first
        rr, jj, vv = rr[order], jj[order], vv[order]
        start = np.searchsorted(rr, touched)  # every touched row has >= c entries (its old ones)
        take = (start[:, None] + np.arange(c)[None, :]).ravel()
        self.v[touched] = vv[take].reshape(-1, c)
        self.i[touched] = jj[take].reshape(-1, c)


def _offer_side(best, S, own, other, vals, own0, other0, c, rows):
    """Offer hits (block-local ``own``/``other`` indices, scores ``vals``) to their rows (``rows=True``)
    or to their columns. A row (column) with more than c hits -- a loose bound, or near-duplicate rows
    tying by the hundred -- offers only its c best entries of the block."""
    import torch

    n_own = S.shape[0] if rows else S.shape[1]
    if own.size > c * n_own // 4:  # cheap test first; most blocks have a few hits per row
        cnt = np.bincount(own, minlength=n_own)
        flood = cnt > c
        if flood.any():
            keep = ~flood[own]
            own, other, vals = own[keep], other[keep], vals[keep]
            ids = np.flatnonzero(flood)
            sub = S[ids] if rows else np.ascontiguousarray(S[:, ids].T)
            v, j = _topk_rows(torch.from_numpy(sub), min(c, sub.shape[1]))
            best.offer(np.repeat(ids, v.shape[1]) + own0, j.numpy().ravel() + other0, v.numpy().ravel())
    best.offer(own + own0, other + other0, vals)


def knn_candidates_all(X32: np.ndarray, hs: np.ndarray, cand: int, block: int = 4096, n_sample: int = 1024,
                       seed: int = 0) -> np.ndarray:
    """(n, cand) int64: for every row of X32 its ``cand`` nearest other rows (float32 scores), unsorted."""
    import torch

    n, d = X32.shape
    c = cand
    # augmented rows: Y_i . Z_j = x_i.x_j - h_i - h_j (Z stored transposed, contiguous); the inner
    # dimension is padded with zeros to a multiple of 8 (measured: the GEMM kernel prefers it)
    K = -(-(d + 2) // 8) * 8
    Y = np.zeros((n, K), dtype=np.float32)
    Y[:, :d] = X32
    Y[:, d] = -hs
    Y[:, d + 1] = -1.0

    def zt(rows_of_Y, h):  # the transposed Z for rows whose Y rows (and half norms h) are given
        Z = np.zeros((K, rows_of_Y.shape[0]), dtype=np.float32)
        Z[:d] = rows_of_Y[:, :d].T
        Z[d] = 1.0
        Z[d + 1] = h
        return Z

    # 2. initial bounds from a random sample of rows, then order the rows by them
    rng = np.random.default_rng(seed)
    m = min(n, max(n_sample, c + 1))
    samp = np.sort(rng.choice(n, m, replace=False))
    Zs = zt(Y[samp], hs[samp])
    g0 = np.empty(n, dtype=np.float32)
    for a in range(0, n, block):
        S = Y[a : a + block] @ Zs
        rows = np.arange(a, min(a + block, n))
        hit = np.searchsorted(samp, rows)
        own = (hit < m) & (samp[np.minimum(hit, m - 1)] == rows)
        S[own, hit[own]] = -np.inf  # self excluded
        g0[a : a + block] = np.partition(S, m - c, axis=1)[:, m - c]  # c-th largest
    perm = np.argsort(g0, kind="stable")
    Yp = Y[perm]  # a copy, in the new order
    del Y
    Ztp = zt(Yp, hs[perm])

    best = _Best(n, c)  # in permuted indices
    starts = list(range(0, n, block))
    if len(starts) > 1 and n - starts[-1] < c + 1:  # a last block too small for c candidates: join it
        starts.pop()
    ends = starts[1:] + [n]
    # 3a. diagonal blocks: dense top-c of each row (the block is symmetric)
    for a, b in zip(starts, ends):
        S = torch.from_numpy(Yp[a:b] @ Ztp[:, a:b])
        S.fill_diagonal_(-np.inf)
        cc = min(c, b - a - 1)
        v, j = _topk_rows(S, cc)
        vv = np.full((b - a, c), -np.inf, dtype=np.float32)
        jj = np.full((b - a, c), -1, dtype=np.int64)
        vv[:, :cc] = v.numpy()
        jj[:, :cc] = j.numpy() + a
        best.set_dense(slice(a, b), vv, jj)
    # 3b. off-diagonal blocks: one thresholded pass, hits offered to both sides. The bound of a row
    # is the better of its diagonal block's c-th score and the sample's (c real rows reach it; the
    # sample is not kept as candidates, the blocks find those rows again). The sample's scores come
    # from another product, so its bound is lowered by a float32 round-off margin.
    g0p = g0[perm]
    tol = 1e-5 * (np.abs(g0p) + np.abs(hs[perm]))
    gs = g0p - tol
    g = np.maximum(best.bound(), gs)
    Sbuf = np.empty(max(e - s for s, e in zip(starts, ends)) ** 2, dtype=np.float32)  # reused: no page faults
    for ai, (a, b) in enumerate(zip(starts, ends)):
        for c0, c1 in zip(starts[ai + 1 :], ends[ai + 1 :]):
            w = c1 - c0
            S = Sbuf[: (b - a) * w].reshape(b - a, w)
            np.matmul(Yp[a:b], Ztp[:, c0:c1], out=S)
            # one thresholded pass for both sides: an entry matters to its row if it beats the row's
            # bound, to its column if it beats the column's. Rows are ordered by bound and I < J, so
            # the row bounds are (almost always) the lower ones: comparing against each row's bound
            # lowered to the block's smallest column bound catches every hit of both sides; the
            # (few) hits are then split by side. Flat indices: np.flatnonzero + divmod is ~4x faster
            # than a 2-D np.nonzero.
            gr, gc = g[a:b], g[c0:c1]
            f = np.flatnonzero(S >= np.minimum(gr, gc.min())[:, None])
            hi, hj = np.divmod(f, w)
            vals = S.ravel()[f]
            on_row, on_col = vals >= gr[hi], vals >= gc[hj]
            _offer_side(best, S, hi[on_row], hj[on_row], vals[on_row], a, c0, c, rows=True)
            _offer_side(best, S, hj[on_col], hi[on_col], vals[on_col], c0, a, c, rows=False)
            del S
            if best.pending() > 4 * n:  # merge (and tighten the bounds) once enough hits wait
                best.merge()
                g = np.maximum(best.bound(), gs)
        best.merge()
        g = np.maximum(best.bound(), gs)
    best.merge()
    if (best.i < 0).any():  # pragma: no cover - every row sees all others through the blocks
        raise RuntimeError("knn: a row ended with fewer candidates than requested")
    out = np.empty((n, c), dtype=np.int64)
    out[perm] = perm[best.i]
    return out


def knn_candidates_query(X32: np.ndarray, hs: np.ndarray, qidx: np.ndarray, cand: int, chunk: int | None = None):
    """(m, cand) int64: the ``cand`` nearest other rows of each query row, unsorted."""
    from .geometry import _smallest_rows

    n = X32.shape[0]
    m = qidx.size
    B = chunk or max(1, 2**25 // n)
    cand_idx = np.empty((m, cand), dtype=np.int64)
    XT = np.ascontiguousarray(X32.T)
    for a in range(0, m, B):
        rows = qidx[a : a + B]
        S = X32[rows] @ XT  # (b, n) float32
        np.subtract(hs[None, :], S, out=S)  # ||x||^2/2 - q.x: the row's order of ||q - x||
        S[np.arange(rows.size), rows] = np.inf  # self excluded
        cand_idx[a : a + rows.size] = _smallest_rows(S, cand)[1]
        del S
    return cand_idx


def rerank(X64: np.ndarray, sq: np.ndarray, qidx: np.ndarray, cand_idx: np.ndarray, kmax: int):
    """Exact float64 distances and dot products of the ``kmax`` nearest among the candidates."""
    m = qidx.size
    dist = np.empty((m, kmax))
    dots = np.empty((m, kmax))
    for a in range(0, m, 4096):
        sl = slice(a, min(a + 4096, m))
        rows = qidx[sl]
        idx = cand_idx[sl]
        dt = np.einsum("bd,bkd->bk", X64[rows], X64[idx])
        d2 = np.maximum(sq[rows][:, None] + sq[idx] - 2.0 * dt, 0.0)  # float64: cancellation ~1e-16 x norms^2
        order = np.argsort(d2, axis=1, kind="stable")[:, :kmax]
        dist[sl] = np.sqrt(np.take_along_axis(d2, order, axis=1))
        dots[sl] = np.take_along_axis(dt, order, axis=1)
    return dist, dots

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
3. One pass per block. Every block (I, J), diagonal ones included, is thresholded once; an entry
   matters to row i only if G_ij >= g_i and to row j only if G_ij >= g_j. In a diagonal block the
   threshold is the sample's bound. In an off-diagonal block both sides' hits come out of *one*
   comparison, with each row's bound lowered to the block's smallest column bound (rows are ordered
   by bound, so this rarely lowers anything); the few hits are then split by side.
   - Row side: the hits of the block's rows are merged at once into those rows' c best (scattered
     into a small padded matrix beside the old c, then ``torch.topk``), so a row's bound tightens
     after *every* block, not only after a whole block row (measured: this halves the hits). A
     row with more than ``_CAP`` hits in one block offers its c best of the block instead; when a
     quarter of the rows do (a hub: a tight cluster that is everyone's near-tie neighbour), the
     block's rows take a dense top-c.
   - Column side: the (few) hits wait in a list and are merged (one sort of the hits, then the same
     padded top-c) when enough wait and after each block row; a column with more than c hits in one
     block offers only its c best.
   The products go into one reused buffer (no page faults). torch runs single-threaded meanwhile
   (restored after): measured here, its idle OpenMP threads slowed the next OpenBLAS product by
   ~13 % and made ``topk`` times vary 10-21 ms instead of 12.
4. Exact re-ranking: the c candidates of each row are re-scored in float64 and sorted (stable), so
   float32 round-off can only swap candidates whose distances agree to about 1e-6 relative, and
   ``extra`` spare candidates absorb such swaps.

A query subset (``query`` given) has no symmetry to use: one product per block of query rows
against all rows and a dense top-c.
"""
from __future__ import annotations

import numpy as np

from ._threads import single_thread

__all__ = ["knn_candidates_all", "knn_candidates_query", "rerank"]


def _topk_rows(t, c: int):
    import torch

    v, j = torch.topk(t, c, dim=1, largest=True, sorted=False)
    return v, j


class _Best:
    """Each row's c best (score, column) so far (score -inf, column -1 where none yet), with pending
    hits merged in batches."""

    def __init__(self, n: int, c: int):
        self.c = c
        self.v = np.full((n, c), -np.inf, dtype=np.float32)
        self.i = np.full((n, c), -1, dtype=np.int64)
        self.pend_r: list[np.ndarray] = []
        self.pend_j: list[np.ndarray] = []
        self.pend_v: list[np.ndarray] = []

    def offer(self, r: np.ndarray, j: np.ndarray, v: np.ndarray):
        self.pend_r.append(r)
        self.pend_j.append(j)
        self.pend_v.append(v)

    def pending(self) -> int:
        return sum(len(r) for r in self.pend_r)

    def bound(self) -> np.ndarray:
        return self.v.min(axis=1)

    def merge(self):
        """Merge the pending hits: one stable sort of the hits by row (not of the rows' old entries),
        a padded (touched rows, max hits) matrix beside the old c, and a row-wise top-c."""
        if not self.pend_r:
            return
        r = np.concatenate(self.pend_r)
        j = np.concatenate(self.pend_j)
        v = np.concatenate(self.pend_v)
        self.pend_r, self.pend_j, self.pend_v = [], [], []
        if r.size == 0:
            return
        order = np.argsort(r, kind="stable")
        r, j, v = r[order], j[order], v[order]
        touched, start, cnt = np.unique(r, return_index=True, return_counts=True)
        slot = np.arange(r.size) - np.repeat(start, cnt)
        li = np.repeat(np.arange(touched.size), cnt)
        _keep_best(self.v, self.i, touched, *_padded(touched.size, int(cnt.max()), li, slot, v, j))


def _padded(nrows: int, width: int, li, slot, vals, cols):
    """(nrows, width) scores (-inf where empty) and columns (-1): entry t at (li[t], slot[t])."""
    pv = np.full((nrows, width), -np.inf, dtype=np.float32)
    pj = np.full((nrows, width), -1, dtype=np.int64)
    pv[li, slot] = vals
    pj[li, slot] = cols
    return pv, pj


def _keep_best(bv, bi, rows, pv, pj):
    """bv/bi[rows] <- the c best of their old c and the new (pv, pj) entries (a row-wise top-c)."""
    import torch

    allv = np.concatenate([bv[rows], pv], axis=1)
    allj = np.concatenate([bi[rows], pj], axis=1)
    tv, tj = torch.topk(torch.from_numpy(allv), bv.shape[1], dim=1, largest=True, sorted=False)
    bv[rows] = tv.numpy()
    bi[rows] = np.take_along_axis(allj, tj.numpy(), axis=1)


_CAP = 64  # a row with more hits than this in one block offers its block's c best instead


def _merge_block_rows(bv, bi, S, hi, hj, vals, col0: int, c: int):
    """Merge one block's row-side hits straight into the block rows' c best (``bv``, ``bi``: (r, c)
    views). ``hi`` (block-local rows, *sorted*, as np.flatnonzero gives them), ``hj`` (block-local
    columns, offset by ``col0``), ``vals``: the hits."""
    import torch

    if hi.size == 0:
        return
    r, w = S.shape
    cap = max(_CAP, c)
    cnt = np.bincount(hi, minlength=r)
    flood = cnt > cap
    nf = int(np.count_nonzero(flood))
    if 4 * nf >= r:  # a hub block: a dense top-c of every row of the block
        v, j = _topk_rows(torch.from_numpy(S), min(c, w))
        _keep_best(bv, bi, slice(None), v.numpy(), j.numpy() + col0)
        return
    touched = np.flatnonzero(cnt)
    loc = np.empty(r, dtype=np.int64)
    loc[touched] = np.arange(touched.size)
    if nf:  # flooded rows: their block's c best go into their (otherwise empty) padded rows
        keep = ~flood[hi]
        hi, hj, vals = hi[keep], hj[keep], vals[keep]
        cnt = np.where(flood, 0, cnt)
    start = np.cumsum(cnt) - cnt
    width = max(int(cnt.max()), c if nf else 0)
    pv, pj = _padded(touched.size, width, loc[hi], np.arange(hi.size) - start[hi], vals, hj + col0)
    if nf:
        ids = np.flatnonzero(flood)
        v, j = _topk_rows(torch.from_numpy(S[ids]), min(c, w))
        pv[loc[ids], : v.shape[1]] = v.numpy()
        pj[loc[ids], : v.shape[1]] = j.numpy() + col0
    _keep_best(bv, bi, touched, pv, pj)


def _offer_columns(best, S, col, row, vals, col0: int, row0: int, c: int):
    """Offer a block's column-side hits (block-local ``col``/``row`` indices, scores ``vals``) to the
    columns' pending lists. A column with more than c hits in the block -- a loose bound, or
    near-duplicate rows tying by the hundred -- offers only its c best entries of the block."""
    import torch

    w = S.shape[1]
    if col.size > c * w // 4:  # cheap test first; most blocks have a few hits per column
        cnt = np.bincount(col, minlength=w)
        flood = cnt > c
        if flood.any():
            keep = ~flood[col]
            col, row, vals = col[keep], row[keep], vals[keep]
            ids = np.flatnonzero(flood)
            sub = np.ascontiguousarray(S[:, ids].T)
            v, j = _topk_rows(torch.from_numpy(sub), min(c, sub.shape[1]))
            best.offer(np.repeat(ids, v.shape[1]) + col0, j.numpy().ravel() + row0, v.numpy().ravel())
    best.offer(col + col0, row + row0, vals)


def knn_candidates_all(X32: np.ndarray, hs: np.ndarray, cand: int, block: int = 4096, n_sample: int = 1024,
                       seed: int = 0) -> np.ndarray:
    """(n, cand) int64: for every row of X32 its ``cand`` nearest other rows (float32 scores), unsorted."""
    with single_thread(torch=True):
        return _candidates_all(X32, hs, cand, block, n_sample, seed)


def _candidates_all(X32, hs, cand, block, n_sample, seed):
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
    # The sample is not kept as candidates (the blocks find those rows again); its bound, from
    # another product, is lowered by a float32 round-off margin. c real rows reach it, so a row's
    # threshold max(its c-th best so far, this) never exceeds its true c-th best score.
    g0p = g0[perm]
    gs = g0p - 1e-5 * (np.abs(g0p) + np.abs(hs[perm]))

    best = _Best(n, c)  # in permuted indices
    starts = list(range(0, n, block))
    if len(starts) > 1 and n - starts[-1] < c + 1:  # a last block too small for c candidates: join it
        starts.pop()
    ends = starts[1:] + [n]
    Sbuf = np.empty(max(e - s for s, e in zip(starts, ends)) ** 2, dtype=np.float32)  # reused: no page faults
    # 3a. diagonal blocks (symmetric): each row's hits above the sample's bound
    for a, b in zip(starts, ends):
        S = Sbuf[: (b - a) ** 2].reshape(b - a, b - a)
        np.matmul(Yp[a:b], Ztp[:, a:b], out=S)
        np.fill_diagonal(S, -np.inf)  # self excluded
        f = np.flatnonzero(S >= gs[a:b, None])
        hi, hj = np.divmod(f, b - a)
        _merge_block_rows(best.v[a:b], best.i[a:b], S, hi, hj, S.ravel()[f], a, c)
    # 3b. off-diagonal blocks: one thresholded pass, hits to both sides
    g = np.maximum(best.bound(), gs)
    for ai, (a, b) in enumerate(zip(starts, ends)):
        bv, bi = best.v[a:b], best.i[a:b]  # views
        for c0, c1 in zip(starts[ai + 1 :], ends[ai + 1 :]):
            w = c1 - c0
            S = Sbuf[: (b - a) * w].reshape(b - a, w)
            np.matmul(Yp[a:b], Ztp[:, c0:c1], out=S)
            # an entry matters to its row if it beats the row's bound, to its column if it beats the
            # column's. Rows are ordered by bound and I < J, so the row bounds are (almost always) the
            # lower ones: comparing against each row's bound lowered to the block's smallest column
            # bound catches every hit of both sides in one pass; the (few) hits are then split by
            # side. Flat indices: np.flatnonzero + divmod is ~4x faster than a 2-D np.nonzero.
            gr, gc = g[a:b], g[c0:c1]
            f = np.flatnonzero(S >= np.minimum(gr, gc.min())[:, None])
            hi, hj = np.divmod(f, w)
            vals = S.ravel()[f]
            on_row, on_col = vals >= gr[hi], vals >= gc[hj]
            _merge_block_rows(bv, bi, S, hi[on_row], hj[on_row], vals[on_row], c0, c)
            g[a:b] = np.maximum(bv.min(axis=1), gs[a:b])  # the row bounds tighten after every block
            _offer_columns(best, S, hj[on_col], hi[on_col], vals[on_col], c0, a, c)
            del S
            if best.pending() > 4 * n:  # merge the column side once enough hits wait
                best.merge()
                g = np.maximum(best.bound(), gs)
        best.merge()
        g = np.maximum(best.bound(), gs)
    if (best.i < 0).any():  # pragma: no cover - c real rows beat every row's threshold
        raise RuntimeError("knn: a row ended with fewer candidates than requested")
    out = np.empty((n, c), dtype=np.int64)
    out[perm] = perm[best.i]
    return out


def knn_candidates_query(X32: np.ndarray, hs: np.ndarray, qidx: np.ndarray, cand: int, chunk: int | None = None):
    """(m, cand) int64: the ``cand`` nearest other rows of each query row, unsorted."""
    with single_thread(torch=True):
        return _candidates_query(X32, hs, qidx, cand, chunk)


def _smallest_rows(D, c: int):
    """The ``c`` smallest entries of every row of ``D`` ((b, n) float32 numpy): (values, columns).

    A transposed view is first copied by torch (a blocked transpose, much faster than numpy's):
    ``torch.topk`` along a contiguous axis is several times faster than along a strided one.
    """
    import torch

    t = torch.from_numpy(D) if D.flags.c_contiguous else torch.from_numpy(D.T).T.contiguous()
    v, j = torch.topk(t, c, dim=1, largest=False, sorted=False)
    return v.numpy(), j.numpy()


def _candidates_query(X32, hs, qidx, cand, chunk):
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


def rerank(X64: np.ndarray, sq: np.ndarray, qidx: np.ndarray, cand_idx: np.ndarray, kmax: int, chunk: int = 512):
    """Exact float64 distances and dot products of the ``kmax`` nearest among the candidates.
    Chunks of 512 queries keep the gathered candidate rows in cache (measured: 3x faster than 4096
    at 50,257 x 768)."""
    m = qidx.size
    dist = np.empty((m, kmax))
    dots = np.empty((m, kmax))
    for a in range(0, m, chunk):
        sl = slice(a, min(a + chunk, m))
        rows = qidx[sl]
        idx = cand_idx[sl]
        dt = np.einsum("bd,bkd->bk", X64[rows], X64[idx])
        d2 = np.maximum(sq[rows][:, None] + sq[idx] - 2.0 * dt, 0.0)  # float64: cancellation ~1e-16 x norms^2
        order = np.argsort(d2, axis=1, kind="stable")[:, :kmax]
        dist[sl] = np.sqrt(np.take_along_axis(d2, order, axis=1))
        dots[sl] = np.take_along_axis(dt, order, axis=1)
    return dist, dots

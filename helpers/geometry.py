"""Measuring the geometry of embedding matrices (notebooks 06 and 07).

Every function takes a point cloud ``X`` of shape (n, d) -- rows are word embeddings or hidden
states -- and returns a number, an array or a DataFrame. Nothing here draws.

- ``random_pair_cosine``     -- mean cosine of random pairs of distinct rows (Ethayarajh 2019's
  anisotropy baseline; Gao et al. 2019's "narrow cone" shows up as a value near 1).
- ``knn_stats``              -- mean l2 distance and mean dot product to the k nearest neighbours
  (by l2) of every query row, computed as a blocked matrix product (never an n x n matrix).
- ``frequency_bucket_table`` -- Li et al. 2020 (BERT-flow) Table 1: those statistics and the mean
  norm per frequency-rank bucket of the vocabulary.
- ``isotropy_partition``     -- Mu & Viswanath 2018's I(W) = min_c Z(c) / max_c Z(c).
- ``isoscore``               -- Rudman et al. 2022's IsoScore, through the ``IsoScore`` package.
- ``rogue_dimensions``       -- Timkey & van Schijndel 2021: each dimension's contribution to the
  expected cosine of random pairs.
- ``layer_anisotropy``       -- ``random_pair_cosine`` of every layer of an (L+1, N, d) stack.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from . import _knn
from ._checks import as_int, as_matrix

__all__ = [
    "random_pair_cosine",
    "weighted_pair_cosine",
    "bucket_table",
    "knn_stats",
    "frequency_bucket_table",
    "isotropy_partition",
    "isoscore",
    "rogue_dimensions",
    "layer_anisotropy",
]


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------
def _matrix(X, name: str = "X", min_rows: int = 2) -> np.ndarray:
    """``X`` as a 2-D float array (float32 kept) or a readable ``ValueError``."""
    return as_matrix(X, name, min_rows)


def _ks(k) -> tuple[int, ...]:
    ks = (k,) if isinstance(k, (int, np.integer)) and not isinstance(k, bool) else tuple(k)
    if not ks:
        raise ValueError("k must be a positive integer or a non-empty sequence of them")
    return tuple(as_int(v, "every k") for v in ks)


def _unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError("X has an all-zero row: its cosine with anything is undefined")
    return X / norms


# ----------------------------------------------------------------------------------------------
# anisotropy
# ----------------------------------------------------------------------------------------------
def _pairs(n: int, n_pairs: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` uniformly random ordered pairs (i, j) of distinct indices in [0, n)."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=n_pairs)
    j = rng.integers(0, n - 1, size=n_pairs)
    j = j + (j >= i)  # skip i: j is uniform over the other n - 1 rows
    return i, j


def _pair_chunk(d: int) -> int:
    """Pairs per chunk for d-dimensional float64 rows: ~8 MB gathered a side, so the einsum reads
    them from cache. Each pair's cosine is computed alone, so the chunking changes no bit."""
    return max(256, min(65_536, 2**20 // d))


def _pair_weights(weights, n: int) -> np.ndarray:
    """``weights`` (n,) >= 0 as probabilities p = w / sum(w), or a readable ``ValueError``."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"weights must be a 1-D array with one entry per row ({n}), got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative (e.g. token counts)")
    if (w > 0).sum() < 2:
        raise ValueError("weights must give positive weight to at least two rows: a pair needs two")
    return w / w.sum()


def random_pair_cosine(X, n_pairs: int | None = 100_000, seed=0, weights=None) -> float:
    """Mean cosine similarity of random pairs of distinct rows of ``X`` (n, d), optionally frequency-weighted.

    ``weights=None``: ``n_pairs`` pairs (i, j), i != j, are drawn uniformly with
    ``np.random.default_rng(seed)`` (Ethayarajh 2019 uses this as the anisotropy baseline).
    ``n_pairs=None`` gives the exact mean over all n(n-1) ordered pairs,
    ``(||sum_w w_hat||^2 - n) / (n (n - 1))`` with w_hat = w/||w||, at the cost of one pass over X.
    Values near 0: directions spread out; near 1: a narrow cone.

    ``weights`` (n,) >= 0: each row of a pair is drawn with probability ``p_i = w_i / sum(w)``
    (independently, conditioned on i != j), so with token counts the pairs are pairs of tokens of
    running text; ``n_pairs=None`` then gives the exact expectation (``weighted_pair_cosine``).
    Rows of weight 0 are ignored (their norm may be 0). ``helpers.metrics.random_pair_cosine`` is
    this function (the metric zoo's name for it).
    """
    X = _matrix(X)
    if weights is not None:
        return _weighted_random_pair_cosine(X, _pair_weights(weights, X.shape[0]), n_pairs, seed)
    n = X.shape[0]
    if n_pairs is None:
        U = _unit_rows(X.astype(np.float64))
        s = U.sum(axis=0)
        return float((s @ s - n) / (n * (n - 1)))
    n_pairs = as_int(n_pairs, "n_pairs")
    i, j = _pairs(n, n_pairs, seed)
    # With fewer rows than pair ends, convert X and take every row's norm once, then gather; otherwise
    # convert and norm the gathered rows. Both give the same bits (the same float64 rows, per-row norm
    # and einsum); measured at 30,522 x 384 and 100,000 pairs: 0.10 s, was 0.3-1.2 s.
    whole = n <= 2 * n_pairs
    if whole:
        X64 = np.asarray(X, dtype=np.float64)
        norms = np.linalg.norm(X64, axis=1)
    out = np.empty(n_pairs)
    ch = _pair_chunk(X.shape[1])
    for a in range(0, n_pairs, ch):
        ii, jj = i[a : a + ch], j[a : a + ch]
        if whole:
            A, B, na, nb = X64[ii], X64[jj], norms[ii], norms[jj]
        else:
            A, B = X[ii].astype(np.float64), X[jj].astype(np.float64)
            na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
        if (na == 0).any() or (nb == 0).any():
            raise ValueError("X has an all-zero row: its cosine with anything is undefined")
        out[a : a + ch] = np.einsum("ij,ij->i", A, B) / (na * nb)
    return float(out.mean())


def weighted_pair_cosine(X, weights) -> float:
    """Exact mean cosine of pairs (i, j), i != j, each row drawn with probability proportional to ``weights``.

    With p = weights / sum(weights) and unit rows u_i, drawing i and j independently from p and
    discarding i == j gives E[cos] = (||sum_i p_i u_i||^2 - sum_i p_i^2) / (1 - sum_i p_i^2): one pass,
    no sampling. With ``weights`` = token counts in running text this is the cosine of two random
    *tokens of the text* (frequent words dominate) instead of two random *types* of the vocabulary
    (``random_pair_cosine``, which rare rows dominate). Rows with weight 0 are ignored; at least two
    rows need a positive weight.
    """
    X = _matrix(X)
    w = np.asarray(weights)
    if w.ndim != 1 or w.shape[0] != X.shape[0] or w.dtype == object or not np.issubdtype(w.dtype, np.number):
        raise ValueError(f"weights must be a 1-D numeric array with one entry per row of X ({X.shape[0]})")
    w = w.astype(np.float64)
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    nz = np.flatnonzero(w > 0)
    if nz.size < 2:
        raise ValueError("at least two rows need a positive weight to form a pair")
    p = w[nz] / w[nz].sum()
    U = _unit_rows(X[nz].astype(np.float64))
    m = p @ U
    q = float(p @ p)
    return float((m @ m - q) / (1.0 - q))


def _weighted_random_pair_cosine(A: np.ndarray, p: np.ndarray, n_pairs: int | None, seed) -> float:
    """``random_pair_cosine`` with row probabilities ``p`` (validated, summing to 1)."""
    if n_pairs is None:
        return weighted_pair_cosine(A, p)
    keep = p > 0
    A, p = A[keep], p[keep]
    U = _unit_rows(A.astype(np.float64))
    n_pairs = as_int(n_pairs, "n_pairs")
    rng = np.random.default_rng(seed)
    i = rng.choice(len(p), size=n_pairs, p=p)
    j = rng.choice(len(p), size=n_pairs, p=p)
    for _ in range(200):  # redraw the j of every pair with i == j
        same = i == j
        if not same.any():
            break
        j[same] = rng.choice(len(p), size=int(same.sum()), p=p)
    else:
        raise ValueError("the weights put almost all mass on one row: distinct pairs are too rare to sample")
    out = np.empty(n_pairs)
    ch = _pair_chunk(U.shape[1])
    for a in range(0, n_pairs, ch):
        out[a : a + ch] = np.einsum("ij,ij->i", U[i[a : a + ch]], U[j[a : a + ch]])
    return float(out.mean())


def layer_anisotropy(hidden_states, n_pairs: int = 100_000, seed=0) -> np.ndarray:
    """Random-pair cosine of every layer of ``hidden_states`` (L+1, N, d), shape (L+1,).

    The same token pairs (i, j) are used in every layer, so layers differ only by their geometry
    (Ethayarajh 2019, Figure 1: "same-layer random tokens"). ``hidden_states`` is the output of
    ``helpers.models.hidden_states``. Notebook 07.
    """
    H = np.asarray(hidden_states)
    if H.dtype == object or not np.issubdtype(H.dtype, np.number):
        raise ValueError("hidden_states must be a numeric array of shape (L+1, N, d)")
    if H.ndim != 3:
        raise ValueError(f"hidden_states must have shape (L+1, N, d); got {H.ndim} dimension(s) {H.shape}")
    if H.shape[0] < 1 or H.shape[1] < 2:
        raise ValueError("hidden_states needs at least one layer and two tokens")
    return np.array([random_pair_cosine(H[l], n_pairs=n_pairs, seed=seed) for l in range(H.shape[0])])


def isotropy_partition(X, both_signs: bool = True) -> float:
    """Mu & Viswanath (2018)'s isotropy measure I(W) = min_c Z(c) / max_c Z(c), in (0, 1].

    Z(c) = sum_w exp(c^T w) is the partition function of a log-linear model; c runs over the unit
    eigenvectors of X^T X (X: (n, d), rows w). log Z is computed with a stable log-sum-exp, so
    large norms do not overflow. An eigenvector's sign is arbitrary (it depends on LAPACK), so by
    default both c and -c are used: the result is then deterministic, and a cloud shifted away
    from the origin is caught whichever sign the solver returns. ``both_signs=False`` uses the
    eigenvectors as returned. I(W) is near 1 for an isotropic cloud centred at the origin and
    near 0 when the cloud sits in a cone (the mean vector dominates some direction).
    """
    X = _matrix(X).astype(np.float64)
    _, vecs = np.linalg.eigh(X.T @ X)  # columns: unit eigenvectors
    # log Z(c) and log Z(-c) from one product: exponentiate A - max and -A - max(-A), in place
    logZ_pos = np.empty(vecs.shape[1])
    logZ_neg = np.empty(vecs.shape[1])
    step = max(1, 2**24 // (8 * X.shape[0]))  # columns of X @ C per block: about 16 MB
    for a in range(0, vecs.shape[1], step):
        A = X @ vecs[:, a : a + step]  # (n, block): c^T w
        for sign, out in ((1.0, logZ_pos), (-1.0, logZ_neg)):
            if sign < 0 and not both_signs:
                break
            B = A * sign
            mx = B.max(axis=0)
            B -= mx
            np.exp(B, out=B)
            out[a : a + step] = np.log(B.sum(axis=0)) + mx
    logZ = np.concatenate([logZ_pos, logZ_neg]) if both_signs else logZ_pos
    return float(math.exp(logZ.min() - logZ.max()))


def isoscore(X) -> float:
    """IsoScore (Rudman et al. 2022) of the point cloud ``X`` (n_samples, dim), as a float.

    Computed by the ``IsoScore`` package (``IsoScore.IsoScore(points)``) in float64. It lies in
    [0, 1]: 1 means the variance is spread equally over all ``dim`` dimensions, 0 that one dimension
    holds it all, and (k - 1) / (dim - 1) that k of the dim principal dimensions share it equally.
    (The range 1/dim .. 1 that is sometimes quoted is that of the intermediate phi, the fraction of
    dimensions used: IsoScore = (dim phi - 1) / (dim - 1) maps it to 0 .. 1.) Unlike the cosine
    measures it is blind to the mean: a shifted isotropic cloud still scores 1.
    """
    X = _matrix(X, min_rows=3).astype(np.float64)
    if X.shape[1] < 2:
        raise ValueError("isoscore needs at least two dimensions")
    if np.allclose(X.var(axis=0), 0):
        raise ValueError("X has zero variance in every dimension: IsoScore is undefined")
    from IsoScore import IsoScore as _iso

    return float(_iso.IsoScore(X))


def rogue_dimensions(X, top: int | None = 10) -> pd.DataFrame:
    """Each dimension's contribution to the expected cosine of random pairs (Timkey & van Schijndel 2021).

    With w_hat = w / ||w|| for the rows of ``X`` (n, d), the mean cosine over all n(n-1) ordered
    pairs of distinct rows splits over dimensions: cos = sum_i CC_i with
    CC_i = ((sum_w w_hat_i)^2 - sum_w w_hat_i^2) / (n (n - 1)), computed exactly (no sampling).
    Returns a DataFrame sorted by decreasing ``contribution`` with columns
    ``dim`` (the dimension's index), ``contribution`` (CC_i), ``share`` (CC_i / cos; unstable when
    cos is near 0) and ``cumulative_share``; ``top`` keeps the first rows (None: all d rows).
    A "rogue" dimension is one whose share is far above 1/d.
    """
    X = _matrix(X)
    if top is not None:
        top = as_int(top, "top")
    U = _unit_rows(X.astype(np.float64))
    n = U.shape[0]
    cc = (U.sum(axis=0) ** 2 - (U**2).sum(axis=0)) / (n * (n - 1))
    total = cc.sum()
    order = np.argsort(-cc, kind="stable")
    df = pd.DataFrame({"dim": order, "contribution": cc[order]})
    df["share"] = df["contribution"] / total if total != 0 else np.nan
    df["cumulative_share"] = df["share"].cumsum()
    df.attrs["expected_cosine"] = float(total)
    return (df.head(top) if top is not None else df).reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# nearest neighbours
# ----------------------------------------------------------------------------------------------
def knn_stats(X, k: int | Sequence[int] = (3, 5, 7), query=None, chunk: int | None = None, extra: int = 2) -> dict:
    """Mean l2 distance and mean dot product from each query row to its k nearest neighbours.

    X: (n, d). Neighbours are chosen by l2 distance among *all* rows of X, the query row itself
    excluded (another row equal to it is a legitimate neighbour at distance 0).
    query: ``None`` (every row), or an integer index array of rows of X (shape (m,)).
    k: one k or several; all are answered from one pass.

    Method (never an n x n matrix; helpers/_knn.py). Candidates are ranked by
    ||q - x||^2 / 2 = ||q||^2/2 + ||x||^2/2 - q.x in float32, computed by blocks; the max(k) +
    ``extra`` best candidates of each query are re-scored in float64 and sorted, so float32
    round-off can only swap candidates whose distances agree to about 1e-6 relative.
    With ``query=None`` the score matrix is symmetric: each block pair above the diagonal is
    computed once (one product of augmented rows gives the scores directly) and one thresholded
    pass against each row's running c-th best feeds *both* sides' top-c (see helpers/_knn.py).
    With a query subset: one product per block of queries against all rows and a dense top-c.
    ``chunk`` is the block size in rows (default: about 32M float32 scores per block for a query
    subset, 4096 x 4096 blocks for all rows).
    Ties at the k-th distance are broken by the stable sort of the candidates: the mean distance
    does not depend on it, the mean dot product can, only for exactly tied neighbours.

    Returns a dict: ``"query"`` (m,) row indices, and for each k ``"l2_k{k}"`` and ``"dot_k{k}"``,
    float64 arrays of shape (m,). Used by ``frequency_bucket_table`` (notebook 06); the speed
    against a bare blocked GEMM and sklearn is measured in bench/bench_knn.py.
    """
    ks = _ks(k)
    kmax = max(ks)
    X = _matrix(X, min_rows=1)
    n, d = X.shape
    if n < kmax + 1:
        raise ValueError(f"X has {n} rows: k = {kmax} nearest neighbours need at least {kmax + 1} rows")
    if query is None:
        qidx = None
    else:
        q = np.asarray(query)
        if q.ndim != 1 or not (np.issubdtype(q.dtype, np.integer) or q.size == 0):
            raise ValueError("query must be a 1-D array of integer row indices of X (or None for all rows)")
        if q.size == 0:
            raise ValueError("query is empty: give at least one row index")
        if q.min() < -n or q.max() >= n:
            raise ValueError(f"query holds row indices outside [0, {n})")
        qidx = np.where(q < 0, q + n, q).astype(np.int64)
    extra = max(0, int(extra))
    cand = min(kmax + extra, n - 1)
    if chunk is not None:
        chunk = as_int(chunk, "chunk")

    X32 = np.ascontiguousarray(X, dtype=np.float32)
    X64 = X.astype(np.float64, copy=False)
    sq = np.einsum("ij,ij->i", X64, X64)
    hs = (0.5 * sq).astype(np.float32)
    if qidx is None:  # all rows: symmetric blocks, each computed once (see helpers/_knn.py)
        qidx = np.arange(n)
        cand_idx = _knn.knn_candidates_all(X32, hs, cand, block=chunk or 4096)
    else:
        cand_idx = _knn.knn_candidates_query(X32, hs, qidx, cand, chunk)
    dist, dots = _knn.rerank(X64, sq, qidx, cand_idx, kmax)
    out = {"query": qidx}
    for kk in ks:
        out[f"l2_k{kk}"] = dist[:, :kk].mean(axis=1)
        out[f"dot_k{kk}"] = dots[:, :kk].mean(axis=1)
    return out


def _bucket_label(lo: int, hi: int | None) -> str:
    def short(v):
        return f"{v // 1000}k" if v >= 1000 and v % 1000 == 0 else str(v)

    return f"[{short(lo)}, {short(hi)})" if hi is not None else f"[{short(lo)}, end)"


def frequency_bucket_table(
    X,
    freq,
    buckets=((0, 100), (100, 500), (500, 5000), (5000, None)),
    ks=(3, 5, 7),
    max_queries: int | None = None,
    seed=0,
    unseen: bool = True,
    chunk: int | None = None,
) -> pd.DataFrame:
    """Li et al. (2020, BERT-flow) Table 1: norm and k-NN statistics per frequency-rank bucket.

    X: (V, d) embedding matrix; freq: (V,) non-negative frequencies (any unit: only their order
    matters). Tokens are ranked by decreasing frequency, ties broken by row index (a stable sort);
    rank 0 is the most frequent. Tokens with frequency 0 are *not ranked*: they go to an extra
    column ``"unseen"`` (``unseen=False`` drops them), so ``(5000, None)`` means "rank 5000 up to
    the last token seen". Each bucket is a half-open rank range [lo, hi).

    Rows of the returned DataFrame (columns = buckets, labelled like ``"[0, 100)"``):
    ``norm`` -- mean l2 norm of the bucket's embeddings; ``knn_l2_k{k}`` -- mean l2 distance to
    the k nearest neighbours among *all* V rows (self excluded); ``knn_dot_k{k}`` -- mean dot
    product with those neighbours. ``max_queries`` (optional) caps the kNN queries per bucket by
    a uniform sample (``np.random.default_rng(seed)``); norms always use the whole bucket.
    ``df.attrs`` holds ``n_tokens`` and ``n_queries`` per column. Notebook 06.
    """
    X = _matrix(X)
    V = X.shape[0]
    f = np.asarray(freq)
    if f.ndim != 1 or f.dtype == object or not np.issubdtype(f.dtype, np.number):
        raise ValueError("freq must be a 1-D numeric array with one frequency per row of X")
    if f.shape[0] != V:
        raise ValueError(f"freq has {f.shape[0]} entries but X has {V} rows: they must match")
    f = f.astype(np.float64)
    if not np.isfinite(f).all() or (f < 0).any():
        raise ValueError("freq must be finite and non-negative")
    ks = _ks(ks)
    if max(ks) + 1 > V:
        raise ValueError(f"X has {V} rows: k = {max(ks)} nearest neighbours need at least {max(ks) + 1}")
    if max_queries is not None:
        max_queries = as_int(max_queries, "max_queries")
    buckets = list(buckets)
    if not buckets:
        raise ValueError("buckets is empty")
    seen = np.flatnonzero(f > 0)
    ranked = seen[np.argsort(-f[seen], kind="stable")]  # token ids by rank
    groups: dict[str, np.ndarray] = {}
    for bk in buckets:
        try:
            lo, hi = bk
        except (TypeError, ValueError):
            raise ValueError("each bucket must be a pair (lo, hi) of ranks; hi may be None") from None
        if lo < 0 or (hi is not None and hi <= lo):
            raise ValueError(f"bucket {bk!r} is not a rank range with 0 <= lo < hi")
        groups[_bucket_label(lo, hi)] = ranked[lo:hi]
    if unseen:
        zero = np.flatnonzero(f == 0)
        if zero.size:
            groups["unseen"] = zero
    return bucket_table(X, groups, ks=ks, max_queries=max_queries, seed=seed, chunk=chunk)


def bucket_table(X, groups, ks=(3, 5, 7), max_queries: int | None = None, seed=0, chunk: int | None = None) -> pd.DataFrame:
    """Table 1 layout (norm, k-NN l2 distance and dot product) for any grouping of the rows of X.

    groups: {label: integer row ids}. Used by ``frequency_bucket_table`` (rank buckets) and by the
    count buckets of ``helpers.lab.count_buckets`` (notebooks 05, 06, 10). Neighbours are searched
    among *all* rows of X; ``max_queries`` caps the queries per group by a uniform sample
    (``np.random.default_rng(seed)``); norms use the whole group. Empty groups give NaN columns.
    """
    X = _matrix(X)
    V = X.shape[0]
    ks = _ks(ks)
    if max(ks) + 1 > V:
        raise ValueError(f"X has {V} rows: k = {max(ks)} nearest neighbours need at least {max(ks) + 1}")
    if max_queries is not None:
        max_queries = as_int(max_queries, "max_queries")
    if not isinstance(groups, dict) or not groups:
        raise ValueError("groups must be a non-empty dict {label: row ids}")
    clean = {}
    for label, ids in groups.items():
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= V)):
            raise ValueError(f"group {label!r} must be a 1-D array of row ids in [0, {V})")
        clean[label] = ids.astype(np.int64)
    groups = clean
    rng = np.random.default_rng(seed)
    rows = ["norm"] + [f"knn_l2_k{k}" for k in ks] + [f"knn_dot_k{k}" for k in ks]
    table = pd.DataFrame(index=rows, columns=list(groups), dtype=float)
    n_tok, n_q = {}, {}
    norms = np.linalg.norm(X.astype(np.float64), axis=1)
    for label, ids in groups.items():
        n_tok[label] = int(ids.size)
        if ids.size == 0:
            n_q[label] = 0
            continue
        table.loc["norm", label] = norms[ids].mean()
        q = ids if max_queries is None or ids.size <= max_queries else np.sort(rng.choice(ids, max_queries, replace=False))
        n_q[label] = int(q.size)
        st = knn_stats(X, k=ks, query=q, chunk=chunk)
        for kk in ks:
            table.loc[f"knn_l2_k{kk}", label] = st[f"l2_k{kk}"].mean()
            table.loc[f"knn_dot_k{kk}", label] = st[f"dot_k{kk}"].mean()
    table.attrs["n_tokens"] = n_tok
    table.attrs["n_queries"] = n_q
    return table

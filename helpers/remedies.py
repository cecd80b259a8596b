"""Remedies for representation degeneration, each with the property that defines it (notebook 08).

Training-time remedy
    ``cosine_regulariser(W)`` -- Gao et al. (2019)'s MLE-CosReg term, the mean pairwise cosine of the
    embedding rows, computed in O(N d) and differentiable in torch.
    ``simcse(...)`` -- a short unsupervised SimCSE run (Gao, Yao & Chen 2021): dropout gives the
    positive view, the other sentences of the batch are the negatives.

Post-processing remedies (fit on an embedding matrix ``X: (n, d)``, return a new ``(n, d')`` array)
    ``all_but_the_top``   -- Mu & Viswanath (2018): centre, remove the top-D principal components;
    ``whiten``            -- Su et al. (2021): ``(x - mu) U Lambda^{-1/2}``, optionally truncated to k;
    ``standardize``       -- per-dimension z-score, the rogue-dimension fix (Timkey & van Schijndel 2021);
    ``center``            -- subtract the mean row: the baseline every other remedy must beat;
    ``zipfian_whiten``    -- Yokoi et al. (2024): whitening with frequency-weighted mean and covariance;
    ``weighted_removal``  -- Learning to Remove (Liang et al. 2021): one learned weight per top PC;
    ``fit_flow``          -- a small RealNVP normalizing flow trained to map X to N(0, I) (BERT-flow's
                             idea, Li et al. 2020).

Evaluation helpers
    ``principal_components``, ``similarity_correlation`` (Spearman/Pearson of cosine with human
    word-similarity scores, and the coverage), ``alignment_uniformity`` (Wang & Isola 2020).

Every public function validates its input and raises ``ValueError`` with a readable sentence.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ._checks import as_int, as_matrix
from ._threads import single_thread

__all__ = [
    "cosine_regulariser",
    "principal_components",
    "all_but_the_top",
    "Whitening",
    "fit_whitening",
    "whiten",
    "standardize",
    "center",
    "fit_zipfian_whitening",
    "zipfian_whiten",
    "WeightedRemoval",
    "weighted_removal",
    "Flow",
    "fit_flow",
    "similarity_pairs",
    "similarity_correlation",
    "alignment_uniformity",
    "sentence_embeddings",
    "simcse",
]


# --------------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------------
def _check_matrix(X, name: str = "X", min_rows: int = 1) -> np.ndarray:
    """X as a finite float64 2-D array with at least ``min_rows`` rows, or a ValueError."""
    return as_matrix(X, name, min_rows, dtype=np.float64)


# --------------------------------------------------------------------------------------------------
# Gao et al. 2019: the cosine regulariser
# --------------------------------------------------------------------------------------------------
def cosine_regulariser(W, eps: float = 1e-8):
    """Mean cosine similarity over all *ordered pairs of distinct rows* of ``W: (N, d)``.

    ``R(W) = 1/(N(N-1)) * sum_{i != j} cos(w_i, w_j) = (||sum_i w_i/||w_i|| ||^2 - N) / (N(N-1))``,

    the MLE-CosReg term of Gao et al. (ICLR 2019), computed in O(N d) from the sum of the unit rows
    instead of the O(N^2 d) Gram matrix. The diagonal (i = j, cos = 1) is excluded; Gao et al. divide
    by N^2 instead of N(N-1), a factor (N-1)/N that is immaterial for a vocabulary. Minimising it
    (loss + gamma * R) pushes the rows apart in angle.

    Rows with norm <= ``eps`` (e.g. BERT's all-zero ``[PAD]`` row) have no direction: they are left
    out of the mean (N counts the other rows) and get zero gradient. At least 2 such non-zero rows
    are needed. ``W`` a torch tensor -> a 0-d torch tensor (differentiable); anything else -> a float.
    Notebook 08 trains with it (gamma = 1) through ``helpers.training``'s extra loss.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        torch = None
    if torch is not None and isinstance(W, torch.Tensor):
        if W.ndim != 2:
            raise ValueError(f"W must be a 2-D matrix (N, d); got {W.ndim} dimension(s)")
        if not torch.isfinite(W).all():
            raise ValueError("W contains NaN or infinite values")
        norms = W.norm(dim=1, keepdim=True)
        ok = norms > eps
        n = int(ok.sum())
        if n < 2:
            raise ValueError("W needs at least 2 non-zero rows: a mean over pairs of distinct rows")
        U = torch.where(ok, W / torch.where(ok, norms, torch.ones_like(norms)), torch.zeros_like(W))
        s = U.sum(dim=0)
        return ((s * s).sum() - n) / (n * (n - 1))
    A = _check_matrix(W, "W", min_rows=2)
    norms = np.linalg.norm(A, axis=1)
    ok = norms > eps
    n = int(ok.sum())
    if n < 2:
        raise ValueError("W needs at least 2 non-zero rows: a mean over pairs of distinct rows")
    U = A[ok] / norms[ok, None]
    s = U.sum(axis=0)
    return float((s @ s - n) / (n * (n - 1)))


# --------------------------------------------------------------------------------------------------
# principal components, all-but-the-top, whitening, standardisation
# --------------------------------------------------------------------------------------------------
def principal_components(X, k: int | None = None):
    """Mean and principal directions of ``X: (n, d)``.

    Returns ``(mu (d,), components (k, d) with orthonormal rows, variances (k,))``, the components in
    decreasing order of variance (eigen-decomposition of the d x d covariance, so it is cheap for a
    30k x 384 vocabulary). ``k=None`` returns all d.
    """
    A = _check_matrix(X, "X", min_rows=2)
    d = A.shape[1]
    k = d if k is None else as_int(k, "k", 1, d)
    mu = A.mean(axis=0)
    C = np.cov(A - mu, rowvar=False, bias=False).reshape(d, d)
    lam, vec = np.linalg.eigh(C)
    order = np.argsort(lam)[::-1][:k]
    return mu, vec[:, order].T.copy(), np.clip(lam[order], 0.0, None)


def all_but_the_top(X, D: int | None = None) -> np.ndarray:
    """Mu & Viswanath (2018)'s post-processing: ``x' = (x - mu) - sum_{j<=D} (u_j^T (x - mu)) u_j``.

    ``X: (n, d)``; ``D`` top principal components of the centred rows are projected out; default
    ``D = max(1, round(d / 100))`` (their rule of thumb). Returns float32 ``(n, d)``; its mean is 0 and
    its projections on ``u_1..u_D`` are 0.
    """
    A = _check_matrix(X, "X", min_rows=2)
    d = A.shape[1]
    if D is None:
        D = max(1, int(round(d / 100)))
    D = as_int(D, "D", 1, d - 1 if d > 1 else 1)
    mu, U, _ = principal_components(A, D)
    Z = A - mu
    Z -= (Z @ U.T) @ U
    return Z.astype(np.float32)


@dataclass(frozen=True)
class Whitening:
    """A fitted whitening map ``x -> (x - mu) @ M`` with ``M = U[:, :k] Lambda[:k]^{-1/2}`` (d, k)."""

    mu: np.ndarray
    M: np.ndarray

    def transform(self, X) -> np.ndarray:
        """Apply the fitted map to ``X: (m, d)``; returns float32 ``(m, k)``."""
        A = _check_matrix(X, "X")
        if A.shape[1] != self.mu.shape[0]:
            raise ValueError(f"X has {A.shape[1]} columns but the whitening was fitted on {self.mu.shape[0]}")
        return ((A - self.mu) @ self.M).astype(np.float32)


def fit_whitening(X, k: int | None = None, rtol: float = 1e-10) -> Whitening:
    """Fit Su et al. (2021)'s whitening on ``X: (n, d)``; ``k`` keeps the top-k directions (default d).

    Fitting needs ``n >= k + 1`` rows (the centred covariance has rank at most n - 1) and the k
    leading covariance eigenvalues must be positive (relative to the largest, ``rtol``): otherwise
    the inverse square root does not exist and a ValueError says so. Use ``Whitening.transform`` to
    apply a map fitted on one set of rows to another (fit/apply split).
    """
    A = _check_matrix(X, "X", min_rows=2)
    n, d = A.shape
    k = d if k is None else as_int(k, "k", 1, d)
    if n < k + 1:
        raise ValueError(f"too few rows to estimate a covariance: whitening to {k} dimensions needs at least {k + 1} rows, got {n}")
    mu, U, lam = principal_components(A, k)
    if lam[-1] <= rtol * max(lam[0], np.finfo(float).tiny):
        raise ValueError("the covariance is singular in the requested directions (a constant or repeated dimension): lower k")
    return Whitening(mu=mu, M=U.T / np.sqrt(lam))


def whiten(X, k: int | None = None) -> np.ndarray:
    """Whiten ``X: (n, d)`` with its own mean and covariance: float32 ``(n, k)`` with covariance I.

    Equivalent to ``fit_whitening(X, k).transform(X)``; see ``fit_whitening`` for the conditions.
    """
    return fit_whitening(X, k).transform(X)


def standardize(X) -> np.ndarray:
    """Per-dimension z-score ``(x - mean) / std`` of ``X: (n, d)`` (float32, each column variance 1).

    Timkey & van Schijndel (2021): a few "rogue" dimensions with huge variance dominate cosine
    similarity; standardising every dimension removes their weight. A constant column cannot be
    standardised and raises ValueError.
    """
    A = _check_matrix(X, "X", min_rows=2)
    sd = A.std(axis=0, ddof=1)
    constant = sd <= 1e-12 * max(float(np.abs(A).max()), 1e-300)
    if constant.any():
        raise ValueError(f"X has {int(constant.sum())} constant column(s): their z-score is undefined")
    return ((A - A.mean(axis=0)) / sd).astype(np.float32)


def center(X) -> np.ndarray:
    """``X - mean(X)`` for ``X: (n, d)`` (float32): removes a common drift and nothing else.

    The cheapest remedy and the baseline for the others: every cosine-based measure that a common
    shift inflates (``helpers.metrics.INVARIANCES``) drops after it.
    """
    A = _check_matrix(X, "X", min_rows=2)
    return (A - A.mean(axis=0)).astype(np.float32)


def fit_zipfian_whitening(X, weights, k: int | None = None, rtol: float = 1e-10) -> Whitening:
    """Fit Yokoi et al. (NeurIPS 2024)'s Zipfian whitening on ``X: (n, d)`` with word frequencies ``weights`` (n,).

    Like ``fit_whitening``, but the mean and the covariance are expectations under the word
    frequency p_i = w_i / sum(w), not under the uniform distribution over types:
    ``mu = sum_i p_i x_i``, ``C = sum_i p_i (x_i - mu)(x_i - mu)^T``, map ``x -> (x - mu) U Lambda^{-1/2}``.
    Frequent words then have mean 0 and identity covariance, the way running text sees them; the
    uniform whitening instead lets the many rare words decide. ``k`` keeps the top-k directions.
    """
    A = _check_matrix(X, "X", min_rows=2)
    n, d = A.shape
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"weights must be a 1-D array with one entry per row ({n}), got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero (e.g. word counts)")
    k = d if k is None else as_int(k, "k", 1, d)
    if int((w > 0).sum()) < k + 1:
        raise ValueError(f"whitening to {k} dimensions needs at least {k + 1} rows of positive weight, got {int((w > 0).sum())}")
    p = w / w.sum()
    mu = p @ A
    Z = A - mu
    C = (Z * p[:, None]).T @ Z
    lam, U = np.linalg.eigh(C)
    lam, U = lam[::-1][:k], U[:, ::-1][:, :k]
    if lam[-1] <= rtol * max(lam[0], np.finfo(float).tiny):
        raise ValueError("the weighted covariance is singular in the requested directions: lower k")
    return Whitening(mu=mu, M=U / np.sqrt(lam))


def zipfian_whiten(X, weights, k: int | None = None) -> np.ndarray:
    """``fit_zipfian_whitening(X, weights, k).transform(X)``: float32 ``(n, k)``.

    Under the frequency weights the result has mean 0 and covariance I (tested).
    """
    return fit_zipfian_whitening(X, weights, k).transform(X)


# --------------------------------------------------------------------------------------------------
# word similarity
# --------------------------------------------------------------------------------------------------
def _vocab_index(vocab) -> dict:
    if isinstance(vocab, Mapping):
        return {str(w): int(i) for w, i in vocab.items()}
    if isinstance(vocab, str) or not isinstance(vocab, Sequence):
        raise ValueError("vocab must be a dict word -> row index or a list of words in row order")
    return _list_index(tuple(str(w) for w in vocab))


@functools.lru_cache(maxsize=8)
def _list_index(words: tuple) -> dict:
    """{word: first row} of a word list (remembered: notebook 08 looks up the same 30k-word lists ~100 times).
    Callers must not modify the returned dict."""
    out = {}
    for i, w in enumerate(words):
        out.setdefault(w, i)
    return out


def _lookup(vocab):
    """``word -> row or None`` for ``vocab`` (as ``_vocab_index(vocab).get``, without copying a dict vocabulary)."""
    if isinstance(vocab, Mapping) and all(isinstance(w, str) for w in vocab):
        def get(w):
            i = vocab.get(w)
            return None if i is None else int(i)
        return get
    return _vocab_index(vocab).get


def similarity_pairs(vocab, pairs, n_rows: int | None = None):
    """Rows ``(ia, ib)`` and human ``scores`` of the pairs whose two words are both in ``vocab``.

    ``pairs``: a DataFrame with columns ``word1, word2, score`` (``helpers.data.word_similarity``).
    ``vocab``: dict word -> row (e.g. ``tokenizer.get_vocab()``, so only single-token words count) or
    a list of words in row order. Returns ``(ia, ib, scores, coverage)`` with coverage the kept fraction.
    """
    if not all(c in getattr(pairs, "columns", ()) for c in ("word1", "word2", "score")):
        raise ValueError("pairs must be a DataFrame with columns word1, word2, score")
    if len(pairs) == 0:
        raise ValueError("pairs is empty")
    get = _lookup(vocab)
    ia, ib, sc = [], [], []
    for a, b, s in zip(pairs["word1"], pairs["word2"], pairs["score"]):
        ra, rb = get(str(a).lower()), get(str(b).lower())
        if ra is not None and rb is not None:
            ia.append(ra), ib.append(rb), sc.append(float(s))
    ia, ib = np.asarray(ia, dtype=np.int64), np.asarray(ib, dtype=np.int64)
    if n_rows is not None and len(ia) and max(ia.max(), ib.max()) >= n_rows:
        raise ValueError(f"vocab points at row {int(max(ia.max(), ib.max()))} but the embedding matrix has {n_rows} rows")
    return ia, ib, np.asarray(sc, dtype=np.float64), len(ia) / len(pairs)


def _row_cosines(A, ia, ib) -> np.ndarray:
    """Cosine of rows ia[k] and ib[k] of A, in float64 (only the rows used are converted)."""
    a, b = A[ia].astype(np.float64, copy=False), A[ib].astype(np.float64, copy=False)
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    return (a * b).sum(axis=1) / np.maximum(na * nb, 1e-12)


def similarity_correlation(X, vocab, pairs, method: str = "spearman"):
    """Correlation of ``cos(x_word1, x_word2)`` with the human score, over covered pairs.

    ``X: (V, d)`` embeddings; ``vocab`` and ``pairs`` as in ``similarity_pairs``; ``method``
    ``"spearman"`` (rank, the standard) or ``"pearson"``. Returns ``(correlation, coverage, n_pairs)``.
    Needs at least 3 covered pairs.
    """
    from scipy import stats

    if method not in ("spearman", "pearson"):
        raise ValueError(f"method must be 'spearman' or 'pearson'; got {method!r}")
    A = as_matrix(X, "X")  # finite, real, 2-D; only the rows used are converted to float64 (_row_cosines)
    ia, ib, sc, cov = similarity_pairs(vocab, pairs, n_rows=A.shape[0])
    if len(ia) < 3:
        raise ValueError(f"only {len(ia)} pair(s) have both words in the vocabulary: need at least 3")
    c = _row_cosines(A, ia, ib)
    r = stats.spearmanr(c, sc)[0] if method == "spearman" else stats.pearsonr(c, sc)[0]
    return float(r), float(cov), int(len(ia))


# --------------------------------------------------------------------------------------------------
# Liang et al. 2021: Learning to Remove
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightedRemoval:
    """``x -> (x - mu) - sum_j w_j (u_j^T (x - mu)) u_j`` with learned weights ``w`` (D,).

    ``train_before``/``train_after``: the training pairs' Pearson correlation with all weights 0
    (centring only) and with the learned weights.
    """

    mu: np.ndarray
    components: np.ndarray
    weights: np.ndarray
    train_before: float
    train_after: float

    def transform(self, X) -> np.ndarray:
        A = _check_matrix(X, "X")
        if A.shape[1] != self.mu.shape[0]:
            raise ValueError(f"X has {A.shape[1]} columns but the removal was fitted on {self.mu.shape[0]}")
        Z = A - self.mu
        Z -= ((Z @ self.components.T) * self.weights) @ self.components
        return Z.astype(np.float32)


def _torch_pearson(x, y):
    xc, yc = x - x.mean(), y - y.mean()
    return (xc * yc).sum() / (xc.norm() * yc.norm()).clamp_min(1e-12)


def weighted_removal(X, vocab, train_pairs, D: int = 10, steps: int = 300, lr: float = 0.05,
                     seed: int = 0) -> WeightedRemoval:
    """Learning to Remove (Liang et al. 2021): learn one weight per top principal component.

    ``X: (V, d)`` embeddings, ``vocab`` (dict word -> row, or list of words), ``train_pairs`` a
    DataFrame ``word1, word2, score``. The rows are centred, the top ``D`` principal components
    ``u_j`` of the whole of X are found, and weights ``w`` (start 0 = centring only; ``w = 1`` for
    all j would be all-but-the-top) are fitted with Adam for ``steps`` steps to maximise the Pearson
    correlation (a smooth surrogate of Spearman's) between ``cos(x'_a, x'_b)`` and the human scores
    of the training pairs. The best weights seen (by training Pearson, the start included) are
    returned, so training correlation never gets worse. Score the result on held-out pairs.
    """
    import torch

    A = _check_matrix(X, "X", min_rows=3)
    d = A.shape[1]
    D = as_int(D, "D", 1, d)
    steps = as_int(steps, "steps", 0)
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError("lr must be a positive number")
    ia, ib, sc, _ = similarity_pairs(vocab, train_pairs, n_rows=A.shape[0])
    if len(ia) < 3:
        raise ValueError(f"only {len(ia)} training pair(s) have both words in the vocabulary: need at least 3")
    if np.ptp(sc) == 0:
        raise ValueError("the training scores are all equal: nothing to correlate with")
    mu, U, _ = principal_components(A, D)
    Za = torch.tensor(A[ia] - mu)
    Zb = torch.tensor(A[ib] - mu)
    Ut = torch.tensor(U)
    y = torch.tensor(sc)
    g = torch.Generator().manual_seed(int(seed))
    w = torch.zeros(D, dtype=torch.float64, requires_grad=True)
    w.data += 1e-3 * torch.randn(D, generator=g, dtype=torch.float64)  # break exact ties, seeded
    opt = torch.optim.Adam([w], lr=lr)

    def corr(wv):
        a = Za - ((Za @ Ut.T) * wv) @ Ut
        b = Zb - ((Zb @ Ut.T) * wv) @ Ut
        cos = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)
        return _torch_pearson(cos, y)

    with torch.no_grad():
        before = float(corr(torch.zeros(D, dtype=torch.float64)))
    best_w, best = np.zeros(D), before
    with single_thread(torch=True):
        for _ in range(steps):
            opt.zero_grad()
            r = corr(w)
            if float(r.detach()) > best:
                best, best_w = float(r.detach()), w.detach().numpy().copy()
            (-r).backward()
            opt.step()
        with torch.no_grad():
            r = float(corr(w))
    if r > best:
        best, best_w = r, w.detach().numpy().copy()
    return WeightedRemoval(mu=mu, components=U, weights=best_w, train_before=before, train_after=best)


# --------------------------------------------------------------------------------------------------
# BERT-flow's idea: a small RealNVP normalizing flow
# --------------------------------------------------------------------------------------------------
class Flow:
    """A fitted RealNVP flow ``z = f(x)``: actnorm, then affine coupling layers with fixed permutations.

    ``transform(X) -> Z`` (float32, same shape), ``inverse(Z) -> X``, ``log_prob(X)`` (per-row log
    density of the model, in nats, including the log-determinant). ``losses``: the training negative
    log-likelihood per dimension, one value per step.
    """

    def __init__(self, net, losses):
        self._net = net
        self.losses = np.asarray(losses, dtype=np.float64)
        self.dim = net.dim

    def _run(self, X, fn):
        import torch

        A = _check_matrix(X, "X")
        if A.shape[1] != self.dim:
            raise ValueError(f"X has {A.shape[1]} columns but the flow was fitted on {self.dim}")
        outs = []
        with torch.no_grad():
            for s in range(0, A.shape[0], 8192):
                outs.append(fn(torch.tensor(A[s : s + 8192], dtype=torch.float32)))
        return outs

    def transform(self, X) -> np.ndarray:
        return np.concatenate([z.numpy() for z, _ in self._run(X, self._net.forward)]).astype(np.float32)

    def inverse(self, Z) -> np.ndarray:
        return np.concatenate([x.numpy() for x, _ in self._run(Z, lambda t: (self._net.inverse(t), None))]).astype(np.float32)

    def log_prob(self, X) -> np.ndarray:
        out = []
        for z, logdet in self._run(X, self._net.forward):
            out.append((-0.5 * (z * z).sum(1) - 0.5 * self.dim * math.log(2 * math.pi) + logdet).numpy())
        return np.concatenate(out).astype(np.float64)


def _build_flow(dim: int, n_layers: int, hidden: int, gen):
    import torch
    from torch import nn

    class Coupling(nn.Module):
        """y_b = x_b * exp(s(x_a)) + t(x_a), y_a = x_a, with (a, b) the first/second half of the
        coordinates (or the reverse when ``flip``); s is bounded by a learned scale times tanh."""

        def __init__(self, flip: bool):
            super().__init__()
            self.flip = flip
            h = dim // 2
            self.na, self.nb = (dim - h, h) if flip else (h, dim - h)
            self.net = nn.Sequential(nn.Linear(self.na, hidden), nn.GELU(), nn.Linear(hidden, 2 * self.nb))
            nn.init.zeros_(self.net[2].weight)  # start as the identity map
            nn.init.zeros_(self.net[2].bias)
            self.scale = nn.Parameter(torch.ones(self.nb))

        def _split(self, x):
            if self.flip:
                return x[:, self.nb :], x[:, : self.nb]
            return x[:, : self.na], x[:, self.na :]

        def _join(self, a, b):
            return torch.cat([b, a], 1) if self.flip else torch.cat([a, b], 1)

        def _st(self, xa):
            h = self.net(xa)
            return self.scale * torch.tanh(h[:, : self.nb]), h[:, self.nb :]

        def forward(self, x):
            xa, xb = self._split(x)
            s, t = self._st(xa)
            return self._join(xa, xb * torch.exp(s) + t), s.sum(1)

        def inverse(self, y):
            ya, yb = self._split(y)
            s, t = self._st(ya)
            return self._join(ya, (yb - t) * torch.exp(-s))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.dim = dim
            self.loc = nn.Parameter(torch.zeros(dim))
            self.log_scale = nn.Parameter(torch.zeros(dim))
            layers, perms = [], []
            for i in range(n_layers):
                layers.append(Coupling(flip=i % 2 == 1))
                perms.append(torch.randperm(dim, generator=gen))
            self.layers = nn.ModuleList(layers)
            for i, p in enumerate(perms):
                self.register_buffer(f"perm{i}", p)
                self.register_buffer(f"iperm{i}", torch.argsort(p))

        def forward(self, x):
            z = (x - self.loc) * torch.exp(self.log_scale)
            logdet = self.log_scale.sum().expand(x.shape[0]).clone()
            for i, layer in enumerate(self.layers):
                z = z[:, getattr(self, f"perm{i}")]
                z, ld = layer(z)
                logdet = logdet + ld
            return z, logdet

        def inverse(self, z):
            for i in reversed(range(len(self.layers))):
                z = self.layers[i].inverse(z)
                z = z[:, getattr(self, f"iperm{i}")]
            return z * torch.exp(-self.log_scale) + self.loc

    return Net()


def fit_flow(X, n_layers: int = 4, hidden: int = 128, steps: int = 300, batch_size: int = 256,
             lr: float = 2e-3, seed: int = 0) -> Flow:
    """Fit a RealNVP flow to ``X: (n, d)`` by maximum likelihood under a standard Gaussian base.

    BERT-flow (Li et al. 2020) maps sentence embeddings to an isotropic Gaussian with an invertible
    network trained by maximum likelihood. Here: an actnorm layer initialised from the data (per-
    dimension mean and std, then trained), ``n_layers`` affine coupling layers (each an MLP of width
    ``hidden`` on half of the coordinates predicting a bounded log-scale and a shift of the other
    half; halves alternate and a fixed random permutation, drawn from ``seed``, precedes each layer).
    Adam, ``steps`` mini-batches of ``batch_size`` rows drawn with ``seed``: a step budget, so the
    result does not depend on the machine's speed. Runs on one torch thread (restored afterwards), so
    the fit does not depend on the caller's thread count. Needs ``n >= 2`` rows and ``d >= 2``.
    """
    import torch

    A = _check_matrix(X, "X", min_rows=2)
    n, d = A.shape
    if d < 2:
        raise ValueError("a coupling flow needs at least 2 dimensions")
    n_layers = as_int(n_layers, "n_layers", 1)
    hidden = as_int(hidden, "hidden", 1)
    steps = as_int(steps, "steps", 0)
    batch_size = as_int(batch_size, "batch_size", 2)
    gen = torch.Generator().manual_seed(int(seed))
    torch.manual_seed(int(seed))  # nn.Linear's default initialisation
    net = _build_flow(d, n_layers, hidden, gen)
    Xt = torch.tensor(A, dtype=torch.float32)
    with torch.no_grad():
        net.loc.copy_(Xt.mean(0))
        net.log_scale.copy_(-torch.log(Xt.std(0).clamp_min(1e-6)))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    losses = []
    const = 0.5 * math.log(2 * math.pi)
    with single_thread(torch=True):
        for _ in range(steps):
            idx = torch.randint(0, n, (min(batch_size, n),), generator=gen)
            z, logdet = net(Xt[idx])
            nll = (0.5 * (z * z).sum(1) - logdet).mean() / d + const
            opt.zero_grad()
            nll.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            losses.append(float(nll.detach()))
    net.eval()
    return Flow(net, losses)


# --------------------------------------------------------------------------------------------------
# Wang & Isola 2020 and SimCSE
# --------------------------------------------------------------------------------------------------
def alignment_uniformity(Z, Z_pos, t: float = 2.0, max_pairs: int = 200_000, seed: int = 0):
    """Wang & Isola (2020)'s two losses on L2-normalised embeddings (lower is better for both).

    alignment  = mean ||f(x) - f(x+)||^2 over positive pairs (row i of ``Z`` and of ``Z_pos``);
    uniformity = log mean exp(-t ||f(x) - f(y)||^2) over distinct pairs of rows of ``Z``
    (all pairs if there are at most ``max_pairs``, else that many random pairs drawn with ``seed``).
    ``Z, Z_pos: (n, d)``, n >= 2. Returns ``(alignment, uniformity)``.
    """
    A = _check_matrix(Z, "Z", min_rows=2)
    B = _check_matrix(Z_pos, "Z_pos", min_rows=2)
    if A.shape != B.shape:
        raise ValueError(f"Z and Z_pos must have the same shape; got {A.shape} and {B.shape}")
    A = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)
    B = B / np.maximum(np.linalg.norm(B, axis=1, keepdims=True), 1e-12)
    align = float(((A - B) ** 2).sum(1).mean())
    n = A.shape[0]
    if n * (n - 1) // 2 <= max_pairs:
        i, j = np.triu_indices(n, 1)
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, n, max_pairs)
        j = (i + rng.integers(1, n, max_pairs)) % n
    sq = np.maximum(2.0 - 2.0 * (A[i] * A[j]).sum(1), 0.0)
    m = (-t * sq).max()
    unif = float(m + np.log(np.exp(-t * sq - m).mean()))
    return align, unif


def _encoder(model):
    enc = getattr(model, "base_model", model)
    if not hasattr(enc, "embeddings") or not hasattr(enc, "encoder"):
        raise ValueError("simcse expects a BERT-style transformers model (BertModel or BertForMaskedLM)")
    return enc


def _pool(out, attention_mask, pooling: str):
    if pooling == "cls":
        return out.last_hidden_state[:, 0]
    m = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
    return (out.last_hidden_state * m).sum(1) / m.sum(1).clamp_min(1.0)


def sentence_embeddings(model, tokenizer, sentences, pooling: str = "mean", batch_size: int = 64,
                        max_length: int = 32) -> np.ndarray:
    """Pooled last-layer sentence vectors (eval mode, no dropout): float32 ``(len(sentences), d)``."""
    import torch

    if isinstance(sentences, str) or not isinstance(sentences, Sequence) or len(sentences) < 1:
        raise ValueError("sentences must be a non-empty list of strings")
    if pooling not in ("mean", "cls"):
        raise ValueError(f"pooling must be 'mean' or 'cls'; got {pooling!r}")
    enc = _encoder(model)
    was_training = enc.training
    enc.eval()
    outs = []
    with torch.no_grad():
        for s in range(0, len(sentences), batch_size):
            b = tokenizer(list(sentences[s : s + batch_size]), padding=True, truncation=True,
                          max_length=max_length, return_tensors="pt")
            outs.append(_pool(enc(**b), b["attention_mask"], pooling).float().numpy())
    enc.train(was_training)
    return np.concatenate(outs).astype(np.float32)


@dataclass
class SimCSEResult:
    """``model``: the fine-tuned copy (the input model is left untouched); ``losses``: InfoNCE per step."""

    model: object
    losses: np.ndarray = field(repr=False)


def simcse(model, tokenizer, sentences, steps: int = 60, batch_size: int = 32, temperature: float = 0.05,
           pooling: str = "mean", lr: float = 3e-5, max_length: int = 32, seed: int = 0) -> SimCSEResult:
    """Unsupervised SimCSE (Gao, Yao & Chen 2021) for ``steps`` steps on a *copy* of ``model``.

    Each batch of ``batch_size`` sentences (drawn with ``seed``) is encoded twice in training mode,
    so the two views differ only by dropout; the loss is InfoNCE with cosine similarity / ``temperature``
    where each sentence's other view is the positive and the rest of the batch the negatives.
    ``pooling``: ``"mean"`` over non-padding tokens or ``"cls"``. The model's dropout must be > 0.
    Runs on one torch thread (small matrices; restored afterwards). Returns a ``SimCSEResult`` whose ``model`` is the encoder copy (eval mode).
    """
    import torch
    import torch.nn.functional as F

    if isinstance(sentences, str) or not isinstance(sentences, Sequence) or len(sentences) < 2:
        raise ValueError("sentences must be a list of at least 2 strings")
    if not all(isinstance(s, str) and s.strip() for s in sentences):
        raise ValueError("every sentence must be a non-empty string")
    steps = as_int(steps, "steps", 0)
    batch_size = as_int(batch_size, "batch_size", 2)
    if pooling not in ("mean", "cls"):
        raise ValueError(f"pooling must be 'mean' or 'cls'; got {pooling!r}")
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ValueError("temperature must be a positive number")
    enc = copy.deepcopy(_encoder(model))
    p_drop = getattr(enc.config, "hidden_dropout_prob", 0.0) or 0.0
    if p_drop <= 0:
        raise ValueError("SimCSE's positive view is dropout: the model's hidden_dropout_prob must be > 0")
    torch.manual_seed(int(seed))
    gen = np.random.default_rng(seed)
    opt = torch.optim.AdamW(enc.parameters(), lr=lr, weight_decay=0.0)
    enc.train()
    losses = []
    sentences = list(sentences)
    with single_thread(torch=True):
        for _ in range(steps):
            idx = gen.choice(len(sentences), size=min(batch_size, len(sentences)), replace=False)
            batch = [sentences[i] for i in idx]
            b = tokenizer(batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            b = {k: v.repeat(2, 1) for k, v in b.items()}
            out = enc(**b)
            h = F.normalize(_pool(out, b["attention_mask"], pooling), dim=-1)
            h1, h2 = h[: len(batch)], h[len(batch):]
            logits = h1 @ h2.T / temperature
            loss = F.cross_entropy(logits, torch.arange(len(batch)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    enc.eval()
    return SimCSEResult(model=enc, losses=np.asarray(losses))


# --------------------------------------------------------------------------------------------------
# Noise-aware word-similarity comparison (issue 13): split noise and paired-bootstrap gains
# --------------------------------------------------------------------------------------------------
__all__ += ["spearman_rows", "split_similarity", "similarity_gain"]


def spearman_rows(C, S) -> np.ndarray:
    """Spearman correlation of each row of ``C`` with the same row of ``S`` (both (B, n)), shape (B,).

    Average ranks for ties (``scipy.stats.rankdata``), so each row equals ``scipy.stats.spearmanr``.
    """
    C, S = np.atleast_2d(np.asarray(C, dtype=np.float64)), np.atleast_2d(np.asarray(S, dtype=np.float64))
    if C.shape != S.shape or C.shape[1] < 3:
        raise ValueError(f"C and S must have the same shape (B, n) with n >= 3; got {C.shape} and {S.shape}")
    return _ranked_corr(_centred_ranks(C), _centred_ranks(S))


def _centred_ranks(M: np.ndarray) -> np.ndarray:
    """Average ranks of each row of M (B, n) float64, minus the row mean."""
    from scipy.stats import rankdata

    r = rankdata(M, axis=1)
    r -= r.mean(axis=1, keepdims=True)
    return r


def _ranked_corr(rc: np.ndarray, rs: np.ndarray) -> np.ndarray:
    """Pearson correlation of the rows of two centred rank matrices (NaN where one row is constant)."""
    den = np.sqrt((rc**2).sum(axis=1) * (rs**2).sum(axis=1))
    return np.where(den > 0, (rc * rs).sum(axis=1) / np.where(den > 0, den, 1.0), np.nan)


def _pair_cosines(X, vocab, pairs):
    A = as_matrix(X, "X")  # finite, real, 2-D; only the rows used are converted to float64 (_row_cosines)
    ia, ib, sc, _ = similarity_pairs(vocab, pairs, n_rows=A.shape[0])
    if len(ia) < 6:
        raise ValueError(f"only {len(ia)} pair(s) have both words in the vocabulary: need at least 6")
    return _row_cosines(A, ia, ib), sc


def split_similarity(X, vocab, pairs, n_splits: int = 200, test_frac: float = 0.5, seed: int = 0) -> np.ndarray:
    """Spearman of cosine vs human score on the test part of ``n_splits`` random splits of the pairs, (n_splits,).

    Split ``k`` uses ``np.random.default_rng(seed)``'s k-th permutation of the *covered* pairs, so two
    embedding sets with the same vocabulary get the same splits (paired). The spread of the result
    is the noise a single random split adds to a reported score.
    """
    n_splits = as_int(n_splits, "n_splits")
    if n_splits < 1 or not (0 < test_frac < 1):
        raise ValueError("n_splits must be >= 1 and test_frac in (0, 1)")
    c, s = _pair_cosines(X, vocab, pairs)
    n = len(c)
    m = max(3, int(round(n * test_frac)))
    rng = np.random.default_rng(seed)
    idx = np.stack([rng.permutation(n)[:m] for _ in range(n_splits)])
    return spearman_rows(c[idx], s[idx])


def _boot_blocks(n_boot: int) -> list:
    """(start, stop) of the bootstrap blocks of 500 replicates ``similarity_gain`` draws at a time."""
    return [(a, min(n_boot, a + 500)) for a in range(0, n_boot, 500)]


@functools.lru_cache(maxsize=4)
def _boot_indices(n: int, n_boot: int, seed: int) -> tuple:
    """The resampled pair indices of each block, drawn from ``np.random.default_rng(seed)`` (read-only)."""
    rng = np.random.default_rng(seed)
    out = []
    for a, b in _boot_blocks(n_boot):
        idx = rng.integers(0, n, size=(b - a, n))
        idx.setflags(write=False)
        out.append(idx)
    return tuple(out)


_RANK_MEMO: dict = {}


def _resampled_ranks(v: np.ndarray, idx: np.ndarray, seed: int) -> np.ndarray:
    """``_centred_ranks(v[idx])``, remembered for the last few (v, idx) pairs: notebook 08 compares a dozen
    remedies with the same base cosines on the same resamples, so their ranks are computed once (read-only)."""
    v = np.ascontiguousarray(v, dtype=np.float64)
    key = (hashlib.sha1(v.tobytes()).hexdigest(), id(idx), idx.shape, seed)
    hit = _RANK_MEMO.get(key)
    if hit is not None and hit[0] is idx:
        return hit[1]
    r = _centred_ranks(v[idx])
    r.setflags(write=False)
    if len(_RANK_MEMO) >= 16:
        _RANK_MEMO.pop(next(iter(_RANK_MEMO)))
    _RANK_MEMO[key] = (idx, r)
    return r


def similarity_gain(X_base, X_new, vocab, pairs, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Spearman(X_new) - Spearman(X_base) on the same covered pairs, with a paired-bootstrap interval.

    Each bootstrap replicate resamples the pairs with replacement (``np.random.default_rng(seed)``) and
    recomputes both correlations on the same resample, so the interval reflects how much the *gain*
    depends on which pairs happen to be in the benchmark. Returns a dict with ``base``, ``new``,
    ``gain`` (on all pairs), ``lo``, ``hi`` (percentile interval at ``level``), ``n_pairs``,
    ``improves`` (True only when the whole interval is above 0), ``se`` (the bootstrap standard error of
    the gain) and ``p`` (two-sided p-value of "gain = 0" from the normal approximation ``gain / se``: unlike
    the percentile interval it resolves values far below ``1 / n_boot``, which a multiple-comparison
    correction such as :func:`holm` needs).
    """
    n_boot = as_int(n_boot, "n_boot")
    if n_boot < 100 or not (0.5 < level < 1):
        raise ValueError("n_boot must be >= 100 and level in (0.5, 1)")
    cb, s = _pair_cosines(X_base, vocab, pairs)
    cn, s2 = _pair_cosines(X_new, vocab, pairs)
    if len(cb) != len(cn):  # pragma: no cover - same vocab and pairs give the same coverage
        raise ValueError("X_base and X_new cover different pairs: give them the same vocabulary")
    base = float(spearman_rows(cb[None], s[None])[0])
    new = float(spearman_rows(cn[None], s[None])[0])
    gains = np.empty(n_boot)
    for (a, b), idx in zip(_boot_blocks(n_boot), _boot_indices(len(s), n_boot, seed)):
        rs = _resampled_ranks(s, idx, seed)   # the human scores' ranks, shared by both sides
        gains[a:b] = (_ranked_corr(_centred_ranks(np.asarray(cn[idx], dtype=np.float64)), rs)
                      - _ranked_corr(_resampled_ranks(cb, idx, seed), rs))
    lo, hi = np.nanpercentile(gains, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    se = float(np.nanstd(gains, ddof=1))
    from scipy.stats import norm

    p = float(2 * norm.sf(abs(new - base) / se)) if se > 0 else (1.0 if new == base else 0.0)
    return {"base": base, "new": new, "gain": new - base, "lo": float(lo), "hi": float(hi),
            "n_pairs": int(len(s)), "improves": bool(lo > 0), "se": se, "p": p}


def holm(pvalues) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values for a family of m tests (same order as ``pvalues``).

    Sort the p-values ascending, p_(1) <= ... <= p_(m); the adjusted value of the k-th is
    ``max_{j <= k} min(1, (m - j + 1) p_(j))``. Rejecting where the adjusted value is <= alpha keeps the
    chance of *any* false rejection among the m at most alpha, whatever their dependence (notebook 08
    corrects its 54 word-similarity intervals with it).
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError("pvalues must be a non-empty 1-D sequence of p-values")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("p-values must be finite numbers in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.maximum.accumulate(stepped)
    return out

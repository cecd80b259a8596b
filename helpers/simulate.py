"""Small, seeded toy worlds for the theory notebooks (03 layer norm, 04 rare words).

Gao et al. (ICLR 2019, "Representation Degeneration Problem in Training Natural Language
Generation Models") argue with a softmax layer whose hidden states are *fixed*: if the hidden states'
convex hull misses the origin, a word that is rare (or never seen) is pushed along one
"uniformly negative" direction. This module builds that world in a few dimensions:

- ``layer_norm(X, g, b)``                      -- the layer-norm map h' = g * (h - mean) / std + b;
- ``toy_hidden_states(n, d, ...)``             -- random inputs through a random layer norm (n, d);
- ``zipf_frequencies(V, s)``                   -- Zipf unigram probabilities (V,);
- ``sample_targets(H, freqs, ...)``            -- next-word targets for each context (n,);
- ``train_softmax_embeddings(H, y, V, ...)``   -- full-batch gradient descent on the output embeddings;
- ``frequency_buckets(counts, n_buckets)``     -- bucket ids by frequency rank (0 = most frequent);
- ``bucket_statistics(W, buckets, u)``         -- norm, cosine to ``u``, mean pairwise cosine per bucket;
- ``word_loss(w, H, log_C, seen, lam)`` and ``minimise_word_loss(...)`` -- the loss of *one* word's
  embedding with every other word held fixed (notebook 04's Theorem 3 experiments).

Everything is float64 numpy on the CPU, seeded through ``numpy.random.default_rng(seed)`` and
budgeted in steps (never wall-clock time), so notebook outputs are reproducible. Shapes: n contexts,
d dimensions, V words.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._checks import as_int, as_matrix

__all__ = [
    "layer_norm",
    "toy_hidden_states",
    "zipf_frequencies",
    "sample_targets",
    "train_softmax_embeddings",
    "frequency_buckets",
    "bucket_statistics",
    "word_loss",
    "minimise_word_loss",
]


# --------------------------------------------------------------------------- validation helpers
def _matrix(X, name: str) -> np.ndarray:
    return as_matrix(X, name, dtype=np.float64)


def _vector(x, name: str, size: int | None = None) -> np.ndarray:
    try:
        v = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric vector") from None
    if v.ndim != 1:
        raise ValueError(f"{name} must be a 1-d vector, got {v.ndim} dimension(s)")
    if v.size == 0:
        raise ValueError(f"{name} is empty")
    if size is not None and v.size != size:
        raise ValueError(f"{name} has length {v.size} but must have length {size}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return v


def _nonneg_float(x, name: str, positive: bool = False) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {x!r}") from None
    if not np.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {x!r}")
    return v


# --------------------------------------------------------------------------- layer norm world
def layer_norm(X, g, b, eps: float = 1e-12) -> np.ndarray:
    """Layer normalisation of each row (Ba et al. 2016): ``g * (x - mean(x)) / std(x) + b``.

    X: (n, d); g, b: (d,). ``std`` is the biased standard deviation with ``eps`` added to the
    variance, as in ``torch.nn.LayerNorm``. Notebook 03 shows every output row satisfies
    ``sum_i (h'_i - b_i) / g_i = 0`` -- all outputs lie on one hyperplane.
    """
    X = _matrix(X, "X")
    d = X.shape[1]
    g = _vector(g, "g", d)
    b = _vector(b, "b", d)
    eps = _nonneg_float(eps, "eps")
    Z = X - X.mean(axis=1, keepdims=True)
    var = (Z**2).mean(axis=1, keepdims=True)
    if np.any(var + eps == 0):
        raise ValueError("a row of X is constant and eps is 0: its layer norm is undefined")
    return g * Z / np.sqrt(var + eps) + b


def toy_hidden_states(n: int, d: int, bias_mean: float = 0.3, bias_scale: float = 0.3,
                      gain_range=(0.5, 1.5), seed: int = 0):
    """Random contexts pushed through a random layer norm: returns ``(H, g, b)``.

    H: (n, d) rows ``layer_norm(x_i, g, b)`` with x_i ~ N(0, I_d); gains g ~ Uniform(gain_range);
    biases b ~ N(bias_mean, bias_scale^2). With ``bias_mean != 0`` the hyperplane the outputs lie on
    is (with high probability) far from the origin, so the convex hull of H misses the origin.
    """
    n = as_int(n, "n")
    d = as_int(d, "d", 2)
    bias_mean = float(bias_mean)
    bias_scale = _nonneg_float(bias_scale, "bias_scale")
    lo, hi = (float(v) for v in gain_range)
    if not (0 < lo <= hi) or not np.isfinite(hi):
        raise ValueError("gain_range must be (low, high) with 0 < low <= high")
    rng = np.random.default_rng(seed)
    g = rng.uniform(lo, hi, size=d)
    b = bias_mean + bias_scale * rng.standard_normal(d)
    X = rng.standard_normal((n, d))
    return layer_norm(X, g, b), g, b


# --------------------------------------------------------------------------- a Zipfian language
def zipf_frequencies(V: int, s: float = 1.0) -> np.ndarray:
    """Zipf's law: probabilities proportional to ``1 / rank**s`` for ranks 1..V, shape (V,)."""
    V = as_int(V, "V", 2)
    s = _nonneg_float(s, "s")
    p = 1.0 / np.arange(1, V + 1, dtype=np.float64) ** s
    return p / p.sum()


def sample_targets(H, freqs, scale: float = 1.0, seed: int = 0):
    """Draw one next word per context: ``P(y=v | h) ∝ freqs_v * exp(<h, t_v>)``.

    H: (n, d) contexts; freqs: (V,) positive prior (e.g. ``zipf_frequencies``); the hidden "true"
    word directions t_v ~ N(0, scale^2 / d * I) make the targets depend on the context.
    Returns ``(y, T)``: y (n,) int64 word ids and T (V, d) the true directions.
    """
    H = _matrix(H, "H")
    freqs = _vector(freqs, "freqs")
    if np.any(freqs <= 0):
        raise ValueError("freqs must be strictly positive")
    scale = _nonneg_float(scale, "scale")
    rng = np.random.default_rng(seed)
    n, d = H.shape
    V = freqs.size
    T = rng.standard_normal((V, d)) * scale / np.sqrt(d)
    y = np.empty(n, dtype=np.int64)
    logf = np.log(freqs / freqs.sum())
    for start in range(0, n, 1024):  # chunked: (chunk, V) at a time
        logits = H[start:start + 1024] @ T.T + logf
        logits -= logits.max(axis=1, keepdims=True)
        P = np.exp(logits)
        P /= P.sum(axis=1, keepdims=True)
        u = rng.random((P.shape[0], 1))
        y[start:start + 1024] = np.minimum((P.cumsum(axis=1) < u).sum(axis=1), V - 1)
    return y, T


def train_softmax_embeddings(H, y, V: int, steps: int = 300, lr: float = 1.0,
                             weight_decay: float = 0.0, init_scale: float = 0.01, seed: int = 0,
                             record_every: int = 0, optimizer: str = "gd", snapshot_steps=()):
    """Train output word embeddings W (V, d) of a softmax layer on fixed hidden states.

    Loss: mean over contexts of ``-log softmax(H W^T)[i, y_i] + weight_decay * ||W||_F^2``, minimised
    over ``steps`` full-batch steps (float64) from W ~ N(0, init_scale^2) drawn with
    ``numpy.random.default_rng(seed)``. ``optimizer="gd"``: plain gradient descent with step ``lr``;
    ``"adam"``: Adam (Kingma & Ba 2015; betas 0.9, 0.999, eps 1e-8) with step ``lr`` -- per-coordinate
    normalised steps, so a word with tiny but consistent gradients still moves ``lr`` per step.
    This is Gao et al.'s setting: with the hidden states fixed, the tied embedding matrix only sees
    them at the output. Returns ``(W, losses)`` with ``losses`` the loss at step 0 and then every
    ``record_every`` steps (only the final loss when ``record_every`` is 0). With ``snapshot_steps``
    (step numbers in ``0..steps``) it returns ``(W, losses, {step: copy of W after that many steps})``.
    """
    H = _matrix(H, "H")
    y = np.asarray(y)
    if y.ndim != 1 or y.size != H.shape[0]:
        raise ValueError(f"y must be a 1-d array with one target per row of H ({H.shape[0]}), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError("y must hold integer word ids")
    V = as_int(V, "V", 2)
    if y.min() < 0 or y.max() >= V:
        raise ValueError(f"word ids in y must lie in 0..{V - 1}")
    steps = as_int(steps, "steps")
    lr = _nonneg_float(lr, "lr", positive=True)
    weight_decay = _nonneg_float(weight_decay, "weight_decay")
    init_scale = _nonneg_float(init_scale, "init_scale")
    record_every = int(record_every)
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"optimizer must be 'gd' or 'adam', got {optimizer!r}")
    snap_at = set()
    for t in snapshot_steps:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t <= steps:
            raise ValueError(f"snapshot_steps must be integers in 0..{steps}, got {t!r}")
        snap_at.add(int(t))
    rng = np.random.default_rng(seed)
    n = H.shape[0]
    rows = np.arange(n)
    W = rng.standard_normal((V, H.shape[1])) * init_scale
    losses, snaps = [], {}
    for step in range(steps + 1):
        if step in snap_at:
            snaps[step] = W.copy()
        logits = H @ W.T  # (n, V)
        m = logits.max(axis=1, keepdims=True)
        P = np.exp(logits - m)
        Z = P.sum(axis=1, keepdims=True)
        if (record_every and step % record_every == 0) or step == steps:
            nll = np.log(Z[:, 0]) + m[:, 0] - logits[rows, y]
            losses.append(float(nll.mean()) + weight_decay * float((W**2).sum()))
        if step == steps:
            break
        P /= Z  # softmax
        P[rows, y] -= 1.0
        grad = P.T @ H / n  # d loss / d W, shape (V, d)
        if weight_decay:
            grad += 2.0 * weight_decay * W
        if optimizer == "gd":
            W -= lr * grad
        else:
            if step == 0:
                m1, m2 = np.zeros_like(W), np.zeros_like(W)
            m1 = 0.9 * m1 + 0.1 * grad
            m2 = 0.999 * m2 + 0.001 * grad**2
            W -= lr * (m1 / (1 - 0.9 ** (step + 1))) / (np.sqrt(m2 / (1 - 0.999 ** (step + 1))) + 1e-8)
    if snap_at:
        return W, np.array(losses), snaps
    return W, np.array(losses)


# --------------------------------------------------------------------------- measuring the result
def frequency_buckets(counts, n_buckets: int = 8) -> np.ndarray:
    """Bucket id (0 = most frequent) for each word, equal-sized buckets by frequency rank.

    counts: (V,) non-negative word counts (ties broken by word id, so the result is deterministic).
    """
    counts = _vector(counts, "counts")
    if np.any(counts < 0):
        raise ValueError("counts must be non-negative")
    n_buckets = as_int(n_buckets, "n_buckets")
    if n_buckets > counts.size:
        raise ValueError(f"n_buckets ({n_buckets}) cannot exceed the number of words ({counts.size})")
    order = np.lexsort((np.arange(counts.size), -counts))  # most frequent first
    ranks = np.empty(counts.size, dtype=np.int64)
    ranks[order] = np.arange(counts.size)
    return (ranks * n_buckets) // counts.size


def bucket_statistics(W, buckets, direction, counts=None) -> pd.DataFrame:
    """Per frequency bucket: mean norm, mean cosine to ``direction``, mean pairwise cosine.

    W: (V, d) embeddings; buckets: (V,) integer bucket ids; direction: (d,) e.g. the uniformly
    negative direction of the hidden states. Optional counts (V,) add the bucket's mean count.
    The pairwise cosine averages over distinct pairs inside a bucket (a bucket of one word gives NaN).
    """
    W = _matrix(W, "W")
    V, d = W.shape
    buckets = np.asarray(buckets)
    if buckets.shape != (V,) or not np.issubdtype(buckets.dtype, np.integer):
        raise ValueError(f"buckets must be an integer vector with one entry per row of W ({V})")
    u = _vector(direction, "direction", d)
    if np.linalg.norm(u) == 0:
        raise ValueError("direction must be a non-zero vector")
    u = u / np.linalg.norm(u)
    if counts is not None:
        counts = _vector(counts, "counts", V)
    norms = np.linalg.norm(W, axis=1)
    if np.any(norms == 0):
        raise ValueError("W has an all-zero row: its cosine is undefined")
    Wn = W / norms[:, None]
    rows = []
    for k in np.unique(buckets):
        idx = np.flatnonzero(buckets == k)
        E = Wn[idx]
        m = len(idx)
        s = E.sum(axis=0)
        pair = (float(s @ s) - m) / (m * (m - 1)) if m > 1 else float("nan")
        row = {"bucket": int(k), "n_words": m, "mean_norm": float(norms[idx].mean()),
               "cos_to_direction": float((E @ u).mean()), "pairwise_cos": pair}
        if counts is not None:
            row["mean_count"] = float(counts[idx].mean())
        rows.append(row)
    return pd.DataFrame(rows).set_index("bucket")


# --------------------------------------------------------------------------- one word's loss
def word_loss(w, H, log_C, seen=None, lam: float = 0.0, eps: float | None = None):
    """Loss of one word's output embedding ``w`` with every other word held fixed; ``(value, grad)``.

    For context i with hidden state h_i let ``C_i = sum_{v != word} exp(<h_i, w_v>)`` (pass
    ``log_C_i``). Then ``l_i(w) = log(exp(<h_i, w>) + C_i)`` is the part of context i's log-loss that
    depends on w, and a context whose target *is* the word adds ``-<h_i, w>``:

    - ``seen=None`` or all False: f(w) = mean_i l_i(w) + lam ||w||^2 -- the never-seen word;
    - otherwise with ``eps=None``: the plain average over all contexts;
    - with ``eps`` in [0, 1]: Gao et al.'s split ``(1 - eps) f(w) + eps g(w)`` where f averages over the
      contexts without the word, g over those with it (each + lam ||w||^2).

    H: (n, d); log_C: (n,); seen: (n,) bool. Returns the float value and the (d,) gradient.
    """
    H = _matrix(H, "H")
    n, d = H.shape
    w = _vector(w, "w", d)
    log_C = _vector(log_C, "log_C", n)
    lam = _nonneg_float(lam, "lam")
    seen = np.zeros(n, dtype=bool) if seen is None else np.asarray(seen)
    if seen.shape != (n,) or seen.dtype != bool:
        raise ValueError(f"seen must be a boolean vector with one entry per row of H ({n})")
    z = H @ w
    m = np.maximum(z, log_C)
    ell = m + np.log(np.exp(z - m) + np.exp(log_C - m))  # log(exp z + C), stable
    sig = np.exp(z - ell)  # d ell / d z
    per = ell - np.where(seen, z, 0.0)
    dper = sig - seen.astype(np.float64)
    if eps is None:
        weights = np.full(n, 1.0 / n)
    else:
        eps = float(eps)
        if not 0.0 <= eps <= 1.0:
            raise ValueError(f"eps must lie in [0, 1], got {eps}")
        n_s = int(seen.sum())
        if n_s == 0 or n_s == n:
            raise ValueError("with eps given, seen must mark some but not all contexts")
        weights = np.where(seen, eps / n_s, (1.0 - eps) / (n - n_s))
    value = float(weights @ per + lam * (w @ w))
    grad = H.T @ (weights * dper) + 2.0 * lam * w
    return value, grad


def minimise_word_loss(H, log_C, seen=None, lam: float = 0.0, eps: float | None = None,
                       w0=None, tol: float = 1e-10, max_iter: int = 5000):
    """Minimise ``word_loss`` with L-BFGS (scipy); returns the minimiser w* of shape (d,).

    Needs ``lam > 0`` unless some context has the word as its target: without weight decay a
    never-seen word's loss has a finite minimiser only when the origin lies in the *relative
    interior* of the hull of H (none when it is outside the hull or on its relative boundary;
    ``theory.origin_position``).
    """
    from scipy.optimize import minimize

    H = _matrix(H, "H")
    lam = _nonneg_float(lam, "lam")
    if lam == 0 and (seen is None or not np.any(seen)):
        raise ValueError("a never-seen word needs lam > 0: otherwise its loss may have no finite minimiser")
    w0 = np.zeros(H.shape[1]) if w0 is None else _vector(w0, "w0", H.shape[1])
    res = minimize(word_loss, w0, args=(H, log_C, seen, lam, eps), jac=True, method="L-BFGS-B",
                   options={"maxiter": int(max_iter), "gtol": tol, "ftol": 1e-15, "maxcor": 30})
    return res.x

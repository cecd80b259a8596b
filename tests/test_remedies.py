"""Each remedy of helpers.remedies against the property that defines it (notebook 08)."""
import numpy as np
import pandas as pd
import pytest
import torch

from helpers import remedies as R
from helpers import remedies


def _aniso(n=2000, d=16, seed=0, shift=3.0):
    """Anisotropic, shifted Gaussian cloud: a common offset plus very unequal variances."""
    rng = np.random.default_rng(seed)
    scales = np.geomspace(10.0, 0.1, d)
    Q, _ = np.linalg.qr(np.random.default_rng(1234).standard_normal((d, d)))  # same rotation for every seed
    return (rng.standard_normal((n, d)) * scales) @ Q.T + shift


# ---------------------------------------------------------------------------- cosine regulariser
def _naive(W):
    U = W / W.norm(dim=1, keepdim=True)
    G = U @ U.T
    n = W.shape[0]
    return (G.sum() - G.diagonal().sum()) / (n * (n - 1))


def test_cosine_regulariser_value_and_gradient_match_naive_form():
    g = torch.Generator().manual_seed(0)
    W1 = (torch.randn(40, 7, generator=g, dtype=torch.float64) + 0.5).requires_grad_(True)
    W2 = W1.detach().clone().requires_grad_(True)
    fast, slow = R.cosine_regulariser(W1), _naive(W2)
    assert abs(float(fast.detach()) - float(slow.detach())) < 1e-12
    fast.backward()
    slow.backward()
    assert torch.allclose(W1.grad, W2.grad, atol=1e-12, rtol=1e-9)
    # the numpy path returns the same value as a float
    val = R.cosine_regulariser(W1.detach().numpy())
    assert isinstance(val, float) and abs(val - float(slow.detach())) < 1e-12


def test_cosine_regulariser_extremes_and_zero_rows():
    same = np.tile([[1.0, 2.0, 3.0]], (5, 1)) * np.arange(1, 6)[:, None]
    assert abs(R.cosine_regulariser(same) - 1.0) < 1e-12
    opposite = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert abs(R.cosine_regulariser(opposite) + 1.0) < 1e-12
    # a zero row is left out and gets no gradient (BERT's [PAD] row)
    W = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], requires_grad=True)
    r = R.cosine_regulariser(W)
    ref = R.cosine_regulariser(W.detach()[1:].numpy())
    assert abs(float(r.detach()) - ref) < 1e-6
    r.backward()
    assert torch.isfinite(W.grad).all() and float(W.grad[0].abs().sum()) == 0.0


# ---------------------------------------------------------------------------- post-processing
def test_whiten_gives_identity_covariance_and_truncates():
    X = _aniso()
    Z = R.whiten(X)
    assert np.abs(Z.mean(0)).max() < 1e-4
    assert np.abs(np.cov(Z, rowvar=False) - np.eye(16)).max() < 1e-4
    Zk = R.whiten(X, k=5)
    assert Zk.shape == (2000, 5)
    assert np.abs(np.cov(Zk, rowvar=False) - np.eye(5)).max() < 1e-4
    # the fitted map applies to new rows from the same distribution: covariance near I
    wt = R.fit_whitening(X)
    Zn = wt.transform(_aniso(seed=1))
    assert np.abs(np.cov(Zn, rowvar=False) - np.eye(16)).max() < 0.2


def test_all_but_the_top_removes_mean_and_top_components():
    X = _aniso()
    D = 3
    Y = R.all_but_the_top(X, D=D)
    mu, U, lam = R.principal_components(X, D)
    assert np.abs(Y.mean(0)).max() < 1e-4
    assert np.abs(Y @ U.T).max() < 1e-3 * np.abs(X - mu).max()
    # everything orthogonal to the top components is untouched
    rest = R.principal_components(X)[1][D:]
    assert np.allclose((X - mu) @ rest.T, Y @ rest.T, atol=1e-3)
    # default D = max(1, round(d / 100)) = 1 for d = 16
    Y1 = R.all_but_the_top(X)
    assert np.abs(Y1 @ U[0]).max() < 1e-3


def test_standardize_unit_variance():
    Z = R.standardize(_aniso())
    assert np.allclose(Z.std(0, ddof=1), 1.0, atol=1e-5)
    assert np.abs(Z.mean(0)).max() < 1e-5


def test_flow_gaussianises_held_out_rows():
    rng = np.random.default_rng(0)
    X = _aniso(n=3000, d=8, seed=0)
    X[:, 0] = np.exp(X[:, 0] / 10.0)  # a skewed coordinate as well
    idx = rng.permutation(len(X))
    train, held = X[idx[:2500]], X[idx[2500:]]
    flow = R.fit_flow(train, n_layers=4, hidden=32, steps=300, batch_size=256, seed=0)
    Z = flow.transform(held)
    d = X.shape[1]
    gap_in = np.linalg.norm(np.cov(held, rowvar=False) - np.eye(d))
    corr_in = np.linalg.norm(np.corrcoef(held, rowvar=False) - np.eye(d))
    gap_out = np.linalg.norm(np.cov(Z, rowvar=False) - np.eye(d))
    assert np.abs(Z.mean(0)).max() < 0.2
    assert gap_out < gap_in and gap_out < corr_in
    assert flow.losses[-20:].mean() < flow.losses[:20].mean()
    # invertible, and log_prob is finite
    assert np.abs(flow.inverse(Z) - held).max() < 1e-3 * np.abs(held).max()
    assert np.isfinite(flow.log_prob(held)).all()
    # seeded: the same fit twice gives the same map
    again = R.fit_flow(train, n_layers=4, hidden=32, steps=20, batch_size=256, seed=0)
    again2 = R.fit_flow(train, n_layers=4, hidden=32, steps=20, batch_size=256, seed=0)
    assert np.array_equal(again.transform(held), again2.transform(held))


# ---------------------------------------------------------------------------- learning to remove
def _similarity_case(seed=0):
    """Words whose similarity lives in a few dims, plus one big shared nuisance direction whose
    per-word coefficient is random: removing it raises the cosine/score correlation."""
    rng = np.random.default_rng(seed)
    n, d = 300, 12
    sem = rng.standard_normal((n, 4))
    nuis = rng.standard_normal(n) * 6.0
    X = np.zeros((n, d))
    X[:, :4] = sem
    X[:, 4:] = 0.05 * rng.standard_normal((n, d - 4))
    X[:, 4] += nuis
    words = [f"w{i}" for i in range(n)]
    a, b = rng.integers(0, n, 400), rng.integers(0, n, 400)
    keep = a != b
    a, b = a[keep], b[keep]
    sa, sb = sem[a], sem[b]
    score = (sa * sb).sum(1) / (np.linalg.norm(sa, axis=1) * np.linalg.norm(sb, axis=1))
    pairs = pd.DataFrame({"word1": [words[i] for i in a], "word2": [words[i] for i in b], "score": score})
    return X, words, pairs


def test_weighted_removal_improves_training_correlation():
    X, words, pairs = _similarity_case()
    fit = R.weighted_removal(X, words, pairs, D=3, steps=200, seed=0)
    assert fit.train_after > fit.train_before + 0.2
    r_before = R.similarity_correlation(X - X.mean(0), words, pairs, method="pearson")[0]
    r_after = R.similarity_correlation(fit.transform(X), words, pairs, method="pearson")[0]
    assert abs(r_before - fit.train_before) < 1e-6 and abs(r_after - fit.train_after) < 1e-6
    # held-out pairs from the same construction improve too
    _, _, test_pairs = _similarity_case(seed=0)
    assert R.similarity_correlation(fit.transform(X), words, test_pairs)[0] > R.similarity_correlation(X, words, test_pairs)[0]


def test_similarity_correlation_coverage():
    X, words, pairs = _similarity_case()
    extra = pd.concat([pairs, pd.DataFrame({"word1": ["zzz"] * 100, "word2": ["w1"] * 100, "score": 1.0})])
    r, cov, n = R.similarity_correlation(X, {w: i for i, w in enumerate(words)}, extra)
    assert n == len(pairs) and abs(cov - len(pairs) / len(extra)) < 1e-12 and -1 <= r <= 1


# ---------------------------------------------------------------------------- alignment, uniformity
def test_alignment_uniformity_extremes():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 8))
    align, unif = R.alignment_uniformity(Z, Z)
    assert align == 0.0
    collapsed = np.ones((200, 8)) + 1e-9 * rng.standard_normal((200, 8))
    assert abs(R.alignment_uniformity(collapsed, collapsed)[1]) < 1e-6  # log E exp(0) = 0: worst
    assert unif < -1.0  # spread points are far more uniform


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call",
    [
        lambda: R.whiten(np.array([[1.0, np.nan], [2.0, 3.0], [0.0, 1.0]])),
        lambda: R.whiten(np.random.default_rng(0).standard_normal((50, 4)), k=5),
        lambda: R.whiten(np.random.default_rng(0).standard_normal((4, 10))),
        lambda: R.whiten(np.arange(5.0)),
        lambda: R.all_but_the_top(np.arange(5.0)),
        lambda: R.all_but_the_top(np.random.default_rng(0).standard_normal((50, 4)), D=4),
        lambda: R.all_but_the_top(np.array([[np.inf, 1.0], [1.0, 2.0]])),
        lambda: R.standardize(np.ones((10, 3))),
        lambda: R.standardize(np.array([[1.0, 2.0]])),
        lambda: R.cosine_regulariser(np.array([1.0, 2.0])),
        lambda: R.cosine_regulariser(torch.tensor([[1.0, float("nan")], [0.0, 1.0]])),
        lambda: R.cosine_regulariser(np.array([[1.0, 2.0]])),
        lambda: R.fit_flow(np.random.default_rng(0).standard_normal((50, 1))),
        lambda: R.fit_flow(np.array([[np.nan, 1.0], [1.0, 2.0]])),
        lambda: R.fit_flow(np.random.default_rng(0).standard_normal((50, 3)), steps=-1),
        lambda: R.weighted_removal(np.random.default_rng(0).standard_normal((5, 3)), ["a", "b", "c", "d", "e"],
                                   pd.DataFrame({"word1": ["a"], "word2": ["b"], "score": [1.0]})),
        lambda: R.similarity_correlation(np.zeros((3, 2)), ["a", "b", "c"], pd.DataFrame({"x": [1]})),
        lambda: R.alignment_uniformity(np.ones((3, 2)), np.ones((4, 2))),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


# --- noise-aware word similarity (issue 13) -------------------------------------------------------

def _toy_sim(n_words=60, n_pairs=300, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_words, 5))
    words = [f"w{i}" for i in range(n_words)]
    a, b = rng.integers(0, n_words, n_pairs), rng.integers(0, n_words, n_pairs)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    score = (U[a] * U[b]).sum(1) + rng.normal(scale=0.3, size=n_pairs)
    pairs = pd.DataFrame({"word1": [words[i] for i in a], "word2": [words[i] for i in b], "score": score})
    return X, words, pairs


def test_spearman_rows_equals_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    C, S = rng.normal(size=(4, 30)), rng.normal(size=(4, 30))
    S[:, :5] = 1.0  # ties
    got = remedies.spearman_rows(C, S)
    assert np.allclose(got, [spearmanr(C[k], S[k])[0] for k in range(4)])
    with pytest.raises(ValueError):
        remedies.spearman_rows(C, S[:, :10])


def test_similarity_gain_identity_is_zero_and_noise_is_caught():
    X, words, pairs = _toy_sim()
    same = remedies.similarity_gain(X, X, words, pairs, n_boot=300)
    assert same["gain"] == 0 and same["lo"] == 0 and same["hi"] == 0 and not same["improves"]
    assert same["base"] == pytest.approx(remedies.similarity_correlation(X, words, pairs)[0])
    # destroying the geometry is a clear loss; the interval excludes 0 from below
    noise = np.random.default_rng(5).normal(size=X.shape)
    worse = remedies.similarity_gain(X, noise, words, pairs, n_boot=300)
    assert worse["hi"] < 0 and not worse["improves"]
    better = remedies.similarity_gain(noise, X, words, pairs, n_boot=300)
    assert better["lo"] > 0 and better["improves"]
    # a small random perturbation is not called an improvement
    tiny = remedies.similarity_gain(X, X + 0.05 * noise, words, pairs, n_boot=300)
    assert tiny["lo"] < 0 < tiny["hi"] and not tiny["improves"]


def test_split_similarity_spread_and_pairing():
    X, words, pairs = _toy_sim()
    r = remedies.split_similarity(X, words, pairs, n_splits=50, seed=1)
    full = remedies.similarity_correlation(X, words, pairs)[0]
    assert r.shape == (50,) and abs(r.mean() - full) < 0.05 and r.std() > 0
    assert np.array_equal(r, remedies.split_similarity(X, words, pairs, n_splits=50, seed=1))
    with pytest.raises(ValueError):
        remedies.split_similarity(X, words, pairs, n_splits=0)
    with pytest.raises(ValueError):
        remedies.similarity_gain(X, X, words, pairs, n_boot=10)


def test_similarity_gain_memo_is_exact_and_keyed_on_content():
    """similarity_gain remembers the ranks of resampled cosines; it must give what a fresh computation gives,
    and a changed base matrix (same object, new values) must not reuse the old ranks."""
    X, words, pairs = _toy_sim()
    noise = np.random.default_rng(7).normal(size=X.shape)
    first = remedies.similarity_gain(X, X + noise, words, pairs, n_boot=600, seed=2)
    assert remedies.similarity_gain(X, X + noise, words, pairs, n_boot=600, seed=2) == first
    remedies._RANK_MEMO.clear()
    remedies._boot_indices.cache_clear()
    assert remedies.similarity_gain(X, X + noise, words, pairs, n_boot=600, seed=2) == first
    base = X.copy()
    a = remedies.similarity_gain(base, X, words, pairs, n_boot=600, seed=2)
    base += 0.5 * noise                      # in place: same object, other values
    b = remedies.similarity_gain(base, X, words, pairs, n_boot=600, seed=2)
    remedies._RANK_MEMO.clear()
    assert remedies.similarity_gain(base, X, words, pairs, n_boot=600, seed=2) == b and a != b
    # a dict vocabulary and the word list give the same pairs
    assert remedies.similarity_gain(X, X + noise, {w: i for i, w in enumerate(words)}, pairs, n_boot=600, seed=2) == first


def test_holm_matches_the_step_down_definition():
    from helpers.remedies import holm

    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    assert np.allclose(holm(p), [0.03, 0.06, 0.06, 0.02])
    rng = np.random.default_rng(0)
    for _ in range(200):
        q = rng.uniform(0, 1, rng.integers(1, 30)) ** 3
        adj = holm(q)
        assert (adj >= q - 1e-15).all() and (adj <= 1).all()
        m, order = len(q), np.argsort(q)
        for alpha in (0.01, 0.05, 0.2):   # reject exactly the prefix Holm's procedure rejects
            k = 0
            while k < m and q[order[k]] <= alpha / (m - k):
                k += 1
            assert set(np.flatnonzero(adj <= alpha)) == set(order[:k])
    assert np.allclose(holm([0.5]), [0.5]) and np.allclose(holm([0.3, 0.3]), [0.6, 0.6])
    for bad in ([], [0.1, np.nan], [1.5], [[0.1, 0.2]]):
        with pytest.raises(ValueError):
            holm(bad)


def test_similarity_gain_reports_a_p_value_consistent_with_its_interval():
    from helpers import remedies

    rng = np.random.default_rng(1)
    vocab = [f"w{i}" for i in range(60)]
    X = rng.standard_normal((60, 8))
    ij = [(i, j) for i, j in rng.integers(0, 60, (150, 2)) if i != j]
    Xt = rng.standard_normal((60, 8))                         # the "truth" the human scores follow
    U = Xt / np.linalg.norm(Xt, axis=1, keepdims=True)
    pairs = pd.DataFrame({"word1": [f"w{i}" for i, _ in ij], "word2": [f"w{j}" for _, j in ij],
                          "score": [float(U[i] @ U[j]) for i, j in ij]})
    g = remedies.similarity_gain(Xt, Xt, vocab, pairs, n_boot=200)
    assert g["gain"] == 0 and g["p"] == 1.0                   # no change: p = 1
    for noise, seed in ((0.3, 3), (1.0, 4), (3.0, 5), (10.0, 6)):   # from a small loss to a large one
        g = remedies.similarity_gain(Xt, Xt + noise * rng.standard_normal(Xt.shape), vocab, pairs, n_boot=200, seed=seed)
        assert 0 <= g["p"] <= 1 and g["se"] > 0 and g["gain"] < 0
        excludes = g["lo"] > 0 or g["hi"] < 0
        if abs(g["p"] - 0.05) > 0.03:   # away from the edge, the percentile interval and the p agree
            assert excludes == (g["p"] < 0.05), g

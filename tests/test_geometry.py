"""helpers.geometry against brute-force references on small random data, known cases, bad input."""
import numpy as np
import pandas as pd
import pytest

from helpers import geometry as g
from helpers import geometry


def brute_knn(X, k, query=None):
    X = np.asarray(X, dtype=np.float64)
    q = np.arange(len(X)) if query is None else np.asarray(query)
    D = np.sqrt(((X[q][:, None, :] - X[None, :, :]) ** 2).sum(-1))
    D[np.arange(len(q)), q] = np.inf
    order = np.argsort(D, axis=1, kind="stable")[:, :k]
    dist = np.take_along_axis(D, order, axis=1)
    dots = np.einsum("qd,qkd->qk", X[q], X[order])
    return dist.mean(1), dots.mean(1)


@pytest.fixture
def cloud():
    return np.random.default_rng(1).normal(size=(300, 6)).astype(np.float32)


@pytest.mark.parametrize("chunk", [None, 7, 1000])
def test_knn_matches_brute_force(cloud, chunk):
    st = g.knn_stats(cloud, k=(1, 3, 5), chunk=chunk)
    for k in (1, 3, 5):
        d, p = brute_knn(cloud, k)
        np.testing.assert_allclose(st[f"l2_k{k}"], d, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(st[f"dot_k{k}"], p, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n,chunk,ks", [(1000, 200, (1, 3)), (1003, 333, (2, 4)), (700, None, (3, 5, 7))])
def test_knn_blocked_paths_match_brute_force(n, chunk, ks):
    X = np.random.default_rng(n).normal(size=(n, 5)).astype(np.float32)
    st_all = g.knn_stats(X, k=ks, chunk=chunk)  # symmetric blocks (rows and columns)
    q = np.arange(0, n, 3)
    st_q = g.knn_stats(X, k=ks, query=q, chunk=chunk)  # query-subset path
    for k in ks:
        d, p = brute_knn(X, k)
        np.testing.assert_allclose(st_all[f"l2_k{k}"], d, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(st_all[f"dot_k{k}"], p, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(st_q[f"l2_k{k}"], d[q], rtol=1e-6, atol=1e-6)


def test_knn_with_many_ties_matches_brute_force_distances():
    X = np.random.default_rng(5).integers(0, 3, size=(600, 3)).astype(np.float64)  # 27 distinct points
    for chunk in (None, 128):
        st = g.knn_stats(X, k=(3, 7), chunk=chunk)
        for k in (3, 7):
            np.testing.assert_allclose(st[f"l2_k{k}"], brute_knn(X, k)[0], atol=1e-9)


def test_knn_query_subset_and_negative_index(cloud):
    q = np.array([0, 5, -1])
    st = g.knn_stats(cloud, k=3, query=q)
    d, p = brute_knn(cloud, 3, query=[0, 5, 299])
    np.testing.assert_allclose(st["l2_k3"], d, rtol=1e-6)
    assert list(st["query"]) == [0, 5, 299]


def test_knn_excludes_self_but_keeps_duplicates():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    st = g.knn_stats(X, k=1)
    # rows 0 and 1 are duplicates: each is the other's neighbour at distance 0; row 2 -> row 0/1 at 3
    np.testing.assert_allclose(st["l2_k1"], [0.0, 0.0, 3.0, 4.0])


def test_random_pair_cosine_both_paths_give_the_same_bits():
    """Every row's norm taken once (n <= 2 n_pairs) or the gathered rows' norms: the same float64
    rows, norms and einsum, so the same bits as the textbook gather-then-normalise computation."""
    rng = np.random.default_rng(7)
    X = (rng.standard_normal((500, 40)) * rng.uniform(0.1, 3.0, (500, 1))).astype(np.float32)
    for n_pairs in (300, 100, 60_000):  # whole, gathered, whole in three chunks (26,214 pairs each at d = 40)
        i, j = g._pairs(500, n_pairs, 1)
        A, B = X[i].astype(np.float64), X[j].astype(np.float64)
        ref = float((np.einsum("ij,ij->i", A, B) / (np.linalg.norm(A, axis=1) * np.linalg.norm(B, axis=1))).mean())
        assert g.random_pair_cosine(X, n_pairs=n_pairs, seed=1) == ref
    Z = X.copy()
    Z[3] = 0.0
    with pytest.raises(ValueError, match="all-zero row"):
        g.random_pair_cosine(Z, n_pairs=5000, seed=1)


def test_random_pair_cosine_matches_exact_mean(cloud):
    exact = g.random_pair_cosine(cloud, n_pairs=None)
    U = cloud / np.linalg.norm(cloud, axis=1, keepdims=True)
    C = U.astype(np.float64) @ U.T.astype(np.float64)
    ref = (C.sum() - np.trace(C)) / (len(C) * (len(C) - 1))
    assert exact == pytest.approx(ref, abs=1e-9)
    assert g.random_pair_cosine(cloud, n_pairs=200_000, seed=0) == pytest.approx(ref, abs=0.01)
    assert g.random_pair_cosine(cloud, seed=3) == g.random_pair_cosine(cloud, seed=3)  # seeded


def test_known_cases_cone_and_isotropy():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(20_000, 10))
    assert abs(g.random_pair_cosine(Z)) < 0.01
    assert g.isotropy_partition(Z) > 0.9
    assert g.isoscore(Z) > 0.95
    shifted = Z + 20.0  # every row near (20, ..., 20): a narrow cone
    assert g.random_pair_cosine(shifted) > 0.95
    assert g.isotropy_partition(shifted) < 1e-3
    assert g.isoscore(shifted) > 0.95  # IsoScore ignores the mean by design


@pytest.mark.parametrize("d", [2, 5, 12])
def test_isoscore_closed_form_k_of_d_dimensions(d):
    """IsoScore is 0 when one dimension holds all the variance and (k - 1) / (d - 1) when k of the d
    dimensions share it equally (1 for all d): the range 1/d .. 1 is the intermediate phi's, not IsoScore's."""
    pytest.importorskip("IsoScore")
    Q = np.linalg.qr(np.random.default_rng(d).normal(size=(d, d)))[0]  # any orientation: IsoScore uses the PCs
    for k in range(1, d + 1):
        E = np.eye(d)[:k]
        X = np.vstack([E, -E, np.zeros((1, d))]) @ Q.T  # mean 0; variance 2 / (2k + 1) along each of k axes
        assert g.isoscore(X) == pytest.approx((k - 1) / (d - 1), abs=1e-7), k


def test_isotropy_partition_brute_force(cloud):
    X = cloud.astype(np.float64)
    _, vecs = np.linalg.eigh(X.T @ X)
    C = np.concatenate([vecs, -vecs], axis=1)
    Zc = np.exp(X @ C).sum(0)
    assert g.isotropy_partition(X) == pytest.approx(Zc.min() / Zc.max(), rel=1e-9)
    # huge norms do not overflow (log-sum-exp)
    assert 0.0 <= g.isotropy_partition(X * 1e3) <= 1.0


def test_rogue_dimensions_sum_to_expected_cosine():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 8))
    X[:, 3] += 5.0  # one rogue dimension
    df = g.rogue_dimensions(X, top=None)
    assert isinstance(df, pd.DataFrame) and len(df) == 8
    assert df.loc[0, "dim"] == 3 and df.loc[0, "share"] > 0.9
    assert df["contribution"].sum() == pytest.approx(g.random_pair_cosine(X, n_pairs=None), abs=1e-12)
    assert len(g.rogue_dimensions(X, top=3)) == 3


def test_layer_anisotropy_per_layer():
    rng = np.random.default_rng(3)
    H = np.stack([rng.normal(size=(400, 5)), rng.normal(size=(400, 5)) + 10])
    a = g.layer_anisotropy(H, n_pairs=5000, seed=0)
    assert a.shape == (2,)
    assert a[0] == pytest.approx(g.random_pair_cosine(H[0], 5000, 0))
    assert abs(a[0]) < 0.05 and a[1] > 0.9


def test_frequency_bucket_table_brute_force():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 4))
    freq = rng.random(120)
    freq[[7, 8]] = 0.0
    t = g.frequency_bucket_table(X, freq, buckets=((0, 10), (10, None)), ks=(2,))
    assert list(t.columns) == ["[0, 10)", "[10, end)", "unseen"]
    assert list(t.index) == ["norm", "knn_l2_k2", "knn_dot_k2"]
    top = np.argsort(-freq, kind="stable")[:10]
    d, p = brute_knn(X, 2, query=top)
    assert t.loc["norm", "[0, 10)"] == pytest.approx(np.linalg.norm(X[top], axis=1).mean())
    assert t.loc["knn_l2_k2", "[0, 10)"] == pytest.approx(d.mean())
    assert t.loc["knn_dot_k2", "[0, 10)"] == pytest.approx(p.mean())
    assert t.attrs["n_tokens"] == {"[0, 10)": 10, "[10, end)": 108, "unseen": 2}
    capped = g.frequency_bucket_table(X, freq, buckets=((0, 10), (10, None)), ks=(2,), max_queries=5, unseen=False)
    assert capped.attrs["n_queries"] == {"[0, 10)": 5, "[10, end)": 5}


@pytest.mark.parametrize(
    "call",
    [
        lambda: g.random_pair_cosine(np.array([[1.0, np.nan], [0.0, 1.0]])),
        lambda: g.random_pair_cosine(np.ones(5)),
        lambda: g.random_pair_cosine(np.ones((1, 3))),
        lambda: g.random_pair_cosine(np.ones((4, 3)), n_pairs=0),
        lambda: g.knn_stats(np.ones((3, 2)), k=3),
        lambda: g.knn_stats(np.ones((10, 2)), k=3, query=np.array([11])),
        lambda: g.knn_stats(np.ones((10, 2)), k=0),
        lambda: g.knn_stats(np.array([[np.inf, 0.0]] * 10)),
        lambda: g.frequency_bucket_table(np.ones((10, 2)), np.ones(9), ks=(3,)),
        lambda: g.frequency_bucket_table(np.ones((10, 2)), -np.ones(10), ks=(3,)),
        lambda: g.isotropy_partition(np.ones(4)),
        lambda: g.isoscore(np.zeros((5, 3))),
        lambda: g.rogue_dimensions(np.zeros((5, 3))),
        lambda: g.layer_anisotropy(np.ones((4, 3))),
        lambda: g.random_pair_cosine([["a", "b"], ["c", "d"]]),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


# --- weighted_pair_cosine and bucket_table (issue 13) ------------------------------------------

def test_weighted_pair_cosine_uniform_weights_equal_the_exact_type_mean():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 6)) + 0.7
    assert geometry.weighted_pair_cosine(X, np.ones(50)) == pytest.approx(geometry.random_pair_cosine(X, n_pairs=None), rel=1e-12)


def test_weighted_pair_cosine_matches_sampling_and_ignores_zero_weights():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 5)) + 0.3
    w = rng.integers(0, 20, size=40).astype(float)
    w[:5] = 0
    exact = geometry.weighted_pair_cosine(X, w)
    p = w / w.sum()
    i, j = rng.choice(40, size=400_000, p=p), rng.choice(40, size=400_000, p=p)
    ok = i != j
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    mc = float(np.einsum("ij,ij->i", U[i[ok]], U[j[ok]]).mean())
    assert exact == pytest.approx(mc, abs=5e-3)
    # rows with weight 0 never matter: change them arbitrarily
    X2 = X.copy()
    X2[:5] = -100.0
    assert geometry.weighted_pair_cosine(X2, w) == pytest.approx(exact, rel=1e-12)
    # dominated by the heavy rows: two heavy parallel rows give cosine near 1
    Y = rng.normal(size=(30, 4))
    Y[0] = Y[1] = [1.0, 0, 0, 0]
    wy = np.ones(30)
    wy[:2] = 1e6
    assert geometry.weighted_pair_cosine(Y, wy) > 0.99 > geometry.random_pair_cosine(Y, n_pairs=None)


@pytest.mark.parametrize("w", [np.ones(3), -np.ones(10), np.array([1.0] + [0.0] * 9), np.full(10, np.nan)])
def test_weighted_pair_cosine_bad_weights(w):
    with pytest.raises(ValueError):
        geometry.weighted_pair_cosine(np.random.default_rng(0).normal(size=(10, 3)), w)


def test_bucket_table_equals_frequency_bucket_table_on_rank_groups():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    f = rng.integers(0, 50, size=300)
    t_rank = geometry.frequency_bucket_table(X, f, buckets=((0, 10), (10, None)), ks=(3,))
    seen = np.flatnonzero(f > 0)
    ranked = seen[np.argsort(-f[seen], kind="stable")]
    t = geometry.bucket_table(X, {"a": ranked[:10], "b": ranked[10:], "u": np.flatnonzero(f == 0)}, ks=(3,))
    assert np.allclose(t.values, t_rank.values)
    with pytest.raises(ValueError, match="row ids"):
        geometry.bucket_table(X, {"a": np.array([0, 400])}, ks=(3,))
    with pytest.raises(ValueError, match="non-empty dict"):
        geometry.bucket_table(X, {}, ks=(3,))
    empty = geometry.bucket_table(X, {"a": np.arange(5), "e": np.array([], dtype=int)}, ks=(3,))
    assert np.isnan(empty["e"]).all() and empty.attrs["n_tokens"]["e"] == 0

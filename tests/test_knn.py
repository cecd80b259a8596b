"""helpers._knn (knn_stats over the whole vocabulary, symmetric blocks): exact agreement with brute force."""
import numpy as np
import pytest

from helpers import geometry


def _brute(X, ks=(3, 5, 7)):
    X = X.astype(np.float64)
    D = np.sqrt(np.maximum(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1), 0))
    np.fill_diagonal(D, np.inf)
    order = np.argsort(D, axis=1, kind="stable")
    out = {}
    for k in ks:
        idx = order[:, :k]
        out[f"l2_k{k}"] = np.take_along_axis(D, idx, axis=1).mean(axis=1)
        out[f"dot_k{k}"] = np.einsum("nd,nkd->nk", X, X[idx]).mean(axis=1)
    return out


def _hubby(n, d, seed):
    """Far points, a tight cluster near the centre that is everyone's nearest (a hub), duplicates."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.2, 3.0, size=(n, 1))
    X[: n // 8] = rng.standard_normal((n // 8, d)) * 0.01  # the hub
    X[-5:] = X[-10:-5]  # exact duplicates: a legitimate neighbour at distance 0
    return X.astype(np.float32)


@pytest.mark.parametrize("n,d,chunk", [(700, 16, 128), (1100, 8, 256), (300, 40, 64), (40, 3, 16), (2000, 24, None)])
def test_all_rows_match_brute_force(n, d, chunk):
    X = _hubby(n, d, seed=n)
    got = geometry.knn_stats(X, k=(3, 5, 7), chunk=chunk)
    ref = _brute(X)
    for key, v in ref.items():
        np.testing.assert_allclose(got[key], v, rtol=1e-9, atol=1e-9 if key.startswith("l2") else 1e-6, err_msg=key)


def test_neighbour_sets_match_sklearn():
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(3)
    X = (rng.standard_normal((1500, 12)) + rng.standard_normal(12) * 3).astype(np.float32)  # a shifted cloud
    got = geometry.knn_stats(X, k=5, chunk=200)
    dist, ind = NearestNeighbors(n_neighbors=6, algorithm="brute").fit(X).kneighbors(X)
    sk = np.array([row[i != q][:5] for q, (row, i) in enumerate(zip(dist, ind))])
    np.testing.assert_allclose(got["l2_k5"], sk.mean(axis=1), rtol=1e-5)


def test_query_subset_equals_all_rows():
    X = _hubby(900, 10, seed=1)
    q = np.array([0, 5, 200, 899, 450])
    sub = geometry.knn_stats(X, k=(3, 7), query=q)
    full = geometry.knn_stats(X, k=(3, 7), chunk=256)
    for key in ("l2_k3", "l2_k7", "dot_k3"):
        np.testing.assert_allclose(sub[key], full[key][q], rtol=1e-12)


def test_last_block_smaller_than_k_is_joined():
    X = _hubby(4096 + 3, 4, seed=2)[:, :4]  # a last block of 3 rows < k + 1
    got = geometry.knn_stats(X[:1030], k=7, chunk=1024)
    ref = _brute(X[:1030], ks=(7,))
    np.testing.assert_allclose(got["l2_k7"], ref["l2_k7"], rtol=1e-9, atol=1e-9)


def test_knn_bad_input():
    with pytest.raises(ValueError):
        geometry.knn_stats(np.zeros((3, 2)), k=7)
    with pytest.raises(ValueError):
        geometry.knn_stats(np.ones((10, 2)), query=np.array([0.5]))

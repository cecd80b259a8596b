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


def test_every_merge_path_is_exercised_and_exact(monkeypatch):
    """The row side's three merge paths (plain hits, some rows flooding, a hub block's dense top-c)
    and the column side's flood path each occur in these runs, and every run matches brute force.
    A small initial sample (32 rows) keeps the bounds loose, as on a large vocabulary."""
    import functools

    from helpers import _knn

    seen = set()
    merge_rows, offer_cols = _knn._merge_block_rows, _knn._offer_columns

    def spy_rows(bv, bi, S, hi, hj, vals, col0, c):
        if hi.size:
            nf = int((np.bincount(hi, minlength=S.shape[0]) > max(_knn._CAP, c)).sum())
            seen.add("dense" if 4 * nf >= S.shape[0] else "flood" if nf else "plain")
        return merge_rows(bv, bi, S, hi, hj, vals, col0, c)

    def spy_cols(best, S, col, row, vals, col0, row0, c):
        if col.size and (np.bincount(col) > c).any():
            seen.add("column flood")
        return offer_cols(best, S, col, row, vals, col0, row0, c)

    monkeypatch.setattr(_knn, "_merge_block_rows", spy_rows)
    monkeypatch.setattr(_knn, "_offer_columns", spy_cols)
    monkeypatch.setattr(_knn, "knn_candidates_all", functools.partial(_knn.knn_candidates_all, n_sample=32))
    rng = np.random.default_rng(5)
    runs = [(_hubby(700, 16, seed=7), 128, 64), (_hubby(900, 6, seed=8), 128, 9),
            (rng.standard_normal((1500, 8)).astype(np.float32), 256, 1000)]
    for X, chunk, cap in runs:
        monkeypatch.setattr(_knn, "_CAP", cap)
        got = geometry.knn_stats(X, k=(3, 7), chunk=chunk)
        ref = _brute(X, ks=(3, 7))
        for key in ("l2_k3", "l2_k7"):
            np.testing.assert_allclose(got[key], ref[key], rtol=1e-9, atol=1e-9, err_msg=f"{key}, cap {cap}")
    assert seen >= {"plain", "flood", "dense", "column flood"}, seen


def test_torch_threads_are_restored():
    import torch

    before = torch.get_num_threads()
    geometry.knn_stats(_hubby(300, 5, seed=4), k=3, chunk=64)
    geometry.knn_stats(_hubby(300, 5, seed=4), k=3, query=np.arange(10))
    assert torch.get_num_threads() == before

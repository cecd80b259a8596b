"""The metric zoo (helpers.metrics): values on known clouds, the invariances it documents, bad input."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import geometry, metrics, remedies

INVARIANT_KEYS = ["random_pair_cosine", "iw_unit", "isoscore", "top_pc_share", "effective_rank", "top_dim_share"]


def _zoo(X):
    return metrics.metric_zoo(X, n_pairs=None)


def _cloud(seed, n=60, d=6, anisotropic=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if anisotropic:
        X *= np.linspace(0.5, 3.0, d)  # distinct variances: a well-defined spectrum
        X += rng.standard_normal(d)  # some mean, so cosine measures are not ~0
    return X


def _rotation(seed, d):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def test_invariance_table_covers_every_key():
    X = _cloud(0)
    zoo = metrics.metric_zoo(X, weights=np.arange(1, 61), top=10)
    assert set(zoo) == set(metrics.INVARIANCES)
    for key, inv in metrics.INVARIANCES.items():
        assert set(inv) == {"scale", "rotation", "shift"}, key


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), s=st.floats(1e-3, 1e3), shift_scale=st.floats(0.1, 5.0))
def test_documented_invariances_hold(seed, s, shift_scale):
    X = _cloud(seed)
    base = _zoo(X)
    Q = _rotation(seed + 1, X.shape[1])
    c = shift_scale * np.random.default_rng(seed + 2).standard_normal(X.shape[1])
    transformed = {"scale": _zoo(s * X), "rotation": _zoo(X @ Q), "shift": _zoo(X + c)}
    for key in INVARIANT_KEYS:
        for kind, zoo in transformed.items():
            if metrics.INVARIANCES[key][kind]:
                assert zoo[key] == pytest.approx(base[key], rel=1e-6, abs=1e-9), (key, kind)


def test_each_documented_non_invariance_is_real():
    """Every 'False' in INVARIANCES has an instance where the metric moves (so the table is not vacuous)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 8))  # round cloud around the origin
    X[:, 0] *= 6.0  # one rogue coordinate
    base = _zoo(X)
    shifted = _zoo(X + 5.0 * np.ones(8))
    rotated = _zoo(X @ _rotation(3, 8))
    moved = {
        ("random_pair_cosine", "shift"): abs(shifted["random_pair_cosine"] - base["random_pair_cosine"]),
        ("iw_unit", "shift"): abs(shifted["iw_unit"] - base["iw_unit"]),
        ("top_dim_share", "rotation"): abs(rotated["top_dim_share"] - base["top_dim_share"]),
    }
    for (key, kind), delta in moved.items():
        assert not metrics.INVARIANCES[key][kind]
        assert delta > 0.1, (key, kind, delta)
    falses = {(k, kind) for k, inv in metrics.INVARIANCES.items() for kind, ok in inv.items() if not ok}
    weighted = {("random_pair_cosine_weighted", "shift"), ("random_pair_cosine_top", "shift")}
    assert falses == set(moved) | weighted


def test_weighted_cosine_moves_with_shift_and_ignores_scale():
    X = _cloud(1)
    w = np.arange(1, 61, dtype=float)
    a = metrics.random_pair_cosine(X, n_pairs=None, weights=w)
    assert metrics.random_pair_cosine(3 * X, n_pairs=None, weights=w) == pytest.approx(a, abs=1e-12)
    assert abs(metrics.random_pair_cosine(X + 10, n_pairs=None, weights=w) - a) > 0.1


def test_unweighted_cosine_is_geometry_one():
    X = _cloud(2, n=200)
    assert metrics.random_pair_cosine(X, n_pairs=5000, seed=3) == geometry.random_pair_cosine(X, n_pairs=5000, seed=3)


def test_weighted_cosine_exact_matches_brute_force_and_sampling():
    X = _cloud(4, n=30, d=5)
    w = np.random.default_rng(0).integers(0, 20, size=30).astype(float)
    w[:2] = 5  # at least two positive
    p = w / w.sum()
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    C = U @ U.T
    P = np.outer(p, p)
    np.fill_diagonal(P, 0)
    brute = float((P * C).sum() / P.sum())
    exact = metrics.random_pair_cosine(X, n_pairs=None, weights=w)
    assert exact == pytest.approx(brute, abs=1e-12)
    sampled = metrics.random_pair_cosine(X, n_pairs=200_000, seed=1, weights=w)
    assert sampled == pytest.approx(brute, abs=0.01)


def test_uniform_weights_give_the_type_average():
    X = _cloud(5, n=40)
    assert metrics.random_pair_cosine(X, n_pairs=None, weights=np.ones(40)) == pytest.approx(
        geometry.random_pair_cosine(X, n_pairs=None), abs=1e-12)


def test_weighted_ignores_zero_weight_rows_even_if_zero_vectors():
    X = _cloud(6, n=20)
    X[0] = 0.0
    w = np.ones(20)
    w[0] = 0
    metrics.random_pair_cosine(X, n_pairs=None, weights=w)  # no error
    with pytest.raises(ValueError, match="all-zero row"):
        metrics.random_pair_cosine(X, n_pairs=None, weights=np.ones(20))


def test_known_values():
    # one axis only (plus a tiny bit elsewhere): top shares near 1, effective rank near 1
    rng = np.random.default_rng(0)
    X = np.zeros((500, 4))
    X[:, 0] = rng.standard_normal(500)
    X[:, 1:] = 1e-6 * rng.standard_normal((500, 3))
    assert metrics.top_pc_share(X) > 0.999
    assert metrics.top_dim_share(X) > 0.999
    assert metrics.effective_rank(X) < 1.01
    # round cloud: shares near 1/d, effective rank near d
    Y = rng.standard_normal((20_000, 4))
    assert metrics.top_pc_share(Y) == pytest.approx(0.25, abs=0.02)
    assert metrics.top_dim_share(Y) == pytest.approx(0.25, abs=0.02)
    assert metrics.effective_rank(Y) == pytest.approx(4.0, abs=0.05)
    assert metrics.iw_unit(Y) > 0.9
    # a shifted cloud is a cone for I(W); on unit rows exp(c.w) lies in [1/e, e], so I(W) >= e^-2
    assert math.exp(-2) <= metrics.iw_unit(Y + 5.0) < 0.2


def test_iw_unit_is_scale_free_unlike_raw_iw():
    X = _cloud(7, n=300, d=5)
    assert metrics.iw_unit(0.01 * X) == pytest.approx(metrics.iw_unit(100 * X), rel=1e-9)
    assert abs(geometry.isotropy_partition(0.01 * X) - geometry.isotropy_partition(X)) > 0.1


def test_top_uses_heaviest_rows():
    X = _cloud(8, n=50)
    w = np.arange(50, dtype=float)
    zoo = metrics.metric_zoo(X, weights=w, top=10, n_pairs=None)
    assert zoo["random_pair_cosine_top"] == pytest.approx(geometry.random_pair_cosine(X[40:], n_pairs=None), abs=1e-12)


def test_zoo_table_rows_and_columns():
    X = _cloud(9)
    df = metrics.zoo_table({"a": X, "b": X + 3}, n_pairs=None)
    assert list(df.index) == ["a", "b"]
    assert "random_pair_cosine_weighted" not in df.columns
    assert df.loc["b", "random_pair_cosine"] > df.loc["a", "random_pair_cosine"]
    assert df.loc["b", "isoscore"] == pytest.approx(df.loc["a", "isoscore"], rel=1e-9)


def test_disagreement_cloud_makes_metrics_disagree():
    base, _ = metrics.disagreement_cloud(seed=0)
    shifted, _ = metrics.disagreement_cloud(shift=1.0, seed=0)
    rogue, _ = metrics.disagreement_cloud(rogue=5.0, seed=0)
    zb, zs, zr = (metrics.metric_zoo(X, n_pairs=None) for X in (base, shifted, rogue))
    # a shift: cosine says "cone", IsoScore does not move
    assert zb["random_pair_cosine"] < 0.05 < 0.4 < zs["random_pair_cosine"]
    assert zs["isoscore"] == pytest.approx(zb["isoscore"], rel=1e-9)
    # a rogue dimension: IsoScore and the top-dim share see it, the cosine barely
    assert zr["isoscore"] < zb["isoscore"] - 0.3
    assert zr["top_dim_share"] > 0.5 > zb["top_dim_share"]
    _, w = metrics.disagreement_cloud(zipf=1.0, seed=0)
    assert w.max() / w.min() == pytest.approx(2000.0)


def test_disagreement_cloud_reproducible():
    a = metrics.disagreement_cloud(clusters=4, zipf=1.0, seed=3)
    b = metrics.disagreement_cloud(clusters=4, zipf=1.0, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("bad, match", [
    (np.ones(5), "2-D"),
    (np.full((4, 3), np.nan), "NaN"),
    (np.ones((1, 3)), "row"),
])
def test_bad_matrix(bad, match):
    with pytest.raises(ValueError, match=match):
        metrics.metric_zoo(bad)


def test_bad_weights_and_top():
    X = _cloud(10, n=10)
    with pytest.raises(ValueError, match="one entry per row"):
        metrics.random_pair_cosine(X, weights=np.ones(9))
    with pytest.raises(ValueError, match="non-negative"):
        metrics.random_pair_cosine(X, weights=-np.ones(10))
    with pytest.raises(ValueError, match="at least two rows"):
        metrics.random_pair_cosine(X, weights=np.eye(10)[0])
    with pytest.raises(ValueError, match="top needs weights"):
        metrics.metric_zoo(X, top=3)
    with pytest.raises(ValueError, match="same row repeated"):
        metrics.top_pc_share(np.ones((5, 3)))
    with pytest.raises(ValueError):
        metrics.disagreement_cloud(shift=-1)
    with pytest.raises(ValueError):
        metrics.disagreement_cloud(clusters=0)
    with pytest.raises(ValueError):
        metrics.zoo_table({})


def test_center_and_zipfian_whitening():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 5)) + 3.0
    w = 1.0 / np.arange(1, 301)
    C = remedies.center(X)
    assert np.abs(C.mean(axis=0)).max() < 1e-5
    Z = remedies.zipfian_whiten(X, w).astype(np.float64)
    p = w / w.sum()
    mu = p @ Z
    assert np.abs(mu).max() < 1e-4
    cov = ((Z - mu) * p[:, None]).T @ (Z - mu)
    assert np.abs(cov - np.eye(5)).max() < 1e-4
    # uniform weights reduce to ordinary whitening up to the covariance's n vs n-1 normaliser
    Zu = remedies.zipfian_whiten(X, np.ones(300)).astype(np.float64)
    Zw = remedies.whiten(X).astype(np.float64)
    ratio = np.linalg.norm(Zu, axis=1) / np.linalg.norm(Zw, axis=1)
    assert ratio == pytest.approx(np.full(300, math.sqrt(300 / 299)), rel=1e-4)
    with pytest.raises(ValueError, match="one entry per row"):
        remedies.zipfian_whiten(X, np.ones(3))
    with pytest.raises(ValueError, match="not all zero"):
        remedies.zipfian_whiten(X, np.zeros(300))

"""Unit tests for helpers.simulate (the toy worlds of notebooks 03 and 04)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from helpers import simulate, theory


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(2, 12))
def test_layer_norm_outputs_lie_on_the_hyperplane(seed, d):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, d)) * rng.uniform(0.1, 10) + rng.normal()
    g = rng.uniform(0.2, 2.0, size=d) * rng.choice([-1, 1], size=d)
    b = rng.normal(size=d)
    Y = simulate.layer_norm(X, g, b, eps=0.0)
    Z = (Y - b) / g
    assert np.abs(Z.sum(axis=1)).max() < 1e-9 * d
    assert np.abs((Z**2).sum(axis=1) - d).max() < 1e-9 * d


def test_layer_norm_matches_torch():
    import torch

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 7))
    ln = torch.nn.LayerNorm(7, eps=1e-5).double()
    with torch.no_grad():
        ln.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, 7)))
        ln.bias.copy_(torch.from_numpy(rng.normal(size=7)))
        ref = ln(torch.from_numpy(X)).numpy()
    out = simulate.layer_norm(X, ln.weight.detach().numpy(), ln.bias.detach().numpy(), eps=1e-5)
    assert np.allclose(out, ref, atol=1e-12)


def test_toy_hidden_states_hull_misses_origin_by_at_least_the_plane_distance():
    H, g, b = simulate.toy_hidden_states(500, 6, seed=3)
    dist = abs((b / g).sum()) / np.linalg.norm(1 / g)
    cert = theory.hull_certificate(H)
    assert H.shape == (500, 6) and not cert.contains
    assert cert.margin >= dist - 1e-9


def test_zipf_and_buckets():
    p = simulate.zipf_frequencies(100, 1.0)
    assert p.shape == (100,) and abs(p.sum() - 1) < 1e-12 and np.all(np.diff(p) < 0)
    counts = np.array([5, 0, 9, 9, 1, 0])
    bk = simulate.frequency_buckets(counts, 3)
    # order by count (ties by id): 2, 3, 0, 4, 1, 5
    assert bk.tolist() == [1, 2, 0, 0, 1, 2]


def test_bucket_statistics_pairwise_cosine():
    W = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, -3.0]])
    st_ = simulate.bucket_statistics(W, np.array([0, 0, 1, 1]), np.array([1.0, 0.0]))
    assert st_.loc[0, "pairwise_cos"] == pytest.approx(1.0)
    assert st_.loc[1, "pairwise_cos"] == pytest.approx(-1.0)
    assert st_.loc[0, "cos_to_direction"] == pytest.approx(1.0)
    assert st_.loc[1, "mean_norm"] == pytest.approx(2.5)


def test_training_reduces_loss_and_gd_conserves_the_mean():
    H, _, _ = simulate.toy_hidden_states(300, 5, seed=0)
    y, _ = simulate.sample_targets(H, simulate.zipf_frequencies(20), scale=2.0, seed=1)
    W0, _ = simulate.train_softmax_embeddings(H, y, 20, steps=1, lr=1e-12, seed=2)
    W, losses = simulate.train_softmax_embeddings(H, y, 20, steps=50, lr=1.0, seed=2, record_every=10)
    assert losses[-1] < losses[0]
    assert np.allclose(W.sum(axis=0), W0.sum(axis=0), atol=1e-9)  # sum_v grad_v = 0 for softmax
    Wa, la = simulate.train_softmax_embeddings(H, y, 20, steps=50, lr=0.05, seed=2, record_every=10, optimizer="adam")
    assert la[-1] < la[0]


def test_snapshots_are_the_iterates_of_the_same_run():
    H, _, _ = simulate.toy_hidden_states(200, 4, seed=0)
    y, _ = simulate.sample_targets(H, simulate.zipf_frequencies(10), scale=2.0, seed=1)
    W, losses, snaps = simulate.train_softmax_embeddings(H, y, 10, steps=30, lr=0.05, seed=2, optimizer="adam",
                                                         snapshot_steps=[0, 10, 30])
    assert sorted(snaps) == [0, 10, 30] and np.array_equal(snaps[30], W)
    W10, _ = simulate.train_softmax_embeddings(H, y, 10, steps=10, lr=0.05, seed=2, optimizer="adam")
    assert np.array_equal(snaps[10], W10)
    assert np.array_equal(snaps[0], np.random.default_rng(2).standard_normal((10, 4)) * 0.01)   # the initialisation
    snaps[10][:] = 0.0                                   # copies, not views of the running matrix
    assert not np.array_equal(snaps[30], snaps[10])


def test_word_loss_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    H = rng.normal(size=(40, 4))
    log_C = rng.normal(size=40)
    seen = np.zeros(40, dtype=bool)
    seen[:5] = True
    w = rng.normal(size=4)
    for kw in [dict(), dict(seen=seen), dict(seen=seen, eps=0.3, lam=0.1)]:
        v, gr = simulate.word_loss(w, H, log_C, **kw)
        num = np.array([(simulate.word_loss(w + 1e-6 * e, H, log_C, **kw)[0]
                         - simulate.word_loss(w - 1e-6 * e, H, log_C, **kw)[0]) / 2e-6 for e in np.eye(4)])
        assert np.allclose(gr, num, atol=1e-6)


def test_minimiser_has_zero_gradient():
    H, _, _ = simulate.toy_hidden_states(200, 4, seed=1)
    log_C = np.zeros(200)
    w = simulate.minimise_word_loss(H, log_C, lam=1e-2)
    assert np.linalg.norm(simulate.word_loss(w, H, log_C, lam=1e-2)[1]) < 1e-7


@pytest.mark.parametrize("call", [
    lambda: simulate.layer_norm(np.ones(3), np.ones(3), np.zeros(3)),
    lambda: simulate.layer_norm(np.array([[1.0, np.nan]]), np.ones(2), np.zeros(2)),
    lambda: simulate.layer_norm(np.ones((2, 3)), np.ones(2), np.zeros(3)),
    lambda: simulate.layer_norm(np.ones((2, 3)), np.ones(3), np.zeros(3), eps=0.0),
    lambda: simulate.toy_hidden_states(0, 4),
    lambda: simulate.toy_hidden_states(10, 4, gain_range=(0, 1)),
    lambda: simulate.zipf_frequencies(1),
    lambda: simulate.sample_targets(np.ones((3, 2)), np.array([0.5, 0.0])),
    lambda: simulate.train_softmax_embeddings(np.ones((3, 2)), np.array([0, 1, 5]), 4),
    lambda: simulate.train_softmax_embeddings(np.ones((3, 2)), np.array([0, 1, 1]), 4, optimizer="sgd"),
    lambda: simulate.train_softmax_embeddings(np.ones((3, 2)), np.array([0.0, 1.0, 1.0]), 4),
    lambda: simulate.train_softmax_embeddings(np.ones((3, 2)), np.array([0, 1, 1]), 4, steps=5, snapshot_steps=[6]),
    lambda: simulate.train_softmax_embeddings(np.ones((3, 2)), np.array([0, 1, 1]), 4, steps=5, snapshot_steps=[1.5]),
    lambda: simulate.frequency_buckets(np.array([1, 2]), 3),
    lambda: simulate.frequency_buckets(np.array([1, -2]), 1),
    lambda: simulate.bucket_statistics(np.ones((2, 2)), np.array([0, 0]), np.zeros(2)),
    lambda: simulate.word_loss(np.ones(2), np.ones((3, 2)), np.ones(4)),
    lambda: simulate.word_loss(np.ones(2), np.ones((3, 2)), np.ones(3), seen=np.ones(3, dtype=bool), eps=0.5),
    lambda: simulate.word_loss(np.ones(2), np.ones((3, 2)), np.ones(3), eps=1.5, seen=np.array([True, False, False])),
    lambda: simulate.minimise_word_loss(np.ones((3, 2)), np.zeros(3)),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()

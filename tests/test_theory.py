"""Tests for helpers.theory: minimum-norm point of a convex hull, certificates, max-margin directions."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog, minimize

from helpers import theory
from helpers.theory import (
    LINF_MAX_ENTRIES,
    hull_certificate,
    hull_contains_origin,
    hull_margin,
    max_margin_direction,
    min_norm_point,
    linf_max_margin_certificate,
    origin_position,
    uniformly_negative_direction,
)


# ------------------------------------------------------------------ independent references
def lp_contains_origin(H) -> bool:
    """Feasibility LP: exists lambda >= 0, sum 1, H^T lambda = 0 (scipy HiGHS)."""
    n, d = H.shape
    A_eq = np.vstack([H.T, np.ones((1, n))])
    b_eq = np.r_[np.zeros(d), 1.0]
    res = linprog(np.zeros(n), A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * n, method="highs")
    assert res.status in (0, 2), res.message
    return res.status == 0


def slsqp_min_norm(H) -> float:
    """Distance from the origin to conv(H) by a generic solver (SLSQP on the simplex).

    SLSQP can stop early from the uniform start (hypothesis found a cloud where it stopped at 1.996
    while the nearest row has norm 1.0), so it also starts from the nearest row and the better of
    the two runs is the reference: still the value of a feasible point, so never below the optimum.
    """
    n = H.shape[0]
    best = np.inf
    for w0 in (np.full(n, 1.0 / n), np.eye(n)[np.argmin(np.linalg.norm(H, axis=1))]):
        res = minimize(lambda w: 0.5 * np.sum((w @ H) ** 2), w0,
                       jac=lambda w: H @ (w @ H), bounds=[(0, 1)] * n,
                       constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(n)}],
                       method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
        w = np.clip(res.x, 0, None)
        w /= w.sum()
        best = min(best, float(np.linalg.norm(w @ H)))
    return best


def assert_certificate(H, cert, tol=1e-6):
    H = np.asarray(H, dtype=np.float64)
    w = cert.weights
    assert w.shape == (H.shape[0],)
    assert (w >= 0).all() and abs(w.sum() - 1) < 1e-12
    assert set(np.flatnonzero(w)) <= set(cert.support.tolist())
    assert np.allclose(w @ H, cert.point, atol=1e-9 * (1 + np.abs(H).max()))
    if cert.contains:
        assert cert.direction is None and cert.margin == 0.0
        assert np.linalg.norm(w @ H) <= tol
    else:
        u = cert.direction
        assert abs(np.linalg.norm(u) - 1) < 1e-12
        assert (H @ u).max() < 0  # uniformly negative
        # min-norm duality: ||p*|| equals the max margin min_i -<h_i, u*>
        scale = 1 + np.linalg.norm(H, axis=1).max()
        assert cert.margin == pytest.approx(-(H @ u).max(), abs=1e-9 * scale)
        assert cert.margin_lower == pytest.approx(cert.margin, abs=1e-9 * scale)


# ------------------------------------------------------------------ known cases
def test_shifted_gaussian_cloud_misses_origin():
    rng = np.random.default_rng(0)
    H = rng.standard_normal((400, 8))
    H[:, 0] += 5.0
    cert = hull_certificate(H)
    assert not cert.contains
    assert_certificate(H, cert)
    assert cert.direction[0] < -0.9  # pointing against the shift
    small = H[:60]
    assert hull_margin(small) == pytest.approx(slsqp_min_norm(small), abs=1e-5)


def test_cloud_around_origin_contains_it():
    rng = np.random.default_rng(1)
    H = rng.standard_normal((400, 8))
    cert = hull_certificate(H)
    assert cert.contains and hull_contains_origin(H)
    assert_certificate(H, cert)
    assert uniformly_negative_direction(H) is None
    assert hull_margin(H) == 0.0
    assert cert.residual < 1e-12  # exact up to rounding, far inside tol


def test_float32_cloud_with_small_pool_uses_column_generation():
    rng = np.random.default_rng(2)
    H = (rng.standard_normal((3000, 32)) + 0.6).astype(np.float32)
    small = hull_certificate(H, pool=40)
    full = hull_certificate(H, pool=3000)
    assert small.rounds > 1
    assert not small.contains
    assert small.margin == pytest.approx(full.margin, rel=1e-9)
    assert_certificate(H, small)


def test_single_point():
    h = np.array([[3.0, 4.0]])
    assert np.allclose(min_norm_point(h), [3, 4])
    assert hull_margin(h) == pytest.approx(5.0)
    assert np.allclose(uniformly_negative_direction(h), [-0.6, -0.8])
    assert hull_contains_origin(np.zeros((1, 3)))
    assert uniformly_negative_direction(np.zeros((3, 2))) is None


def test_two_antipodal_points():
    H = np.array([[1.0, 2.0, -1.0], [-1.0, -2.0, 1.0]])
    cert = hull_certificate(H)
    assert cert.contains
    assert np.allclose(cert.weights, [0.5, 0.5])
    assert_certificate(H, cert)


def test_collinear_points():
    H = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    assert np.allclose(min_norm_point(H), [1.0, 0.0])
    assert np.allclose(uniformly_negative_direction(H), [-1.0, 0.0])
    H2 = np.array([[-1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    assert hull_contains_origin(H2)
    w = hull_certificate(H2).weights
    assert np.linalg.norm(w @ H2) < 1e-12


def test_segment_min_norm_point_is_interior():
    # conv{(1, 1), (1, -1)} is the segment x = 1: the nearest point is its midpoint (1, 0)
    H = np.array([[1.0, 1.0], [1.0, -1.0]])
    cert = hull_certificate(H)
    assert np.allclose(cert.point, [1.0, 0.0])
    assert np.allclose(cert.weights, [0.5, 0.5])


def test_duplicates_and_integers():
    H = np.array([[1, 1], [1, 1], [1, 1], [2, 0]])
    assert hull_margin(H) == pytest.approx(np.sqrt(2))
    assert_certificate(H, hull_certificate(H))


def test_low_rank_data_in_high_dimension():
    rng = np.random.default_rng(3)
    B = rng.standard_normal((500, 5)) @ rng.standard_normal((5, 60))
    assert hull_contains_origin(B)
    shifted = B + 4 * rng.standard_normal(60)
    cert = hull_certificate(shifted)
    assert_certificate(shifted, cert)


# ------------------------------------------------------------------ property tests
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def point_clouds(draw):
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 5))
    H = draw(arrays(np.float64, (n, d), elements=finite))
    shift = draw(arrays(np.float64, (d,), elements=st.floats(-8, 8, width=64)))
    return H + shift


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point_clouds())
@example(np.array([[6.12775053e-161]]))  # found by hypothesis in CI: ||p||^2 underflowed, ||u|| was 1 + 4.5e-6
def test_properties(H):
    cert = hull_certificate(H)
    assert_certificate(H, cert)
    # contains <=> no uniformly negative direction
    assert hull_contains_origin(H) == (uniformly_negative_direction(H) is None)
    # the min-norm point is no farther than any point of the hull we can name
    p = np.linalg.norm(cert.point)
    assert p <= np.linalg.norm(H, axis=1).min() + 1e-9
    assert p <= np.linalg.norm(H.mean(axis=0)) + 1e-9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point_clouds())
@example(np.array([[0.0, 1.0]] + [[1.0, 1.0]] * 4 + [[10.0, 1.0]] + [[1.0, 1.0]] * 5))  # SLSQP stopped at 1.996 from one start
def test_agrees_with_lp_and_generic_solver(H):
    cert = hull_certificate(H)
    assume(cert.contains or cert.margin > 1e-4)  # skip razor-thin cases the LP cannot decide
    assert cert.contains == lp_contains_origin(H)
    ref = slsqp_min_norm(H)
    assert np.linalg.norm(cert.point) <= ref + 1e-9  # nothing beats the exact optimum
    assert np.linalg.norm(cert.point) == pytest.approx(ref, abs=1e-4)


# ------------------------------------------------------------------ max_margin_direction
def test_l2_max_margin_is_uniformly_negative_direction():
    rng = np.random.default_rng(4)
    H = rng.standard_normal((200, 6)) - 2.0
    assert np.allclose(max_margin_direction(H, "l2"), uniformly_negative_direction(H))
    assert max_margin_direction(rng.standard_normal((200, 6)), "linf") is None


def test_l2_and_linf_directions_differ_and_are_both_optimal():
    rng = np.random.default_rng(5)
    H = 0.5 * rng.standard_normal((300, 10)) + np.linspace(3.0, 0.3, 10)
    u2 = max_margin_direction(H, "l2")
    ui = max_margin_direction(H, "linf")
    for u in (u2, ui):
        assert (H @ u).max() < 0
        assert np.linalg.norm(u) == pytest.approx(1.0)
    assert float(u2 @ ui) < 0.99  # genuinely different directions

    def l2_margin(u):
        return -(H @ u).max() / np.linalg.norm(u)

    def linf_margin(u):
        return -(H @ u).max() / np.abs(u).max()

    assert l2_margin(u2) >= l2_margin(ui) - 1e-9
    assert linf_margin(ui) >= linf_margin(u2) - 1e-7
    assert l2_margin(u2) == pytest.approx(hull_margin(H), rel=1e-9)


def test_linf_refuses_large_inputs_quickly():
    H = np.ones((LINF_MAX_ENTRIES // 10 + 1, 10), dtype=np.float32)
    with pytest.raises(ValueError, match="entries"):
        max_margin_direction(H, "linf")


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad", [
    np.array([[1.0, np.nan]]),
    np.array([[np.inf, 1.0]]),
    np.ones(3),
    np.ones((2, 2, 2)),
    np.zeros((0, 3)),
    np.zeros((3, 0)),
    np.array([["a", "b"]]),
    np.array([[1 + 1j, 0]]),
])
@pytest.mark.parametrize("fn", [min_norm_point, uniformly_negative_direction, hull_contains_origin,
                                hull_margin, hull_certificate, max_margin_direction, origin_position,
                                linf_max_margin_certificate])
def test_bad_input_raises_value_error(fn, bad):
    with pytest.raises(ValueError):
        fn(bad)


def test_bad_options():
    H = np.ones((3, 2))
    with pytest.raises(ValueError, match="norm"):
        max_margin_direction(H, "l1")
    with pytest.raises(ValueError, match="rtol"):
        hull_contains_origin(H, rtol=-1)
    with pytest.raises(ValueError, match="rtol"):
        hull_certificate(H, rtol=float("nan"))
    with pytest.raises(ValueError, match="rtol"):
        origin_position(H, rtol=2.0)
    with pytest.raises(ValueError, match="rtol"):
        origin_position(H, rtol=True)


def test_module_exports():
    for name in theory.__all__:
        assert hasattr(theory, name)


# ------------------------------------------------------------------ origin_position (the trichotomy)
THREE = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])


def test_three_point_boundary_case():
    pos, c = origin_position(THREE, return_certificate=True)
    assert pos == "boundary"
    assert hull_contains_origin(THREE) and uniformly_negative_direction(THREE) is None
    s = THREE @ c.direction
    assert s.max() <= 1e-12 and s.min() < -0.5          # supporting direction, not orthogonal to all rows
    assert set(c.face.tolist()) == {0, 1}               # the face {(1,0), (-1,0)} holds the origin
    assert np.allclose(c.direction, [0.0, -1.0])


def test_cloud_around_origin_is_interior_and_shifted_is_outside():
    rng = np.random.default_rng(10)
    H = rng.standard_normal((300, 6))
    pos, c = origin_position(H, return_certificate=True)
    assert pos == "interior"
    assert c.weights.min() > 0 and abs(c.weights.sum() - 1) < 1e-12
    assert np.linalg.norm(c.weights @ H) <= 1e-9 * np.linalg.norm(H, axis=1).max()
    pos2, c2 = origin_position(H + 4.0, return_certificate=True)
    assert pos2 == "outside" and ((H + 4.0) @ c2.direction).max() < 0


def test_subspace_relative_interior_and_boundary():
    rng = np.random.default_rng(11)
    B = np.linalg.qr(rng.standard_normal((5, 2)))[0].T       # orthonormal 2-D subspace of R^5
    X = rng.standard_normal((40, 2))
    X -= X.mean(axis=0)                                        # origin inside the 2-D cloud
    assert origin_position(X @ B) == "interior"               # interior within the affine hull, not in R^5
    assert origin_position(THREE @ B) == "boundary"
    assert origin_position((X + [5.0, 0.0]) @ B) == "outside"


@pytest.mark.parametrize("s", [1e-8, 1.0, 1e8])
def test_scale_invariance(s):
    rng = np.random.default_rng(12)
    H = rng.standard_normal((60, 4))
    cases = {"interior": H, "boundary": THREE, "outside": H + 3.0,
             "outside_thin": np.vstack([THREE[:2] + [0.0, 1e-6], [0.0, 1.0]])}  # misses 0 by 1e-6 relative
    for want, X in cases.items():
        assert origin_position(s * X) == want.split("_")[0], (want, s)
        assert hull_contains_origin(s * X) == hull_contains_origin(X)
    # the old absolute tolerance said "contains" for 1e-7 * H when H misses the origin by 1e-7 relative
    thin = cases["outside_thin"]
    assert not hull_contains_origin(1e-7 * thin)


def test_origin_position_refuses_large_inputs_when_contained():
    H = np.vstack([np.eye(10), -np.eye(10)])
    H = np.tile(H, (LINF_MAX_ENTRIES // 200 + 1, 1))
    with pytest.raises(ValueError, match="entries"):
        origin_position(H)
    assert origin_position(H + 100.0) == "outside"   # outside needs no LP, any size


def test_all_rows_zero_is_interior():
    assert origin_position(np.zeros((3, 2))) == "interior"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point_clouds())
def test_origin_position_property(H):
    try:
        pos = origin_position(H)
    except RuntimeError:
        assume(False)   # razor-thin cases the certificate refuses to call
    assert (pos == "outside") == (uniformly_negative_direction(H) is not None)
    if pos == "interior":   # a strictly positive combination exists: every row has a partner direction
        _, c = origin_position(H, return_certificate=True)
        assert c.weights.min() > 0


def lp_origin_position(H) -> str:
    """An independent reference for origin_position, not built on hull_certificate: 0 is in conv(H) iff the
    feasibility LP (lambda >= 0, sum 1, H^T lambda = 0) is feasible, and in its relative interior iff every row can
    carry positive weight in such a combination (one LP per row, maximising lambda_i; interior-point HiGHS)."""
    w = lp_smallest_weight(H)
    return "outside" if w is None else "interior" if w > 1e-7 else "boundary"


def lp_smallest_weight(H):
    """None if 0 is outside conv(H) (by the LP), else the smallest over rows of the largest weight that row can carry
    in a convex combination equal to 0 (0 on the boundary, > 0 in the relative interior)."""
    if not lp_contains_origin(H):
        return None
    n, d = H.shape
    A_eq = np.vstack([H.T, np.ones((1, n))])
    b_eq = np.r_[np.zeros(d), 1.0]
    best = []
    for i in range(n):
        c = np.zeros(n)
        c[i] = -1.0
        res = linprog(c, A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * n, method="highs-ipm")
        assert res.status == 0, res.message
        best.append(-res.fun)
    return min(best)


def random_case(kind: str, seed: int) -> np.ndarray:
    """A random cloud whose origin position is known by construction (then rotated at random):
    interior -- symmetric pairs +-x spanning R^d plus random points; boundary -- symmetric pairs spanning a random
    hyperplane through 0 plus points strictly on one side of it; outside -- a cloud shifted past its spread."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 6))
    extra = rng.standard_normal((int(rng.integers(1, 8)), d))
    if kind == "interior":
        X = rng.standard_normal((d + int(rng.integers(0, 3)), d))
        H = np.vstack([X, -X, extra])
    elif kind == "boundary":
        k = d - 1 + int(rng.integers(0, 3))                 # pairs spanning the hyperplane x_d = 0
        Y = np.c_[rng.standard_normal((k, d - 1)), np.zeros(k)]
        side = extra.copy()
        side[:, -1] = np.abs(side[:, -1]) + 0.2
        H = np.vstack([Y, -Y, side])
    else:
        centre = rng.standard_normal(d)
        H = 0.5 * rng.standard_normal((int(rng.integers(2, 20)), d)) + 3.0 * centre / np.linalg.norm(centre)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return rng.permutation(H) @ Q.T * float(rng.uniform(0.1, 10.0))


@pytest.mark.parametrize("kind", ["interior", "boundary", "outside"])
@pytest.mark.parametrize("seed", range(12))
def test_origin_position_against_construction_and_an_lp(kind, seed):
    H = random_case(kind, seed)
    assert lp_origin_position(H) == kind   # the construction and the reference agree
    assert origin_position(H) == kind


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point_clouds())
def test_origin_position_agrees_with_an_independent_lp(H):
    assume(np.linalg.norm(H, axis=1).max() > 1e-3)
    try:
        pos = origin_position(H)
    except RuntimeError:
        assume(False)   # razor-thin cases the certificate refuses to call
    cert = hull_certificate(H)
    assume(cert.contains or cert.margin > 1e-4 * np.linalg.norm(H, axis=1).max())   # the LP cannot decide razor-thin cases
    w = lp_smallest_weight(H)
    # nor interior points a hair from the boundary: found by hypothesis, H = [[5.96e-08], [-1.0]] -- the origin is inside,
    # but the far row can carry weight 6e-8 at most, below the reference's own 1e-7 cut between interior and boundary
    assume(w is None or not 1e-10 < w < 1e-5)
    assert pos == lp_origin_position(H)


# ------------------------------------------------------------------ l-infinity LP certificate
def test_linf_certificate_reports_primal_dual_gap():
    rng = np.random.default_rng(13)
    H = 0.5 * rng.standard_normal((300, 10)) + np.linspace(3.0, 0.3, 10)
    c = linf_max_margin_certificate(H)
    assert c.primal > 0 and c.dual >= c.primal - 1e-12
    assert c.gap <= 1e-7 * np.linalg.norm(H, axis=1).max()
    assert c.weights.min() >= 0 and abs(c.weights.sum() - 1) < 1e-12
    assert np.abs(c.u_box).max() <= 1.0 + 1e-12
    # weak duality by hand: the dual value bounds the margin of random feasible directions
    for _ in range(50):
        u = rng.uniform(-1, 1, 10)
        assert -(H @ u).max() <= c.dual + 1e-12
    assert np.allclose(c.direction, max_margin_direction(H, "linf"))
    assert linf_max_margin_certificate(rng.standard_normal((50, 3))).direction is None


# ------------------------------------------------------------------ Wendel's null probability
def test_wendel_probability_known_values_and_simulation():
    from math import comb

    assert theory.wendel_probability(3, 5) == 1.0                   # n <= d: always misses
    assert theory.wendel_probability(10, 5) == pytest.approx(0.5)   # n = 2d: one half
    assert theory.wendel_probability(7, 2) == pytest.approx(sum(comb(6, k) for k in range(2)) / 2 ** 6)
    assert theory.wendel_probability(3029, 384) < 1e-100
    rng = np.random.default_rng(14)
    n, d, trials = 8, 3, 300
    miss = np.mean([not hull_contains_origin(rng.standard_normal((n, d))) for _ in range(trials)])
    p = theory.wendel_probability(n, d)
    assert abs(miss - p) < 4 * np.sqrt(p * (1 - p) / trials)


@pytest.mark.parametrize("n,d", [(0, 3), (3, 0), (2.5, 3), (True, 3), ("a", 2)])
def test_wendel_probability_bad_input(n, d):
    with pytest.raises(ValueError):
        theory.wendel_probability(n, d)


def test_hull_contains_origin_shortcut_agrees_with_the_certificate():
    """The mean-direction shortcut of hull_contains_origin never changes the answer: on clouds shifted off
    the origin by amounts from far (shortcut taken) to the tolerance's edge (shortcut declines), and on
    centred clouds (contains), it equals hull_certificate(...).contains."""
    from helpers import theory

    rng = np.random.default_rng(7)
    taken = declined = 0
    for trial in range(60):
        n, d = int(rng.integers(5, 300)), int(rng.integers(2, 12))
        X = rng.standard_normal((n, d))
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        X -= np.outer(X @ u - (X @ u).min(), u)          # every row now has <x, u> = min over rows = 0 ...
        shift = [0.0, 1e-12, 1e-9, 1e-3, 0.5, 5.0][trial % 6]
        X += shift * u - (X @ u).min() * u               # ... then min <x, u> = shift (0: the origin on the hull)
        if trial % 7 == 0:
            X -= X.mean(axis=0)                          # a centred cloud: contains
        fast = theory._mean_direction_separates(X, 1e-9)
        taken += fast
        declined += not fast
        assert hull_contains_origin(X) == theory.hull_certificate(X).contains, (trial, shift)
        if fast:
            assert not theory.hull_certificate(X).contains
    assert taken >= 10 and declined >= 10, (taken, declined)   # both paths exercised

"""Tests for helpers.explore: the computations behind notebook 02a's and 04's explorables."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import explore, theory


def test_hull_state_outside_has_cone_line_and_gd_along_u_star():
    s = explore.hull_explorable(shift=2.0, spread=1.0)
    assert s.position == "outside" and s.u_star is not None
    assert (s.H @ s.u_star).max() < 0
    assert s.margin == pytest.approx(np.linalg.norm(s.p_star))
    # the cone: directions strictly inside it are uniformly negative, directions just outside are not
    lo, hi = s.cone
    assert 0 < hi - lo < np.pi
    inside = np.linspace(lo, hi, 52)[1:-1]
    U = np.c_[np.cos(inside), np.sin(inside)]
    assert ((U @ s.H.T).max(axis=1) < 0).all()
    for a in (lo - 0.05, hi + 0.05):
        assert (s.H @ np.array([np.cos(a), np.sin(a)])).max() > 0
    theta = np.arctan2(s.u_star[1], s.u_star[0])
    assert lo < theta < hi or lo < theta + 2 * np.pi < hi
    # the separating line <x, n> = ||p*|| / 2 has the origin on one side and every h_i on the other
    point, normal = s.line
    assert (s.H @ normal - point @ normal).min() > 0 and -(point @ normal) < 0
    # GD runs off and turns toward u* (slowly: O(1/log t)); its early direction is further off
    cos = s.path[1:] @ s.u_star / np.linalg.norm(s.path[1:], axis=1)
    assert s.verdict == "still moving" and s.norm_growth > 0.5
    assert 0.4 < s.log_slope * s.margin < 1.1          # Soudry et al.: ||w_t|| ~ log t / margin
    assert 0.4 < s.grad_norm * s.margin * 3000 < 1.5    # and ||grad L|| ~ 1 / (margin t)
    assert cos[-1] > 0.99 and cos[-1] > cos[9] + 0.05
    # hull vertices really are the convex hull (every point inside: cross products of the loop >= 0)
    loop = s.H[np.r_[s.hull, s.hull[:1]]]
    edges = np.diff(loop, axis=0)
    for P in s.H:
        cross = edges[:, 0] * (P[1] - loop[:-1, 1]) - edges[:, 1] * (P[0] - loop[:-1, 0])
        assert cross.min() >= -1e-12


def test_hull_state_interior_converges():
    s = explore.hull_explorable(shift=0.0, spread=0.8)
    assert s.position == "interior" and s.u_star is None and s.cone is None and s.line is None
    assert s.verdict == "converged" and s.grad_norm < 1e-6
    assert s.margin == 0.0 and abs(s.log_slope) < 0.01


@pytest.mark.parametrize("spread", [0.6, 1.2])
@pytest.mark.parametrize("shift", [0.0, 1.5])
def test_hull_state_boundary_preset(shift, spread):
    s = explore.hull_explorable(shift, spread, boundary=True)
    assert s.position == "boundary" == theory.origin_position(s.H)
    assert s.u_star is None and s.cone is None and theory.uniformly_negative_direction(s.H) is None
    assert s.verdict == "still moving" and s.log_slope > 0.1     # no minimiser: GD runs off like log t
    assert np.allclose(s.H[0], -s.H[1]) and (s.H[2:] @ np.array([2.0, 1.0]) > 0).all()


def test_hull_state_agrees_with_theory_and_is_seeded():
    a = explore.hull_explorable(1.5, 0.6, seed=3)
    b = explore.hull_explorable(1.5, 0.6, seed=3)
    assert np.array_equal(a.path, b.path)
    assert a.position == theory.origin_position(a.H)
    assert a.path.shape == (3001, 2)


def test_rare_word_bound_holds_and_vacuous_flag():
    for eps in (1e-4, 1e-3, 1e-2, 0.1):
        for lam in (1e-3, 1e-2, 1e-1):
            r = explore.rare_word_explorable(eps, lam)
            assert r.dist <= r.radius                      # Theorem 3 (with 2B := g(x*))
            assert r.vacuous == (r.radius >= np.linalg.norm(r.x_star))
            assert r.vacuous == (eps >= r.eps_vacuous)     # the threshold formula is right
    r = explore.rare_word_explorable(0.0, 1e-2)
    assert r.dist == 0.0 and r.radius == 0.0 and not r.vacuous
    # the never-seen minimiser points along u* more than the mean context's opposite does
    m = -r.H.mean(axis=0) / np.linalg.norm(r.H.mean(axis=0))
    c = r.x_star @ r.u_star / np.linalg.norm(r.x_star)
    assert c > 0.9 and c > r.x_star @ m / np.linalg.norm(r.x_star) - 0.1


@pytest.mark.parametrize("kwargs", [
    dict(shift=float("nan")), dict(spread=0.0), dict(spread=-1.0), dict(n=2), dict(steps=5),
    dict(lr=0.0), dict(shift="a"), dict(seed=-1), dict(n=3.5), dict(shift=True), dict(boundary="yes"),
])
def test_hull_explorable_bad_input(kwargs):
    with pytest.raises(ValueError):
        explore.hull_explorable(**kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(eps=-0.1), dict(eps=1.0), dict(lam=0.0), dict(lam=float("inf")), dict(n_seen=0),
    dict(n=10, n_seen=10), dict(eps="x"),
])
def test_rare_word_explorable_bad_input(kwargs):
    with pytest.raises(ValueError):
        explore.rare_word_explorable(**kwargs)

"""Tests for helpers.explore: the computations behind the explorables (notebooks 02a, 04, 06, 09) and their static exports."""
from __future__ import annotations

import json

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


# ------------------------------------------------------------------ notebook 06 and 09 states
def test_metrics_disagree_state_separates_the_metrics():
    base = explore.metrics_disagree_explorable()
    shifted = explore.metrics_disagree_explorable(shift=1.0)
    rogue = explore.metrics_disagree_explorable(rogue=8.0)
    assert list(base) == list(explore.DISAGREE_METRICS.values())
    assert abs(base["random-pair cos"]) < 0.02 and base["IsoScore"] > 0.9
    assert shifted["random-pair cos"] > 0.4 and abs(shifted["top-dim share"] - base["top-dim share"]) < 0.02
    assert rogue["top-dim share"] > 0.5 and abs(rogue["random-pair cos"]) < 0.05
    assert explore.metrics_disagree_explorable(clusters=3.0) == explore.metrics_disagree_explorable(clusters=3)


def _part():
    rows = []
    for opt, cos, gap in (("adam", 0.66, 0.3), ("coupled_adam", 0.0, 0.35), ("sgd", 0.001, 1.1), ("sign", 0.71, 0.38)):
        for seed in (0, 1):
            rows.append({"cell": f"{opt} / tied / bias / mlm", "seed": seed, "cos": cos + 0.001 * seed,
                         "loss - unigram": gap, "eff rank": 120.0, "common share": 0.9, "top dim": 0.01})
    return {"steps": 50, "seeds": [0, 1], "runs": rows}


def test_optimizer_cone_state_splits_the_runs():
    st = explore.optimizer_cone_explorable(_part(), "sgd")
    assert st["label"] == "SGD" and len(st["runs"]) == 2 and len(st["others"]) == 6
    assert st["runs"][0]["context"] == "tied / bias / mlm" and st["mean"]["cos"] == pytest.approx(0.0015)
    assert {r["optimizer"] for r in st["others"]} == {"adam", "coupled_adam", "sign"}


@pytest.mark.parametrize("part, opt", [({}, "adam"), ({"runs": []}, "adam"), ({"runs": [{"cell": "x"}]}, "adam"),
                                       (_part(), "lion")])
def test_optimizer_cone_bad_input(part, opt):
    with pytest.raises(ValueError):
        explore.optimizer_cone_explorable(part, opt)


# ------------------------------------------------------------------ the static exports
def test_static_grids_are_positions_the_live_sliders_reach():
    live_steps = {"02_hull": {"shift": 0.1, "spread": 0.1}, "04_rare_word": {"log_eps": 0.25, "log_lam": 0.25},
                  "06_metrics_disagree": {"shift": 0.075, "rogue": 0.5, "zipf": 0.1, "clusters": 1}}
    for name, steps in live_steps.items():
        for p, lab, vals, default in explore.GRIDS[name]:
            assert default in vals
            if p in steps:
                k = np.asarray(vals) / steps[p]
                assert np.allclose(k, np.round(k)), (name, p)


@pytest.fixture(scope="module")
def committed():
    return {n: explore.read_export(explore.exports_dir() / f"{n}.json") for n in explore.GRIDS}


def test_committed_exports_are_the_helpers_states(committed):
    """The states the book shows are what the kernel computes at those slider positions (a few, recomputed)."""
    exp = committed["04_rare_word"]
    for le, ll in ((-4.0, -2.0), (-1.0, -3.5), (-0.5, 0.0)):
        st = explore.rare_word_explorable(10.0 ** le, 10.0 ** ll, seed=exp["seed"])
        assert explore.state_at(exp, log_eps=le, log_lam=ll) == explore.rare_word_state_record(st)
    assert np.allclose(exp["fixed"]["H"], st.H, rtol=1e-4, atol=1e-9) and exp["fixed"]["seen"] == st.seen.tolist()
    exp = committed["06_metrics_disagree"]
    for knobs in (dict(shift=0.0, rogue=0.0, zipf=0.0, clusters=1), dict(shift=0.9, rogue=4.0, zipf=1.5, clusters=6)):
        want = explore.metrics_disagree_explorable(**knobs, seed=exp["seed"])
        assert explore.state_at(exp, **knobs) == explore._plain(list(want.values()))
    exp = committed["02_hull"]
    for sh, sp, b in ((1.5, 0.6, 0), (0.0, 1.2, 1)):
        st = explore.hull_explorable(sh, sp, seed=exp["seed"], boundary=bool(b))
        assert explore.state_at(exp, shift=sh, spread=sp, boundary=b) == explore.hull_state_record(st)
    assert exp["path_steps"] == explore.hull_path_steps(3000).tolist()


def test_committed_exports_cover_their_grids(committed):
    for name, exp in committed.items():
        assert [(p["name"], p["label"], p["values"], p["default"]) for p in exp["params"]] == \
            [(p, lab, list(v), d) for p, lab, v, d in explore.GRIDS[name]]
        assert len(exp["states"]) == np.prod([len(v) for _, _, v, _ in explore.GRIDS[name]])
    # the stored states differ where the sliders differ (the grid is not one state repeated)
    assert len({json.dumps(s) for s in committed["04_rare_word"]["states"]}) == len(committed["04_rare_word"]["states"])


def test_state_at_and_export_roundtrip(tmp_path):
    exp = explore.optimizer_cone_export({"a": _part()}, {"cos": 1e-6, "eff rank": 127.9}, source="test")
    path = explore.write_export(exp, tmp_path / "09_optimizer_cone.json")
    back = explore.read_export(path)
    assert back == json.loads(json.dumps(exp))
    assert explore.state_at(back, part=0, optimizer=2)["label"] == "SGD"
    with pytest.raises(ValueError):
        explore.state_at(back, part=0)
    with pytest.raises(ValueError):
        explore.state_at(back, part=0, optimizer=7)
    with pytest.raises(ValueError):
        explore.export("09_optimizer_cone")
    with pytest.raises(ValueError):
        explore.optimizer_cone_export({})
    with pytest.raises(FileNotFoundError):
        explore.read_export(tmp_path / "missing.json")

"""Tests of helpers.lab: the unigram baseline and count buckets replicate training.train exactly."""
import numpy as np
import pytest
import torch

import helpers
from helpers import lab
from helpers import training as T

helpers.setup(seed=0)

TEXTS = [
    "The river flows through the old town and past the mill. " * 6,
    "A small red bird sang on the branch while the children played football in the park. " * 6,
    "Mathematics studies numbers, shapes and patterns; physics studies matter and energy. " * 6,
]
TINY = dict(layers=1, hidden=32, heads=2, intermediate=64, max_len=16, batch_size=8, steps=30,
            warmup=1, head_state_chunks=8, eval_chunks=8, heldout_frac=0.2)


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))


@pytest.fixture(scope="module")
def run_and_labels():
    """A tiny run, plus every label array that training.train passed to masked_lm_loss (train, then eval)."""
    seen = []
    orig = T.masked_lm_loss

    def spy(model, inp, labels, attention_mask=None, reduction="mean"):
        seen.append(labels.numpy().copy())
        return orig(model, inp, labels, attention_mask, reduction=reduction)

    T.masked_lm_loss = spy
    try:
        res = T.train(T.TrainConfig(**TINY, seed=3), TEXTS, cache=False, progress=False)
    finally:
        T.masked_lm_loss = orig
    return res, seen


def test_heldout_batches_reproduce_the_models_heldout_loss(run_and_labels):
    res, seen = run_and_labels
    batches = lab.heldout_batches(res, TEXTS)
    tot, n = 0.0, 0
    with torch.no_grad():
        for inp, labels in batches:
            m = int((labels != -100).sum())
            tot += float(T.masked_lm_loss(res.model, torch.from_numpy(inp), torch.from_numpy(labels))) * m
            n += m
    assert tot / n == pytest.approx(res.heldout_loss, rel=1e-6)
    eval_labels = seen[res.config.steps:]
    assert len(eval_labels) == len(batches)
    for a, (_, b) in zip(eval_labels, batches):
        assert np.array_equal(a, b)


def test_unigram_loss_is_add_one_unigram_on_those_targets(run_and_labels):
    res, seen = run_and_labels
    targets = np.concatenate([l[l != -100] for l in seen[res.config.steps:]])
    V = len(res.counts)
    p = (res.counts[targets] + 1.0) / (res.counts.sum() + V)
    assert lab.unigram_heldout_loss(res, TEXTS) == pytest.approx(float(-np.log(p).mean()), rel=1e-12)
    # a context-free baseline beats the uniform guess ln V (add-one smoothing dominates on this tiny text)
    assert 0 < lab.unigram_heldout_loss(res, TEXTS) < np.log(V)


def test_masked_target_counts_replay_training(run_and_labels):
    res, seen = run_and_labels
    want = np.zeros(len(res.counts), dtype=np.int64)
    for l in seen[: res.config.steps]:
        want += np.bincount(l[l != -100], minlength=len(want))
    got = lab.masked_target_counts(res, TEXTS)
    assert np.array_equal(got, want)
    assert got.sum() > 0 and (got[res.counts == 0] == 0).all()


def test_other_texts_are_refused(run_and_labels):
    res, _ = run_and_labels
    with pytest.raises(ValueError, match="not the ones"):
        lab.unigram_heldout_loss(res, [t.upper() + " extra words here" for t in TEXTS])
    with pytest.raises(ValueError, match="TrainResult"):
        lab.unigram_heldout_loss(object())


def test_count_buckets_labels_and_edges():
    counts = np.array([0, 1, 9, 10, 99, 100, 999, 1000, 5, 7])
    targets = np.array([0, 1, 1, 2, 5, 9, 40, 200, 0, 3])
    got = lab.count_buckets(counts, targets, exclude=[9])
    assert list(got) == ["never seen", "1-9", "1-9", "10-99", "10-99", "100-999", "100-999", "1k+", "never a target", None]
    assert lab.COUNT_BUCKETS == ("never seen", "never a target", "1-9", "10-99", "100-999", "1k+")
    no_t = lab.count_buckets(counts)
    assert no_t[8] == "1-9" and "never a target" not in set(no_t)
    ids = lab.bucket_ids(got, lab.COUNT_BUCKETS)
    assert list(ids) == list(lab.COUNT_BUCKETS) and list(ids["1-9"]) == [1, 2]


def test_rank_buckets():
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 1000, size=6000)
    counts[:10] = 0
    r = lab.rank_buckets(counts, exclude=[10])
    ids = lab.bucket_ids(r, lab.RANK_BUCKETS)
    assert [len(v) for v in ids.values()] == [100, 400, 4500, 6000 - 10 - 1 - 5000, 10]
    assert counts[ids["rank 0-99"]].min() >= counts[ids["rank 100-499"]].max()
    assert r[10] is None


@pytest.mark.parametrize("bad", [np.array([1.5, 2.0]), np.array([-1, 2]), np.zeros((2, 2), int), np.array([], int)])
def test_bad_counts(bad):
    with pytest.raises(ValueError):
        lab.count_buckets(bad)
    with pytest.raises(ValueError):
        lab.rank_buckets(bad)


def test_bad_edges_and_targets():
    with pytest.raises(ValueError, match="edges"):
        lab.count_buckets(np.array([1, 2]), edges=(100, 10))
    with pytest.raises(ValueError, match="target_counts"):
        lab.count_buckets(np.array([1, 2]), np.array([1]))
    with pytest.raises(ValueError, match="exclude"):
        lab.count_buckets(np.array([1, 2]), exclude=[5])


def test_mean_sd():
    assert lab.mean_sd([1.0, 2.0, 3.0]) == pytest.approx((2.0, 1.0))
    m, s = lab.mean_sd([4.0])
    assert m == 4.0 and np.isnan(s)
    with pytest.raises(ValueError):
        lab.mean_sd([])
    with pytest.raises(ValueError):
        lab.mean_sd([1.0, float("nan")])


def test_run_summary_is_what_notebook_05_measures(run_and_labels):
    from helpers import geometry

    res, _ = run_and_labels
    other = T.train(T.TrainConfig(**TINY, seed=4), TEXTS, cache=False, progress=False)
    s = lab.run_summary({3: res, 4: other}, TEXTS)
    assert sorted(s["seeds"]) == ["3", "4"] and s["config"] == res.config.to_dict()
    m = s["seeds"]["3"]
    uni = lab.unigram_heldout_loss(res, TEXTS)
    assert m["heldout_loss"] == round(res.heldout_loss, 4) and m["unigram_loss"] == round(uni, 4)
    assert m["unigram_gap"] == round(uni - res.heldout_loss, 4)
    assert m["cos_weighted"] == round(geometry.weighted_pair_cosine(res.embeddings, res.counts), 4)
    assert set(s["count_buckets"]) == set(lab.COUNT_BUCKETS)
    assert sum(b["n"] for b in s["count_buckets"].values()) == len(res.counts) - len(res.tokenizer.all_special_ids)
    assert s["keys"]["3"] == T.run_key(res.config, TEXTS) != s["keys"]["4"]
    # the comparison a stale record must fail
    assert lab.compare_summaries(s, s) == []
    bad = {**s, "seeds": {**s["seeds"], "4": {**s["seeds"]["4"], "cos_types": s["seeds"]["4"]["cos_types"] + 1e-3}}}
    assert lab.compare_summaries(s, bad) == [f"seeds.4.cos_types: {s['seeds']['4']['cos_types']} vs {bad['seeds']['4']['cos_types']}"]
    assert lab.compare_summaries(s, {**s, "keys": {"3": "x", "4": "y"}}) == ["keys differ"]
    # the seed table and Table 1 of the record are lab.final_geometry and lab.bucket_stats, rounded
    geo = lab.final_geometry(other.embeddings, other.counts, other.tokenizer.pad_token_id, seed=3)
    assert {k: round(v, 4) for k, v in geo.items()} == {k: s["seeds"]["4"][k] for k in geo}
    assert list(s["trajectory"]["4"]) == [str(k) for k in sorted(other.snapshots)]   # one entry per snapshot kept


def test_run_summary_trajectory_is_the_type_cosine_of_each_snapshot():
    from helpers import geometry

    runs = {s: T.train(T.TrainConfig(**TINY, seed=s, snapshot_steps=(0, 10, 30)), TEXTS, cache=False, progress=False)
            for s in (1, 2)}
    t = lab.run_summary(runs, TEXTS)
    assert list(t["trajectory"]) == ["1", "2"] and list(t["trajectory"]["2"]) == ["0", "10", "30"]
    r = runs[2]
    keep = np.arange(len(r.embeddings)) != r.tokenizer.pad_token_id
    for step in (0, 10, 30):   # the smallest seed's pairs for every run, as cos_types
        assert t["trajectory"]["2"][str(step)] == round(geometry.random_pair_cosine(r.snapshots[step][keep], 20_000, seed=1), 4)
    assert t["trajectory"]["2"]["30"] == t["seeds"]["2"]["cos_types"]       # the last snapshot is the final matrix
    assert t["trajectory"]["2"]["0"] != t["trajectory"]["2"]["30"]


def test_bucket_moves_is_displacement_over_initial_norm():
    W0 = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    W = W0 + np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    m = lab.bucket_moves(W, W0, {"a": [0], "b": [1, 2], "empty": []})
    assert m["a"] == 1.0 and m["b"] == 0.0 and np.isnan(m["empty"])
    assert lab.bucket_moves(W, W0, {"ab": [0, 1]})["ab"] == pytest.approx(0.5 / 1.5)     # mean move / mean norm
    with pytest.raises(ValueError, match="one shape"):
        lab.bucket_moves(W[:2], W0, {"a": [0]})
    with pytest.raises(ValueError, match="finite"):
        lab.bucket_moves(W * np.nan, W0, {"a": [0]})


def test_compare_records_paths_tolerance_and_exact_parts():
    a = {"config": {"lr": 1e-3}, "keys": {"0": "k"}, "steps": 50, "runs": [{"cell": "adam", "cos": 0.5, "rho": None}],
         "layers": {"mlm | seed 0": [0.1, float("nan")]}}
    assert lab.compare_records(a, a) == [] and lab.compare_records(a, json_roundtrip(a)) == []
    near = {**a, "runs": [{"cell": "adam", "cos": 0.5 + 1e-4, "rho": None}]}
    assert lab.compare_records(a, near) == [] and lab.compare_records(a, near, tol=1e-5) == ["runs[0].cos: 0.5 vs 0.5001"]
    assert lab.compare_records(a, {**a, "steps": 51}) == ["steps: 50 vs 51"]           # integers exactly
    assert lab.compare_records(a, {**a, "config": {"lr": 1e-3 + 1e-6}}) == ["config differ"]   # configs exactly
    assert lab.compare_records(a, {**a, "runs": [{"cell": "sgd", "cos": 0.5, "rho": None}]}) == ["runs[0].cell: adam vs sgd"]
    assert lab.compare_records(a, {**a, "runs": [{"cell": "adam", "cos": 0.5, "rho": 0.1}]}) == ["runs[0].rho: None vs 0.1"]
    assert lab.compare_records(a, {**a, "layers": {"mlm | seed 0": [0.1, 0.2]}}) == ["layers.mlm | seed 0[1]: nan vs 0.2"]
    extra = lab.compare_records(a, {**a, "init": {"cos": 0.0}})
    assert extra == ["entries differ: ['init.cos']"]
    assert lab.flatten_record({"x": [1, {"y": 2}], "z": []}) == {"x[0]": 1, "x[1].y": 2, "z": []}


def json_roundtrip(x):
    import json

    return json.loads(json.dumps(x))


def test_run_summary_bad_input(run_and_labels):
    res, _ = run_and_labels
    with pytest.raises(ValueError, match="non-empty"):
        lab.run_summary({}, TEXTS)
    with pytest.raises(ValueError, match="TrainResult"):
        lab.run_summary({0: "not a run"}, TEXTS)
    longer = T.train(T.TrainConfig(**{**TINY, "steps": 2}, seed=3), TEXTS, cache=False, progress=False)
    with pytest.raises(ValueError, match="share one configuration"):
        lab.run_summary({3: res, 5: longer}, TEXTS)


def test_run_key_is_the_cache_directory_and_goes_stale_with_the_code(tmp_path, monkeypatch):
    cfg = T.TrainConfig(**{**TINY, "steps": 2}, seed=0)
    T.train(cfg, TEXTS, progress=False)
    key = T.run_key(cfg, TEXTS)
    assert (tmp_path / "training" / key / "done").exists()
    assert T.run_key(cfg.replace(seed=1), TEXTS) != key
    monkeypatch.setattr(T, "CODE_VERSION", T.CODE_VERSION + 1)
    assert T.run_key(cfg, TEXTS) != key
    with pytest.raises(ValueError, match="TrainConfig"):
        T.run_key({"steps": 2}, TEXTS)


def test_cached_chunks_equal_token_chunks_and_are_read_only():
    tok = T.course_tokenizer()
    a = T._cached_chunks(tok, TEXTS, 16, T._fingerprint(TEXTS, tok))
    assert np.array_equal(a, T.token_chunks(tok, TEXTS, 16))
    assert a is T._cached_chunks(tok, TEXTS, 16, T._fingerprint(TEXTS, tok))
    with pytest.raises(ValueError):
        a[0, 0] = 1


def test_value_at_loss_reads_the_first_crossing():
    losses, vals = [1.0, 0.5, 0.0, 0.2, -0.5], [0.0, 1.0, 2.0, 3.0, 4.0]
    assert lab.value_at_loss(losses, vals, 0.75) == pytest.approx(0.5)     # between steps 0 and 1
    assert lab.value_at_loss(losses, vals, 0.1) == pytest.approx(1.8)      # the first crossing, not the later one
    assert lab.value_at_loss(losses, vals, 2.0) == 0.0                     # already below at the first step
    assert np.isnan(lab.value_at_loss(losses, vals, -1.0))                 # never reached
    with pytest.raises(ValueError, match="one length"):
        lab.value_at_loss([1.0, 0.5], [1.0], 0.7)
    with pytest.raises(ValueError, match="finite"):
        lab.value_at_loss([1.0, np.nan], [1.0, 2.0], 0.7)


@pytest.mark.parametrize("diffs, verdict", [
    ([0.3, 0.2, 0.4], "A higher"), ([-0.3, -0.06], "B higher"), ([0.01, -0.04, 0.0], "no difference"),
    ([0.3, 0.01], "not resolved"), ([0.3, -0.3], "not resolved")])
def test_equal_loss_verdict_reaches_every_label(diffs, verdict):
    assert lab.equal_loss_verdict(diffs, 0.05) == verdict
    assert verdict in lab.EQUAL_LOSS_VERDICTS


def test_equal_loss_verdict_refuses_bad_input():
    for bad in ([], [np.nan, 0.1]):
        with pytest.raises(ValueError, match="finite"):
            lab.equal_loss_verdict(bad, 0.05)
    with pytest.raises(ValueError, match="threshold"):
        lab.equal_loss_verdict([0.1], 0.0)


def _curves(spec):
    """Synthetic equal-loss curves: spec {(optimizer, seed): (losses, cos values)} at steps 0, 1, 2, ..."""
    import pandas as pd

    return pd.DataFrame([{"optimizer": o, "seed": s, "step": t, "loss - unigram": l, "cos": c}
                         for (o, s), (ls, cs) in spec.items() for t, (l, c) in enumerate(zip(ls, cs))])


def test_equal_loss_levels_are_the_multiples_every_run_reaches():
    c = _curves({("adam", 0): ([0.2, -0.3, -0.7], [0.5, 0.6, 0.7]), ("adam", 1): ([0.1, -0.4, -0.66], [0.5, 0.6, 0.7]),
                 ("sgd", 0): ([0.3, -0.2, -0.9], [0.0, 0.1, 0.2])})
    # deepest level all three reach: -0.66 -> -0.66 (more than 0.05 below -0.5, so added)
    assert lab.equal_loss_levels(c, ("adam", "sgd")) == [0.0, -0.25, -0.5, -0.66]
    c2 = _curves({("adam", 0): ([0.2, -0.52], [0.5, 0.6]), ("sgd", 0): ([0.3, -0.9], [0.0, 0.1])})
    assert lab.equal_loss_levels(c2, ("adam", "sgd")) == [0.0, -0.25, -0.5]   # -0.52 is within 0.05 of -0.5
    with pytest.raises(ValueError, match="never beats"):
        lab.equal_loss_levels(_curves({("adam", 0): ([0.2, 0.1], [0.5, 0.6]), ("sgd", 0): ([0.3, -0.9], [0.0, 0.1])}),
                              ("adam", "sgd"))
    with pytest.raises(ValueError, match="no run of 'sign'"):
        lab.equal_loss_levels(c, ("adam", "sign"))
    with pytest.raises(ValueError, match="columns"):
        lab.equal_loss_levels(c.drop(columns="seed"), ("adam", "sgd"))


def test_equal_loss_comparison_reads_every_seed_pair_at_each_level():
    # losses fall linearly 0.5 per step; adam's cos is 0.6 at every step, sgd's rises 0 -> 0.4 -> 0.8
    c = _curves({("adam", 0): ([0.5, 0.0, -0.5], [0.6, 0.6, 0.6]), ("adam", 1): ([0.5, 0.0, -0.5], [0.7, 0.7, 0.7]),
                 ("sgd", 0): ([0.5, 0.0, -0.5], [0.0, 0.4, 0.8])})
    levels, rows, verdicts = lab.equal_loss_comparison(c, "adam", "sgd", ("cos",), threshold=0.05)
    assert levels == [0.0, -0.25, -0.5]
    by = {r["level"]: r for r in rows}
    assert by[0.0]["a"] == pytest.approx(0.65) and by[0.0]["b"] == pytest.approx(0.4)
    assert (by[0.0]["lo"], by[0.0]["hi"]) == (pytest.approx(0.2), pytest.approx(0.3)) and by[0.0]["verdict"] == "A higher"
    assert by[-0.25]["b"] == pytest.approx(0.6) and by[-0.25]["verdict"] == "not resolved"    # diffs 0.0 and 0.1
    assert by[-0.5]["verdict"] == "B higher"                                                 # diffs -0.2 and -0.1
    assert verdicts == {"cos": lab.DEPENDS_ON_LEVEL}
    same = _curves({("adam", 0): ([0.5, -0.5], [0.9, 0.9]), ("sgd", 0): ([0.5, -0.5], [0.1, 0.1])})
    assert lab.equal_loss_comparison(same, "adam", "sgd", ("cos",), 0.05)[2] == {"cos": "A higher"}
    with pytest.raises(ValueError, match="columns"):
        lab.equal_loss_comparison(same, "adam", "sgd", ("IsoScore",), 0.05)


def test_cone_metrics_tell_a_cone_from_a_round_cloud():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 50, size=2000)
    round_ = lab.cone_metrics(rng.normal(size=(2000, 16)), counts)
    cone = lab.cone_metrics(rng.normal(size=(2000, 16)) * 0.1 + 1.0, counts)
    assert abs(round_["cos"]) < 0.02 and cone["cos"] > 0.95 and cone["cos seen"] > 0.95 and cone["cos tokens"] > 0.95
    assert round_["IsoScore"] > 0.8 and round_["top PC"] < 0.15
    # a common shift is invisible to the centred metrics: the cone's IsoScore and top-PC share stay round
    assert cone["IsoScore"] > 0.8 and cone["top PC"] < 0.15 and set(cone) == set(lab.CONE_METRICS)
    keep = np.ones(2000, dtype=bool)
    keep[:1000] = False
    assert lab.cone_metrics(np.vstack([rng.normal(size=(1000, 16)) + 5, rng.normal(size=(1000, 16))]), counts,
                            keep)["cos"] < 0.05    # the dropped rows do not count
    with pytest.raises(ValueError, match="NaN"):
        lab.cone_metrics(np.full((3, 2), np.nan), np.ones(3))
    with pytest.raises(ValueError, match=r"\(V, d\)"):
        lab.cone_metrics(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="positive count"):
        lab.cone_metrics(np.ones((3, 2)), np.zeros(3))


def test_run_metrics_at_an_evaluated_step():
    res = T.train(T.TrainConfig(**{**TINY, "steps": 6, "eval_steps": (3,)}), TEXTS, cache=False, progress=False)
    last, mid = lab.run_metrics(res), lab.run_metrics(res, 3)
    assert last["loss - unigram"] == pytest.approx(res.heldout_loss - res.heldout_unigram_loss)
    assert mid["loss - unigram"] == pytest.approx(res.heldout_curve[3] - res.heldout_unigram_loss)
    assert 0 < mid["unseen move"] and mid != last
    with pytest.raises(ValueError, match="no snapshot"):
        lab.run_metrics(res, 4)


def test_stale_reasons_name_each_way_a_record_goes_stale():
    import pandas as pd

    rows = lab.frame_rows(pd.DataFrame({"seed": [0, 1], "cos": np.array([0.5, 0.25])}))
    assert rows == [{"seed": 0, "cos": 0.5}, {"seed": 1, "cos": 0.25}] and type(rows[0]["seed"]) is int
    rec = {"ci": {"runs": rows}, "full": {"keys": {"a": "k1"}}}
    assert lab.stale_reasons(rec, rows, {"a": "k1"}) == []
    assert lab.stale_reasons(rec, [{"seed": 0, "cos": 0.5001}, rows[1]], {"a": "k1"}) == []     # within 2e-4
    moved = [{"seed": 0, "cos": 0.51}, rows[1]]
    assert lab.stale_reasons(rec, moved, {"a": "k1"}) == ["its CI part is not this run's numbers (within 0.0002)"]
    assert lab.stale_reasons(rec, rows, {"a": "k2"}) == [
        "its cache keys are not today's: a config, the data or the training code changed"]
    assert len(lab.stale_reasons(rec, moved, {"a": "k2"})) == 2

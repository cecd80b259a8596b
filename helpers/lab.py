"""Baselines and frequency buckets for the tiny-BERT lab (notebooks 05, 06, 08, 09, 10).

A trained masked language model has learned something beyond word frequencies only if its held-out
loss is below that of a **unigram model** -- one that ignores the context and predicts every masked
token with its frequency in the training text. ``unigram_heldout_loss`` scores that baseline on
*exactly* the held-out masked targets that ``helpers.training.train`` scores the model on (same
chunks, same masking RNG), so the two numbers are directly comparable.

On a corpus of 0.6M word pieces, frequency *ranks* (BERT-flow's 0-100 / 100-500 / 500-5k / 5k+)
mix tokens seen thousands of times with tokens seen three times, and many tokens of the 5k+ bucket
were never a masked target (their only gradient is the softmax's push, as for never-seen ones).
``count_buckets`` therefore buckets by **count** in the training text, with a separate bucket for
tokens that occur but were never a masked target; ``masked_target_counts`` recomputes, deterministically
from the config's RNG, how often each token was a masked target during training.

Main entry points
-----------------
``unigram_heldout_loss(res, texts=None) -> float``
    add-one (Laplace) unigram model over the vocabulary from ``res.counts``, mean negative log
    likelihood (nats) on the held-out masked targets of ``res.heldout_loss``.
``masked_target_counts(res, texts=None) -> (V,) int64``
    how many times each token id was a masked (loss) target during training.
``count_buckets(counts, target_counts=None, edges=(10, 100, 1000), exclude=()) -> (V,) object array``
    bucket label of each token (see ``COUNT_BUCKETS``); ``bucket_ids`` turns labels into id lists.
``rank_buckets(counts, exclude=())``: BERT-flow's rank buckets, for comparison.
``final_geometry(E, counts, pad_id, seed)``, ``bucket_stats(E, groups, seed)``
    notebook 05's measurements of one word matrix (its seed table) and of its buckets (Table 1): what
    notebook 05 prints and what ``run_summary`` stores.
``run_summary(runs, texts=None) -> dict``
    JSON-able record of several seeds of one lab configuration (losses, unigram gap, ``final_geometry``
    per seed, the type cosine at each snapshot, ``bucket_stats`` by count bucket for the first seed, the
    runs' cache keys).
``compare_records(a, b, tol=2e-4)``, ``flatten_record(record)``
    the one comparison of a stored FULL record (``notebooks/measured/NN_full.json``: ``{"written_by",
    "ci": part, "full": part with "keys"}``) with today's recomputation, used by notebooks 05 and 09;
    ``compare_summaries`` is the same function.
``equal_loss_comparison(curves, a, b, metrics, threshold)``
    optimizer ``a`` against ``b`` at equal held-out loss (``equal_loss_levels``, ``value_at_loss``,
    ``equal_loss_verdict`` per pair of seeds): the one procedure of notebooks 09c and 09d.
"""
from __future__ import annotations

import numpy as np

from . import geometry, metrics, training

__all__ = [
    "unigram_heldout_loss",
    "unigram_heldout_losses",
    "heldout_targets",
    "heldout_batches",
    "masked_target_counts",
    "count_buckets",
    "rank_buckets",
    "bucket_ids",
    "COUNT_BUCKETS",
    "RANK_BUCKETS",
    "mean_sd",
    "final_geometry",
    "bucket_stats",
    "run_summary",
    "bucket_moves",
    "flatten_record",
    "compare_records",
    "compare_summaries",
    "frame_rows",
    "stale_reasons",
    "CONE_METRICS",
    "cone_metrics",
    "run_metrics",
    "value_at_loss",
    "equal_loss_verdict",
    "EQUAL_LOSS_VERDICTS",
    "equal_loss_levels",
    "equal_loss_comparison",
    "DEPENDS_ON_LEVEL",
]

NEVER_SEEN = "never seen"
NEVER_TARGET = "never a target"


def _count_labels(edges):
    lo = [1] + list(edges)
    labels = []
    for a, b in zip(lo, list(edges) + [None]):
        fmt = lambda x: f"{x // 1000}k" if x >= 1000 and x % 1000 == 0 else str(x)  # noqa: E731
        labels.append(f"{fmt(a)}+" if b is None else f"{fmt(a)}-{fmt(b - 1) if b - 1 < 1000 else b - 1}")
    return labels


#: Bucket labels of ``count_buckets`` with the default edges, rarest first.
COUNT_BUCKETS = (NEVER_SEEN, NEVER_TARGET, *_count_labels((10, 100, 1000)))
#: BERT-flow's frequency-rank buckets (Li et al. 2020), as used before this module existed.
RANK_BUCKETS = ("rank 0-99", "rank 100-499", "rank 500-4999", "rank 5000+", NEVER_SEEN)


def _result_parts(res):
    """(config, tokenizer, counts) of a ``TrainResult``, validated."""
    cfg = getattr(res, "config", None)
    if not isinstance(cfg, training.TrainConfig) or not hasattr(res, "counts") or not hasattr(res, "tokenizer"):
        raise ValueError("res must be a helpers.training.TrainResult (the return value of training.train)")
    return cfg, res.tokenizer, np.asarray(res.counts)


def _data(res, texts=None):
    """The ``training.TrainData`` of ``res`` (its chunks, split and masking ids), as ``train`` prepared it;
    ``texts`` must be the texts ``res`` was trained on (default the Wikipedia sample)."""
    cfg, _, counts = _result_parts(res)
    data = training.prepare_data(cfg, texts)
    if not np.array_equal(data.counts, counts):
        raise ValueError("these texts are not the ones res was trained on (token counts differ): pass the same texts")
    return data


def heldout_batches(res, texts=None) -> list:
    """[(inputs, labels), ...]: the masked held-out batches that ``res.heldout_loss`` is computed on
    (``training.heldout_batches``: the first ``cfg.eval_chunks`` held-out chunks, masked in batches of
    64 with ``np.random.default_rng(10_000 + cfg.seed)``). Masked-LM runs only."""
    cfg = _result_parts(res)[0]
    if cfg.objective != "mlm":
        raise ValueError("heldout_batches replays BERT's masking: res must be a masked-LM run (objective='mlm')")
    data = _data(res, texts)
    if len(data.held_ids) == 0:
        raise ValueError("the run has no held-out chunks (heldout_frac = 0): there is no held-out loss to compare with")
    return [(inp, lab) for _, inp, lab in training.heldout_batches(cfg, data)]


def heldout_targets(res, texts=None) -> np.ndarray:
    """Token ids of the held-out masked targets that ``res.heldout_loss`` averages over, (n,) int64."""
    return np.concatenate([lab[lab != -100] for _, lab in heldout_batches(res, texts)]).astype(np.int64)


def unigram_heldout_losses(res, texts=None) -> np.ndarray:
    """Per-target negative log likelihood (nats) of the add-one unigram model, (n,) float64."""
    counts = _result_parts(res)[2].astype(np.float64)
    V = len(counts)
    logp = np.log(counts + 1.0) - np.log(counts.sum() + V)
    return -logp[heldout_targets(res, texts)]


def unigram_heldout_loss(res, texts=None) -> float:
    """Held-out loss (nats) of a context-free unigram model, comparable with ``res.heldout_loss``.

    p(w) = (count(w) + 1) / (N + V), with count from ``res.counts`` (the training text), N their sum
    and V the vocabulary size (add-one / Laplace smoothing, so a token never seen still has p > 0).
    Scored on exactly the held-out masked targets of ``res.heldout_loss``. ``texts`` must be the texts
    ``res`` was trained on (default ``helpers.data.wiki_sample()``); other texts raise ``ValueError``.
    """
    return float(unigram_heldout_losses(res, texts).mean())


def masked_target_counts(res, texts=None) -> np.ndarray:
    """How many times each token id was a masked target during the training of ``res``, (V,) int64.

    Replays ``training.train``'s data order and masking (``training.training_batches``: the same
    permutations and ``mask_tokens`` calls from ``np.random.default_rng(cfg.seed)``), without the
    model. Cheap: no forward pass. Masked-LM runs only.
    """
    cfg, _, counts = _result_parts(res)
    if cfg.objective != "mlm":
        raise ValueError("masked_target_counts replays BERT's masking: res must be a masked-LM run (objective='mlm')")
    V = len(counts)
    out = np.zeros(V, dtype=np.int64)
    for _, _, lab in training.training_batches(cfg, _data(res, texts)):
        out += np.bincount(lab[lab != -100], minlength=V)[:V]
    return out


def count_buckets(counts, target_counts=None, edges=(10, 100, 1000), exclude=()) -> np.ndarray:
    """Label each token by its count in the training text, (V,) object array.

    Labels: ``"never seen"`` (count 0), ``"never a target"`` (occurs, but never a masked target --
    only when ``target_counts`` is given), then ``"1-9"``, ``"10-99"``, ``"100-999"``, ``"1k+"`` for
    the default ``edges`` (half-open count ranges [1, 10), [10, 100), ...). Ids in ``exclude`` (e.g.
    the special tokens) get ``None``. ``COUNT_BUCKETS`` lists the default labels, rarest first.
    """
    c = np.asarray(counts)
    if c.ndim != 1 or c.size == 0 or not np.issubdtype(c.dtype, np.integer) or (c < 0).any():
        raise ValueError("counts must be a non-empty 1-D array of non-negative integers (one per token id)")
    e = list(edges)
    if not e or any(not isinstance(x, (int, np.integer)) or x < 2 for x in e) or any(b <= a for a, b in zip(e, e[1:])):
        raise ValueError(f"edges must be increasing integers >= 2, got {edges!r}")
    labels = np.array(_count_labels(tuple(int(x) for x in e)), dtype=object)
    out = labels[np.searchsorted(np.asarray(e), c, side="right")].astype(object)
    out[c == 0] = NEVER_SEEN
    if target_counts is not None:
        t = np.asarray(target_counts)
        if t.shape != c.shape or not np.issubdtype(t.dtype, np.integer) or (t < 0).any():
            raise ValueError("target_counts must be non-negative integers with the shape of counts")
        out[(c > 0) & (t == 0)] = NEVER_TARGET
    ex = np.asarray(list(exclude), dtype=np.int64)
    if ex.size:
        if ex.min() < 0 or ex.max() >= c.size:
            raise ValueError("exclude holds ids outside the vocabulary")
        out[ex] = None
    return out


def rank_buckets(counts, exclude=()) -> np.ndarray:
    """BERT-flow's frequency-rank buckets (``RANK_BUCKETS``) by count in the training text, (V,) object.

    Ranks count only seen tokens (ties broken by id); count 0 is ``"never seen"``; ``exclude`` -> None.
    """
    c = np.asarray(counts)
    if c.ndim != 1 or c.size == 0 or not np.issubdtype(c.dtype, np.integer) or (c < 0).any():
        raise ValueError("counts must be a non-empty 1-D array of non-negative integers (one per token id)")
    out = np.full(c.size, NEVER_SEEN, dtype=object)
    ex = np.asarray(list(exclude), dtype=np.int64)
    seen_mask = c > 0
    if ex.size:
        seen_mask[ex] = False
    seen = np.flatnonzero(seen_mask)
    ranked = seen[np.argsort(-c[seen], kind="stable")]
    for (lo, hi), name in zip(((0, 100), (100, 500), (500, 5000), (5000, None)), RANK_BUCKETS):
        out[ranked[lo:hi]] = name
    if ex.size:
        out[ex] = None
    return out


def bucket_ids(labels, order=None) -> dict:
    """{label: ids} from a label array of ``count_buckets``/``rank_buckets``, in ``order`` (empty buckets kept)."""
    lab = np.asarray(labels, dtype=object)
    if order is None:
        order = [x for x in dict.fromkeys(lab.tolist()) if x is not None]
    return {name: np.flatnonzero(lab == name) for name in order}


def mean_sd(values) -> tuple[float, float]:
    """(mean, sample standard deviation with ddof=1) of a list of per-seed numbers; sd = nan for one value."""
    v = np.asarray(list(values), dtype=np.float64)
    if v.ndim != 1 or v.size == 0 or not np.isfinite(v).all():
        raise ValueError("values must be a non-empty list of finite numbers")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan")


def final_geometry(E, counts, pad_id: int, seed: int = 0) -> dict:
    """Notebook 05's four measurements of a word matrix ``E`` (V, d) whose training counts are ``counts``:
    ``{"cos_types", "cos_weighted", "cos_top1000", "iw"}`` -- random-pair cosine over types without the
    ``pad_id`` row (20,000 pairs drawn with ``seed``), the exact pair cosine weighted by count, the exact
    pair cosine over the 1,000 most frequent types, and I(W) without the ``pad_id`` row. Unrounded floats
    (``run_summary`` stores them rounded)."""
    E = np.asarray(E)
    counts = np.asarray(counts)
    if E.ndim != 2 or counts.shape != (E.shape[0],):
        raise ValueError(f"E must be (V, d) and counts (V,); got {E.shape} and {counts.shape}")
    keep = np.arange(len(E)) != pad_id
    seen = np.flatnonzero(counts > 0)
    top = seen[np.argsort(-counts[seen], kind="stable")][:1000]
    return {"cos_types": float(geometry.random_pair_cosine(E[keep], n_pairs=20_000, seed=seed)),
            "cos_weighted": float(geometry.weighted_pair_cosine(E, counts)),
            "cos_top1000": float(geometry.random_pair_cosine(E[top], n_pairs=None)),
            "iw": float(geometry.isotropy_partition(E[keep]))}


def bucket_stats(E, groups: dict, seed: int = 0) -> dict:
    """BERT-flow's Table 1 by bucket: ``{bucket: {"n", "norm", "cos_inside", "knn3_l2"}}`` for the rows
    ``groups[bucket]`` of ``E`` -- size, mean norm, random-pair cosine inside the bucket (5,000 pairs; NaN
    for a single row) and mean l2 distance to the 3 nearest neighbours among all rows (at most 1,000
    queries per bucket, drawn with ``seed``). Unrounded."""
    E = np.asarray(E)
    t = geometry.bucket_table(E, groups, ks=(3,), max_queries=1000, seed=seed)
    return {b: {"n": int(len(ids)), "norm": float(t.loc["norm", b]),
                "cos_inside": float(geometry.random_pair_cosine(E[ids], n_pairs=5_000, seed=seed)) if len(ids) > 1 else float("nan"),
                "knn3_l2": float(t.loc["knn_l2_k3", b])}
            for b, ids in groups.items()}


def bucket_moves(W, W0, groups: dict) -> dict:
    """How far each bucket's rows moved from initialisation: ``{bucket: mean ||W_i - W0_i|| / mean ||W0_i||}``
    over the ids ``groups[bucket]`` (NaN for an empty bucket) -- how notebooks 09d and 09e (and ``run_metrics``'
    "unseen move") measure whose steps an optimizer enlarges. ``W``, ``W0``: (V, d) word matrices after and before training."""
    W, W0 = np.asarray(W, dtype=np.float64), np.asarray(W0, dtype=np.float64)
    if W.ndim != 2 or W.shape != W0.shape:
        raise ValueError(f"W and W0 must be (V, d) matrices of one shape, got {W.shape} and {W0.shape}")
    if not (np.isfinite(W).all() and np.isfinite(W0).all()):
        raise ValueError("W and W0 must be finite (a diverged run?)")
    out = {}
    for b, ids in groups.items():
        ids = np.asarray(ids, dtype=np.int64)
        out[b] = (float(np.linalg.norm(W[ids] - W0[ids], axis=1).mean() / np.linalg.norm(W0[ids], axis=1).mean())
                  if ids.size else float("nan"))
    return out


def run_summary(runs: dict, texts=None) -> dict:
    """JSON-able record of several seeds of one lab configuration, as notebook 05 measures them.

    runs: {seed: TrainResult} of one configuration (only the seed differs). Returns
    ``{"config": cfg.to_dict() of the first seed, "keys": {seed: training.run_key}, "seeds": {seed:
    {metric: value}}, "count_buckets": {bucket: {"n", "norm", "cos_inside", "knn3_l2"}}}`` with, per
    seed, ``heldout_loss``, ``unigram_loss``, ``unigram_gap``, ``cos_types``, ``cos_weighted``,
    ``cos_top1000`` and ``iw`` (held-out loss, the add-one unigram model's loss on the same
    targets, their gap unigram - model, random-pair cosine over types (20,000 pairs), weighted by
    count (exact), over the 1,000 most frequent types (exact), I(W)) and BERT-flow's Table 1 by count
    bucket (``COUNT_BUCKETS``; 3-NN over at most 1,000 queries per bucket) for the smallest seed, and
    ``"trajectory": {seed: {step: cos_types}}``, the type cosine of every snapshot the runs kept (how the
    cone rises and fades over training; the same 20,000 pairs as ``cos_types``).
    Every number is rounded to 4 decimals. The pair samples use the smallest seed for every run.
    """
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty {seed: TrainResult} dict")
    seeds = sorted(runs)
    cfgs = [_result_parts(runs[s])[0] for s in seeds]
    base = {k: v for k, v in cfgs[0].to_dict().items() if k != "seed"}
    if any({k: v for k, v in c.to_dict().items() if k != "seed"} != base for c in cfgs[1:]):
        raise ValueError("runs must share one configuration (only the seed may differ)")
    s0 = seeds[0]
    r4 = lambda x: round(float(x), 4)  # noqa: E731
    out = {"config": cfgs[0].to_dict(), "keys": {}, "seeds": {}, "count_buckets": {}, "trajectory": {}}
    for s in seeds:
        res = runs[s]
        uni = unigram_heldout_loss(res, texts)
        out["keys"][str(s)] = training.run_key(res.config, texts)
        pad = res.tokenizer.pad_token_id
        geo = final_geometry(res.embeddings, res.counts, pad, seed=s0)
        out["seeds"][str(s)] = {"heldout_loss": r4(res.heldout_loss), "unigram_loss": r4(uni),
                                "unigram_gap": r4(uni - res.heldout_loss), **{k: r4(v) for k, v in geo.items()}}
        keep = np.arange(res.embeddings.shape[0]) != pad
        out["trajectory"][str(s)] = {str(step): r4(geometry.random_pair_cosine(E[keep], n_pairs=20_000, seed=s0))
                                     for step, E in sorted((res.snapshots or {}).items())}
    res = runs[s0]
    groups = bucket_ids(count_buckets(res.counts, masked_target_counts(res, texts), exclude=res.tokenizer.all_special_ids),
                        COUNT_BUCKETS)
    for b, row in bucket_stats(res.embeddings, groups, seed=s0).items():
        out["count_buckets"][b] = {k: (v if k == "n" else r4(v)) for k, v in row.items()}
    return out


def flatten_record(record, prefix: str = "") -> dict:
    """Every leaf of a JSON record by path (``a.b[2].c``): numbers, strings, booleans and None."""
    if isinstance(record, dict):
        out = {}
        for k in sorted(record, key=str):
            out.update(flatten_record(record[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(record, (list, tuple)):
        out = {}
        for i, v in enumerate(record):
            out.update(flatten_record(v, f"{prefix}[{i}]"))
        return out or {prefix: []}
    return {prefix: record}


def _same(x, y, tol: float) -> bool:
    if isinstance(x, bool) or isinstance(y, bool) or isinstance(x, str) or isinstance(y, str) or x is None or y is None:
        return x == y or (x is None and y is None)
    if isinstance(x, int) and isinstance(y, int):
        return x == y                      # counts, steps, seeds: exactly
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return (x != x and y != y) or abs(x - y) <= tol
    return x == y


def compare_records(a: dict, b: dict, tol: float = 2e-4, exact=("config", "keys")) -> list:
    """Differences between two records (nested dicts/lists of numbers, e.g. ``run_summary`` or the parts of
    notebook 09's FULL record): [] when they have the same entries and every float agrees within ``tol``
    (integers, strings and the top-level parts named in ``exact`` -- configs, cache keys -- must be equal);
    otherwise one message per difference, by path. The one comparison of a stored FULL record with
    today's recomputation (notebooks 05 and 09)."""
    msgs = [f"{part} differ" for part in exact if part in a or part in b if a.get(part) != b.get(part)]
    fa = flatten_record({k: v for k, v in a.items() if k not in exact})
    fb = flatten_record({k: v for k, v in b.items() if k not in exact})
    if set(fa) != set(fb):
        only = sorted(set(fa) ^ set(fb))
        msgs.append(f"entries differ: {only[:3]}{' ...' if len(only) > 3 else ''}")
    msgs += [f"{k}: {fa[k]} vs {fb[k]}" for k in sorted(set(fa) & set(fb)) if not _same(fa[k], fb[k], tol)]
    return msgs


def frame_rows(frame) -> list:
    """A data frame's rows as JSON-able dicts (numpy scalars made Python numbers): how notebooks 09b and 09c
    store the rows of their FULL records."""
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in frame.to_dict(orient="records")]


def stale_reasons(record: dict, ci_rows: list, keys: dict, tol: float = 2e-4) -> list:
    """Why a stored FULL record (``{"ci": {"runs": rows}, "full": {"keys": ...}}``) is not today's: its CI
    part differs from this run's ``ci_rows`` (``compare_records`` within ``tol``), or its cache keys from
    today's ``keys``. [] when it is current (notebooks 09b and 09c show and record only then)."""
    out = []
    if compare_records({"runs": record["ci"]["runs"]}, {"runs": ci_rows}, tol=tol, exact=()):
        out.append(f"its CI part is not this run's numbers (within {tol:g})")
    if record["full"]["keys"] != keys:
        out.append("its cache keys are not today's: a config, the data or the training code changed")
    return out


#: ``run_summary`` records compare with ``compare_records`` (the name notebook 05 used first).
compare_summaries = compare_records


def value_at_loss(losses, values, level: float) -> float:
    """A run's ``values`` (e.g. a cone metric at its evaluated steps) where its held-out ``losses`` (same
    steps, in order) first reach ``level`` or below: linear interpolation in loss between the last step
    above ``level`` and the first at or below it; the first step's value if it already is at or below;
    NaN if the run never gets there. Raises ValueError on unequal lengths, empty input or NaN."""
    losses, values = np.asarray(losses, dtype=float), np.asarray(values, dtype=float)
    if losses.ndim != 1 or losses.shape != values.shape or not len(losses):
        raise ValueError(f"losses and values must be non-empty 1-d arrays of one length, got {losses.shape} and {values.shape}")
    if not (np.isfinite(losses).all() and np.isfinite(values).all()):
        raise ValueError("losses and values must be finite (a diverged run has no value at a loss level)")
    below = np.flatnonzero(losses <= level)
    if not len(below):
        return float("nan")
    i = int(below[0])
    if i == 0:
        return float(values[0])
    l0, l1, v0, v1 = losses[i - 1], losses[i], values[i - 1], values[i]
    return float(v0 + (level - l0) * (v1 - v0) / (l1 - l0))


#: ``equal_loss_verdict``'s labels.
EQUAL_LOSS_VERDICTS = ("A higher", "B higher", "no difference", "not resolved")


def equal_loss_verdict(diffs, threshold: float) -> str:
    """The verdict on differences A - B of one metric at equal loss (one per pair of seeds, or per seed):
    "A higher" / "B higher" when every difference lies beyond +threshold / -threshold, "no difference" when
    every one lies within +-threshold, else "not resolved" (the seeds disagree or straddle the threshold).
    ``threshold`` is the smallest effect that counts, fixed before looking; NaN or empty input is refused."""
    d = np.asarray(diffs, dtype=float).ravel()
    if not len(d) or not np.isfinite(d).all():
        raise ValueError(f"diffs must be a non-empty set of finite numbers, got {diffs!r}")
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
    if (d > threshold).all():
        return "A higher"
    if (d < -threshold).all():
        return "B higher"
    if (np.abs(d) <= threshold).all():
        return "no difference"
    return "not resolved"


#: The verdict of a metric whose per-level verdicts differ (``equal_loss_comparison``).
DEPENDS_ON_LEVEL = "depends on the loss level"


def _curves(curves, needed):
    missing = [c for c in needed if c not in getattr(curves, "columns", ())]
    if missing:
        raise ValueError(f"curves must be a data frame with columns {list(needed)}; missing {missing}")
    return curves


def equal_loss_levels(curves, optimizers, spacing: float = 0.25) -> list:
    """The held-out loss levels (nats relative to unigram, ``curves["loss - unigram"]``) at which the runs of
    ``optimizers`` are compared: 0, every multiple of -``spacing`` that *every* run of every optimizer reaches,
    and the deepest level they all reach (rounded up to 0.01) when it lies more than 0.05 below the last
    multiple. ``curves``: one row per run and evaluated step, with columns optimizer, seed, step and
    "loss - unigram". Raises ValueError when an optimizer has no run or some run never reaches 0."""
    _curves(curves, ("optimizer", "seed", "step", "loss - unigram"))
    deepest = []
    for o in optimizers:
        sub = curves[curves.optimizer == o]
        if not len(sub):
            raise ValueError(f"no run of {o!r} in curves")
        deepest.append(sub.groupby("seed")["loss - unigram"].min().max())
    if max(deepest) > 0:
        raise ValueError("some run never beats the unigram baseline: no common loss level to compare at")
    common = float(np.ceil(max(deepest) * 100) / 100)
    lv = [float(x) for x in np.arange(0.0, common - 1e-9, -spacing)]
    return lv + ([common] if common < lv[-1] - 0.05 else [])


def equal_loss_comparison(curves, a: str, b: str, metrics_: tuple, threshold: float, spacing: float = 0.25):
    """Optimizer ``a`` against ``b`` at equal held-out loss (notebooks 09c and 09d): at each of
    ``equal_loss_levels(curves, (a, b), spacing)`` every run's metric is read where its loss first reaches the
    level (``value_at_loss``), the differences a - b are formed for every pair of seeds, and
    ``equal_loss_verdict(diffs, threshold)`` judges them. A metric's overall verdict is its per-level one when
    every level agrees, else ``DEPENDS_ON_LEVEL``.

    Returns ``(levels, rows, verdicts)``: rows are dicts {"metric", "level", "a", "b" (means over seeds),
    "lo", "hi" (the range of the differences), "verdict"}; verdicts is {metric: verdict}."""
    _curves(curves, ("optimizer", "seed", "step", "loss - unigram", *metrics_))
    levels = equal_loss_levels(curves, (a, b), spacing)

    runs = {o: [tr.sort_values("step") for _, tr in curves[curves.optimizer == o].groupby("seed")] for o in (a, b)}

    def at_level(opt, level, metric):
        return [value_at_loss(tr["loss - unigram"], tr[metric], level) for tr in runs[opt]]

    rows, verdicts = [], {}
    for m in metrics_:
        per_level = []
        for lv in levels:
            va, vb = at_level(a, lv, m), at_level(b, lv, m)
            diffs = [x - y for x in va for y in vb]
            per_level.append(equal_loss_verdict(diffs, threshold))
            rows.append({"metric": m, "level": lv, "a": float(np.mean(va)), "b": float(np.mean(vb)),
                         "lo": float(min(diffs)), "hi": float(max(diffs)), "verdict": per_level[-1]})
        verdicts[m] = per_level[0] if len(set(per_level)) == 1 else DEPENDS_ON_LEVEL
    return levels, rows, verdicts


#: ``cone_metrics``' keys: metrics that see different things (notebook 06) -- near 1 / 0 / 0 / 0 / 1 for a
#: narrow cone and shift-blind for the last two.
CONE_METRICS = ("cos", "cos seen", "cos tokens", "IsoScore", "top PC")


def cone_metrics(W, counts, keep=None) -> dict:
    """The cone metrics of a word matrix ``W: (V, d)`` with training-text ``counts: (V,)``, over the rows
    ``keep`` ((V,) bool, default all; notebooks 09b/09c drop [PAD]): "cos" the exact mean cosine over all
    pairs of rows, "cos seen" the same over the rows with count > 0, "cos tokens" over pairs drawn by
    count (what running text sees), "IsoScore" and "top PC" (sigma_1^2 / sum sigma^2 of the centred
    rows; both blind to a common shift)."""
    W = np.asarray(W, dtype=np.float64)
    counts = np.asarray(counts)
    if W.ndim != 2 or counts.shape != (len(W),):
        raise ValueError(f"W must be (V, d) and counts (V,), got {W.shape} and {counts.shape}")
    if not np.isfinite(W).all():
        raise ValueError("W contains NaN or inf (a diverged run?)")
    keep = np.ones(len(W), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    W, counts = W[keep], counts[keep]
    if (counts > 0).sum() < 2:
        raise ValueError("need at least two rows with a positive count")
    return {"cos": metrics.random_pair_cosine(W, n_pairs=None),
            "cos seen": metrics.random_pair_cosine(W[counts > 0], n_pairs=None),
            "cos tokens": metrics.random_pair_cosine(W, n_pairs=None, weights=counts.astype(float)),
            "IsoScore": metrics.isoscore(W), "top PC": metrics.top_pc_share(W)}


def run_metrics(res, step: int | None = None) -> dict:
    """``cone_metrics`` of a run's output matrix after ``step`` (default: the last; another step must be in
    ``res.output_snapshots``) without [PAD], and "unseen move" (the never-seen rows' mean displacement from
    initialisation over their mean initial norm) and "loss - unigram" (held-out loss at that step, from
    ``res.heldout_curve`` unless it is the last, minus the unigram model's on the same targets)."""
    last = res.config.steps
    step = last if step is None else int(step)
    if step not in res.output_snapshots:
        raise ValueError(f"step {step} has no snapshot in this run (it has {sorted(res.output_snapshots)})")
    if step != last and step not in res.heldout_curve:
        raise ValueError(f"step {step} has no held-out loss: train with TrainConfig.eval_steps containing it")
    keep = np.arange(len(res.counts)) != res.tokenizer.pad_token_id
    W = res.output_snapshots[step].astype(np.float64)
    W0 = res.initial_output_embeddings.astype(np.float64)
    move = bucket_moves(W, W0, {"unseen": np.flatnonzero(res.unseen & keep)})["unseen"]
    loss = res.heldout_loss if step == last else res.heldout_curve[step]
    return {**cone_metrics(W, res.counts, keep), "unseen move": float(move),
            "loss - unigram": float(loss - res.heldout_unigram_loss)}

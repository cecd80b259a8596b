"""One-command diagnostic report on any supported model's embeddings (``make report MODEL=...``).

    python -m helpers.report                       # the embedded all-MiniLM-L6-v2 (offline)
    python -m helpers.report bert-base-uncased --out bert.html      # a hub id (needs the network)
    python -m helpers.report path/to/saved/model --sentences 300 --json numbers.json
    python -m helpers.report ckpt-1000/ ckpt-2000/ --out compare.html   # two models side by side

Writes ONE self-contained HTML page (tables inline, figures embedded as base64 PNG; it opens
offline) that starts with a **headline** -- is this model's space anisotropic, where, and what
would fix it -- derived from the numbers by the explicit rules of ``headline`` (thresholds
``MILD``, ``CONE``, ``ROGUE``, ``NULL_P``; every branch unit-tested), then the evidence:

1. the metric zoo of the input embeddings (``helpers.metrics.metric_zoo``; frequency-weighted
   cosines with wordfreq frequencies), each metric named in words with what it is blind to and the
   notebook that explains it (``METRICS``);
2. BERT-flow's Table 1 (Li et al. 2020): norm and k-NN distance per frequency-rank bucket, from
   wordfreq frequencies; with ``--counts FILE`` (a .npy of the model's training-corpus token
   counts) also per *count* bucket;
3. per-layer anisotropy (mean cosine of random same-layer token pairs), before and after
   centring, beside Ethayarajh's (2019) published curves for bert-base-cased and gpt2;
4. the hull verdict on the last layer's token states (does conv(states) contain the origin?),
   with Wendel's (1962) null probability that n symmetric points in general position miss it
   (computed in log space: it underflows a float long before it stops being meaningful);
5. rogue dimensions (Timkey & van Schijndel 2021) of the input embeddings and the last layer;
6. what each remedy (centring, all-but-the-top, whitening, Zipfian whitening) does to the metrics.

All-zero rows of the input embeddings (BERT's ``[PAD]`` row, zeroed at initialisation and kept
there by ``padding_idx``) have no direction: they are listed (which tokens, how many) and left out
of every measurement of the input embeddings. ``--json FILE`` writes every number of the report.

A model that cannot be loaded, a missing local directory or a bad option gives one clear error
line (exit status 2), never a traceback. Families: see ``helpers.models.FAMILIES``.
"""
from __future__ import annotations

import argparse
import base64
import datetime as _dt
import html
import io
import json
import math
import os
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import data, geometry, metrics, models, remedies, setup, theory

__all__ = ["ETHAYARAJH", "METRICS", "MILD", "CONE", "ROGUE", "NULL_P", "Space", "headline", "level",
           "wendel_miss_probability", "wendel_log10", "probability_text", "collect", "to_json", "render",
           "render_compare", "build_report", "main"]

#: Ethayarajh (EMNLP 2019), mean cosine of random same-layer words, layers 0..12; values from the
#: author's repository kawine/contextual, {bert,gpt2}/embedding_space_stats.json,
#: key "mean cosine similarity across words" (see /work/shared/notes/published-numbers.md).
ETHAYARAJH = {
    "bert-base-cased": [0.105, 0.168, 0.219, 0.245, 0.327, 0.377, 0.420, 0.398, 0.399, 0.484, 0.561, 0.675, 0.477],
    "gpt2": [0.611, 0.644, 0.597, 0.614, 0.587, 0.573, 0.578, 0.582, 0.595, 0.617, 0.667, 0.758, 0.978],
}
ETHAYARAJH_SOURCE = ("Ethayarajh (2019), 'How Contextual are Contextualized Word Representations?', EMNLP; values "
                     "from the author's repository kawine/contextual, {bert,gpt2}/embedding_space_stats.json, "
                     "'mean cosine similarity across words'")

#: BERT-flow Table 1 (Li et al. 2020), bert-base, rank buckets 0-100 / 100-500 / 500-5k / 5k+.
BERT_FLOW_TABLE1 = {"norm": [0.95, 1.04, 1.22, 1.45], "knn_l2_k3": [0.77, 0.93, 1.16, 1.30],
                    "knn_dot_k3": [0.73, 0.92, 1.20, 1.63]}

#: Count ranges [lo, hi) (occurrences in the training corpus; hi None: no upper end) of the report's
#: Table 1 with --counts, most frequent first. Not ``helpers.lab.COUNT_BUCKETS`` (the lab's bucket
#: labels, with separate never-seen / never-a-target buckets).
COUNT_RANGES = ((1000, None), (100, 1000), (10, 100), (1, 10))

#: Wendel (1962): P(0 not in conv) for n points in R^d, symmetric about 0, in general position
#: (``helpers.theory.wendel_probability``, under the name the report has always used).
wendel_miss_probability = theory.wendel_probability

# ----------------------------------------------------------------------------------------------
# the headline's rules
# ----------------------------------------------------------------------------------------------
#: Mean random-pair cosine at or above which a space is called "mildly anisotropic": about
#: bert-base-cased's embedding layer in Ethayarajh (2019) (0.105), and far above what sampling
#: noise gives for an isotropic cloud (the mean of 100,000 pairs varies by about 1/(316 sqrt(d))).
MILD = 0.10
#: ... and "anisotropic (a cone)": bert-base-cased's middle layers (0.38-0.42 at layers 5-8),
#: gpt2's every layer (>= 0.57), the course's tiny BERT after 200 steps (0.78, notebook 05).
CONE = 0.40
#: One dimension carrying at least this share of a space's expected cosine is "rogue" (Timkey &
#: van Schijndel 2021 find one or a few dimensions carrying most of it in several Transformers);
#: only judged where the cosine is at least MILD (a share of a mean near 0 is unstable).
ROGUE = 0.50
#: A hull "miss" counts as evidence of one-sidedness only when Wendel's null probability of a miss
#: by a symmetric cloud of the same n and d is below this.
NULL_P = 0.05


@dataclass(frozen=True)
class Space:
    """One space the headline judges: the input embeddings (``layer=None``) or one layer's states.

    ``cosine``: mean cosine of random pairs of rows; ``centred``: the same after subtracting the
    space's mean vector; ``rogue_dim`` / ``rogue_share``: the dimension carrying the largest share of
    the expected cosine and that share (``geometry.rogue_dimensions``).
    """

    name: str
    cosine: float
    centred: float
    rogue_dim: int
    rogue_share: float
    layer: int | None = None


def level(c: float) -> str:
    """``"cone"`` (c >= CONE), ``"mild"`` (MILD <= c < CONE) or ``"none"`` for a mean random-pair cosine."""
    if not isinstance(c, (int, float, np.floating)) or isinstance(c, bool) or not math.isfinite(c):
        raise ValueError(f"a mean cosine must be a finite number, got {c!r}")
    return "cone" if c >= CONE else "mild" if c >= MILD else "none"


def _dec2(v: float) -> str:
    """Two decimals, without a sign on zero ('-0.00' -> '0.00')."""
    out = f"{v:.2f}"
    return out[1:] if out == "-0.00" else out


def _space_names(spaces) -> str:
    """'input embeddings, layers 1-5' (consecutive layers merged into a range)."""
    parts, run = [], []

    def flush():
        if run:
            parts.append(f"layer {run[0]}" if len(run) == 1 else f"layers {run[0]}–{run[-1]}")
            run.clear()

    for s in spaces:
        if s.layer is None:
            flush()
            parts.append(s.name)
        elif run and s.layer == run[-1] + 1:
            run.append(s.layer)
        else:
            flush()
            run.append(s.layer)
    flush()
    return ", ".join(parts)


def headline(spaces, hull: dict | None = None, reference: tuple[str, list] | None = None) -> dict:
    """The report's verdict from plain numbers: ``{"verdict", "answer", "where", "fix", "notes"}``.

    ``spaces``: a list of ``Space`` (the input embeddings and every layer). ``hull`` (optional):
    ``{"contains": bool, "log10_null": float, "margin_ratio": float, "n": int, "d": int}`` for the
    last layer's states (``log10_null`` = log10 of Wendel's probability of a miss; ``margin_ratio`` =
    the hull's distance from the origin / the mean norm of a state).

    Rules (thresholds are module constants):

    - verdict: **"anisotropic"** if some space's random-pair cosine is >= CONE, else **"mildly
      anisotropic"** if some space's is >= MILD, else **"not anisotropic"** (by this measure);
    - where: every space at or above MILD, with its cosine;
    - fix, for those spaces: where centring brings the cosine below MILD, the anisotropy is a common
      direction and **centring** removes it; where it does not, the directions themselves are
      concentrated and **whitening** is needed; where one dimension carries >= ROGUE of the expected
      cosine, **standardising the dimensions** removes its dominance; with no such space, nothing
      to fix;
    - notes: the last layer's hull -- contains the origin (no one-sided geometry), misses it with
      Wendel's null probability < NULL_P (one-sided: all states on one side of a hyperplane through
      the origin; with the last layer's cosine below MILD, "one-sided, not a cone"), or misses it
      where a symmetric cloud would too (no evidence); and, with ``reference = (name, values)``
      (a published curve at the layers' relative depths), whether the layers lie below it at every
      depth, above it at every depth, or above it at some.
    """
    spaces = list(spaces)
    if not spaces or not all(isinstance(s, Space) for s in spaces):
        raise ValueError("headline needs a non-empty list of Space records")
    levels = [level(s.cosine) for s in spaces]
    for s in spaces:
        level(s.centred)
    peak = max(spaces, key=lambda s: s.cosine)
    flagged = [s for s, lv in zip(spaces, levels) if lv != "none"]
    if "cone" in levels:
        verdict = "anisotropic"
        cones = [s for s, lv in zip(spaces, levels) if lv == "cone"]
        answer = (f"Yes: random pairs have a mean cosine of at least {_dec2(CONE)} (a narrow cone) in "
                  f"{_space_names(cones)}; the peak is {_dec2(peak.cosine)} ({peak.name}).")
    elif flagged:
        verdict = "mildly anisotropic"
        answer = (f"Mildly: random pairs have a mean cosine between {_dec2(MILD)} and {_dec2(CONE)} in "
                  f"{_space_names(flagged)} (peak {_dec2(peak.cosine)}, {peak.name}); no space is a narrow cone "
                  f"(>= {_dec2(CONE)}).")
    else:
        verdict = "not anisotropic"
        answer = (f"No: in every space random pairs have a mean cosine below {_dec2(MILD)} (the largest is "
                  f"{_dec2(peak.cosine)}, {peak.name}).")
    if flagged:
        where = "; ".join(f"{s.name}: {_dec2(s.cosine)}" for s in flagged)
        fixes = []
        common = [s for s in flagged if s.centred < MILD]
        rest = [s for s in flagged if s.centred >= MILD]
        if common:
            worst = max(common, key=lambda s: s.cosine)
            fixes.append(f"subtracting the mean vector (centring) removes it in {_space_names(common)} "
                         f"({worst.name}: {_dec2(worst.cosine)} → {_dec2(worst.centred)}): there it is one common "
                         "direction shared by all vectors")
        if rest:
            worst = max(rest, key=lambda s: s.centred)
            fixes.append(f"centring is not enough in {_space_names(rest)} ({worst.name}: {_dec2(worst.cosine)} → "
                         f"{_dec2(worst.centred)} after centring): the directions themselves are concentrated, "
                         "and whitening (PCA or Zipfian) is needed to spread them")
        for s in flagged:
            if s.rogue_share >= ROGUE:
                fixes.append(f"in {s.name} dimension {s.rogue_dim} alone carries {s.rogue_share:.0%} of the mean "
                             "cosine: standardising each dimension (z-scores) before comparing vectors removes "
                             "its dominance")
        fix = "; ".join(fixes)
        fix = fix[0].upper() + fix[1:] + "."
    else:
        where = "nowhere by this measure"
        fix = "Nothing to fix for cosine similarity."
    notes = []
    if hull is not None:
        last = [s for s in spaces if s.layer is not None]
        last = last[-1] if last else None
        n, d = hull["n"], hull["d"]
        if hull["contains"]:
            notes.append("The last layer's token states surround the origin (their convex hull contains it): "
                         "no one-sided geometry there.")
        elif hull["log10_null"] < math.log10(NULL_P):
            txt = (f"The last layer's {n:,} token states all lie on one side of a hyperplane through the origin "
                   f"(their hull misses it by {hull['margin_ratio']:.1%} of a state's mean length); a symmetric "
                   f"cloud of {n:,} points in d = {d} would do that with probability {probability_text(hull['log10_null'])}.")
            if last is not None and level(last.cosine) == "none":
                txt += (f" One-sided is not a cone: the last layer's mean cosine is only {_dec2(last.cosine)}.")
            notes.append(txt)
        else:
            notes.append(f"The last layer's hull misses the origin, but a symmetric cloud of only {n:,} points in "
                         f"d = {d} would too with probability {probability_text(hull['log10_null'])}: no evidence "
                         "either way; measure more tokens (--sentences).")
    if reference is not None:
        name, ref = reference
        layers = [s for s in spaces if s.layer is not None]
        if len(ref) != len(layers):
            raise ValueError(f"the reference curve has {len(ref)} values for {len(layers)} layers")
        above = [s for s, r in zip(layers, ref) if s.cosine > r]
        pub = f"Ethayarajh's (2019) {name} ({_dec2(min(ref))}–{_dec2(max(ref))} at these depths)"
        if not above:
            notes.append(f"Every layer is less anisotropic than {pub} at the same relative depth.")
        elif len(above) == len(layers):
            notes.append(f"Every layer is more anisotropic than {pub} at the same relative depth.")
        else:
            notes.append(f"More anisotropic than {pub} at the same relative depth in {_space_names(above)} only; "
                         "less elsewhere.")
    return {"verdict": verdict, "answer": answer, "where": where, "fix": fix, "notes": notes}


def wendel_log10(n: int, d: int) -> float:
    """log10 of Wendel's (1962) probability ``2^-(n-1) sum_{k<d} C(n-1, k)``, exact in log space.

    ``wendel_miss_probability`` returns the same number as a float, which is 0.0 below about 1e-308
    (n = 3,846 tokens in d = 384 gives about 10^-618); this keeps its order of magnitude.
    """
    for name, v in (("n", n), ("d", d)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    m = int(n) - 1
    if m < d:
        return 0.0
    k = np.arange(int(d), dtype=np.float64)
    from scipy.special import gammaln, logsumexp

    logs = gammaln(m + 1.0) - gammaln(k + 1.0) - gammaln(m - k + 1.0)
    return float(min(0.0, (logsumexp(logs) - m * math.log(2.0)) / math.log(10.0)))


def probability_text(log10_p: float) -> str:
    """A probability given by its log10, in words that stay honest below float range: '0.5', '3.1e-12', 'about 10^-700'."""
    if not math.isfinite(log10_p) or log10_p > 0:
        raise ValueError(f"log10 of a probability must be finite and <= 0, got {log10_p!r}")
    if log10_p >= -2:
        return f"{10 ** log10_p:.2f}"
    if log10_p >= -300:
        return f"{10 ** log10_p:.1e}"
    return f"about 10^{math.floor(log10_p + 0.5)}"


# ----------------------------------------------------------------------------------------------
# what each number means (the report's words; the module docstring of helpers.metrics has the maths)
# ----------------------------------------------------------------------------------------------
#: metric key -> (name in words, how to read it, what it is blind to, the notebook that explains it)
METRICS = {
    "random_pair_cosine": (
        "mean cosine of two random vocabulary types", "0: directions spread out; near 1: a narrow cone",
        "how the variance spreads once the mean is removed; every type counts once, so rare types dominate", "06"),
    "random_pair_cosine_weighted": (
        "mean cosine of two random tokens of running text (wordfreq-weighted)", "as above, for the words a text uses",
        "rare types: frequent words make up most pairs", "05"),
    "random_pair_cosine_top": (
        "mean cosine of two random types among the most frequent ones", "as above, for the frequent vocabulary",
        "every type outside the top of the frequency list", "05"),
    "iw_unit": (
        "partition-function isotropy I(W) of the length-1 vectors (Mu & Viswanath 2018)",
        "1: isotropic; about 0.14: every vector in one direction", "vector lengths; a spread that is even "
        "in the top eigen-directions but uneven elsewhere", "06"),
    "isoscore": (
        "IsoScore: how evenly the variance spreads over the dimensions (Rudman et al. 2022)",
        "1: all dimensions equally; 0: one dimension holds it all", "the mean vector: a round cloud far from "
        "the origin scores 1", "06"),
    "top_pc_share": (
        "share of the variance along the first principal axis", "1/d: round; 1: a line",
        "the mean vector; how the rest of the variance spreads", "06"),
    "effective_rank": (
        "effective number of directions in use (Roy & Vetterli 2007), out of d", "d: all equally; 1: one",
        "the mean vector; which directions are used", "09"),
    "top_dim_share": (
        "largest single coordinate's share of the variance (a rogue dimension)", "1/d: none stands out",
        "rotations: a dominant direction that is not a coordinate axis is invisible", "06"),
}
#: Short column names of the same metrics (tables with one column per metric).
SHORT = {"random_pair_cosine": "cosine, random types", "random_pair_cosine_weighted": "cosine, running text",
         "random_pair_cosine_top": "cosine, frequent types", "iw_unit": "I(W), length-1 vectors",
         "isoscore": "IsoScore", "top_pc_share": "first axis's variance share",
         "effective_rank": "effective rank", "top_dim_share": "largest coordinate's variance share"}
#: Table 1 row keys -> words.
TABLE1_ROWS = {"norm": "mean length (l2 norm)"}
for _k in (3, 5, 7):
    TABLE1_ROWS[f"knn_l2_k{_k}"] = f"mean distance to the {_k} nearest neighbours"
    TABLE1_ROWS[f"knn_dot_k{_k}"] = f"mean dot product with the {_k} nearest neighbours"
#: Notebooks the report cites, by number.
NOTEBOOKS = {"03": "03_layer_norm.ipynb", "05": "05_tiny_bert_lab.ipynb", "06": "06_pretrained_word_embeddings.ipynb",
             "07": "07_contextual_layers.ipynb", "08": "08_remedies.ipynb", "09": "09_what_causes_the_cone.ipynb"}


# ----------------------------------------------------------------------------------------------
# measurements
# ----------------------------------------------------------------------------------------------
def _zoo(X, weights=None, top=None, seed=0) -> dict:
    return metrics.metric_zoo(X, weights=weights, top=top, seed=seed)


def _count_bucket_table(E, counts, ks, max_queries, seed):
    """Table 1 with buckets by training-corpus count: [1000, inf), [100, 1000), [10, 100), [1, 10)."""
    counts = np.asarray(counts, dtype=np.float64)
    order = np.argsort(-counts, kind="stable")  # the rank order frequency_bucket_table uses
    sorted_c = counts[order]
    n_seen = int((sorted_c > 0).sum())
    buckets, labels = [], []
    for lo, hi in COUNT_RANGES:
        r0 = 0 if hi is None else int((sorted_c >= hi).sum())  # ranks with count >= hi come first
        r1 = int((sorted_c >= lo).sum())
        if r1 > r0:
            buckets.append((r0, r1 if r1 < n_seen else None))
            labels.append(f"count [{lo}, {hi if hi is not None else 'inf'})")
    if not buckets:
        raise ValueError("--counts: no token has a positive count")
    t = geometry.frequency_bucket_table(E, counts, buckets=tuple(buckets), ks=ks, max_queries=max_queries,
                                        seed=seed, unseen=False)
    t.columns = labels
    return t


def _load_counts(counts, V: int):
    if isinstance(counts, (str, os.PathLike)):
        try:
            counts = np.load(counts, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ValueError(f"--counts {os.fspath(counts)!r}: cannot read a .npy array ({e})") from None
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.shape[0] != V or not np.issubdtype(counts.dtype, np.number):
        raise ValueError(f"counts must have one entry per vocabulary row ({V}); got shape {counts.shape}")
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("counts must be finite and non-negative (occurrences of each token)")
    return counts


def _token_names(tok, ids) -> list[str]:
    names = tok.convert_ids_to_tokens([int(i) for i in ids]) if len(ids) else []
    return [n if isinstance(n, str) else f"id {i}" for i, n in zip(ids, names)]


def _centred_cosine(X) -> float:
    """Exact mean cosine over all pairs of rows of ``X`` after subtracting its mean row (rows that become 0 left out)."""
    C = remedies.center(X)
    C = C[np.any(C != 0, axis=1)]
    if C.shape[0] < 2:
        raise ValueError("every vector is the same: after centring nothing is left to measure")
    return geometry.random_pair_cosine(C, n_pairs=None)


def _top_rogue(X) -> tuple[int, float]:
    r = geometry.rogue_dimensions(X, top=1)
    return int(r["dim"].iloc[0]), float(r["share"].iloc[0])


def collect(model=None, *, n_sentences: int = 150, max_queries: int = 1000, counts=None, seed: int = 0,
            progress: bool = True, abtt_d: int | None = None, remedy_rows: int = 8000) -> dict:
    """Run every measurement of the report; returns a dict of tables, numbers and figures (PNG bytes)."""
    from tqdm.auto import tqdm

    if isinstance(n_sentences, bool) or not isinstance(n_sentences, (int, np.integer)) or n_sentences < 2:
        raise ValueError(f"n_sentences must be an integer of at least 2, got {n_sentences!r}")
    if isinstance(max_queries, bool) or not isinstance(max_queries, (int, np.integer)) or max_queries < 1:
        raise ValueError(f"max_queries must be a positive integer, got {max_queries!r}")
    steps = ["load model", "input-embedding metric zoo", "Table 1 (frequency buckets)", "hidden states",
             "per-layer anisotropy", "hull of the last layer", "rogue dimensions", "remedies"]
    bar = tqdm(total=len(steps), desc="report", disable=not progress, file=sys.stderr, leave=False)
    try:
        return _collect(bar, model, n_sentences=n_sentences, max_queries=max_queries, counts=counts, seed=seed,
                        abtt_d=abtt_d, remedy_rows=remedy_rows)
    finally:
        bar.close()  # erased, so that an error message starts a clean line


def _collect(bar, model, *, n_sentences, max_queries, counts, seed, abtt_d, remedy_rows) -> dict:
    res: dict = {"timings": {}}

    def step(name):
        bar.set_postfix_str(name)
        res["timings"][name] = time.perf_counter()

    def done(name):
        res["timings"][name] = time.perf_counter() - res["timings"][name]
        bar.update(1)

    step("load model")
    tok, mdl = models.load(model)  # ModelUnavailableError / UnsupportedModelError: clear messages
    fam = models.family(mdl)
    res["label"] = models.EMBEDDED_MODEL if model is None else os.fspath(model)
    res["family"] = models.FAMILIES[fam]
    E_all = models.input_embeddings(mdl)
    res["shape"] = E_all.shape
    res["n_layers"] = int(getattr(mdl.config, "num_hidden_layers", getattr(mdl.config, "n_layer", 0)))
    if counts is not None:
        counts = _load_counts(counts, E_all.shape[0])
    done("load model")

    # all-zero rows (BERT's [PAD]): no direction, so no cosine; listed, and left out of every measurement
    zero = np.flatnonzero(~np.any(E_all != 0, axis=1))
    keep = np.ones(E_all.shape[0], dtype=bool)
    keep[zero] = False
    res["zero_rows"] = {"count": int(zero.size), "ids": [int(i) for i in zero], "tokens": _token_names(tok, zero)}
    if keep.sum() < 8:
        raise ValueError(f"the input embeddings have only {int(keep.sum())} non-zero rows: too few to measure")
    E = E_all[keep]

    step("input-embedding metric zoo")
    freq_all = data.token_frequencies(tok)  # wordfreq, per word of running text
    if freq_all.shape[0] != E_all.shape[0]:  # a vocabulary padded beyond the tokenizer: those rows are never text
        freq_all = np.concatenate([freq_all, np.zeros(max(0, E_all.shape[0] - freq_all.shape[0]))])[: E_all.shape[0]]
    freq = freq_all[keep]
    top = min(5000, int((freq > 0).sum()))
    top = top if top >= 2 else None
    res["zoo_top"] = top
    w = freq if (freq > 0).sum() >= 2 else None
    res["zoo"] = _zoo(E, weights=w, top=top if w is not None else None, seed=seed)
    res["centred_cosine"] = _centred_cosine(E)
    done("input-embedding metric zoo")

    step("Table 1 (frequency buckets)")
    res["table1"] = geometry.frequency_bucket_table(E, freq, ks=(3, 5, 7), max_queries=max_queries, seed=seed)
    if counts is not None:
        res["table1_counts"] = _count_bucket_table(E, counts[keep], (3, 5, 7), max_queries, seed)
    done("Table 1 (frequency buckets)")

    step("hidden states")
    sentences = data.wiki_sentences(n_sentences, seed=seed)
    H = models.hidden_states(mdl, tok, sentences, special_tokens=False)
    del mdl
    zero_states = (~np.any(H != 0, axis=2)).any(axis=0)  # a token whose state is all-zero in some layer
    res["zero_states"] = int(zero_states.sum())
    H = H[:, ~zero_states]
    res["n_tokens"] = int(H.shape[1])
    res["n_sentences"] = len(sentences)
    if H.shape[1] < 2:
        raise ValueError("the sentences gave fewer than two usable token states: use more --sentences")
    done("hidden states")

    step("per-layer anisotropy")
    res["anisotropy"] = geometry.layer_anisotropy(H, n_pairs=100_000, seed=seed)
    # after subtracting each layer's mean state: the exact mean over all pairs (one pass, no sampling)
    res["anisotropy_centred"] = np.array([_centred_cosine(H[layer]) for layer in range(H.shape[0])])
    done("per-layer anisotropy")

    step("hull of the last layer")
    last = H[-1].astype(np.float64)
    cert = theory.hull_certificate(last)
    n, d = last.shape
    mean_norm = float(np.linalg.norm(last, axis=1).mean())
    res["hull"] = dict(contains=bool(cert.contains), margin=float(cert.margin), n=n, d=d, mean_norm=mean_norm,
                       margin_ratio=float(cert.margin) / mean_norm, wendel=wendel_miss_probability(n, d),
                       log10_null=wendel_log10(n, d))
    done("hull of the last layer")

    step("rogue dimensions")
    res["rogue_E"] = geometry.rogue_dimensions(E, top=5)
    res["rogue_last"] = geometry.rogue_dimensions(H[-1], top=5)
    res["rogue_layers"] = [_top_rogue(H[layer]) for layer in range(H.shape[0])]
    done("rogue dimensions")

    step("remedies")
    D = abtt_d if abtt_d is not None else max(1, E.shape[1] // 100)
    variants = {"raw": E, "centred": remedies.center(E), f"all-but-the-top (D={D})": remedies.all_but_the_top(E, D),
                "whitened (PCA)": remedies.whiten(E)}
    if w is not None:
        seen = w > 0
        variants["Zipfian whitened (wordfreq)"] = np.full_like(E, np.nan)
        variants["Zipfian whitened (wordfreq)"][seen] = remedies.zipfian_whiten(E[seen], w[seen])
    # each remedy is fitted on the whole matrix; its metrics are measured on one fixed random subset
    # of rows (the same for every remedy) to keep the step within budget at 50k x 768
    rng = np.random.default_rng(seed)
    sub = np.sort(rng.choice(E.shape[0], min(E.shape[0], remedy_rows), replace=False))
    rows = {}
    for name, X in variants.items():
        Xs = X[sub]
        ok = np.isfinite(Xs).all(axis=1) & np.any(Xs != 0, axis=1)
        ws = None if w is None else w[sub][ok]
        ws = ws if ws is not None and (ws > 0).sum() >= 2 else None
        t = None if ws is None or top is None else min(top, int(ok.sum()) // 2)
        rows[name] = _zoo(Xs[ok], weights=ws, top=t if t and t >= 2 else None, seed=seed)
    res["remedy_rows"] = len(sub)
    res["remedies"] = pd.DataFrame(rows).T
    res["abtt_d"] = D
    done("remedies")
    res["headline"] = headline(_spaces(res), _hull_input(res["hull"]), _reference(res))
    res["figures"] = _figures(res, E, freq)
    return res


def _spaces(res) -> list[Space]:
    dim, share = _top_rogue_row(res["rogue_E"])
    out = [Space("input embeddings", float(res["zoo"]["random_pair_cosine"]), float(res["centred_cosine"]), dim, share)]
    for layer, (c, cc) in enumerate(zip(res["anisotropy"], res["anisotropy_centred"])):
        rd, rs = res["rogue_layers"][layer]
        out.append(Space(f"layer {layer}", float(c), float(cc), int(rd), float(rs), layer))
    return out


def _reference(res) -> tuple[str, list]:
    """Ethayarajh's curve for the model's family (gpt2 for GPT-2, else bert-base-cased) at its layers' relative depths."""
    name = "gpt2" if res["family"] == models.FAMILIES["gpt2"] else "bert-base-cased"
    L = len(res["anisotropy"])
    rel = np.arange(L) / max(1, L - 1)
    return name, [float(v) for v in np.interp(rel, np.arange(13) / 12, np.array(ETHAYARAJH[name]))]


def _top_rogue_row(df) -> tuple[int, float]:
    return int(df["dim"].iloc[0]), float(df["share"].iloc[0])


def _hull_input(h) -> dict:
    return {k: h[k] for k in ("contains", "log10_null", "margin_ratio", "n", "d")}


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _anisotropy_figure(results) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, vals in ETHAYARAJH.items():
        ax.plot(np.arange(len(vals)) / (len(vals) - 1), vals, "o--", label=f"Ethayarajh 2019, {name}", alpha=0.7)
    lo = -0.05
    for i, res in enumerate(results):
        a = res["anisotropy"]
        x = np.arange(len(a)) / max(1, len(a) - 1)
        label = "this model" if len(results) == 1 else f"{'AB'[i]}: {res['label']}"
        ax.plot(x, a, "s-", color="k" if i == 0 else "tab:red", label=label)
        lo = min(lo, float(np.min(a)) - 0.05)
    ax.axhspan(MILD, CONE, color="0.9", zorder=0)
    ax.set_xlabel("relative depth l / L (0 = embedding layer)")
    ax.set_ylabel("mean cosine, random token pairs")
    ax.set_title(f"grey band: mildly anisotropic ({MILD:.2f}-{CONE:.2f})", fontsize=9)
    ax.set_ylim(lo, 1.02)
    ax.legend(fontsize=7)
    return _png(fig)


def _figures(res, E, freq) -> dict:
    plt = _pyplot()
    figs = {"anisotropy": _anisotropy_figure([res])}

    seen = freq > 0
    norms = np.linalg.norm(E, axis=1)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    if seen.sum() > 1:
        ax.hexbin(np.log10(freq[seen]), norms[seen], gridsize=40, bins="log", cmap="magma")
    ax.set_xlabel("log10 wordfreq frequency (per word of text)")
    ax.set_ylabel("length (l2 norm) of the input embedding")
    ax.set_title(f"{int(seen.sum()):,} tokens with a wordfreq frequency")
    figs["norm_frequency"] = _png(fig)

    t = res["table1"]
    ranked = [c for c in t.columns if c != "unseen"]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3))
    titles = {"norm": "mean length", "knn_l2_k3": "distance to 3 nearest", "knn_dot_k3": "dot product with 3 nearest"}
    for ax, row in zip(axes, ["norm", "knn_l2_k3", "knn_dot_k3"]):
        ax.plot(range(len(ranked)), t.loc[row, ranked].to_numpy(dtype=float), "s-", color="k", label="this model")
        if len(ranked) == 4:
            ax.plot(range(4), BERT_FLOW_TABLE1[row], "o--", label="BERT-flow Table 1 (bert-base)")
        ax.set_xticks(range(len(ranked)), ranked, fontsize=7)
        ax.set_xlabel("frequency-rank bucket", fontsize=8)
        ax.set_title(titles[row], fontsize=10)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    figs["table1"] = _png(fig)
    return figs


# ----------------------------------------------------------------------------------------------
# JSON: every number
# ----------------------------------------------------------------------------------------------
def _plain(v):
    """JSON-ready: numpy scalars and arrays to Python, NaN/inf to None, DataFrames to nested dicts."""
    if isinstance(v, pd.DataFrame):
        out = {"columns": [str(c) for c in v.columns], "rows": {str(i): {str(c): _plain(x) for c, x in r.items()}
                                                               for i, r in v.iterrows()}}
        if v.attrs:
            out["attrs"] = _plain(v.attrs)
        return out
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return v


def to_json(res) -> dict:
    """Every number of one report (``collect``'s result) as a JSON-ready dict (figures left out)."""
    out = {k: _plain(v) for k, v in res.items() if k != "figures"}
    out["rogue_layers"] = [{"dim": d, "share": _plain(s)} for d, s in res["rogue_layers"]]
    out["rogue_E"] = _plain(res["rogue_E"].to_dict(orient="records"))
    out["rogue_last"] = _plain(res["rogue_last"].to_dict(orient="records"))
    out["metric_names"] = {k: v[0] for k, v in METRICS.items()}
    out["thresholds"] = {"MILD": MILD, "CONE": CONE, "ROGUE": ROGUE, "NULL_P": NULL_P}
    return out


# ----------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------
def _num(v, spec: str = ".3f") -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v))
    if not math.isfinite(v):
        return "n/a"
    out = format(v, spec)
    return out[1:] if out.startswith("-") and not out.strip("-0.") else out  # no "-0.000"


def _html_table(header, rows, left: int = 1, text=()) -> str:
    """A table from strings (already HTML-safe); the first ``left`` columns and those in ``text`` are left-aligned."""
    def cell(tag, i, c):
        return f"<{tag} class='l'>{c}</{tag}>" if i < left or i in text else f"<{tag}>{c}</{tag}>"

    th = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table class='t'><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _nb_link(num: str, base: Path | None) -> str:
    """'notebook 06' as a link to the notebook when the repository's notebooks/ is next to this package."""
    nbdir = Path(__file__).resolve().parent.parent / "notebooks"
    path = nbdir / NOTEBOOKS[num]
    if base is None or not path.exists():
        return f"notebook {num}"
    return f"<a href='{html.escape(Path(os.path.relpath(path, base)).as_posix())}'>notebook {num}</a>"


def _metric_label(key: str) -> str:
    return html.escape(SHORT.get(key, key))


def _zoo_table(res, base) -> str:
    rows = []
    for k, v in res["zoo"].items():
        words, reads, blind, nb = METRICS[k]
        if k == "random_pair_cosine_top":
            words = f"mean cosine of two random types among the {res['zoo_top']:,} most frequent"
        spec = ".1f" if k == "effective_rank" else ".3f"
        value = _num(v, spec) + (f" of {res['shape'][1]}" if k == "effective_rank" else "")
        rows.append([html.escape(words), value, html.escape(reads), html.escape(blind), _nb_link(nb, base)])
    return _html_table(["metric", "value", "how to read it", "blind to", "explained in"], rows, text=(2, 3, 4))


def _bucket_table(t: pd.DataFrame) -> str:
    rows = [[html.escape(TABLE1_ROWS.get(r, r))] + [_num(t.loc[r, c]) for c in t.columns] for r in t.index]
    n_tok, n_q = t.attrs.get("n_tokens", {}), t.attrs.get("n_queries", {})
    if n_tok:
        rows.append(["tokens in the bucket"] + [f"{n_tok.get(c, 0):,}" for c in t.columns])
    if n_q:
        rows.append(["k-NN queries measured (a random sample)"] + [f"{n_q.get(c, 0):,}" for c in t.columns])
    return _html_table(["bucket"] + [html.escape(str(c)) for c in t.columns], rows)


def _rogue_table(df: pd.DataFrame, d: int) -> str:
    rows = [[str(int(r.dim)), f"{r.contribution:.2e}", _num(r.share), _num(r.cumulative_share)] for r in df.itertuples()]
    return _html_table(["dimension", "contribution to the mean cosine", "share of it",
                        "cumulative share"], rows) + f"<p class='note'>A dimension with no special role would carry 1/d = {1 / d:.4f}.</p>"


def _remedy_table(df: pd.DataFrame) -> str:
    rows = [[html.escape(str(name))] + [_num(df.loc[name, k], ".1f" if k == "effective_rank" else ".3f") for k in df.columns]
            for name in df.index]
    return _html_table(["remedy"] + [_metric_label(k) for k in df.columns], rows)


def _esc(text: str) -> str:
    """HTML-escaped, with the headline's '10^-618' as a power."""
    return re.sub(r"10\^(-?\d+)", lambda m: f"10<sup>{m.group(1).replace('-', '&minus;')}</sup>", html.escape(text))


def _headline_html(hd: dict) -> str:
    notes = "".join(f"<li>{_esc(n)}</li>" for n in hd["notes"])
    return (f"<div class='headline'><p><b>Is this model's embedding space anisotropic?</b> {html.escape(hd['answer'])}</p>"
            f"<p><b>Where</b> (mean cosine of random pairs; {MILD:.2f} and above counts): {html.escape(hd['where'])}.</p>"
            f"<p><b>What would fix it:</b> {html.escape(hd['fix'])}</p>"
            + (f"<ul>{notes}</ul>" if notes else "") + "</div>")


def _rules_note(base) -> str:
    return (f"<p class='note'>Verdict rules (<code>helpers.report.headline</code>): a space is <i>anisotropic</i> when "
            f"random pairs of its vectors have a mean cosine of at least {CONE:.2f}, <i>mildly</i> so from {MILD:.2f}; "
            f"centring counts as the fix when it brings that below {MILD:.2f}; a dimension is rogue when it carries at "
            f"least {ROGUE:.0%} of the mean cosine; a hull miss counts when Wendel's null probability is below {NULL_P}. "
            f"Cosines are blind to how the variance spreads once the mean is removed: see IsoScore and the effective "
            f"rank below. Why cones form and what prevents them in training: {_nb_link('09', base)}; remedies compared: "
            f"{_nb_link('08', base)}.</p>")


def _zero_rows_html(res) -> str:
    z = res["zero_rows"]
    if not z["count"]:
        return ""
    shown = ", ".join(html.escape(t) for t in z["tokens"][:20]) + (f" and {z['count'] - 20:,} more" if z["count"] > 20 else "")
    return (f"<p class='warn'><b>{z['count']:,} all-zero row{'s' if z['count'] != 1 else ''}</b> in the input embeddings "
            f"({shown}): a zero vector has no direction, so its cosine with anything is undefined. "
            f"{'They are' if z['count'] != 1 else 'It is'} left out of every measurement of the input embeddings below "
            f"({res['shape'][0] - z['count']:,} rows measured). BERT's [PAD] row, for one, is zeroed at initialisation "
            "and kept there in training (padding_idx).</p>")


def _hull_text(h) -> str:
    verdict = "contains" if h["contains"] else "misses"
    p = probability_text(h["log10_null"])
    if h["log10_null"] >= math.log10(NULL_P):
        null = (f"Wendel's null probability of a miss is {p}: with n = {h['n']:,} points in d = {h['d']}, a miss "
                "would be expected even from a centred, symmetric cloud, so the verdict says little; use more sentences.")
    else:
        null = (f"Wendel's null probability of a miss is {p}: a centred, symmetric cloud of n = {h['n']:,} points in "
                f"d = {h['d']} would almost surely contain the origin, so "
                + ("a miss is a real, one-sided geometry (all states on one side of a hyperplane through the origin)."
                   if not h["contains"] else "containing it is what the null predicts."))
    return (f"Last layer, {h['n']:,} token states in d = {h['d']} (Wolfe's minimum-norm point with a certificate): "
            f"the convex hull <b>{verdict}</b> the origin; its distance from the origin is {h['margin']:.3f} (a state's "
            f"mean length is {h['mean_norm']:.2f}). {_esc(null)}")


def _anisotropy_table(res) -> str:
    a, ac = res["anisotropy"], res["anisotropy_centred"]
    rel = np.arange(len(a)) / max(1, len(a) - 1)
    refs = {name: np.interp(rel, np.arange(13) / 12, np.array(vals)) for name, vals in ETHAYARAJH.items()}
    rows = [[str(layer), f"{rel[layer]:.2f}", _num(a[layer]), _num(ac[layer])]
            + [_num(refs[name][layer]) for name in ETHAYARAJH] for layer in range(len(a))]
    return _html_table(["layer", "relative depth", "this model", "this model, centred"]
                       + [f"Ethayarajh: {name} (same relative depth)" for name in ETHAYARAJH], rows, left=1)


STYLE = ("<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;line-height:1.4}"
         "table.t{border-collapse:collapse;font-size:13px;margin:0.5em 0}"
         "table.t td,table.t th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}"
         "table.t .l{text-align:left}img{max-width:100%}.note{color:#555;font-size:13px}"
         ".headline{border:2px solid #333;padding:0.2em 1em;margin:1em 0;background:#f7f7f7}"
         ".warn{background:#fff4e0;padding:0.4em}</style>")


def _sections(res: dict, base, h: str = "h2", prefix: str = "") -> list[str]:
    """The evidence sections of one model's report (after its headline)."""
    V, d = res["shape"]
    hull = res["hull"]
    counts_html = ""
    if "table1_counts" in res:
        counts_html = "<h4>By training-corpus count (--counts)</h4>" + _bucket_table(res["table1_counts"])
    zs = res.get("zero_states", 0)
    return [
        _zero_rows_html(res),
        f"<{h}>{prefix}1. Metric zoo of the input embeddings</{h}>",
        "<p>Each metric measures a different thing, and they disagree by design (the 'metrics disagree' "
        f"explorable in {_nb_link('06', base)}); read each with what it is blind to. Running-text weights are "
        "wordfreq frequencies (per word of English text).</p>",
        _zoo_table(res, base),
        f"<{h}>{prefix}2. BERT-flow Table 1: length and nearest neighbours by frequency</{h}>",
        "<p>Buckets of tokens ranked by wordfreq frequency (rank 0 = the most frequent; <i>unseen</i> = tokens that no "
        "frequent word produces). Li et al. (2020) report for bert-base: length .95/1.04/1.22/1.45, distance to the 3 "
        "nearest .77/.93/1.16/1.30, dot product with them .73/.92/1.20/1.63 -- 'rare words lie far from the origin and "
        f"sparsely'. Explained in {_nb_link('06', base)}.</p>",
        _bucket_table(res["table1"]), counts_html,
        _img(res["figures"]["table1"], "Table 1 rows by bucket"), _img(res["figures"]["norm_frequency"], "length vs frequency"),
        f"<{h}>{prefix}3. Anisotropy per layer</{h}>",
        f"<p>Mean cosine of 100,000 random pairs of tokens of the same layer, {res['n_tokens']:,} tokens from "
        f"{res['n_sentences']} Wikipedia sentences (special tokens dropped"
        + (f"; {zs:,} all-zero token states left out" if zs else "") + "), and the same after subtracting the layer's "
        f"mean state ('centred'; the exact mean over all pairs). Explained in {_nb_link('07', base)}. Published curves: "
        f"{html.escape(ETHAYARAJH_SOURCE)}; interpolated to this model's relative depth. Blind to: how the variance "
        "spreads once the mean is removed.</p>",
        _anisotropy_table(res), _img(res["figures"]["anisotropy"], "anisotropy per layer"),
        f"<{h}>{prefix}4. Does the last layer's hull contain the origin?</{h}>",
        f"<p>{_hull_text(hull)} Explained in {_nb_link('03', base)}. Blind to: how far the states are from being "
        "a cone -- a hull can miss the origin by a hair.</p>",
        f"<{h}>{prefix}5. Rogue dimensions</{h}><p>Each dimension's contribution to the mean cosine of random pairs "
        f"(Timkey &amp; van Schijndel 2021), largest first; explained in {_nb_link('07', base)}. Shares are unstable "
        "when the mean cosine is near 0.</p>",
        "<h4>Input embeddings</h4>", _rogue_table(res["rogue_E"], d), "<h4>Last layer</h4>", _rogue_table(res["rogue_last"], d),
        f"<{h}>{prefix}6. What each remedy does to the metrics</{h}>",
        f"<p>Input embeddings after centring, all-but-the-top (Mu &amp; Viswanath 2018, the top D = {res['abtt_d']} "
        "principal directions removed), PCA whitening, and Zipfian whitening (Yokoi et al. 2024, wordfreq weights, "
        f"tokens with a frequency only); compared in {_nb_link('08', base)}. Each remedy is fitted on all "
        f"{V - res['zero_rows']['count']:,} measured rows; its metrics are measured on the same "
        f"{res['remedy_rows']:,} randomly chosen rows for every remedy (so the 'raw' row differs slightly from section "
        f"{prefix}1); <i>frequent types</i> here = the most frequent half of those rows, at most 5,000. Whitening "
        "makes any matrix isotropic by construction: scores near 1 after it say nothing about the model.</p>",
        _remedy_table(res["remedies"]),
    ]


REFERENCES = (
    "<h2>References</h2><ul>"
    "<li>Gao et al. (2019), Representation Degeneration Problem in Training Natural Language Generation Models, ICLR.</li>"
    "<li>Li et al. (2020), On the Sentence Embeddings from Pre-trained Language Models (BERT-flow), EMNLP.</li>"
    "<li>Ethayarajh (2019), How Contextual are Contextualized Word Representations?, EMNLP.</li>"
    "<li>Wendel (1962), A problem in geometric probability, Math. Scand. 11.</li>"
    "<li>Timkey &amp; van Schijndel (2021), All Bark and No Bite: Rogue Dimensions in Transformer Language Models, EMNLP.</li>"
    "<li>Mu &amp; Viswanath (2018), All-but-the-Top, ICLR.</li>"
    "<li>Rudman et al. (2022), IsoScore: Measuring the Uniformity of Embedding Space Utilization, Findings of ACL.</li>"
    "<li>Roy &amp; Vetterli (2007), The effective rank: a measure of effective dimensionality, EUSIPCO.</li>"
    "<li>Yokoi et al. (2024), Zipfian Whitening, NeurIPS.</li></ul>"
)


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _model_line(res) -> str:
    V, d = res["shape"]
    return (f"<b>{html.escape(res['label'])}</b>; family: {html.escape(res['family'])}; input embeddings "
            f"{V:,} &times; {d}; {res['n_layers']} layers")


def _footer(results) -> str:
    tm = "; ".join(", ".join(f"{k} {v:.1f} s" for k, v in r["timings"].items()) for r in results)
    return (f"<p class='note'>Generated {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC by "
            f"<code>python -m helpers.report</code>; step times: {html.escape(tm)}.</p>")


def _page(title: str, body: list[str]) -> str:
    return "\n".join(["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
                      f"<title>{html.escape(title)}</title>", STYLE, "</head><body>", *body, "</body></html>"])


def render(res: dict, out_dir=None) -> str:
    """The report as one self-contained HTML string (no external resources).

    ``out_dir``: where the page will be written; notebook links are made relative to it (None: no links).
    """
    base = None if out_dir is None else Path(out_dir).resolve()
    body = [f"<h1>Embedding-geometry report</h1><p>Model: {_model_line(res)}.</p>",
            _headline_html(res["headline"]), _rules_note(base), *_sections(res, base), REFERENCES, _footer([res])]
    return _page(f"Embedding-geometry report: {res['label']}", body)


def render_compare(a: dict, b: dict, out_dir=None) -> str:
    """Two reports side by side (two models, or two checkpoints of one), then each one's evidence in full."""
    base = None if out_dir is None else Path(out_dir).resolve()
    both = (a, b)
    head = _html_table(["", "A", "B"], [
        ["model", *[_model_line(r) for r in both]],
        ["verdict", *[f"<b>{html.escape(r['headline']['verdict'])}</b>" for r in both]],
        ["is it anisotropic?", *[html.escape(r["headline"]["answer"]) for r in both]],
        ["where", *[html.escape(r["headline"]["where"]) for r in both]],
        ["what would fix it", *[html.escape(r["headline"]["fix"]) for r in both]],
        ["notes", *["<br>".join(_esc(n) for n in r["headline"]["notes"]) for r in both]],
    ], left=3)
    zoo_rows = [[html.escape(METRICS[k][0])] + [_num(r["zoo"].get(k), ".1f" if k == "effective_rank" else ".3f") for r in both]
                for k in METRICS if any(k in r["zoo"] for r in both)]
    zoo_rows.append(["the same, random types, after centring"] + [_num(r["centred_cosine"]) for r in both])
    zoo_rows.append(["all-zero rows left out"] + [f"{r['zero_rows']['count']:,}" for r in both])
    L = max(len(a["anisotropy"]), len(b["anisotropy"]))
    lay_rows = []
    for layer in range(L):
        row = [str(layer)]
        for r in both:
            an, ac = r["anisotropy"], r["anisotropy_centred"]
            row += [_num(an[layer]), _num(ac[layer])] if layer < len(an) else ["", ""]
        lay_rows.append(row)
    hull_rows = [["hull of the last layer"] + [("contains" if r["hull"]["contains"] else "misses") + " the origin" for r in both],
                 ["its distance from the origin / a state's mean length"] + [f"{r['hull']['margin_ratio']:.2%}" for r in both],
                 ["Wendel's null probability of a miss"] + [_esc(probability_text(r["hull"]["log10_null"])) for r in both]]
    t1 = [[html.escape(f"{TABLE1_ROWS['norm']}, bucket {c}")] + [_num(r["table1"].loc["norm", c]) if c in r["table1"].columns else "n/a"
                                                                  for r in both] for c in a["table1"].columns]
    body = [
        "<h1>Embedding-geometry report: two models side by side</h1>",
        _html_table(["", "model"], [["A", _model_line(a)], ["B", _model_line(b)]], left=2),
        "<h2>Headline</h2>", head, _rules_note(base),
        "<h2>Key numbers</h2><h3>Input embeddings</h3>", _html_table(["metric", "A", "B"], zoo_rows),
        "<h3>Anisotropy per layer (mean cosine of random token pairs)</h3>",
        _html_table(["layer", "A", "A, centred", "B", "B, centred"], lay_rows),
        ("" if len(a["anisotropy"]) == len(b["anisotropy"]) else
         f"<p class='note'>Rows are layer numbers: A has {len(a['anisotropy']) - 1} layers, B {len(b['anisotropy']) - 1}, so "
         "equal rows are not equal relative depths (the figure plots relative depth).</p>"),
        _img(_anisotropy_figure([a, b]), "anisotropy per layer, both models"),
        "<h3>Last layer's hull</h3>", _html_table(["", "A", "B"], hull_rows),
        "<h3>Length by frequency bucket (BERT-flow Table 1)</h3>", _html_table(["", "A", "B"], t1),
    ]
    for tag, r in zip("AB", both):
        body += [f"<h2>{tag}: {html.escape(r['label'])} in full</h2>", _headline_html(r["headline"]),
                 *_sections(r, base, h="h3", prefix=f"{tag}.")]
    body += [REFERENCES, _footer(both)]
    return _page(f"Embedding-geometry report: {a['label']} vs {b['label']}", body)


def build_report(model=None, out="report.html", json_out=None, **kw) -> Path:
    """Measure ``model`` (None: the embedded default; a list of two: side by side) and write the HTML page."""
    names = list(model) if isinstance(model, (list, tuple)) else [model]
    if not 1 <= len(names) <= 2:
        raise ValueError("give one model, or two to compare")
    out = Path(out)
    results = [collect(m, **kw) for m in names]
    page = render(results[0], out.parent) if len(results) == 1 else render_compare(*results, out.parent)
    out.write_text(page, encoding="utf-8")
    if json_out is not None:
        doc = to_json(results[0]) if len(results) == 1 else {"models": [to_json(r) for r in results]}
        Path(json_out).write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return out


# ----------------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------------
EMBEDDED_NAMES = ("", "embedded", "None", "none")


def _looks_like_path(name: str) -> bool:
    """True for names only a local path can mean (a hub id is 'name' or 'org/name')."""
    return (name.startswith(("/", "./", "../", "~", ".\\")) or name in (".", "..") or name.endswith(("/", "\\"))
            or name.count("/") > 1 or "\\" in name)


def _cli_error(e: models.ModelUnavailableError, name: str) -> str:
    """The one error line for a model that cannot be loaded, with command-line hints (not notebook ones)."""
    embedded = ("without a model name, python -m helpers.report (make report) measures the embedded "
                "all-MiniLM-L6-v2 offline")
    if isinstance(e, models.UnsupportedModelError):
        return f"{e} ({embedded})"
    why = getattr(e, "reason", "") or str(e)
    kind = getattr(e, "kind", "")
    if kind == "offline":
        hint = (f"to download it, run make report MODEL={name} (it lets a hub id reach the network) or unset "
                f"HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE for this command; {embedded}")
    elif kind == "unreachable":
        hint = f"check the network connection, or give a local directory saved with save_pretrained; {embedded}"
    elif kind in ("not_on_hub", "not_a_model", "file", "empty"):
        hint = f"give a hub id (e.g. bert-base-uncased) or a directory saved with save_pretrained; {embedded}"
    else:
        hint = embedded
    return f"cannot load model {name!r}: {why}; {hint}"


def _writable_parent(path: str, opt: str) -> None:
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise ValueError(f"{opt} {path}: the directory {parent} does not exist")
    if Path(path).is_dir():
        raise ValueError(f"{opt} {path}: is a directory; give a file name")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.report", description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="*", default=[],
                    help="hub id or local directory; omit (or 'embedded') for the embedded all-MiniLM-L6-v2; "
                         "two models (or checkpoints) are compared side by side")
    ap.add_argument("--out", default="report.html", help="output HTML file (default report.html)")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write every number of the report to FILE (JSON)")
    ap.add_argument("--sentences", type=int, default=150, help="Wikipedia sentences for the layer measurements")
    ap.add_argument("--max-queries", type=int, default=1000, help="k-NN queries per frequency bucket")
    ap.add_argument("--counts", default=None, help=".npy of training-corpus token counts (adds count buckets)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    names = [None if m in EMBEDDED_NAMES else m for m in args.model]
    if len(names) > 2:
        print(f"error: give at most two models to compare, got {len(names)}", file=sys.stderr)
        return 2
    if not names:
        names = [None]
    try:
        if args.sentences < 2:
            raise ValueError(f"--sentences must be at least 2, got {args.sentences}")
        if args.max_queries < 1:
            raise ValueError(f"--max-queries must be at least 1, got {args.max_queries}")
        _writable_parent(args.out, "--out")
        if args.json is not None:
            _writable_parent(args.json, "--json")
        if args.counts is not None and not Path(args.counts).is_file():
            raise ValueError(f"--counts {args.counts}: no such file")
        for m in names:
            if m is not None and _looks_like_path(m) and not Path(m).expanduser().exists():
                raise ValueError(f"no such directory: {m} (a local model is a directory written by save_pretrained)")
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    names = [None if m is None else (os.path.expanduser(m) if m.startswith("~") else m) for m in names]
    setup(seed=args.seed, offline=all(m is None for m in names))
    try:
        path = build_report(names if len(names) == 2 else names[0], args.out, json_out=args.json,
                            n_sentences=args.sentences, max_queries=args.max_queries, counts=args.counts,
                            seed=args.seed, progress=not args.no_progress)
    except models.ModelUnavailableError as e:
        print(f"error: {_cli_error(e, getattr(e, 'model', '') or str(names))}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # writing the page or the JSON
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)" + (f" and {args.json}" if args.json else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

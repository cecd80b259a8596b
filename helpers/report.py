"""One-command diagnostic report on any supported model's embeddings (``make report MODEL=...``).

    python -m helpers.report                       # the embedded all-MiniLM-L6-v2 (offline)
    python -m helpers.report bert-base-uncased --out bert.html
    python -m helpers.report path/to/saved/model --sentences 300

Writes ONE self-contained HTML page (tables inline, figures embedded as base64 PNG; it opens
offline) with, for the model's input embeddings and its layers:

1. the metric zoo of the input embeddings (``helpers.metrics.metric_zoo``; frequency-weighted
   cosines with wordfreq frequencies) -- what each metric is invariant to;
2. BERT-flow's Table 1 (Li et al. 2020): norm and k-NN distance per frequency-rank bucket, from
   wordfreq frequencies; with ``--counts FILE`` (a .npy of the model's training-corpus token
   counts) also per *count* bucket;
3. per-layer anisotropy (mean cosine of random same-layer token pairs) beside Ethayarajh's (2019)
   published curves for bert-base-cased and gpt2;
4. the hull verdict on the last layer's token states (does conv(states) contain the origin?),
   with Wendel's (1962) null probability that n symmetric points in general position miss it;
5. rogue dimensions (Timkey & van Schijndel 2021) of the input embeddings and the last layer;
6. what each remedy (centring, all-but-the-top, whitening, Zipfian whitening) does to the metrics.

A model that cannot be loaded gives one clear error (``ModelUnavailableError``; the command line
prints it and exits with status 2). Families: see ``helpers.models.FAMILIES``.
"""
from __future__ import annotations

import argparse
import base64
import datetime as _dt
import html
import io
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import data, geometry, metrics, models, remedies, setup, theory

__all__ = ["ETHAYARAJH", "wendel_miss_probability", "collect", "render", "build_report", "main"]

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


def collect(model=None, *, n_sentences: int = 150, max_queries: int = 1000, counts=None, seed: int = 0,
            progress: bool = True, abtt_d: int | None = None, remedy_rows: int = 8000) -> dict:
    """Run every measurement of the report; returns a dict of tables, numbers and figures (PNG bytes)."""
    from tqdm.auto import tqdm

    if n_sentences < 2:
        raise ValueError("n_sentences must be at least 2")
    steps = ["load model", "input-embedding metric zoo", "Table 1 (frequency buckets)", "hidden states",
             "per-layer anisotropy", "hull of the last layer", "rogue dimensions", "remedies"]
    bar = tqdm(total=len(steps), desc="report", disable=not progress, file=sys.stderr)
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
    E = models.input_embeddings(mdl)
    res["shape"] = E.shape
    res["n_layers"] = int(getattr(mdl.config, "num_hidden_layers", getattr(mdl.config, "n_layer", 0)))
    done("load model")

    step("input-embedding metric zoo")
    freq = data.token_frequencies(tok)  # wordfreq, per word of running text
    top = min(5000, int((freq > 0).sum())) or None
    res["zoo"] = _zoo(E, weights=freq if freq.sum() > 0 else None, top=top, seed=seed)
    done("input-embedding metric zoo")

    step("Table 1 (frequency buckets)")
    res["table1"] = geometry.frequency_bucket_table(E, freq, ks=(3, 5, 7), max_queries=max_queries, seed=seed)
    if counts is not None:
        counts = np.load(counts) if isinstance(counts, (str, os.PathLike)) else np.asarray(counts)
        if counts.ndim != 1 or counts.shape[0] != E.shape[0]:
            raise ValueError(f"counts must have one entry per vocabulary row ({E.shape[0]}); got shape {counts.shape}")
        res["table1_counts"] = _count_bucket_table(E, counts, (3, 5, 7), max_queries, seed)
    done("Table 1 (frequency buckets)")

    step("hidden states")
    sentences = data.wiki_sentences(n_sentences, seed=seed)
    H = models.hidden_states(mdl, tok, sentences, special_tokens=False)
    res["n_tokens"] = int(H.shape[1])
    res["n_sentences"] = len(sentences)
    done("hidden states")

    step("per-layer anisotropy")
    res["anisotropy"] = geometry.layer_anisotropy(H, n_pairs=100_000, seed=seed)
    done("per-layer anisotropy")

    step("hull of the last layer")
    last = H[-1].astype(np.float64)
    cert = theory.hull_certificate(last)
    n, d = last.shape
    res["hull"] = dict(contains=bool(cert.contains), margin=float(cert.margin), n=n, d=d,
                       mean_norm=float(np.linalg.norm(last, axis=1).mean()),
                       wendel=wendel_miss_probability(n, d))
    done("hull of the last layer")

    step("rogue dimensions")
    res["rogue_E"] = geometry.rogue_dimensions(E, top=5)
    res["rogue_last"] = geometry.rogue_dimensions(H[-1], top=5)
    done("rogue dimensions")

    step("remedies")
    D = abtt_d if abtt_d is not None else max(1, E.shape[1] // 100)
    w = freq if freq.sum() > 0 else None
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
        keep = np.isfinite(Xs).all(axis=1)
        z = _zoo(Xs[keep], weights=None if w is None else w[sub][keep], top=None if top is None else min(top, int(keep.sum()) // 2),
                 seed=seed)
        rows[name] = z
    res["remedy_rows"] = len(sub)
    res["remedies"] = pd.DataFrame(rows).T
    res["abtt_d"] = D
    done("remedies")
    bar.close()
    res["figures"] = _figures(res, E, freq)
    return res


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _figures(res, E, freq) -> dict:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figs = {}
    a = res["anisotropy"]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, vals in ETHAYARAJH.items():
        ax.plot(np.arange(len(vals)) / (len(vals) - 1), vals, "o--", label=f"Ethayarajh 2019, {name}", alpha=0.7)
    ax.plot(np.arange(len(a)) / max(1, len(a) - 1), a, "s-", color="k", label="this model")
    ax.set_xlabel("relative depth l / L (0 = embedding layer)")
    ax.set_ylabel("mean cosine, random token pairs")
    ax.set_ylim(min(-0.05, float(np.min(a)) - 0.05), 1.02)
    ax.legend(fontsize=7)
    figs["anisotropy"] = _png(fig)

    seen = freq > 0
    norms = np.linalg.norm(E, axis=1)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    if seen.sum() > 1:
        ax.hexbin(np.log10(freq[seen]), norms[seen], gridsize=40, bins="log", cmap="magma")
    ax.set_xlabel("log10 wordfreq frequency (per word of text)")
    ax.set_ylabel("l2 norm of the input embedding")
    ax.set_title(f"{int(seen.sum()):,} tokens with a wordfreq frequency")
    figs["norm_frequency"] = _png(fig)

    t = res["table1"]
    ranked = [c for c in t.columns if c != "unseen"]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3))
    for ax, row in zip(axes, ["norm", "knn_l2_k3", "knn_dot_k3"]):
        ax.plot(range(len(ranked)), t.loc[row, ranked].to_numpy(dtype=float), "s-", color="k", label="this model")
        if len(ranked) == 4:
            ax.plot(range(4), BERT_FLOW_TABLE1[row], "o--", label="BERT-flow Table 1 (bert-base)")
        ax.set_xticks(range(len(ranked)), ranked, fontsize=7)
        ax.set_title(row)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    figs["table1"] = _png(fig)
    return figs


# ----------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------
def _table(df: pd.DataFrame) -> str:
    return df.to_html(float_format=lambda v: f"{v:.3f}", border=0, classes="t", na_rep="n/a")


def _rogue(df: pd.DataFrame) -> str:
    return df.to_html(formatters={"contribution": "{:.2e}".format, "share": "{:.3f}".format,
                                  "cumulative_share": "{:.3f}".format}, border=0, classes="t", index=False)


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _invariance_table(keys) -> str:
    rows = {k: {t: ("yes" if metrics.INVARIANCES[k].get(t) else "no") for t in ("scale", "rotation", "shift")}
            for k in keys if k in metrics.INVARIANCES}
    return _table(pd.DataFrame(rows).T.rename_axis("invariant to")) if rows else ""


def render(res: dict) -> str:
    """The report as one self-contained HTML string (no external resources)."""
    V, d = res["shape"]
    zoo = pd.Series(res["zoo"], name="value").to_frame()
    h = res["hull"]
    a = res["anisotropy"]
    rel = np.arange(len(a)) / max(1, len(a) - 1)
    aniso = pd.DataFrame({"layer": np.arange(len(a)), "relative depth": rel, "this model": a})
    for name, vals in ETHAYARAJH.items():
        ref = np.array(vals)
        aniso[f"Ethayarajh {name} (same relative depth)"] = np.interp(rel, np.arange(13) / 12, ref)
    aniso = aniso.set_index("layer")
    verdict = "CONTAINS" if h["contains"] else "MISSES"
    if h["wendel"] > 0.05:
        null_txt = (f"Wendel's null probability of a miss is {h['wendel']:.3g}: with n = {h['n']:,} points in "
                    f"d = {h['d']}, a miss would be expected even from a centred, symmetric cloud, so the "
                    "verdict says little; use more sentences.")
    else:
        null_txt = (f"Wendel's null probability of a miss is {h['wendel']:.1e}: a centred, symmetric cloud of "
                    f"n = {h['n']:,} points in d = {h['d']} would almost surely contain the origin, so "
                    + ("a miss is a real, one-sided (cone-like) geometry." if not h["contains"]
                       else "containing it is what the null predicts."))
    tm = ", ".join(f"{k} {v:.1f} s" for k, v in res["timings"].items())
    counts_html = ""
    if "table1_counts" in res:
        counts_html = "<h3>By training-corpus count (--counts)</h3>" + _table(res["table1_counts"])
    t1 = res["table1"]
    t1_note = (f"tokens per bucket: {t1.attrs.get('n_tokens')}; k-NN queries per bucket: {t1.attrs.get('n_queries')}")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Embedding-geometry report: {html.escape(res['label'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;line-height:1.4}"
        "table.t{border-collapse:collapse;font-size:13px;margin:0.5em 0}"
        "table.t td,table.t th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
        "img{max-width:100%}.note{color:#555;font-size:13px}</style></head><body>",
        f"<h1>Embedding-geometry report</h1><p><b>Model:</b> {html.escape(res['label'])} "
        f"({html.escape(res['family'])}); input embeddings {V:,} &times; {d}; {res['n_layers']} layers. "
        f"<br><span class='note'>Generated {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC by "
        f"<code>python -m helpers.report</code>; step times: {html.escape(tm)}.</span></p>",
        "<h2>1. Metric zoo of the input embeddings</h2>",
        "<p>Weighted cosines use wordfreq frequencies (per word of running English text); "
        "<i>top</i> = the 5,000 most frequent tokens. The metrics disagree by design: check what each "
        "is invariant to before comparing models.</p>",
        _table(zoo), _invariance_table(res["zoo"].keys()),
        "<h2>2. BERT-flow Table 1: norm and nearest neighbours by frequency</h2>",
        "<p>Rank buckets by wordfreq frequency (rank 0 = most frequent; <i>unseen</i> = tokens no frequent "
        "word produces). Li et al. (2020) report for bert-base: norm .95/1.04/1.22/1.45, 3-NN l2 "
        ".77/.93/1.16/1.30, 3-NN dot .73/.92/1.20/1.63 -- 'rare words lie far from the origin and sparsely'.</p>",
        _table(t1), f"<p class='note'>{html.escape(t1_note)}</p>", counts_html,
        _img(res["figures"]["table1"], "Table 1 rows by bucket"), _img(res["figures"]["norm_frequency"], "norm vs frequency"),
        "<h2>3. Anisotropy per layer</h2>",
        f"<p>Mean cosine of 100,000 random pairs of tokens of the same layer, {res['n_tokens']:,} tokens from "
        f"{res['n_sentences']} Wikipedia sentences (special tokens dropped). Published curves: "
        f"{html.escape(ETHAYARAJH_SOURCE)}; interpolated to this model's relative depth.</p>",
        _table(aniso), _img(res["figures"]["anisotropy"], "anisotropy per layer"),
        "<h2>4. Does the last layer's hull contain the origin?</h2>",
        f"<p>Last layer, {h['n']:,} token states in d = {h['d']} (Wolfe's minimum-norm point with a "
        f"certificate): the convex hull <b>{verdict}</b> the origin; margin ||p*|| = {h['margin']:.3f} "
        f"(mean ||h|| = {h['mean_norm']:.2f}). {html.escape(null_txt)}</p>",
        "<h2>5. Rogue dimensions</h2><p>Each dimension's share of the expected cosine of random pairs "
        f"(Timkey &amp; van Schijndel 2021); 1/d = {1 / d:.4f}.</p>",
        "<h3>Input embeddings</h3>", _rogue(res["rogue_E"]), "<h3>Last layer</h3>", _rogue(res["rogue_last"]),
        "<h2>6. What each remedy does to the metrics</h2>",
        f"<p>Input embeddings after centring, all-but-the-top (Mu &amp; Viswanath 2018, D = {res['abtt_d']}), "
        "PCA whitening, and Zipfian whitening (Yokoi et al. 2024, wordfreq weights, tokens with a frequency only). "
        f"Each remedy is fitted on all {V:,} rows; the metrics are measured on the same {res['remedy_rows']:,} "
        "randomly chosen rows for every remedy (so the 'raw' row differs slightly from section 1); "
        "<i>top</i> here = the most frequent half of those rows, at most 5,000.</p>",
        _table(res["remedies"]),
        "<h2>References</h2><ul>"
        "<li>Gao et al. (2019), Representation Degeneration Problem in Training Natural Language Generation Models, ICLR.</li>"
        "<li>Li et al. (2020), On the Sentence Embeddings from Pre-trained Language Models (BERT-flow), EMNLP.</li>"
        "<li>Ethayarajh (2019), How Contextual are Contextualized Word Representations?, EMNLP.</li>"
        "<li>Wendel (1962), A problem in geometric probability, Math. Scand. 11.</li>"
        "<li>Timkey &amp; van Schijndel (2021), All Bark and No Bite: Rogue Dimensions in Transformer Language Models, EMNLP.</li>"
        "<li>Mu &amp; Viswanath (2018), All-but-the-Top, ICLR.</li>"
        "<li>Yokoi et al. (2024), Zipfian Whitening, NeurIPS.</li></ul>",
        "</body></html>",
    ]
    return "\n".join(parts)


def build_report(model=None, out="report.html", **kw) -> Path:
    """Measure ``model`` (None: the embedded default) and write the HTML page to ``out``."""
    res = collect(model, **kw)
    out = Path(out)
    out.write_text(render(res), encoding="utf-8")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.report", description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", default=None,
                    help="hub id or local directory; omit (or 'embedded') for the embedded all-MiniLM-L6-v2")
    ap.add_argument("--out", default="report.html", help="output HTML file (default report.html)")
    ap.add_argument("--sentences", type=int, default=150, help="Wikipedia sentences for the layer measurements")
    ap.add_argument("--max-queries", type=int, default=1000, help="k-NN queries per frequency bucket")
    ap.add_argument("--counts", default=None, help=".npy of training-corpus token counts (adds count buckets)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    name = None if args.model in (None, "", "embedded", "None", "none") else args.model
    setup(seed=args.seed, offline=name is None)
    try:
        path = build_report(name, args.out, n_sentences=args.sentences, max_queries=args.max_queries,
                            counts=args.counts, seed=args.seed, progress=not args.no_progress)
    except (models.ModelUnavailableError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The claims ledger's rules (notebook 10): each claim, the numbers the course recorded for it, a verdict.

Notebooks 00-09 (02 in three parts, ids "02a", "02b", "02c") record what they measured with
``helpers.ledger.record("05", key, value)``;
``helpers.ledger.results()`` returns all of it as ``{notebook_id: {key: value}}``. Here every row of
the ledger is a function of that dict alone, returning a ``Claim`` (the claim in our words, its
source, what it was tested on, the numbers measured, the verdict and the rule in words):

- ``evaluate(results) -> list[Claim]`` evaluates every claim of ``CLAIMS``, in the ledger's row order;
- ``table(claims) -> DataFrame`` renders them (columns ``COLUMNS``, index ``row`` = 1, 2, ...);
- ``table1(results, kind)``: notebook 05's Table 1 (norm and 3-NN distance per bucket, step 0 and end).

Each claim is split in two: a gathering part reads the keys it needs (a missing key makes the row
say ``NOT_RECORDED``, never raise) and formats the measured numbers; the verdict itself comes from a
pure function of plain numbers (``cone_verdict``, ``norms_verdict``, ...), which
``tests/test_claims.py`` drives through every branch with synthetic numbers. The one row that
needs more than the recorded numbers (row 3, the count buckets' order) takes it from
``helpers.lab`` in ``table1``, outside its rule.

The key names the claims read are the module constants ``NB<id>_...`` (``RECORDED_KEYS`` lists them
by notebook); a key ``k`` may come with its standard deviation over seeds under ``k + SD``, and
notebook 05's and 09's FULL records under ``FULL + k``. Verdicts start with "holds", "holds only",
"does not hold" or are ``NOT_RECORDED`` (``verdict_kind``).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import lab

__all__ = [
    "Claim",
    "NOT_RECORDED",
    "COLUMNS",
    "CLAIMS",
    "RECORDED_KEYS",
    "evaluate",
    "table",
    "table1",
    "verdict_kind",
    "over_lengths",
]

NOT_RECORDED = "not recorded"
#: Suffix of a key's standard deviation over seeds (``"tied.random_pair_cosine.sd"``).
SD = ".sd"
#: Prefix of the keys of a FULL run's record (notebooks 05 and 09: ``"full.steps"``).
FULL = "full."

# ---------------------------------------------------------------------------------------------------
# the recorded keys the claims read, by the notebook that records them
# ---------------------------------------------------------------------------------------------------
# notebook 02a (unseen words, convex hull: existence)
NB02A_TOY_GRADIENT_VANISHES = "gd.contains_final_grad_below_1e-8"
# notebook 02b (which direction: the optimiser's implicit bias)
NB02B_GD_COS_L2 = "bias.GD.cos_l2"
NB02B_GD_COS_LINF = "bias.GD.cos_linf"
NB02B_SIGN_COS_L2 = "bias.sign descent.cos_l2"
NB02B_SIGN_COS_LINF = "bias.sign descent.cos_linf"
NB02B_ADAM_COS_L2_EARLY = "bias.Adam.cos_l2_at_2e4"
NB02B_ADAM_COS_LINF_EARLY = "bias.Adam.cos_linf_at_2e4"
NB02B_ADAM_COS_L2 = "bias.Adam.cos_l2"
NB02B_ADAM_COS_LINF = "bias.Adam.cos_linf"
NB02B_ADAM_STEPS = "bias.Adam.steps"
NB02B_ADAM_CROSSOVER = "bias.Adam.crossover_step"
NB02B_ADAM_CROSSOVER_FINE = "bias.Adam.crossover_step_grid1000"
# notebook 03 (layer norm)
NB03_PLANES_MISS = "n_layernorms_plane_misses_origin"
NB03_N_LAYERNORMS = "n_layernorms"
NB03_FINAL_MARGIN = "final_hull_margin"
NB03_FINAL_DEAD_GAINS = "final_ln_dead_gains"
NB03_FINAL_CONTAINS = "final_hull_contains_origin"
NB03_HELDOUT_WRONG = "final_heldout_wrong_side"
NB03_NULL_MARGIN = "final_null_gauss_margin"
# notebook 04 (rare words)
NB04_TOY_SPEARMAN_COS = "toy_spearman_pairwise_cos"
# notebook 05 (tiny BERT lab)
NB05_N_SEEDS = "tied.n_seeds"
NB05_TIED_COS = "tied.random_pair_cosine"
NB05_TIED_COS_INIT = "tied.random_pair_cosine_init"
NB05_UNTIED_COS_OUTPUT = "untied.random_pair_cosine_output"
NB05_UNTIED_COS_INPUT = "untied.random_pair_cosine_input"
NB05_UNTIED_DISPLACEMENT = "untied.input_mean_displacement"
NB05_UNTIED_INIT_NORM = "untied.input_init_norm"
NB05_FIG1_COS = "fig1.random_pair_cosine"
NB05_W2V_COS_OUTPUT = "word2vec.random_pair_cosine_output"
NB05_W2V_SG = "word2vec.sg"
NB05_FULL_STEPS = FULL + "steps"
NB05_FULL_GAP = FULL + "unigram_gap"
NB05_FULL_COS = FULL + "random_pair_cosine"
NB05_NORM_BY_BUCKET = "tied.norm_by_bucket"
NB05_COUNT_INIT = "tied.count_buckets.init"
NB05_COUNT_FINAL = "tied.count_buckets.final"
NB05_RANK_INIT = "tied.rank_buckets.init"
NB05_RANK_FINAL = "tied.rank_buckets.final"
NB05_UNSEEN_COHERENCE = "tied.unseen_coherence"
NB05_UNSEEN_NEGATIVE = "tied.unseen_negative_share"
NB05_UNSEEN_TOKENS = "vocab.unseen_tokens"
NB05_UNSEEN_COS_L2 = "tied.unseen_cos_l2"
NB05_UNSEEN_COS_LINF = "tied.unseen_cos_linf"
NB05_UNSEEN_COS_MEAN_STATE = "tied.unseen_cos_mean_state"
NB05_HULL_CONTAINS = "tied.hull_contains_origin"
NB05_UNIGRAM_GAP = "tied.unigram_gap"
# notebook 06 (pretrained word embeddings)
NB06_MODEL = "model_name"
NB06_COS = "random_pair_cosine"
NB06_SPEARMAN_NORM = "spearman_norm_logfreq"
NB06_TABLE1 = "table1_wordfreq"
NB06_GLOVE_COS = "glove.random_pair_cosine"
NB06_GLOVE_COS_ALL = "glove.random_pair_cosine_all"
NB06_GLOVE_N_ALL = "glove.n_all"
NB06_GLOVE_MEAN_RATIO = "glove.mean_vector_ratio"
# notebook 07 (contextual layers)
NB07_MODEL = "model_name"
NB07_HULL_CONTAINS = "hull_contains_origin"
NB07_LAYER_COS = "layer_anisotropy"
# notebook 08 (remedies)
NB08_MODEL = "model_name"
NB08_MLE_COS = "mle.random_pair_cosine"
NB08_COSREG_COS = "cosreg.random_pair_cosine"
NB08_COSREG_LOSS_CHANGE = "cosreg.heldout_loss_change"
NB08_COSREG_SEEDS = "cosreg.n_seeds"
NB08_COSREG_STEPS = "cosreg.steps"
NB08_COSREG_OBJECTIVE = "cosreg.objective"
NB08_COSREG_COS_CHANGE = "cosreg.random_pair_cosine_change"
NB08_MLE_UNIGRAM_GAP = "mle.unigram_gap"
NB08_MLE_IW = "mle.isotropy_partition"
NB08_COSREG_IW = "cosreg.isotropy_partition"
NB08_SETS = "sets"
NB08_CLOSING_TABLE = "closing_table"
NB08_WORDSIM_GAINS = "wordsim.gains"
NB08_WORDSIM_VERDICTS = "wordsim.verdicts"
NB08_WORDSIM_N_BOOT = "wordsim.n_boot"
NB08_SIMCSE_COS_BEFORE = "simcse.before.sentence_random_pair_cos"
NB08_SIMCSE_COS_AFTER = "simcse.after.sentence_random_pair_cos"
NB08_SIMCSE_UNIFORMITY_BEFORE = "simcse.before.uniformity"
NB08_SIMCSE_UNIFORMITY_AFTER = "simcse.after.uniformity"
NB08_SIMCSE_ALIGNMENT_BEFORE = "simcse.before.alignment"
NB08_SIMCSE_ALIGNMENT_AFTER = "simcse.after.alignment"
NB08_SIMCSE_RELATIVE_BEFORE = "simcse.before.alignment_over_random_pair"
NB08_SIMCSE_RELATIVE_AFTER = "simcse.after.alignment_over_random_pair"
# notebook 09 (what causes the cone); its FULL grid records FULL + each of the claims' keys
NB09_STEPS = "factorial.steps"
NB09_SEEDS = "factorial.seeds"
NB09_FULL_STEPS = FULL + "steps"
NB09_FULL_SEEDS = FULL + "seeds"
NB09_FULL_CELLS = FULL + "cells"
NB09_MIN_COHERENCE = "all.unseen_min_coherence"
NB09_MIN_NEGATIVE = "all.unseen_min_negative_share"
NB09_COUPLED_ADAM_COS = "coupled_adam.random_pair_cosine"
NB09_SGD_COS = "sgd.random_pair_cosine"
NB09_BASELINE_COS = "baseline.random_pair_cosine"
NB09_COMMON_SHARE = "baseline.common_share"
NB09_EFFECTIVE_RANK = "baseline.effective_rank"
NB09_TOP_PC = "baseline.top_pc_share"
# notebook 09b: Adam's eps, the dose-response (CI slice; the FULL record's values when it is current)
NB09B_CI_STEPS = "ci.steps"
NB09B_CI_COS = "ci.cos"
NB09B_FULL_COS_BY_EPS = "full.cos_by_eps"
NB09B_FULL_THRESHOLD_PRED = "full.threshold_predicted"
NB09B_FULL_THRESHOLD_MEAS = "full.threshold_measured"
NB09B_FULL_UPDATE_RATIO = "full.update_ratio"
# notebook 09c: the optimizers at equal held-out loss (tuned learning rates, 3,000-step runs; FULL record only)
NB09C_FULL_EQUAL_LOSS = "full.equal_loss"
NB09C_FULL_LEVELS = "full.levels"
NB09C_FULL_COS_AT_DEEPEST = "full.cos_at_deepest"
# notebook 09d: a vocabulary of seen types only, and a GPT-2-style 4 x 256 model (CI probes; FULL record: equal loss)
NB09D_CI_COS = "ci.cos"
NB09D_CI_UNSEEN_SHARE = "ci.unseen_share"
NB09D_FULL_EQUAL_LOSS = "full.equal_loss"
NB09D_FULL_LEVELS = "full.levels"
NB09D_FULL_COS_AT_DEEPEST = "full.cos_at_deepest"
# notebook 09e: Adam's beta2 and the width (CI probes; FULL record: Adam - Coupled Adam per setting and metric)
NB09E_CI_COS = "ci.cos"
NB09E_FULL_CONTRAST = "full.contrast"
NB09_EFFECT_COUPLED_ADAM = "effect.coupled_adam.cos"
NB09_COUPLED_ADAM_LOSS = "coupled_adam.loss_minus_unigram"
NB09_BASELINE_LOSS = "baseline.loss_minus_unigram"
NB09_BIAS_SPEARMAN = "baseline.spearman_bias_logcount"
NB09_EFFECT_NO_BIAS = "effect.no_output_bias.cos"
NB09_LAYERS_CLM = "layers.clm"
NB09_LAYERS_MLM = "layers.mlm"
NB09_LAYERS_VERDICT = "layers.verdict"
NB09_LAYERS_DIFFS = "layers.last_diff_by_seed"

#: {notebook id: the keys of that notebook the claims read}, from the ``NB<id>_`` constants above (the id upper-cased:
#: ``NB02A_`` for notebook "02a").
RECORDED_KEYS = {nb: tuple(dict.fromkeys(v for k, v in sorted(globals().items()) if k.startswith(f"NB{nb.upper()}_")))
                 for nb in ("02a", "02b", "03", "04", "05", "06", "07", "08", "09", "09b", "09c", "09d", "09e")}


# ---------------------------------------------------------------------------------------------------
# the claim record and the table
# ---------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Claim:
    """One row of the ledger: the claim in our words, its source, what it was tested on, the numbers
    measured, the verdict and the rule (in words) that derived the verdict from the numbers."""

    claim: str
    source: str
    tested_on: str
    measured: str
    verdict: str
    rule: str

    @property
    def kind(self) -> str:
        return verdict_kind(self.verdict)


#: The ledger table's columns (``Claim``'s fields).
COLUMNS = tuple(f.name for f in dataclasses.fields(Claim))


def verdict_kind(verdict: str) -> str:
    """"holds", "holds only", "does not hold" or ``NOT_RECORDED``: the kind of a verdict."""
    if verdict == NOT_RECORDED:
        return NOT_RECORDED
    if verdict.startswith("holds only"):
        return "holds only"
    return "does not hold" if verdict.startswith("does not") else "holds"


def table(claims: Sequence[Claim]) -> pd.DataFrame:
    """The ledger as a DataFrame: one row per claim (index ``row`` = 1, 2, ...), columns ``COLUMNS``."""
    df = pd.DataFrame([dataclasses.asdict(c) for c in claims], columns=list(COLUMNS))
    df.index = np.arange(1, len(df) + 1)
    df.index.name = "row"
    return df


# ---------------------------------------------------------------------------------------------------
# reading the results
# ---------------------------------------------------------------------------------------------------
class _Missing(LookupError):
    """A key a claim needs was not recorded (the row then says ``NOT_RECORDED``)."""


class _Recorded:
    """Read access to ``{notebook: {key: value}}`` for one claim: ``need`` raises ``_Missing``."""

    def __init__(self, results: Mapping):
        self._results = results if isinstance(results, Mapping) else {}

    def of(self, nb: str) -> Mapping:
        got = self._results.get(nb)
        return got if isinstance(got, Mapping) else {}

    def get(self, nb: str, key: str, default=None):
        return self.of(nb).get(key, default)

    def need(self, nb: str, *keys: str) -> list:
        """The values of ``keys`` recorded by notebook ``nb`` (a list), or ``_Missing``."""
        got = self.of(nb)
        missing = [k for k in keys if k not in got]
        if missing:
            raise _Missing(", ".join(f"{nb}: {k}" for k in missing))
        return [got[k] for k in keys]

    def pm(self, nb: str, key: str, fmt: str = ".2f") -> str:
        """``key``'s value, with `` ± sd`` when ``key + SD`` was recorded."""
        v, s = self.need(nb, key)[0], self.get(nb, key + SD)
        return f"{v:{fmt}}" + (f" ± {s:{fmt}}" if s is not None else "")

    @property
    def pretrained(self) -> str:
        """The name of the pretrained model notebooks 06-08 ran with."""
        return self.get("08", NB08_MODEL) or self.get("06", NB06_MODEL) or "the pretrained model"


def _item(mapping, key, where: str):
    """``mapping[key]`` of a recorded dict (or list), or ``_Missing`` naming ``where``."""
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        raise _Missing(f"{where}[{key!r}]") from None


NAN = float("nan")


def _claim(text: str, source: str, rule: str, tested_on_missing: str):
    """Make ``build(recorded) -> (tested_on, measured, verdict)`` a claim: a function of the results dict
    returning a ``Claim``, with ``NOT_RECORDED`` when ``build`` finds a key missing
    (``tested_on_missing`` may name the pretrained model as ``{pre}``)."""
    def deco(build: Callable) -> Callable:
        @functools.wraps(build)
        def claim(results: Mapping) -> Claim:
            r = _Recorded(results)
            try:
                tested_on, measured, verdict = build(r)
            except _Missing as e:
                return Claim(text, source, tested_on_missing.format(pre=r.pretrained),
                             f"{NOT_RECORDED}: a notebook did not record {e}", NOT_RECORDED, rule)
            return Claim(text, source, tested_on, measured, verdict, rule)

        claim.text, claim.rule = text, rule
        claim.__doc__ = f"The claim {text!r} as a function of the recorded results. Rule: {rule}."
        return claim

    return deco


# ---------------------------------------------------------------------------------------------------
# 1. the cone
# ---------------------------------------------------------------------------------------------------
#: notebook 09c's metrics, in its order, and how its verdict labels read with Adam as "A"
EQUAL_LOSS_METRICS = ("cos", "cos seen", "cos tokens", "IsoScore", "top PC")


def equal_loss_text(eq: Mapping[str, str], other: str) -> str:
    """Notebook 09c's per-metric verdicts for Adam against ``other`` at equal held-out loss, in words
    ("cos: Adam higher; ...")."""
    words = {"A higher": "Adam higher", "B higher": f"{other} higher", "no difference": "no difference (< 0.05)",
             "not resolved": "seeds disagree", "depends on the loss level": "depends on the loss level"}
    return "; ".join(f"{m} {words.get(eq[f'{other} | {m}'], eq[f'{other} | {m}'])}" for m in EQUAL_LOSS_METRICS
                     if f"{other} | {m}" in eq)


#: notebook 09d's models, as its ledger keys name them, and in words
SEEN_VOCAB_MODELS = {"bert-8k": "the lab's BERT", "gpt2-8k": "a GPT-2-style 4 x 256 model, one seed"}


def seen_vocab_text(r: "_Recorded", others=("Coupled Adam", "SGD")) -> str:
    """Notebook 09d's evidence for Adam against ``others``: the 50-step probes' cosines and, when its FULL record
    is current, the per-metric verdicts at equal held-out loss on each model ('' when 09d recorded nothing)."""
    ci, eq = r.get("09d", NB09D_CI_COS), r.get("09d", NB09D_FULL_EQUAL_LOSS)
    share = r.get("09d", NB09D_CI_UNSEEN_SHARE, {}).get("wiki-8k")
    if ci is None:
        return ""
    names = ("Adam",) + tuple(others)
    out = ("; seen-only vocabulary (notebook 09d" + (f", {share:.2%} of types unseen" if share is not None else "")
           + "), 50-step probes: " + "; ".join(f"{m} " + ", ".join(f"{o} {ci[f'{m} | {o}']:.2f}" for o in names)
                                              for m in SEEN_VOCAB_MODELS if all(f"{m} | {o}" in ci for o in names)))
    for m, words in SEEN_VOCAB_MODELS.items():
        sub = {k.split(" | ", 1)[1]: v for k, v in (eq or {}).items() if k.startswith(m + " | ")}
        if sub:
            out += f"; at equal held-out loss, {m} ({words}): " + "; ".join(
                f"Adam vs {o}: " + equal_loss_text(sub, o) for o in others)
    return out


def seen_vocab_cone(r: "_Recorded", others=("Coupled Adam", "SGD")) -> tuple[list, list] | None:
    """(models where Adam's cosine is above every one of ``others``' at equal loss, models where it is not)
    from notebook 09d's FULL record, or None when 09d has no current FULL record."""
    eq = r.get("09d", NB09D_FULL_EQUAL_LOSS)
    if eq is None:
        return None
    models = [m for m in SEEN_VOCAB_MODELS if any(k.startswith(m + " | ") for k in eq)]
    up = [m for m in models if all(eq.get(f"{m} | {o} | cos") == "A higher" for o in others)]
    return up, [m for m in models if m not in up]


def cone_verdict(softmax_matrices: Mapping[str, float], pretrained: float, pre: str,
                 optimizers: Mapping[str, float] | None = None) -> str:
    """Rule 1 on the random-pair cosines of the softmax-trained matrices of notebook 05 ({name: cosine}), of the
    pretrained model's input embeddings (named ``pre``) and, when recorded, of the same tied softmax trained with
    other optimisers (notebook 09's probes, {optimiser: cosine})."""
    cone = {k: x > 0.3 for k, x in softmax_matrices.items()}
    without = [k for k, x in (optimizers or {}).items() if x < 0.1]
    pre_txt = (f"{pre}'s input embeddings have one too" if pretrained > 0.3 else
               f"{pre}'s input embeddings have none" if pretrained < 0.1 else f"{pre}'s input embeddings are in between")
    if all(cone.values()) and without:
        return (f"holds only for some optimisers: every softmax-trained matrix of notebook 05 has a cone ({', '.join(cone)}; "
                f"word2vec's SGNS is trained by SGD), but the same tied softmax trained with {' or '.join(without)} has none "
                f"(notebook 09); {pre_txt} (distilled, then contrastively fine-tuned: not a control)")
    if all(cone.values()) and pretrained > 0.3:
        return f"holds (also in {pre})"
    if all(cone.values()) and pretrained < 0.1:
        return (f"holds only for matrices trained through a softmax-like objective ({', '.join(cone)}); {pre_txt} "
                "(distilled, then contrastively fine-tuned: not a control)")
    if any(cone.values()):
        return "holds only for " + ", ".join(k for k, c in cone.items() if c)
    return "does not hold"


@_claim("Word embeddings of a Transformer LM occupy a narrow cone (random word pairs have cosine >> 0)",
        "Gao et al. 2019; Liang et al. 2021",
        "cone if random-pair cosine > 0.3, none if < 0.1; a cone in every softmax-trained matrix of notebook 05 but none "
        "in the same tied softmax trained with another optimiser (notebook 09) -> 'holds only for some optimisers', "
        "said to hold 'also at equal held-out loss' only if notebook 09c finds Adam's cosine above Coupled Adam's and SGD's "
        "by > 0.05 at every seed pair there, and 'on a vocabulary of seen types only' if notebook 09d finds the same on each of "
        "its models; a cone in every softmax-trained matrix and none in the pretrained model -> 'holds only'",
        "tiny BERT; word2vec; pretrained model")
def cone(r: _Recorded):
    tied_c, un_out, un_in, fig1 = r.need("05", NB05_TIED_COS, NB05_UNTIED_COS_OUTPUT, NB05_UNTIED_COS_INPUT, NB05_FIG1_COS)
    (pre_c,) = r.need("06", NB06_COS)
    pre = r.pretrained
    w2v_in, w2v_out = _item(fig1, "word2vec", NB05_FIG1_COS), r.get("05", NB05_W2V_COS_OUTPUT, NAN)
    full = r.of("05")
    full_txt = ""
    if all(k in full for k in (NB05_FULL_COS, NB05_FULL_STEPS, NB05_FULL_GAP)):
        full_txt = (f"; FULL run, {full[NB05_FULL_STEPS]} steps and {full[NB05_FULL_GAP][0]:.2f} nats below the unigram "
                    f"baseline: {full[NB05_FULL_COS][0]:.2f}")
    nb09 = r.of("09")
    optimizers = {name: nb09[key][0] for name, key in (("SGD", NB09_SGD_COS), ("Coupled Adam", NB09_COUPLED_ADAM_COS))
                  if key in nb09}
    opt_txt = ""
    if optimizers:
        opt_txt = ("; tied softmax, notebook 09's probes: Adam " + (f"{nb09[NB09_BASELINE_COS][0]:.2f}, " if NB09_BASELINE_COS in nb09 else "")
                   + ", ".join(f"{k} {v:.2f}" for k, v in optimizers.items()))
    measured = (f"random-pair cosine: tiny BERT tied {r.pm('05', NB05_TIED_COS)} ({r.get('05', NB05_N_SEEDS, 1)} seeds; "
                f"step 0 {r.get('05', NB05_TIED_COS_INIT, NAN):.2f}" + full_txt
                + f"); untied output {un_out:.2f}, untied input {un_in:.2f} "
                f"(barely trained: displacement {r.get('05', NB05_UNTIED_DISPLACEMENT, NAN):.3f} vs norm "
                f"{r.get('05', NB05_UNTIED_INIT_NORM, NAN):.3f}); word2vec (SGNS, trained by SGD) input {w2v_in:.2f}, output "
                f"{w2v_out:.2f}" + opt_txt + f"; {pre} input {pre_c:.3f}")
    verdict = cone_verdict({"tied input": tied_c, "untied output": un_out, "word2vec input": w2v_in}, pre_c, pre, optimizers)
    tested = f"tiny BERT (tied, untied; Adam, and SGD / Coupled Adam in notebook 09); word2vec SGNS; {pre}; GloVe"
    eq = r.get("09c", NB09C_FULL_EQUAL_LOSS)
    if optimizers and eq is not None:
        measured += ("; at equal held-out loss (notebook 09c: tuned learning rates, 3,000 steps) Adam vs Coupled Adam: "
                     + equal_loss_text(eq, "Coupled Adam") + "; vs SGD: " + equal_loss_text(eq, "SGD"))
        tested += "; notebook 09c (tuned rates, equal loss)"
        if verdict.startswith("holds only for some optimisers"):
            both = all(eq.get(f"{o} | cos") == "A higher" for o in ("Coupled Adam", "SGD"))
            verdict += (" -- also at equal held-out loss (notebook 09c)" if both else
                        " -- but at equal held-out loss (notebook 09c) Adam's cosine is not above both of theirs")
    seen = seen_vocab_cone(r)
    if optimizers and r.get("09d", NB09D_CI_COS) is not None:
        measured += seen_vocab_text(r)
        tested += "; notebook 09d (seen-only vocabulary; GPT-2-style 4 x 256)"
    if optimizers and seen is not None:
        up, down = seen
        if verdict.startswith("holds only for some optimisers"):
            verdict += (f", and on a vocabulary of seen types only ({', '.join(up)}; notebook 09d)" if not down else
                        f"; on a vocabulary of seen types only Adam's cosine is not above both of theirs for {', '.join(down)} "
                        "(notebook 09d)")
    return (tested if optimizers else f"tiny BERT (tied, untied); word2vec SGNS; {pre}; GloVe"), measured, verdict


# ---------------------------------------------------------------------------------------------------
# 2. frequent words near the origin
# ---------------------------------------------------------------------------------------------------
NORM_BUCKETS = ("[0,100)", "[100,500)", "[500,5k)", "[5k,end)", "never seen")  # notebook 05's rank buckets


def norms_verdict(norm_by_bucket: Mapping[str, float], spearman: float, pre: str) -> str:
    """Rule 2 on the tiny BERT's mean norm per rank bucket (``NORM_BUCKETS``) and the pretrained model's
    Spearman(norm, log frequency)."""
    nb_ = norm_by_bucket
    rare_far = nb_["never seen"] > nb_["[5k,end)"] > nb_["[0,100)"]
    if rare_far and spearman > 0:
        between = "monotone" if all(nb_[a] < nb_[b] for a, b in zip(NORM_BUCKETS, NORM_BUCKETS[1:])) else \
            "not monotone in between"
        return f"holds only for the tiny BERT (rare > frequent, {between}); in {pre} frequent tokens are longer"
    if rare_far and spearman < 0:
        return "holds"
    if spearman < 0:
        return f"holds only for {pre}; in the tiny BERT the rare buckets are not farther out than the top-100"
    return "does not hold"


@_claim("High-frequency words lie near the origin; norms grow as frequency falls", "Li et al. 2020 (BERT-flow), Table 1",
        "rare buckets' mean norm above the top-100's; sign of Spearman(norm, log freq)", "tiny BERT; {pre}")
def frequent_near_origin(r: _Recorded):
    (nb_,) = r.need("05", NB05_NORM_BY_BUCKET)
    (sp,) = r.need("06", NB06_SPEARMAN_NORM)
    pre = r.pretrained
    n = {b: _item(nb_, b, NB05_NORM_BY_BUCKET) for b in NORM_BUCKETS}
    measured = (f"tiny BERT mean norm: top-100 {n['[0,100)']:.2f}, 100-500 {n['[100,500)']:.2f}, 500-5k {n['[500,5k)']:.2f}, "
                f"5k+ {n['[5k,end)']:.2f}, never seen {n['never seen']:.2f}; {pre} Spearman(norm, log freq) = {sp:+.2f}")
    return f"tiny BERT; {pre}", measured, norms_verdict(n, sp, pre)


# ---------------------------------------------------------------------------------------------------
# 3. rare words sparse (Table 1's 3-NN distance)
# ---------------------------------------------------------------------------------------------------
_TABLE1 = {"count": (NB05_COUNT_INIT, NB05_COUNT_FINAL, lab.COUNT_BUCKETS),
           "rank": (NB05_RANK_INIT, NB05_RANK_FINAL, lab.RANK_BUCKETS)}


def table1(results: Mapping, kind: str = "count") -> pd.DataFrame | None:
    """Notebook 05's Table 1 for the tiny BERT: rows ``norm`` and ``3-NN l2``, columns (bucket, "step 0" /
    "end"), buckets in ``helpers.lab``'s order (count buckets rarest first, rank buckets most frequent
    first: the results file sorts keys); None when notebook 05 did not record it."""
    if kind not in _TABLE1:
        raise ValueError(f"kind must be 'count' or 'rank', got {kind!r}")
    init_key, final_key, order = _TABLE1[kind]
    r = _Recorded(results)
    rows = {}
    for key, when in ((init_key, "step 0"), (final_key, "end")):
        t = r.get("05", key)
        if not isinstance(t, Mapping):
            return None
        for b in [b for b in order if b in t]:
            if not isinstance(t[b], Mapping) or not {"norm", "knn3_l2"} <= set(t[b]):
                return None
            rows[(b, when)] = {"norm": t[b]["norm"], "3-NN l2": t[b]["knn3_l2"]}
    return pd.DataFrame(rows)


RARE_BUCKETS = (lab.NEVER_SEEN, lab.NEVER_TARGET)


def sparse_verdict(knn_init: Mapping[str, float], knn_end: Mapping[str, float], pretrained_knn: Sequence[float],
                   pre: str) -> str:
    """Rule 3 on the tiny BERT's 3-NN l2 distance per count bucket (rarest first) at step 0 and at the end, and
    the pretrained model's per rank bucket (most frequent first)."""
    end = np.array(list(knn_end.values()))
    init = np.array([knn_init[b] for b in knn_end])
    sparse_end = bool(np.all(np.diff(end) < 0))      # buckets run rarest -> most frequent: sparse = distance falls
    sparse_init = bool(np.all(np.diff(init) < 0))
    pre_sparse = bool(np.all(np.diff(pretrained_knn) > 0))  # rank buckets run frequent -> rare
    rare = [b for b in RARE_BUCKETS if b in knn_end]
    rare_unchanged = bool(rare) and max(abs(knn_end[b] - knn_init[b]) for b in rare) < 0.02
    tb_sparse = sparse_end and not sparse_init and not rare_unchanged  # made by training, not inherited from step 0
    if tb_sparse and pre_sparse:
        return "holds"
    if pre_sparse:
        return f"holds only for {pre}"
    if tb_sparse:
        return "holds only for the tiny BERT"
    if rare_unchanged:
        why = ("in the tiny BERT the rare rows keep their step-0 density (they moved together: Theorems 1-2's shared drift, "
               "not a Theorem-3 clustering), the frequent rows spread apart; ")
    elif sparse_end:
        why = "in the tiny BERT the ordering is already there at step 0 (the initialisation, not training); "
    else:
        why = "in the tiny BERT rare rows are not sparser; "
    return "does not hold: " + why + f"in {pre} the trend is not monotone"


@_claim("Low-frequency words are sparse: their nearest neighbours are farther away", "Li et al. 2020 (BERT-flow), Table 1",
        "sparse if the 3-NN distance rises monotonically as count falls at the end of training; "
        "an ordering already present at step 0, or rare rows unchanged since step 0, is the initialisation, not training",
        "tiny BERT; {pre}")
def rare_sparse(r: _Recorded):
    t = table1(r._results, "count")
    if t is None:
        raise _Missing(f"05: {NB05_COUNT_INIT}, {NB05_COUNT_FINAL}")
    (t1_06,) = r.need("06", NB06_TABLE1)
    k3 = _item(t1_06, "knn_l2_k3", NB06_TABLE1)
    pre = r.pretrained
    k0 = t.xs("step 0", axis=1, level=1).loc["3-NN l2"]
    k1 = t.xs("end", axis=1, level=1).loc["3-NN l2"]
    buckets = [b for b in k1.index if b in k0.index]
    measured = ("tiny BERT 3-NN l2 by count bucket (rarest first), step 0 -> end: "
                + ", ".join(f"{b} {k0[b]:.3f} -> {k1[b]:.3f}" for b in buckets)
                + f"; {pre} by rank bucket (top-100 / 100-500 / 500-5k / 5k+): " + " / ".join(f"{x:.2f}" for x in k3))
    verdict = sparse_verdict({b: float(k0[b]) for b in buckets}, {b: float(k1[b]) for b in buckets}, k3, pre)
    return f"tiny BERT (count buckets, step 0 and end); {pre}", measured, verdict


# ---------------------------------------------------------------------------------------------------
# 4. unseen words diverge
# ---------------------------------------------------------------------------------------------------
def unseen_push_verdict(coherence: float, negative_share: float, toy_gradient_vanishes: bool) -> str:
    """Rule 4 on the tiny BERT's never-seen drift and the toy's gradient test."""
    return "holds" if coherence > 0.99 and negative_share >= 0.99 and toy_gradient_vanishes else "does not hold"


@_claim("A word that never appears is pushed to infinity along a uniformly negative direction (Theorems 1-2)",
        "Gao et al. 2019",
        "coherence > 0.99 and negative on >= 99% of hidden states; toy: gradient vanishes when the hull contains 0",
        "toy (notebook 02a); tiny BERT")
def unseen_diverge(r: _Recorded):
    coh, neg, n_un = r.need("05", NB05_UNSEEN_COHERENCE, NB05_UNSEEN_NEGATIVE, NB05_UNSEEN_TOKENS)
    (toy_ok,) = r.need("02a", NB02A_TOY_GRADIENT_VANISHES)
    measured = (f"toy: ‖w‖ grows without bound when the hull misses 0, converges when it contains 0; tiny BERT: "
                f"{n_un:,} unseen tokens move together (coherence {coh:.4f}), negative on {neg:.0%} of MLM-head states")
    return "toy (notebook 02a); tiny BERT", measured, unseen_push_verdict(coh, neg, toy_ok)


# ---------------------------------------------------------------------------------------------------
# 5. which direction: implicit bias
# ---------------------------------------------------------------------------------------------------
def implicit_bias_verdict(gd: tuple, sign: tuple, adam_early: tuple, adam_late: tuple, bert: tuple,
                          bert_mean_state: float) -> str:
    """Rule 5 on the toy's (cos to l2, cos to l-inf) of GD, sign descent, Adam early and late, the tiny
    BERT's drift (cos to l2, cos to l-inf) and its cosine with minus the mean hidden state."""
    toy_ok = gd[0] > gd[1] and sign[1] > sign[0] and adam_early[1] > adam_early[0] and adam_late[0] > adam_late[1]
    if not toy_ok:
        return "does not hold"
    # the tiny BERT runs in the sqrt(v) >> eps regime, where the claim says Adam leans to l-infinity: its drift must be
    # closer to the l-infinity direction than to the l2 one, and closer to it than minus the mean hidden state is
    return "holds" if bert[1] > bert[0] and bert[1] > bert_mean_state else "holds only for the toy problem"


@_claim("Gradient descent picks the l2 max-margin direction, sign descent the l-infinity one; Adam (eps > 0, constant step) "
        "leans to l-infinity only while sqrt(v) >> eps, then turns to l2",
        "Soudry et al. 2018; Wang et al. 2022; Zhang, Zou & Cao 2024 (beyond Gao et al.)",
        "toy: GD closer to l2, sign descent closer to l-inf, Adam closer to l-inf early (2e4 steps) and to l2 late (2e5); "
        "tiny BERT (100 Adam steps, sqrt(v) >> eps): its drift must lean to l-inf (cos to l-inf > cos to l2) and beat "
        "minus the mean hidden state",
        "toy (notebook 02b); tiny BERT")
def implicit_bias(r: _Recorded):
    g2, gi, s2, si, a2e, aie, a2, ai, a_steps = r.need(
        "02b", NB02B_GD_COS_L2, NB02B_GD_COS_LINF, NB02B_SIGN_COS_L2, NB02B_SIGN_COS_LINF, NB02B_ADAM_COS_L2_EARLY,
        NB02B_ADAM_COS_LINF_EARLY, NB02B_ADAM_COS_L2, NB02B_ADAM_COS_LINF, NB02B_ADAM_STEPS)
    t2, ti, c_mean = r.need("05", NB05_UNSEEN_COS_L2, NB05_UNSEEN_COS_LINF, NB05_UNSEEN_COS_MEAN_STATE)
    cross = r.get("02b", NB02B_ADAM_CROSSOVER_FINE)
    measured = (f"toy cos to l2 / l-inf: GD {g2:.3f} / {gi:.3f}; sign descent {s2:.3f} / {si:.3f}; Adam at 2e4 steps "
                f"{a2e:.3f} / {aie:.3f}, at {a_steps:,} steps {a2:.3f} / {ai:.3f}"
                + (f" (l2 ahead from a step in {cross - 999:,}-{cross:,}, on a 1,000-step grid)" if cross else "")
                + f"; tiny BERT Adam drift {t2:.2f} / {ti:.2f} (minus mean hidden state {c_mean:.2f})")
    verdict = implicit_bias_verdict((g2, gi), (s2, si), (a2e, aie), (a2, ai), (t2, ti), c_mean)
    return "toy (notebook 02b); tiny BERT (Adam, 100 steps)", measured, verdict


# ---------------------------------------------------------------------------------------------------
# 6. layer norm and the hull
# ---------------------------------------------------------------------------------------------------
def layer_norm_hull_verdict(final_contains: bool, tiny_bert_contains: bool, layers_contain: Sequence[bool],
                            heldout_wrong: float = 0.0) -> str:
    """Rule 6 on the certified hull tests: the pretrained model's final layer (notebook 03), the tiny BERT's
    MLM head (05) and every layer of the pretrained model (07), and the share of held-out final-layer tokens on the
    wrong side of the direction ``u*`` fitted on the sample (03)."""
    if final_contains or tiny_bert_contains or any(layers_contain):
        return "does not hold"
    if heldout_wrong > 0.01:
        return (f"holds only for the sampled tokens: u* fitted on them puts {heldout_wrong:.0%} of held-out final-layer "
                "tokens on the wrong side, and at that sample size a Gaussian with the states' mean and covariance misses the "
                "origin too")
    return "holds"


@_claim("Layer norm puts hidden states on a hyperplane that misses the origin, so their hull misses it", "Gao et al. 2019",
        "certified hull test (helpers.theory) on real hidden states; the final layer's separating direction must hold "
        "on held-out tokens (<= 1% on the wrong side)", "{pre}; tiny BERT MLM head")
def layer_norm_hull(r: _Recorded):
    n_off, n_ln, margin, dead, contains3, wrong = r.need("03", NB03_PLANES_MISS, NB03_N_LAYERNORMS, NB03_FINAL_MARGIN,
                                                         NB03_FINAL_DEAD_GAINS, NB03_FINAL_CONTAINS, NB03_HELDOUT_WRONG)
    null_margin = r.get("03", NB03_NULL_MARGIN)
    (contains5,) = r.need("05", NB05_HULL_CONTAINS)
    (contains7,) = r.need("07", NB07_HULL_CONTAINS)
    pre = r.pretrained
    measured = (f"{pre}: {n_off} of {n_ln} LayerNorm planes miss 0; final-layer hull misses 0 by {margin:.3f} although its "
                f"LayerNorm has {dead} dead gains"
                + (f" (a Gaussian with the same mean and covariance: {null_margin:.3f})" if null_margin is not None else "")
                + f", {wrong:.1%} of held-out tokens on the wrong side of its u*; tiny BERT MLM-head hull contains 0: {contains5}")
    return (f"{pre} (all LayerNorms, real tokens); tiny BERT MLM head", measured,
            layer_norm_hull_verdict(contains3, contains5, contains7, wrong))


# ---------------------------------------------------------------------------------------------------
# 7. rare words cluster (Theorem 3)
# ---------------------------------------------------------------------------------------------------
def rare_cluster_verdict(toy_spearman: float, cos_inside: Mapping[str, float]) -> str:
    """Rule 7 on the toy's Spearman(rarity, within-bucket cosine) and the tiny BERT's cosine inside each count
    bucket ({bucket: cosine}, rarest first)."""
    cos_in = list(cos_inside.values())
    mono = bool(np.all(np.diff(cos_in) < 0))
    rarest_top = cos_in[0] > max(cos_in[2:]) if len(cos_in) > 2 else False
    if toy_spearman > 0.8 and mono:
        return "holds"
    if toy_spearman > 0.8 and rarest_top:
        items = list(cos_inside.items())
        breaks = [f"{a} -> {b}" for (a, x), (b, y) in zip(items[:-1], items[1:]) if y >= x]
        return (f"holds only partly: the never-seen / never-a-target rows are the most aligned, but the trend breaks at "
                f"{'; '.join(breaks)}")
    return "does not hold"


@_claim("Rare words land near the never-seen solution and so near each other (Theorem 3)", "Gao et al. 2019",
        "cosine inside the bucket falls monotonically from the rarest count bucket to the most frequent, over all buckets",
        "toy (notebook 04); tiny BERT")
def rare_cluster(r: _Recorded):
    (cbf,) = r.need("05", NB05_COUNT_FINAL)
    (toy_rho,) = r.need("04", NB04_TOY_SPEARMAN_COS)
    cos_in = {b: _item(cbf[b], "cos_inside", NB05_COUNT_FINAL) for b in lab.COUNT_BUCKETS if b in cbf}  # rarest first
    if not cos_in:
        raise _Missing(f"05: {NB05_COUNT_FINAL} (no count bucket)")
    measured = (f"toy Spearman(rarity, within-bucket cosine) {toy_rho:.2f}; tiny BERT cosine inside each count bucket "
                "(rarest first): " + ", ".join(f"{b} {c:.2f}" for b, c in cos_in.items()))
    return "toy (notebook 04); tiny BERT (count buckets)", measured, rare_cluster_verdict(toy_rho, cos_in)


# ---------------------------------------------------------------------------------------------------
# 8. static embeddings around the origin
# ---------------------------------------------------------------------------------------------------
def around_origin_verdict(glove_top: float, glove_all: float, n_all: int, w2v: float, w2v_name: str) -> str:
    """Rule 8 on GloVe's random-pair cosine over its top 30k and all ``n_all`` words (NaN: not measured) and
    our word2vec's (named ``w2v_name``)."""
    top_ok = glove_top < 0.1
    all_ok = glove_all < 0.1 if math.isfinite(glove_all) else top_ok
    w2v_ok = w2v < 0.1
    if top_ok and all_ok:
        return "holds" if w2v_ok else (f"holds only for GloVe ({w2v_name} trained here on 0.6M tokens has a common "
                                       "direction, as Mimno & Thompson 2017 found)")
    w2v_txt = f"and for {w2v_name} trained here" if w2v_ok else f"not for {w2v_name} trained here"
    numbers = f"top 30k {glove_top:.3f}; all {n_all:,} words {glove_all:.3f}: the verdict depends on N"
    if top_ok:
        return f"holds only for GloVe's most frequent words ({numbers}); {w2v_txt}"
    if all_ok:
        return f"holds only for GloVe's whole vocabulary ({numbers}); {w2v_txt}"
    return f"holds only for {w2v_name} trained here (not for GloVe: {numbers})" if w2v_ok else "does not hold"


@_claim("Word2Vec / GloVe embeddings are distributed around the origin", "Gao et al. 2019 (Figure 1)",
        "around the origin if random-pair cosine < 0.1, for every vocabulary size measured", "GloVe; word2vec")
def around_origin(r: _Recorded):
    (g30,) = r.need("06", NB06_GLOVE_COS)
    (fig1,) = r.need("05", NB05_FIG1_COS)
    w2v = _item(fig1, "word2vec", NB05_FIG1_COS)
    g_all = r.get("06", NB06_GLOVE_COS_ALL, NAN)
    n_all = r.get("06", NB06_GLOVE_N_ALL, 400_000)
    w2v_name = "word2vec SGNS" if r.get("05", NB05_W2V_SG, 0) == 1 else "word2vec CBOW"
    measured = (f"GloVe random-pair cosine top 30k {g30:.3f}, all {n_all:,} {g_all:.3f}, ‖mean‖ / mean ‖x‖ = "
                f"{r.get('06', NB06_GLOVE_MEAN_RATIO, NAN):.2f}; our {w2v_name} random-pair cosine {w2v:.2f}")
    return (f"GloVe 6B 50-d (top 30k and all); {w2v_name} trained here on the sample", measured,
            around_origin_verdict(g30, g_all, n_all, w2v, w2v_name))


# ---------------------------------------------------------------------------------------------------
# 9. anisotropy grows with depth
# ---------------------------------------------------------------------------------------------------
def depth_verdict(layer_cos: Sequence[float]) -> str:
    """Rule 9 on the same-layer random-pair cosine of each layer (embeddings first)."""
    la = np.asarray(layer_cos, dtype=float)
    peak = int(np.argmax(la))
    if np.all(np.diff(la) > 0):
        return "holds"
    if peak == 0:
        return "does not hold"
    if peak < len(la) - 1 and la[-1] < la[0]:
        return f"holds only up to layer {peak}; the last layer is nearly isotropic"
    return f"holds only up to layer {peak}"


@_claim("Contextual representations grow more anisotropic with depth", "Ethayarajh 2019",
        "monotone rise of per-layer random-pair cosine", "{pre}")
def depth(r: _Recorded):
    (la,) = r.need("07", NB07_LAYER_COS)
    if not la:
        raise _Missing(f"07: {NB07_LAYER_COS} (empty)")
    measured = f"same-layer random-pair cosine by layer: {' '.join(f'{x:.2f}' for x in la)}"
    return f"{r.get('07', NB07_MODEL, r.pretrained)}, {len(la) - 1} layers, real sentences", measured, depth_verdict(la)


# ---------------------------------------------------------------------------------------------------
# 10. cosine regularisation
# ---------------------------------------------------------------------------------------------------
def cosreg_verdict(cosreg_cos: float, cosreg_cos_sd: float, fall: float, fall_sd: float, loss_change: float,
                   loss_change_sd: float, unigram_gap: float) -> str:
    """Rule 10 on the regularised run's random-pair cosine (and its sd over seeds), the paired fall of the cosine
    (unregularised - regularised, and its sd), the paired held-out loss change (and its sd) and the unregularised
    model's gap to the unigram baseline (unigram - model, nats: > 0 is better than unigram)."""
    removes, reduces = cosreg_cos + 2 * cosreg_cos_sd < 0.1, fall > 0.1 and fall > 2 * fall_sd
    cost = loss_change > 0.05 and loss_change > 2 * loss_change_sd
    learned = unigram_gap >= 0.5
    if removes and not cost and learned:
        return "holds"
    if not (removes or reduces):
        return "does not hold"
    what = "removes" if removes else "reduces (does not remove)"
    lm = ("with a measurable loss cost" if cost else "at no measurable loss cost") + (
        "" if learned else " — to a model that has not beaten the unigram baseline ("
        + (f"{-unigram_gap:.2f} nats worse" if unigram_gap < 0 else f"only {unigram_gap:.2f} nats better") + ")")
    return f"holds only partly: it {what} the cone, {lm}"


@_claim("Cosine regularisation (MLE-CosReg) removes the cone without hurting the language model", "Gao et al. 2019",
        "removes if the regularised cosine + 2 sd < 0.1; reduces if the paired fall exceeds 0.1 and 2 sd of the paired "
        "change; between the two: reduces, not removes. A loss cost counts if the paired change exceeds 0.05 and 2 sd; "
        "'the language model' needs a model below the unigram baseline",
        "tiny BERT")
def cosine_regularisation(r: _Recorded):
    m_c, c_c, dl = r.need("08", NB08_MLE_COS, NB08_COSREG_COS, NB08_COSREG_LOSS_CHANGE)
    gap = r.get("08", NB08_MLE_UNIGRAM_GAP, None)          # of the unregularised runs CosReg is paired with
    if gap is None:                                         # older records: the lab's run (notebook 05)
        (gap,) = r.need("05", NB05_UNIGRAM_GAP)
    c_sd, dl_sd = r.get("08", NB08_COSREG_COS + SD, 0.0), r.get("08", NB08_COSREG_LOSS_CHANGE + SD, 0.0)
    fall = -r.get("08", NB08_COSREG_COS_CHANGE, c_c - m_c)
    fall_sd = r.get("08", NB08_COSREG_COS_CHANGE + SD, 0.0)
    measured = (f"random-pair cosine {r.pm('08', NB08_MLE_COS)} -> {r.pm('08', NB08_COSREG_COS)}, I(W) "
                f"{r.get('08', NB08_MLE_IW, NAN):.2f} -> {r.get('08', NB08_COSREG_IW, NAN):.2f}, "
                f"held-out loss change {dl:+.3f} ± {dl_sd:.3f}")
    return (f"tiny BERT ({r.get('08', NB08_COSREG_OBJECTIVE, 'masked LM')}), {r.get('08', NB08_COSREG_STEPS, '?')} steps, "
            f"{r.get('08', NB08_COSREG_SEEDS, 1)} seeds, paired (same seed and steps)", measured,
            cosreg_verdict(c_c, c_sd, fall, fall_sd, dl, dl_sd, gap))


# ---------------------------------------------------------------------------------------------------
# 11-12. post-processing
# ---------------------------------------------------------------------------------------------------
POST_SOURCE = "Mu & Viswanath 2018; Su et al. 2021; Li et al. 2020"


def _sets(r: _Recorded) -> list:
    (sets,) = r.need("08", NB08_SETS)
    if not sets:
        raise _Missing(f"08: {NB08_SETS} (empty)")
    return list(sets)


def whitening_verdict(isoscore_before: Sequence[float], isoscore_after: Sequence[float]) -> str:
    """Rule 11 on each embedding set's IsoScore before and after whitening."""
    return "holds" if all(a > b for b, a in zip(isoscore_before, isoscore_after)) else "does not hold"


@_claim("Post-processing (whitening, all-but-the-top, a flow to a Gaussian) makes embeddings isotropic", POST_SOURCE,
        "IsoScore after whitening above before, on every embedding set", "notebook 08's sets")
def post_processing_isotropy(r: _Recorded):
    sets = _sets(r)
    (ct,) = r.need("08", NB08_CLOSING_TABLE)
    iso = {(m, how): _item(_item(ct, f"{m} | {how}", NB08_CLOSING_TABLE), "isoscore", NB08_CLOSING_TABLE)
           for m in sets for how in ("none", "whiten", "flow")}
    measured = "IsoScore none -> whiten / flow: " + "; ".join(
        f"{m} {iso[m, 'none']:.2f} -> {iso[m, 'whiten']:.2f} / {iso[m, 'flow']:.2f}" for m in sets)
    verdict = whitening_verdict([iso[m, "none"] for m in sets], [iso[m, "whiten"] for m in sets])
    return ", ".join(sets), measured, verdict


ISOTROPY_REMEDIES = ("whiten", "Zipfian whiten", "all-but-the-top", "flow")


def word_similarity_verdict(improved: Mapping[str, bool]) -> str:
    """Rule 12 on {embedding set: does some isotropy remedy improve both benchmarks beyond the noise}."""
    better = [s for s, ok in improved.items() if ok]
    if len(better) == len(improved):
        return "holds"
    return f"holds only for {', '.join(better)}" if better else "does not hold: no set gains beyond the noise"


@_claim("Making embeddings isotropic by post-processing improves word similarity", POST_SOURCE,
        "a set improves if some isotropy remedy (whiten, Zipfian whiten, all-but-the-top, flow) raises SimLex and WS353 "
        "significantly: paired-bootstrap p-values, Holm-corrected over all of notebook 08's word-similarity tests, "
        "family-wise alpha 0.05", "SimLex-999, WS353")
def post_processing_similarity(r: _Recorded):
    sets = _sets(r)
    gains, verdicts = r.need("08", NB08_WORDSIM_GAINS, NB08_WORDSIM_VERDICTS)
    remedies = [m for m in ISOTROPY_REMEDIES if f"{sets[0]} | {m}" in verdicts]
    if not remedies:
        raise _Missing(f"08: {NB08_WORDSIM_VERDICTS} (no isotropy remedy)")
    improved = {s: any(_item(verdicts, f"{s} | {m}", NB08_WORDSIM_VERDICTS) == "improves" for m in remedies) for s in sets}

    def gtxt(s, m):
        g = _item(_item(gains, f"{s} | {m}", NB08_WORDSIM_GAINS), "SimLex", NB08_WORDSIM_GAINS)
        return f"{g[0]:+.3f} [{g[1]:+.3f}, {g[2]:+.3f}]"

    measured = "SimLex gain [95% CI] of whiten / flow: " + "; ".join(
        f"{s} {gtxt(s, 'whiten')} / {gtxt(s, 'flow')}" for s in sets)
    return (f"SimLex-999 and WS353 Spearman, all pairs, {r.get('08', NB08_WORDSIM_N_BOOT, '?')} paired bootstraps", measured,
            word_similarity_verdict(improved))


# ---------------------------------------------------------------------------------------------------
# 13. contrastive learning
# ---------------------------------------------------------------------------------------------------
def simcse_verdict(cos_before: float, cos_after: float, uniformity_before: float, uniformity_after: float) -> str:
    """Rule 13 on the sentence random-pair cosine and the uniformity before and after SimCSE."""
    return "holds" if cos_after < cos_before - 0.3 and uniformity_after < uniformity_before else "does not hold"


@_claim("Contrastive learning (SimCSE) spreads sentence embeddings out", "Gao, Yao & Chen 2021",
        "sentence cosine falls by > 0.3 and uniformity improves", "tiny BERT")
def contrastive(r: _Recorded):
    cb_, ca_, ub, ua, ab, aa = r.need("08", NB08_SIMCSE_COS_BEFORE, NB08_SIMCSE_COS_AFTER, NB08_SIMCSE_UNIFORMITY_BEFORE,
                                      NB08_SIMCSE_UNIFORMITY_AFTER, NB08_SIMCSE_ALIGNMENT_BEFORE, NB08_SIMCSE_ALIGNMENT_AFTER)
    rb_, ra_ = r.get("08", NB08_SIMCSE_RELATIVE_BEFORE, NAN), r.get("08", NB08_SIMCSE_RELATIVE_AFTER, NAN)
    measured = (f"sentence random-pair cosine {cb_:.2f} -> {ca_:.2f}; uniformity {ub:.2f} -> {ua:.2f}; alignment raw "
                f"{ab:.2f} -> {aa:.2f}, relative to random pairs {rb_:.2f} -> {ra_:.2f}")
    return "tiny BERT, unsupervised SimCSE on the sample", measured, simcse_verdict(cb_, ca_, ub, ua)


# ---------------------------------------------------------------------------------------------------
# 14-18. what causes the cone: notebook 09's factorial -- the CI design (one factor at a time around
# Adam / tied / bias / MLM) and, when its stored record is present, the FULL grid (every cell, more steps)
# ---------------------------------------------------------------------------------------------------
FACTORIAL_SOURCE = "notebook 09 (tiny BERT, one factor at a time)"


def over_lengths(ok_ci: bool, ok_full: bool | None, steps, full_steps, why_full: str = "", why_ci: str = "") -> str:
    """One verdict over the CI design (``steps``) and the FULL grid (``full_steps``; ``ok_full`` None: no FULL
    record): 'holds' only if the rule holds at both lengths; ``why_*`` says what fails at that length."""
    if ok_full is None:
        return "holds" if ok_ci else "does not hold"
    if ok_ci and ok_full:
        return f"holds (at {steps} and at {full_steps} steps)"
    if ok_ci:
        return f"holds only at {steps} steps: at {full_steps} steps {why_full}"
    if ok_full:
        return f"holds only at {full_steps} steps: at {steps} steps {why_ci}"
    return "does not hold"


class _Factorial:
    """Notebook 09's lengths and the FULL grid's values of the claims' keys (``full(...)``: None without a
    FULL record)."""

    def __init__(self, r: _Recorded):
        self.r = r
        (self.steps,) = r.need("09", NB09_STEPS)
        self.full_steps = r.get("09", NB09_FULL_STEPS)
        seeds = r.get("09", NB09_SEEDS, [])
        self.tested_on = f"{FACTORIAL_SOURCE}, {self.steps} steps, {len(seeds)} seeds"
        if self.full_steps:
            self.tested_on += (f"; FULL grid ({r.get('09', NB09_FULL_CELLS)} cells, {self.full_steps} steps, "
                               f"{len(r.get('09', NB09_FULL_SEEDS, []))} seeds)")

    def full(self, *keys):
        if not self.full_steps:
            return None
        try:
            return self.r.need("09", *[FULL + k for k in keys])
        except _Missing:
            return None

    def measured(self, txt: Callable, ci: Sequence, full: Sequence | None) -> str:
        """``txt(*values)`` at each length, labelled by its number of steps."""
        return f"{self.steps} steps: " + txt(*ci) + ("" if full is None else f"; {self.full_steps} steps: " + txt(*full))


def _factorial_row(r: _Recorded, keys: tuple, txt: Callable, verdict: Callable):
    """(tested_on, measured, verdict) of a notebook-09 claim: ``keys`` read at each length, ``txt(*values)``
    shows them, ``verdict(ci_values, full_values or None, steps, full_steps)`` decides."""
    f = _Factorial(r)
    ci, full = r.need("09", *keys), f.full(*keys)
    return f.tested_on, f.measured(txt, ci, full), verdict(ci, full, f.steps, f.full_steps)


def _push_ok(coh, neg, *_):
    return coh >= 0.99 and neg >= 0.99


def _push_why(coh, neg, *_):
    return f"the least coherent run has {coh:.3f}, the least negative {neg:.1%}"


def _no_cone(ca, sgd, *_):
    return ca[0] < 0.1 and sgd[0] < 0.1


def push_any_optimizer_verdict(ci: tuple, full: tuple | None, steps, full_steps) -> str:
    """Rule 14 on (least coherence, least negative share, ...) of every run at each length."""
    return over_lengths(_push_ok(*ci), None if full is None else _push_ok(*full), steps, full_steps,
                        "" if full is None else _push_why(*full), _push_why(*ci))


@_claim("The tied softmax's gradient pushes never-seen words along one uniformly negative direction, whatever the optimizer",
        "Gao et al. 2019",
        "holds if in every run the never-seen drift has coherence >= 0.99 and is negative on >= 99% of head states "
        "(at each training length); the cone itself then needs an optimizer that enlarges small gradients if SGD and "
        "Coupled Adam leave cosine < 0.1", FACTORIAL_SOURCE)
def push_any_optimizer(r: _Recorded):
    f = _Factorial(r)
    keys = (NB09_MIN_COHERENCE, NB09_MIN_NEGATIVE, NB09_COUPLED_ADAM_COS, NB09_SGD_COS, NB09_BASELINE_COS)
    ci, full = r.need("09", *keys), f.full(*keys)

    def txt(coh, neg, ca, sgd, base):
        return (f"never-seen drift coherence >= {coh:.3f}, negative on >= {neg:.1%} of head states in every run; random-pair "
                f"cosine Adam {base[0]:.2f} ± {base[1]:.2f}, Coupled Adam {ca[0]:.2f}, SGD {sgd[0]:.2f}")

    no_cone = _no_cone(*ci[2:]) and (full is None or _no_cone(*full[2:]))
    measured = f.measured(txt, ci, full) + (" (the push becomes a cone only under optimizers that enlarge small gradients)"
                                            if no_cone else "")
    return f.tested_on, measured, push_any_optimizer_verdict(ci, full, f.steps, f.full_steps)


def _centred_round(rank, top=None):
    """The centred cloud is still round: its effective rank keeps > 90 % of step 0's and (when measured) no principal
    axis holds more than 3x the share it had at step 0 (the effective rank alone cannot see one dominant axis)."""
    return rank[0] > 0.9 * rank[1] and (top is None or top[0] <= 3 * top[1])


def _drift_ok(share, rank, top=None):
    return share > 0.5 and _centred_round(rank, top)


def _drift_why(share, rank, top=None):
    lost = []
    if rank[0] <= 0.9 * rank[1]:
        lost.append(f"lost rank ({rank[0]:.1f} of {rank[1]:.1f}, {rank[0] / rank[1]:.0%})")
    if top is not None and top[0] > 3 * top[1]:
        lost.append(f"one principal axis holding {top[0]:.0%} of its variance (step 0: {top[1]:.1%})")
    lost = "the centred cloud has " + " and ".join(lost) if lost else ""
    if share > 0.5:
        return f"the common shift still carries {share:.0%} of the change, but {lost}: a shift plus a real narrowing"
    if not lost:
        return f"the common shift carries only {share:.0%} of the change"
    return f"the common shift carries only {share:.0%} of the change and {lost}"


def common_drift_verdict(ci: tuple, full: tuple | None, steps, full_steps) -> str:
    """Rule 15 on (share of the change along the common displacement, (effective rank at the end, at step 0)[, (top-PC
    share of the centred matrix at the end, at step 0)]): 'holds only partly' when the shift carries most of the
    change but the centred cloud is not round."""
    if full is None and not _drift_ok(*ci) and ci[0] > 0.5:
        return "holds only partly: " + _drift_why(*ci)
    if full is not None and not (_drift_ok(*ci) or _drift_ok(*full)) and ci[0] > 0.5 and full[0] > 0.5:
        return f"holds only partly (at {steps} and at {full_steps} steps): at {full_steps} steps " + _drift_why(*full)
    return over_lengths(_drift_ok(*ci), None if full is None else _drift_ok(*full), steps, full_steps,
                        "" if full is None else _drift_why(*full), _drift_why(*ci))


@_claim("The 'cone' is mostly a drift common to all embeddings, not a collapse of their spread (Biś et al.)",
        "Biś et al. 2021",
        "holds if > 50% of the matrix's change lies along the common mean displacement and the centred cloud stays "
        "round: effective rank > 90% of its step-0 value and top-PC share <= 3x its step-0 value (at each training "
        "length); only partly if the shift carries the change but the centred cloud is not round", FACTORIAL_SOURCE)
def common_drift(r: _Recorded):
    def txt(sh, rank, top=None):
        return (f"share of the change along the common displacement {sh:.0%}; centred effective rank {rank[1]:.1f} at "
                f"step 0 -> {rank[0]:.1f}" + ("" if top is None else f", top-PC share {top[1]:.3f} -> {top[0]:.3f}"))

    keys = (NB09_COMMON_SHARE, NB09_EFFECTIVE_RANK) + ((NB09_TOP_PC,) if r.get("09", NB09_TOP_PC) is not None else ())
    return _factorial_row(r, keys, txt, common_drift_verdict)


def _coupled_ok(effect, loss_ca, loss_base):
    return effect[2] < -0.3 and loss_ca - loss_base < 0.05


def _coupled_why(effect, loss_ca, loss_base):
    why = []
    if not effect[2] < -0.3:
        why.append(f"Coupled Adam lowers the cosine by less than 0.3 at some seed ({effect[2]:+.2f})")
    if not loss_ca - loss_base < 0.05:
        why.append("its loss is worse than Adam's")
    return " and ".join(why)


def sensitivity_text(r: _Recorded) -> tuple[str, list]:
    """Notebook 09e's evidence for rule 16: ('; ...' text, the settings at which Adam's cosine is *not* above Coupled
    Adam's at every seed pair in its FULL record) -- ('', []) when 09e recorded nothing."""
    ci, full = r.get("09e", NB09E_CI_COS), r.get("09e", NB09E_FULL_CONTRAST)
    if ci is None:
        return "", []
    probes = list(dict.fromkeys(k.split(" | ")[0] for k in ci))
    out = ("; Adam's beta2 and the width (notebook 09e), 50-step probes: "
           + ", ".join(f"{p} Adam {ci[f'{p} | Adam']:.2f}, Coupled Adam {ci[f'{p} | Coupled Adam']:.2f}"
                       for p in probes if f"{p} | Adam" in ci and f"{p} | Coupled Adam" in ci))
    if full is None:
        return out, []
    settings = list(dict.fromkeys(k.rsplit(" | ", 1)[0] for k in full))
    down = [x for x in settings if full.get(f"{x} | cos") != "A higher"]
    out += (f"; FULL (300 steps, 3 seeds, 9 seed pairs each): Adam's cosine above Coupled Adam's by > 0.05 at every pair at "
            + (f"every setting ({', '.join(settings)})" if not down else
               f"{', '.join(x for x in settings if x not in down) or 'no setting'}, not at {', '.join(down)}"))
    return out, down


def coupled_adam_verdict(ci: tuple, full: tuple | None, steps, full_steps) -> str:
    """Rule 16 on (paired cosine change [mean, min, max over seeds], loss minus unigram with Coupled Adam, with
    Adam) at each length."""
    verdict = over_lengths(_coupled_ok(*ci), None if full is None else _coupled_ok(*full), steps, full_steps,
                           "" if full is None else _coupled_why(*full), _coupled_why(*ci))
    geometry = ci[0][2] < -0.3 and (full is None or full[0][2] < -0.3)
    return verdict if verdict.startswith("holds") or not geometry else "holds only for the geometry (the loss is worse)"


@_claim("Adam's per-parameter second moment causes the cone; Coupled Adam prevents it (Stollenwerk & Stollenwerk)",
        "Stollenwerk & Stollenwerk 2025 (tested there at >= 125M parameters)",
        "holds if Coupled Adam lowers the random-pair cosine by > 0.3 at every seed (paired) and its held-out loss minus "
        "the unigram baseline is not worse than Adam's by more than 0.05 (at each training length), and, where notebook "
        "09b recorded it, raising Adam's eps from 1e-8 to 1e-4 takes the cosine from >= 0.5 to < 0.2 at every seed, and, "
        "where notebook 09c recorded it, Adam's cosine exceeds Coupled Adam's by > 0.05 at every seed pair at equal held-out loss, "
        "and, where notebook 09d recorded it, the same on each of its seen-only-vocabulary models, and, where notebook 09e "
        "recorded it, by > 0.05 at every seed pair at each of its beta2 and width settings",
        FACTORIAL_SOURCE)
def coupled_adam(r: _Recorded):
    def txt(e, l_ca, l_b):
        return (f"paired cosine change {e[0]:+.2f} (seeds {e[1]:+.2f} .. {e[2]:+.2f}); loss minus unigram "
                f"Coupled Adam {l_ca:+.2f} vs Adam {l_b:+.2f}")

    tested_on, measured, verdict = _factorial_row(
        r, (NB09_EFFECT_COUPLED_ADAM, NB09_COUPLED_ADAM_LOSS, NB09_BASELINE_LOSS), txt, coupled_adam_verdict)
    eps = r.get("09b", NB09B_CI_COS)
    if eps is None:
        return tested_on, measured, verdict
    lo, hi = eps["1e-08"], eps["1e-04"]
    measured += (f"; Adam's eps (notebook 09b, {r.get('09b', NB09B_CI_STEPS)}-step probes): cosine {min(lo):.2f}..{max(lo):.2f} "
                 f"at eps 1e-8 -> {min(hi):.2f}..{max(hi):.2f} at 1e-4")
    by_eps = r.get("09b", NB09B_FULL_COS_BY_EPS)
    if by_eps is not None:
        pred, meas = r.get("09b", NB09B_FULL_THRESHOLD_PRED), r.get("09b", NB09B_FULL_THRESHOLD_MEAS)
        ratio = r.get("09b", NB09B_FULL_UPDATE_RATIO, {})
        measured += ("; FULL (300 steps, 3 seeds): cosine by eps " + ", ".join(f"{k} {v:.2f}" for k, v in by_eps.items())
                     + f", half-way at eps {meas:.1e} against {pred:.1e} predicted from the never-seen rows' sqrt(v_hat)"
                     + ("; never-seen / frequent rows' update " + ", ".join(f"{k} {v:.3g}" for k, v in ratio.items())
                        if ratio else ""))
    tested_on += "; notebook 09b (Adam's eps, the same model)"
    if not (min(lo) >= 0.5 and max(hi) < 0.2) and verdict.startswith("holds"):
        verdict = "holds only for Coupled Adam: raising Adam's eps to 1e-4 does not remove the cone"
    eq = r.get("09c", NB09C_FULL_EQUAL_LOSS)
    if eq is not None:
        levels = r.get("09c", NB09C_FULL_LEVELS, [])
        measured += (f"; at equal held-out loss (notebook 09c: tuned rates, 3,000 steps; {len(levels)} levels "
                     + ", ".join(f"{x:+.2f}" for x in levels) + " nats vs unigram), Adam vs Coupled Adam: "
                     + equal_loss_text(eq, "Coupled Adam"))
        deep = r.get("09c", NB09C_FULL_COS_AT_DEEPEST, {}).get("Coupled Adam")
        if deep:
            measured += (f" (cosine at {deep['level']:+.2f} nats: Adam {deep['Adam']:.2f}, Coupled Adam {deep['Coupled Adam']:.2f})")
        tested_on += "; notebook 09c (tuned learning rates, equal held-out loss)"
        if eq.get("Coupled Adam | cos") != "A higher" and verdict.startswith("holds"):
            verdict = "holds only at unequal loss: at equal held-out loss Adam's cosine is not above Coupled Adam's (notebook 09c)"
    if r.get("09d", NB09D_CI_COS) is not None:
        measured += seen_vocab_text(r, ("Coupled Adam",))
        tested_on += "; notebook 09d (seen-only vocabulary; GPT-2-style 4 x 256)"
    seen = seen_vocab_cone(r, ("Coupled Adam",))
    if seen is not None:
        up, down = seen
        if down and verdict == "holds":
            verdict = (f"holds only for some models: on a vocabulary of seen types only Adam's cosine is not above Coupled "
                       f"Adam's at equal loss for {', '.join(down)} (notebook 09d)")
    text, down = sensitivity_text(r)
    if text:
        measured += text
        tested_on += "; notebook 09e (Adam's beta2 0.9-0.9999, widths 64-256)"
    if down and verdict == "holds":
        verdict = f"holds only at some settings: Adam's cosine is not above Coupled Adam's at {', '.join(down)} (notebook 09e)"
    return tested_on, measured, verdict


def _bias_tracks(rho, effect):
    return rho > 0.5


def _bias_shapes(rho, effect):
    return min(abs(effect[1]), abs(effect[2])) > 0.05 and effect[1] * effect[2] > 0


def output_bias_verdict(ci: tuple, full: tuple | None, steps, full_steps) -> str:
    """Rule 17 on (Spearman(bias, log count), cosine change when the bias is removed [mean, min, max over
    seeds]) at each length."""
    runs = [(steps, ci)] + ([(full_steps, full)] if full is not None else [])
    tracks = [_bias_tracks(*v) for _, v in runs]
    shapes = [_bias_shapes(*v) for _, v in runs]
    both = [t and s for t, s in zip(tracks, shapes)]
    lengths = [str(n) for n, _ in runs]
    if all(both):
        return "holds"
    if any(both):
        n_ok, n_not = (lengths[0], lengths[1]) if both[0] else (lengths[1], lengths[0])
        t, s = (tracks[1], shapes[1]) if both[0] else (tracks[0], shapes[0])
        why = " and ".join(w for w, bad in (("the bias does not track frequency", not t),
                                             ("removing it does not change the cone", not s)) if bad)
        return f"holds only at {n_ok} steps: at {n_not} steps {why}"
    if any(tracks) and not any(shapes):
        when = " and ".join(f"{n} steps" for n, t in zip(lengths, tracks) if t)
        return (f"holds only partly: the bias tracks frequency at {when}" + (f" (not at {steps})" if not tracks[0] else "")
                + ", but removing it does not change the cone at any length")
    return f"does not hold at this scale ({' and '.join(lengths)} steps)"


@_claim("The output bias absorbs word frequency, which shapes the embeddings' degeneration (Kobayashi et al.)",
        "Kobayashi et al. 2023",
        "the bias tracks frequency if Spearman(bias, log count) > 0.5; it shapes the cone if removing it moves the "
        "random-pair cosine by > 0.05 at every seed", FACTORIAL_SOURCE)
def output_bias(r: _Recorded):
    def txt(rho, e):
        return (f"Spearman(bias, log count) {rho:+.2f}; removing the bias changes the cosine by {e[0]:+.3f} "
                f"(seeds {e[1]:+.3f} .. {e[2]:+.3f})")

    return _factorial_row(r, (NB09_BIAS_SPEARMAN, NB09_EFFECT_NO_BIAS), txt, output_bias_verdict)


def causal_vs_masked_verdict(verdicts: Sequence[tuple]) -> str:
    """Rule 18 on notebook 09's per-seed verdict at each length, [(steps, "causal ..." or another verdict)]."""
    causal = [v.startswith("causal") for _, v in verdicts]
    if all(causal):
        return "holds"
    if any(causal):
        return "holds only at " + " and ".join(f"{n} steps" for (n, _), c in zip(verdicts, causal) if c)
    return "does not hold here: " + "; ".join(f"{v} at {n} steps" for n, v in verdicts)


@_claim("Causal (generation) language models are more anisotropic than masked ones (GPT-2 vs BERT, Ethayarajh)",
        "Ethayarajh 2019 (kawine/contextual: gpt2 last layer .978, bert-base-cased .477)",
        "at the last Transformer layer, causal minus masked random-pair cosine (same architecture, data and "
        "initialisation) with the same sign and >= 0.05 at every seed; otherwise no consistent difference", FACTORIAL_SOURCE)
def causal_vs_masked(r: _Recorded):
    f = _Factorial(r)
    keys = (NB09_LAYERS_CLM, NB09_LAYERS_MLM, NB09_LAYERS_VERDICT)
    ci, full = r.need("09", *keys), f.full(*keys)

    def ltxt(lc, lm_, diffs):
        return (f"last Transformer layer random-pair cosine causal {lc[2]:.2f} vs masked {lm_[2]:.2f} (masked - causal by seed "
                + ", ".join(f"{x:+.3f}" for x in diffs) + "); by layer causal " + " ".join(f"{x:.2f}" for x in lc)
                + " / masked " + " ".join(f"{x:.2f}" for x in lm_))

    measured = f.measured(ltxt, (ci[0], ci[1], r.get("09", NB09_LAYERS_DIFFS, [])),
                          None if full is None else (full[0], full[1], r.get("09", FULL + NB09_LAYERS_DIFFS, [])))
    verdicts = [(f.steps, ci[2])] + ([(f.full_steps, full[2])] if full is not None else [])
    return f.tested_on + ", same architecture and data", measured, causal_vs_masked_verdict(verdicts)


# ---------------------------------------------------------------------------------------------------
# the ledger
# ---------------------------------------------------------------------------------------------------
#: Every claim, in the ledger's row order (row N is ``CLAIMS[N - 1]``).
CLAIMS = (cone, frequent_near_origin, rare_sparse, unseen_diverge, implicit_bias, layer_norm_hull, rare_cluster,
          around_origin, depth, cosine_regularisation, post_processing_isotropy, post_processing_similarity, contrastive,
          push_any_optimizer, common_drift, coupled_adam, output_bias, causal_vs_masked)


def evaluate(results: Mapping) -> list[Claim]:
    """Every claim of ``CLAIMS`` evaluated on ``results`` (``{notebook: {key: value}}``, as
    ``helpers.ledger.results()`` returns it), in the ledger's row order."""
    return [claim(results) for claim in CLAIMS]

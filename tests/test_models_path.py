"""helpers.models.load with a local directory (the non-default MODEL path), tested offline.

A tiny randomly initialised BERT is saved with save_pretrained together with the embedded model's
tokenizer and loaded back by path -- the same code path a reader's MODEL = "some/dir" takes.
"""
import time

import numpy as np
import pytest

from helpers import models


def _tiny_config(vocab_size):
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=64)


@pytest.fixture(scope="module")
def embedded_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(models.embedded_model_path(), local_files_only=True)


def test_load_tiny_bert_by_path(tmp_path, embedded_tokenizer):
    import torch
    from transformers import BertModel

    torch.manual_seed(0)
    ref = BertModel(_tiny_config(len(embedded_tokenizer)))
    ref.save_pretrained(tmp_path)
    embedded_tokenizer.save_pretrained(tmp_path)

    tok, mdl = models.load(tmp_path)  # a PathLike
    assert type(mdl).__name__ == "BertModel" and not mdl.training
    E = models.input_embeddings(mdl)
    assert E.shape == (len(embedded_tokenizer), 16) and E.dtype == np.float32
    np.testing.assert_array_equal(E, ref.get_input_embeddings().weight.detach().numpy())
    assert tok("hello world")["input_ids"] == embedded_tokenizer("hello world")["input_ids"]
    H = models.hidden_states(mdl, tok, ["a short sentence here", "another one"])
    assert H.shape[0] == 3 and H.shape[2] == 16
    _, mdl2 = models.load(str(tmp_path))  # a plain string works too
    np.testing.assert_array_equal(models.input_embeddings(mdl2), E)


def test_load_tiny_masked_lm_by_path(tmp_path, embedded_tokenizer):
    import torch
    from transformers import BertForMaskedLM

    torch.manual_seed(1)
    BertForMaskedLM(_tiny_config(len(embedded_tokenizer))).save_pretrained(tmp_path)
    embedded_tokenizer.save_pretrained(tmp_path)
    tok, mdl = models.load(tmp_path, masked_lm=True)
    assert type(mdl).__name__ == "BertForMaskedLM"
    with torch.no_grad():
        logits = mdl(**tok(["the [MASK] sat"], return_tensors="pt")).logits
    assert logits.shape[-1] == len(embedded_tokenizer)


def test_directory_without_model_raises(tmp_path):
    with pytest.raises(models.ModelUnavailableError):
        models.load(tmp_path)


def test_unknown_hub_id_offline_fails_fast():
    t0 = time.perf_counter()
    with pytest.raises(models.ModelUnavailableError, match="offline|cannot be reached"):
        models.load("no-such-user/no-such-model-xyz")
    assert time.perf_counter() - t0 < 3.0

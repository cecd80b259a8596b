"""helpers.models across model families (BERT, RoBERTa, GPT-2), offline, on tiny random models.

Each family is built with ``models.build_random(fam, dir, "tiny")`` (the same builder that
bench/check_scale.py uses at bert-base / gpt2 shape) and loaded back by path, as a reader's
``MODEL = "some/dir"`` would be.
"""
import numpy as np
import pytest

from helpers import models

FAMS = ["bert", "roberta", "gpt2"]
SENTS = ["A short one.", "A considerably longer sentence with many more pieces in it, surely."]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = {}
    for fam in FAMS:
        d = tmp_path_factory.mktemp(fam)
        models.build_random(fam, d, "tiny", seed=1)
        out[fam] = d
    return out


@pytest.mark.parametrize("fam", FAMS)
def test_family_loads_with_embeddings_and_states(saved, fam):
    tok, mdl = models.load(saved[fam])
    assert models.family(mdl) == fam and not mdl.training
    assert tok.pad_token_id is not None  # GPT-2: pad = eos, set by load
    E = models.input_embeddings(mdl)
    assert E.shape == (len(tok), 32) and E.dtype == np.float32
    states, ids, sent = models.hidden_states(mdl, tok, SENTS, batch_size=2, return_tokens=True)
    lengths = [len(tok(s)["input_ids"]) for s in SENTS]
    assert states.shape == (3, sum(lengths), 32)
    assert (np.bincount(sent) == lengths).all()  # padding removed by the attention mask
    alone = models.hidden_states(mdl, tok, SENTS[:1], batch_size=1)  # unpadded run
    np.testing.assert_allclose(states[:, : alone.shape[1]], alone, atol=1e-4)
    if fam == "gpt2":  # no special tokens added: special_tokens=False changes nothing
        assert tok.pad_token_id == tok.eos_token_id
        assert models.hidden_states(mdl, tok, SENTS, special_tokens=False).shape == states.shape
    else:  # [CLS]/[SEP] or <s>/</s> dropped
        assert models.hidden_states(mdl, tok, SENTS, special_tokens=False).shape[1] == states.shape[1] - 4


@pytest.mark.parametrize("fam", FAMS)
def test_family_output_embeddings(saved, fam):
    tok, mdl = models.load(saved[fam], masked_lm=True)
    W, b, tied = models.output_embeddings(mdl)
    assert W.shape == (len(tok), 32) and tied
    np.testing.assert_array_equal(W, models.input_embeddings(mdl))
    if fam == "gpt2":
        assert type(mdl).__name__ == "GPT2LMHeadModel" and b is None
    else:
        assert b.shape == (len(tok),)


def test_untied_output_embeddings(tmp_path):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    m = GPT2LMHeadModel(GPT2Config(vocab_size=300, n_embd=16, n_layer=1, n_head=2, tie_word_embeddings=False))
    W, b, tied = models.output_embeddings(m)
    assert not tied and b is None
    assert not np.array_equal(W, models.input_embeddings(m))


def test_output_embeddings_needs_a_head(saved):
    _, mdl = models.load(saved["bert"])
    with pytest.raises(ValueError, match="masked_lm=True"):
        models.output_embeddings(mdl)


def test_unsupported_family_names_supported(tmp_path):
    from transformers import AutoTokenizer, DistilBertConfig, DistilBertModel

    DistilBertModel(DistilBertConfig(vocab_size=30522, dim=16, n_layers=1, n_heads=2, hidden_dim=32)).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(models.embedded_model_path(), local_files_only=True).save_pretrained(tmp_path)
    with pytest.raises(models.UnsupportedModelError, match="distilbert.*BERT.*RoBERTa.*GPT-2") as e:
        models.load(tmp_path)
    assert isinstance(e.value, ValueError) and e.value.__cause__ is None
    with pytest.raises(models.UnsupportedModelError, match="supported"):
        models.family(object())
    with pytest.raises(models.UnsupportedModelError, match="GPT-2"):
        models.build_random("t5", tmp_path / "x")


def test_byte_level_bpe_too_little_text():
    with pytest.raises(ValueError, match="only supports"):
        models.byte_level_bpe(5000, texts=["tiny text"])

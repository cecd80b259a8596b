"""Fast shape test: the code paths notebooks 03, 06, 07 and the report take with MODEL = <dir>, for
every supported family, on tiny random models (``make check-scale`` runs the same at bert-base and
gpt2 shape and times it; see bench/check_scale.py and the README).
"""
import numpy as np
import pytest
import torch

from helpers import data, geometry, models, theory

FAMS = ["bert", "roberta", "gpt2"]


@pytest.fixture(scope="module", params=FAMS)
def saved(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(request.param)
    models.build_random(request.param, d, "tiny", seed=2)
    return request.param, d


def test_notebook_code_paths(saved):
    fam, d = saved
    # notebook 06: input embeddings and Table 1 with wordfreq frequencies
    tok, mdl = models.load(d)
    E = models.input_embeddings(mdl)
    freq = data.token_frequencies(tok)
    assert freq.shape == (E.shape[0],) and (freq > 0).sum() > 100
    table = geometry.frequency_bucket_table(E, freq, max_queries=50, seed=0)
    assert np.isfinite(table.loc["knn_l2_k3"].to_numpy(dtype=float)[:3]).all()  # a 1k vocabulary has no rank 5k+
    # notebook 07: per-layer states without special tokens, anisotropy, rogue dimensions, hulls
    sents = data.wiki_sentences(8, seed=0)
    H = models.hidden_states(mdl, tok, sents, special_tokens=False)
    assert H.shape[0] == 3 and H.shape[2] == 32
    a = geometry.layer_anisotropy(H, n_pairs=1000)
    assert a.shape == (3,) and np.all(np.abs(a) <= 1)
    assert len(geometry.rogue_dimensions(H[-1], top=3)) == 3
    assert isinstance(theory.hull_certificate(H[-1]).contains, bool)
    # notebook 03: the model with its head, its LayerNorms and the states
    tok, mdl = models.load(d, masked_lm=True)
    lns = [n for n, m in mdl.named_modules() if isinstance(m, torch.nn.LayerNorm)]
    assert len(lns) >= 2 * 2
    if fam != "gpt2":  # notebook 03 finds the embedding LayerNorm by this name (GPT-2 has none)
        assert any(n.endswith("embeddings.LayerNorm") for n in lns)
    S = models.hidden_states(mdl, tok, sents)
    assert S.shape[1] >= H.shape[1]
    W, b, tied = models.output_embeddings(mdl)
    assert tied and W.shape == E.shape


def test_base_shapes_match_the_real_models():
    assert models.SHAPES["base"]["layers"] == 12 and models.SHAPES["base"]["width"] == 768
    tok = models.byte_level_bpe(50_257)  # gpt2's vocabulary size, built offline
    assert len(tok) == 50_257 and tok.eos_token == "<|endoftext|>"
    assert tok.convert_tokens_to_string(tok.tokenize(" The cat sat.")) == " The cat sat."

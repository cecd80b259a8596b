"""helpers.models: the embedded model, embeddings, hidden states and clear load errors."""
import time

import numpy as np
import pytest

from helpers import models


@pytest.fixture(scope="module")
def embedded():
    return models.load()


def test_embedded_model_loads_offline(embedded):
    tok, model = embedded
    assert len(tok) == 30522
    assert model.config.model_type == "bert"
    assert model.config.hidden_size == 384
    assert not model.training


def test_input_embeddings_shape_and_dtype(embedded):
    _, model = embedded
    E = models.input_embeddings(model)
    assert E.shape == (30522, 384)
    assert E.dtype == np.float32
    assert np.isfinite(E).all()
    # a copy, not a view into the model's parameters
    E[0, 0] += 1.0
    assert models.input_embeddings(model)[0, 0] != E[0, 0]


def test_input_embeddings_rejects_non_model():
    with pytest.raises(ValueError, match="get_input_embeddings"):
        models.input_embeddings(object())


def test_hidden_states_remove_padding(embedded):
    tok, model = embedded
    sents = ["A short one.", "A considerably longer sentence with many more word pieces in it."]
    states, ids, sent = models.hidden_states(model, tok, sents, batch_size=2, return_tokens=True)
    n_tokens = sum(len(tok(s)["input_ids"]) for s in sents)
    assert states.shape == (model.config.num_hidden_layers + 1, n_tokens, 384)
    assert ids.shape == sent.shape == (n_tokens,)
    assert tok.pad_token_id not in set(ids.tolist())
    assert (np.bincount(sent) == [len(tok(s)["input_ids"]) for s in sents]).all()
    # batching does not change the (unpadded) representations
    alone = models.hidden_states(model, tok, sents[:1], batch_size=1)
    np.testing.assert_allclose(states[:, : alone.shape[1]], alone, atol=2e-4)


def test_hidden_states_without_special_tokens(embedded):
    tok, model = embedded
    with_sp = models.hidden_states(model, tok, ["Hello world."])
    without = models.hidden_states(model, tok, ["Hello world."], special_tokens=False)
    assert with_sp.shape[1] == without.shape[1] + 2


@pytest.mark.parametrize("bad", [[], "a single string", [""], ["ok", 3]])
def test_hidden_states_bad_input(embedded, bad):
    tok, model = embedded
    with pytest.raises(ValueError):
        models.hidden_states(model, tok, bad)


def test_unknown_model_offline_fails_fast_and_names_default(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = time.perf_counter()
    with pytest.raises(models.ModelUnavailableError, match="embedded default") as e:
        models.load("no-such-org/no-such-model-xyz")
    assert time.perf_counter() - t < 5
    assert "all-MiniLM-L6-v2" in str(e.value)
    assert e.value.__cause__ is None and e.value.__suppress_context__


def test_unreachable_hub_fails_fast(monkeypatch):
    """Offline mode off, but the hub unreachable: one clear error, no 25-second retry loop."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(models, "_hub_reachable", lambda timeout=1.5: False)
    t = time.perf_counter()
    with pytest.raises(models.ModelUnavailableError, match="cannot be reached"):
        models.load("bert-base-uncased-not-cached-here")
    assert time.perf_counter() - t < 5


def test_hub_probe_is_bounded():
    t = time.perf_counter()
    models._hub_reachable(timeout=0.5)
    assert time.perf_counter() - t < 2


def test_directory_without_model(tmp_path):
    with pytest.raises(models.ModelUnavailableError, match="directory"):
        models.load(tmp_path)


def test_file_is_not_a_model(tmp_path):
    f = tmp_path / "x.bin"
    f.write_bytes(b"0")
    with pytest.raises(models.ModelUnavailableError, match="file"):
        models.load(f)


def test_embedded_has_no_mlm_head():
    with pytest.raises(models.ModelUnavailableError, match="MLM|masked-LM"):
        models.load(masked_lm=True)


def test_empty_name():
    with pytest.raises(models.ModelUnavailableError):
        models.load("  ")

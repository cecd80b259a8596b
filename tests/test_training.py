"""Tests of helpers.training (fast: a tiny model, a few steps, a tiny corpus)."""
import numpy as np
import pytest
import torch

import helpers
from helpers import training as T
from helpers.data import token_counts

helpers.setup(seed=0)

TEXTS = [
    "The river flows through the old town and past the mill. " * 6,
    "A small red bird sang on the branch while the children played football in the park. " * 6,
    "Mathematics studies numbers, shapes and patterns; physics studies matter and energy. " * 6,
]
TINY = dict(layers=1, hidden=32, heads=2, intermediate=64, max_len=16, batch_size=8, steps=4,
            warmup=1, head_state_chunks=8, eval_chunks=8, heldout_frac=0.2)


def tiny(**kw):
    return T.TrainConfig(**{**TINY, **kw})


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))


@pytest.fixture(scope="module")
def tok():
    return T.course_tokenizer()


# --- masking -------------------------------------------------------------------------------------

def test_masking_rate_and_80_10_10():
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 2000, size=(400, 500))
    ids[:, 0], ids[:, -1] = 101, 102
    random_ids = np.arange(5000, 6000)  # disjoint from ids, so a random replacement is recognisable
    inp, lab = T.mask_tokens(ids, 103, [101, 102, 0], random_ids, 0.15, np.random.default_rng(1))
    sel = lab != -100
    assert not sel[:, [0, -1]].any(), "special tokens must never be selected"
    rate = sel[:, 1:-1].mean()
    assert abs(rate - 0.15) < 0.005, rate
    assert np.array_equal(lab[sel], ids[sel])
    frac_mask = (inp[sel] == 103).mean()
    frac_rand = np.isin(inp[sel], random_ids).mean()
    frac_keep = (inp[sel] == ids[sel]).mean()
    assert abs(frac_mask - 0.8) < 0.01 and abs(frac_rand - 0.1) < 0.01 and abs(frac_keep - 0.1) < 0.01
    assert np.array_equal(inp[~sel], ids[~sel]), "unselected positions must be unchanged"


def test_masking_bad_input():
    with pytest.raises(ValueError):
        T.mask_tokens(np.array([1, 2, 3]), 103, [101], np.arange(5), 0.15)
    with pytest.raises(ValueError):
        T.mask_tokens(np.ones((2, 3), dtype=int), 103, [101], np.arange(5), 1.5)
    with pytest.raises(ValueError):
        T.mask_tokens(np.full((2, 3), 101), 103, [101], np.arange(5), 0.15)


# --- chunks and counts ---------------------------------------------------------------------------

def test_chunks_and_exact_counts(tok):
    chunks = T.token_chunks(tok, TEXTS, 16)
    assert chunks.shape[1] == 16 and (chunks[:, 0] == 101).all() and (chunks[:, -1] == 102).all()
    res = T.train(tiny(steps=1, heldout_frac=0.0), texts=TEXTS, cache=False)
    stream = np.concatenate([tok(t, add_special_tokens=False)["input_ids"] for t in TEXTS])
    used = stream[: len(chunks) * 14]  # the final partial chunk is dropped
    assert np.array_equal(res.counts, np.bincount(used, minlength=len(tok)))
    assert (res.counts <= token_counts(tok, TEXTS)).all()
    assert res.unseen.sum() == len(tok) - (res.counts > 0).sum() - 3  # [CLS], [SEP], [MASK] are inputs


# --- model tying ---------------------------------------------------------------------------------

def test_tied_is_same_parameter_untied_is_not():
    m = T.build_model(tiny(tied=True), 30522)
    assert m.cls.predictions.decoder.weight is m.bert.embeddings.word_embeddings.weight
    assert m.config.tie_word_embeddings is True
    m = T.build_model(tiny(tied=False), 30522)
    assert m.cls.predictions.decoder.weight is not m.bert.embeddings.word_embeddings.weight
    assert m.config.tie_word_embeddings is False


def test_untied_unseen_inputs_never_move_tied_do():
    res = T.train(tiny(tied=False), texts=TEXTS, cache=False)
    d = np.abs(res.embeddings - res.initial_embeddings)
    assert d[res.unseen].max() == 0.0
    assert d[~res.unseen].max() > 0
    res = T.train(tiny(tied=True), texts=TEXTS, cache=False)
    d = np.abs(res.embeddings - res.initial_embeddings)
    assert (d[res.unseen].max(axis=1) > 0).mean() > 0.99


# --- loss ----------------------------------------------------------------------------------------

def test_masked_only_loss_equals_full_forward_loss(tok):
    cfg = tiny()
    m = T.build_model(cfg, len(tok)).eval()
    ids = T.token_chunks(tok, TEXTS, 16)[:6]
    inp, lab = T.mask_tokens(ids, 103, [101, 102, 0], np.arange(1000, 3000), 0.15, np.random.default_rng(0))
    inp, lab = torch.from_numpy(inp), torch.from_numpy(lab)
    with torch.no_grad():
        full = m(input_ids=inp, labels=lab).loss
        fast = T.masked_lm_loss(m, inp, lab)
    assert abs(float(full) - float(fast)) < 1e-5
    with pytest.raises(ValueError):
        T.masked_lm_loss(m, inp, torch.full_like(lab, -100))


# --- determinism, cache --------------------------------------------------------------------------

def test_determinism_and_cache():
    a = T.train(tiny(snapshot_steps=(0, 2)), texts=TEXTS, cache=False)
    b = T.train(tiny(snapshot_steps=(0, 2)), texts=TEXTS, cache=True)
    assert sorted(a.snapshots) == [0, 2, 4]
    for k in a.snapshots:
        assert np.array_equal(a.snapshots[k], b.snapshots[k])
    assert np.array_equal(a.losses, b.losses) and np.array_equal(a.head_states, b.head_states)
    assert np.isfinite(a.heldout_loss) and a.head_states.shape[1] == 32
    c = T.train(tiny(snapshot_steps=(0, 2)), texts=TEXTS, cache=True)
    assert c.from_cache and not b.from_cache
    assert np.array_equal(c.embeddings, b.embeddings) and np.array_equal(c.head_states, b.head_states)
    assert c.heldout_loss == b.heldout_loss
    d = T.train(tiny(seed=1), texts=TEXTS, cache=False)
    assert not np.array_equal(d.embeddings, a.embeddings)


def test_head_hidden_states_method():
    res = T.train(tiny(steps=1), texts=TEXTS, cache=False)
    h = res.head_hidden_states(TEXTS[:1], masked=False)
    n_chunks = len(T.token_chunks(res.tokenizer, TEXTS[:1], 16))
    assert h.shape == (n_chunks * 14, 32) and h.dtype == np.float32
    hm = res.head_hidden_states(TEXTS[:1], masked=True, seed=0)
    assert 0 < len(hm) < len(h)


# --- extra loss ----------------------------------------------------------------------------------

def _emb_sq(model):
    return model.bert.embeddings.word_embeddings.weight.pow(2).mean()


def test_extra_loss_is_added_with_its_weight(tok):
    cfg = tiny(extra_loss_name="emb_sq", extra_loss_weight=0.5, dropout=0.0)
    res = T.train(cfg, texts=TEXTS, extra_loss=_emb_sq, cache=False)
    init = float(_emb_sq(T.build_model(cfg, len(tok))).detach())
    assert abs((res.losses[0] - res.mlm_losses[0]) - 0.5 * init) < 1e-6
    base = T.train(cfg.replace(extra_loss_name=None, extra_loss_weight=0.0), texts=TEXTS, cache=False)
    assert np.array_equal(base.losses, base.mlm_losses)
    assert not np.array_equal(base.embeddings, res.embeddings)


def test_extra_loss_needs_a_name_and_a_name_needs_a_callable():
    with pytest.raises(ValueError, match="name"):
        T.train(tiny(extra_loss_weight=1.0), texts=TEXTS, extra_loss=_emb_sq)
    with pytest.raises(ValueError, match="callable"):
        T.train(tiny(extra_loss_name="emb_sq", extra_loss_weight=1.0), texts=TEXTS)
    with pytest.raises(ValueError):
        T.train(tiny(extra_loss_name="emb_sq"), texts=TEXTS, extra_loss="not callable")


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    dict(layers=0), dict(hidden=30, heads=4), dict(steps=0), dict(steps=2.5), dict(lr=0.0), dict(lr=float("nan")),
    dict(mask_prob=0.0), dict(mask_prob=1.0), dict(optimizer="lion"), dict(max_len=4), dict(batch_size=-1),
    dict(snapshot_steps=(5,)), dict(snapshot_steps=("a",)), dict(weight_decay=-1.0), dict(tied="yes"),
    dict(schedule="cosine"), dict(random_from="all"), dict(extra_loss_name=""), dict(heldout_frac=0.9),
])
def test_bad_config_raises_value_error(bad):
    with pytest.raises(ValueError):
        tiny(**bad)


def test_bad_texts_raise_value_error():
    for texts in ([], "a single string", ["", "  "], [1, 2], ["too short"]):
        with pytest.raises(ValueError):
            T.train(tiny(), texts=texts, cache=False)
    with pytest.raises(ValueError):
        T.train({"steps": 3}, texts=TEXTS)


def test_lab_config_is_the_shared_lab_run():
    from helpers.training import TrainConfig, lab_config

    cfg = lab_config()
    assert isinstance(cfg, TrainConfig) and cfg.steps == 200 and cfg.tied and cfg.optimizer == "adam"
    assert cfg.snapshot_steps == (0, 10, 25, 50, 100, 200)
    assert lab_config() == cfg and hash(lab_config()) == hash(cfg)  # same cache key every time
    full = lab_config(full=True, seed=3)
    assert full.steps == 1000 and full.seed == 3 and full.steps in full.snapshot_steps

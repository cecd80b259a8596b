"""Tests of helpers.training (fast: a tiny model, a few steps, a tiny corpus)."""
import numpy as np
import pytest
import torch

import helpers
from helpers import training as T
from helpers._cache import strip_docstrings
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
    assert isinstance(cfg, TrainConfig) and cfg.steps == 100 and cfg.batch_size == 32 and cfg.tied and cfg.optimizer == "adam"
    assert cfg.snapshot_steps == (0, 10, 25, 50, 100) and cfg.schedule == "constant"
    assert lab_config() == cfg and hash(lab_config()) == hash(cfg)  # same cache key every time
    full = lab_config(full=True, seed=3)
    assert full.steps > cfg.steps and full.seed == 3 and full.steps in full.snapshot_steps  # FULL length: e13 owns it


def test_probe_config_is_the_lab_model_short_and_half_batch():
    from helpers.training import PROBE_BATCH, PROBE_STEPS, lab_config, probe_config, run_key

    p = probe_config(seed=1, optimizer="sgd", lr=0.3, momentum=0.9)
    assert (p.steps, p.batch_size, p.seed, p.snapshot_steps) == (PROBE_STEPS, PROBE_BATCH, 1, ())
    assert (p.optimizer, p.lr, p.momentum) == ("sgd", 0.3, 0.9)
    # every other setting is the lab's: the probe differs from lab_config() only in length, batch and `changes`
    lab = lab_config(seed=1)
    assert p.replace(steps=lab.steps, batch_size=lab.batch_size, snapshot_steps=lab.snapshot_steps,
                     optimizer="adam", lr=lab.lr, momentum=lab.momentum) == lab
    # notebooks 05, 08 and 09 build the same probe independently: one cache key
    texts = ["word " * 400]
    assert run_key(probe_config(seed=0, tied=False), texts) == run_key(probe_config(tied=False), texts)
    with pytest.raises(ValueError, match="fixed"):
        probe_config(batch_size=32)
    with pytest.raises(ValueError, match="must be"):
        probe_config(lr=-1.0)


# --- objective, optimizers, output bias (notebook 09) -------------------------------------------

def test_clm_model_is_the_mlm_architecture_with_the_same_initialisation():
    a, b = T.build_model(tiny(), 30522), T.build_model(tiny(objective="clm"), 30522)
    assert type(a).__name__ == "BertForMaskedLM" and type(b).__name__ == "BertLMHeadModel" and b.config.is_decoder
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert b.cls.predictions.decoder.weight is b.bert.embeddings.word_embeddings.weight


def test_clm_causal_mask_later_tokens_do_not_matter(tok):
    m = T.build_model(tiny(objective="clm", dropout=0.0), len(tok)).eval()
    ids = torch.from_numpy(T.token_chunks(tok, TEXTS, 16)[:4])
    changed = ids.clone()
    changed[:, 9:] = torch.randint(1000, 2000, changed[:, 9:].shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        h1 = T.mlm_head_states(m, ids)
        h2 = T.mlm_head_states(m, changed)
    assert torch.equal(h1[:, :9], h2[:, :9]), "a position's state must not depend on later tokens"
    assert (h1[:, 9:] - h2[:, 9:]).abs().max() > 1e-3
    # the loss at positions 0..7 (predicting tokens 1..8) does not see token 9 onwards
    pos = torch.zeros_like(ids, dtype=torch.bool)
    pos[:, :8] = True
    with torch.no_grad():
        assert float(T.causal_lm_loss(m, ids, pos)) == float(T.causal_lm_loss(m, changed, pos))
        # all next-token positions: equals the library's loss (which also scores [SEP])
        pos_all = torch.ones_like(ids, dtype=torch.bool)
        pos_all[:, -1] = False
        ours = T.causal_lm_loss(m, ids, pos_all)
        theirs = m(input_ids=ids, labels=ids, use_cache=False).loss
    assert abs(float(ours) - float(theirs)) < 1e-5
    # an MLM model is not causal: changing later tokens changes earlier states
    mm = T.build_model(tiny(dropout=0.0), len(tok)).eval()
    with torch.no_grad():
        assert (T.mlm_head_states(mm, ids)[:, :9] - T.mlm_head_states(mm, changed)[:, :9]).abs().max() > 1e-4


def test_clm_positions_and_bad_input(tok):
    ids = T.token_chunks(tok, TEXTS, 16)[:50]
    pos = T.clm_positions(ids)
    assert pos[:, :14].all() and not pos[:, 14:].any()  # [CLS]..w13 predict w1..w14; nothing predicts past [SEP]
    sub = T.clm_positions(ids, 0.15, np.random.default_rng(0))
    assert not (sub & ~pos).any() and abs(sub.sum() / pos.sum() - 0.15) < 0.03
    for bad in (dict(frac=0.0), dict(frac=1.5)):
        with pytest.raises(ValueError):
            T.clm_positions(ids, **bad)
    with pytest.raises(ValueError):
        T.clm_positions(np.array([1, 2, 3]))
    m = T.build_model(tiny(objective="clm"), len(tok))
    x = torch.from_numpy(ids[:2])
    with pytest.raises(ValueError, match="last position"):
        T.causal_lm_loss(m, x, torch.ones_like(x, dtype=torch.bool))
    with pytest.raises(ValueError):
        T.causal_lm_loss(m, x, torch.zeros_like(x, dtype=torch.bool))
    with pytest.raises(ValueError, match="not causal"):
        T.causal_lm_loss(T.build_model(tiny(), len(tok)), x, torch.from_numpy(T.clm_positions(ids[:2])))


def test_clm_training_run():
    res = T.train(tiny(objective="clm", steps=3), texts=TEXTS, cache=False)
    assert np.isfinite(res.heldout_loss) and np.isfinite(res.heldout_unigram_loss)
    assert res.heldout_targets > 0 and res.head_states.shape[1] == 32
    assert res.unseen[103]  # [MASK] is never an input of a causal LM
    h = res.head_hidden_states(TEXTS[:1], masked=False)
    assert h.shape == (len(T.token_chunks(res.tokenizer, TEXTS[:1], 16)) * 14, 32)


def test_output_bias_off_removes_the_bias(tok):
    for tied in (True, False):
        m = T.build_model(tiny(output_bias=False, tied=tied), len(tok))
        assert m.cls.predictions.decoder.bias is None
        assert not any("bias" in n and "predictions" in n and "transform" not in n for n, _ in m.named_parameters())
        h = torch.randn(3, 32)
        assert torch.allclose(m.cls.predictions.decoder(h), h @ m.cls.predictions.decoder.weight.T)
    res = T.train(tiny(output_bias=False, tied=False, steps=2), texts=TEXTS, cache=True)
    assert res.output_bias is None and sorted(res.output_snapshots) == [0, 2]
    again = T.train(tiny(output_bias=False, tied=False, steps=2), texts=TEXTS, cache=True)
    assert again.from_cache and again.output_bias is None
    assert np.array_equal(again.output_snapshots[0], res.output_snapshots[0])
    assert not np.array_equal(res.initial_output_embeddings, res.initial_embeddings)  # untied: separate init
    on = T.train(tiny(steps=2), texts=TEXTS, cache=False)
    assert on.output_bias.shape == (len(tok),) and np.abs(on.output_bias).max() > 0


@pytest.mark.parametrize("kw", [dict(optimizer="coupled_adam"), dict(optimizer="sign", momentum=0.9),
                                dict(optimizer="coupled_adam", tied=False, objective="clm", output_bias=False)])
def test_new_options_train_and_reproduce(kw):
    a = T.train(tiny(**kw), texts=TEXTS, cache=False)
    b = T.train(tiny(**kw), texts=TEXTS, cache=False)
    assert np.array_equal(a.embeddings, b.embeddings) and np.array_equal(a.losses, b.losses)
    assert not np.array_equal(a.embeddings, a.initial_embeddings)
    assert np.isfinite(a.heldout_loss)


def test_optimizer_choice_is_used(tok):
    from helpers.optim import CoupledAdam, SignDescent

    m = T.build_model(tiny(tied=False), len(tok))
    emb, dec = m.bert.embeddings.word_embeddings.weight, m.cls.predictions.decoder.weight
    groups = [{"params": [p for p in m.parameters() if p.ndim >= 2], "weight_decay": 0.0},
              {"params": [p for p in m.parameters() if p.ndim < 2], "weight_decay": 0.0}]
    opt = T._make_optimizer(tiny(optimizer="coupled_adam", tied=False), groups, [emb, dec])
    assert isinstance(opt, CoupledAdam)
    coupled = [g["params"] for g in opt.param_groups if g["coupled"]]
    assert coupled == [[emb], [dec]]
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(m.parameters()))
    assert isinstance(T._make_optimizer(tiny(optimizer="sign"), groups, [emb]), SignDescent)
    assert isinstance(T._make_optimizer(tiny(), groups, [emb]), torch.optim.AdamW)


def test_unigram_baseline_is_on_the_heldout_targets(tok):
    for objective in ("mlm", "clm"):
        cfg = tiny(steps=1, objective=objective)
        res = T.train(cfg, texts=TEXTS, cache=False)
        V = len(res.counts)
        logp = np.log(res.counts + 1.0) - np.log(res.counts.sum() + V)
        chunks = T.token_chunks(tok, TEXTS, cfg.max_len)
        held = chunks[len(chunks) - int(round(len(chunks) * cfg.heldout_frac)):][: cfg.eval_chunks]
        if objective == "clm":
            targets = held[:, 1:-1].ravel()  # every next token: w1 .. wn
        else:  # replicate the held-out masking of train()
            rng = np.random.default_rng(10_000 + cfg.seed)
            targets = np.concatenate([lab[lab != -100] for _, lab in (
                T.mask_tokens(held[s:s + 64], 103, [101, 102, 0], res._special["random_ids"], cfg.mask_prob, rng)
                for s in range(0, len(held), 64))])
        assert res.heldout_targets == len(targets)
        assert abs(res.heldout_unigram_loss - float(-logp[targets].mean())) < 1e-9
        assert res.heldout_unigram_loss < np.log(V) - 1  # far better than the uniform guess


def test_layer_states(tok):
    res = T.train(tiny(steps=1), texts=TEXTS, cache=False)
    hs = res.layer_states(TEXTS[:1], max_chunks=3)
    assert len(hs) == res.config.layers + 2 and all(h.shape == (3 * 14, 32) for h in hs)
    assert np.allclose(hs[-1], res.head_hidden_states(TEXTS[:1], masked=False)[: 3 * 14], atol=1e-5)
    with pytest.raises(ValueError):
        res.layer_states(TEXTS[:1], max_chunks=0)


@pytest.mark.parametrize("bad", [dict(objective="gpt"), dict(objective=None), dict(output_bias="no"),
                                 dict(output_bias=1), dict(optimizer="lion"), dict(optimizer="Adam")])
def test_new_options_bad_input(bad):
    with pytest.raises(ValueError):
        tiny(**bad)


# --- the split of train() into parts, the cache key, the new options ------------------------------

def test_train_is_its_parts():
    """train() = prepare_data + build_model + fit + evaluate_heldout: the parts give the same numbers."""
    cfg = tiny(steps=3)
    res = T.train(cfg, texts=TEXTS, cache=False, progress=False)
    data = T.prepare_data(cfg, TEXTS)
    assert np.array_equal(data.counts, res.counts)
    model = T.build_model(cfg, data.vocab_size, data.special["pad"])
    log = T.fit(model, cfg, data)
    assert np.array_equal(log["losses"], res.losses)
    ev = T.evaluate_heldout(model, cfg, data)
    assert (ev["loss"], ev["unigram_loss"], ev["targets"]) == (res.heldout_loss, res.heldout_unigram_loss, res.heldout_targets)
    assert len(T.heldout_batches(cfg, data)) == 1 and ev["targets"] == sum(
        len(T.batch_targets(*b)) for b in T.heldout_batches(cfg, data))
    assert np.array_equal(ev["target_ids"], res.heldout_target_ids) and res.heldout_target_losses.shape == (ev["targets"],)
    assert abs(float(res.heldout_target_losses.astype(np.float64).mean()) - res.heldout_loss) < 1e-12


def test_new_fields_leave_old_keys_and_records_alone():
    cfg = tiny()
    d = cfg.to_dict()
    assert not set(T.NEW_FIELDS) & set(d), "a field at its default must not enter to_dict (old keys would change)"
    assert cfg.replace(adam_eps=1e-4).to_dict()["adam_eps"] == 1e-4
    assert T.run_key(cfg.replace(adam_eps=1e-4), TEXTS) != T.run_key(cfg, TEXTS)


def test_code_version_follows_the_code_not_its_comments(monkeypatch):
    key = T.run_key(tiny(), TEXTS)
    monkeypatch.setattr(T, "_numeric_source_hash", lambda: "edited")
    assert T.run_key(tiny(), TEXTS) != key
    a = strip_docstrings('def f(x):\n    """doc."""\n    # a comment\n    return x + 1\n')
    b = strip_docstrings("def f(x):\n    return x+1  # other comment\n")
    c = strip_docstrings("def f(x):\n    return x + 2\n")
    assert a == b != c


def test_corrupt_cache_entry_is_reported_and_rebuilt(tmp_path):
    cfg = tiny(steps=2)
    first = T.train(cfg, TEXTS, progress=False)
    cdir = tmp_path / "training" / T.run_key(cfg, TEXTS)
    (cdir / "arrays.npz").write_bytes(b"not an npz")
    with pytest.warns(RuntimeWarning, match="could not be read"):
        again = T.train(cfg, TEXTS, progress=False)
    assert not again.from_cache and np.array_equal(again.losses, first.losses)
    assert T.train(cfg, TEXTS, progress=False).from_cache


def test_adam_eps_and_beta2_reach_the_optimiser():
    model = T.build_model(tiny(), 30522)
    groups = T._param_groups(model, tiny())
    emb = model.get_input_embeddings().weight
    for name in ("adam", "coupled_adam"):
        opt = T._make_optimizer(tiny(optimizer=name, adam_eps=1e-5, adam_beta2=0.99), groups, [emb])
        assert all(g["eps"] == 1e-5 and g["betas"] == (0.9, 0.99) for g in opt.param_groups)
    with pytest.raises(ValueError, match="adam_eps"):
        tiny(adam_eps=0.0)
    with pytest.raises(ValueError, match="adam_beta2"):
        tiny(adam_beta2=1.0)


def test_row_stats_by_count_bucket():
    res = T.train(tiny(steps=4, row_stats_every=2), TEXTS, cache=False, progress=False)
    rs = res.row_stats
    assert list(rs["steps"]) == [2, 4] and rs["buckets"] == list(T.ROW_BUCKETS)
    for k in ("grad_rms", "sqrt_v", "update_rms"):
        assert rs[k].shape == (2, len(T.ROW_BUCKETS))
    seen = [i for i, b in enumerate(T.ROW_BUCKETS) if np.isfinite(rs["grad_rms"][0, i])]
    assert 0 in seen and (rs["update_rms"][:, seen] > 0).all()   # never-seen rows move (the softmax's push)
    assert (rs["sqrt_v"][:, seen] > 0).all()
    sgd = T.train(tiny(steps=2, optimizer="sgd", lr=0.1, row_stats_every=1), TEXTS, cache=False, progress=False)
    assert np.isnan(sgd.row_stats["sqrt_v"]).all(), "SGD has no second moment"
    assert T.train(tiny(steps=2), TEXTS, cache=False, progress=False).row_stats == {}


def test_gpt2_style_model():
    cfg = tiny(arch="gpt2", objective="clm", output_bias=False, steps=2)
    res = T.train(cfg, TEXTS, cache=False, progress=False)
    assert res.model.config.model_type == "gpt2" and res.output_bias is None
    assert res.output_embeddings.shape == res.embeddings.shape and np.isfinite(res.heldout_loss)
    assert res.head_states.shape[1] == cfg.hidden
    assert len(res.layer_states(TEXTS[:1], max_chunks=2)) == cfg.layers + 1
    with pytest.raises(ValueError, match="causal"):
        tiny(arch="gpt2", output_bias=False)
    with pytest.raises(ValueError, match="no output bias"):
        tiny(arch="gpt2", objective="clm")


def test_wiki_vocab_is_trained_on_the_texts_and_cached():
    tok = T.wiki_tokenizer(TEXTS, vocab_size=200)
    assert len(tok) <= 200 and tok.convert_tokens_to_ids("[MASK]") == 4 and tok.pad_token_id == 0
    assert T.wiki_tokenizer(TEXTS, vocab_size=200) is tok
    res = T.train(tiny(vocab="wiki-8k", steps=1), TEXTS, cache=False, progress=False)
    assert len(res.counts) == len(res.tokenizer) != 30522


def test_wiki_8k_on_the_sample_is_the_shipped_vocabulary_and_every_piece_occurs():
    from helpers.data import wiki_sample

    texts = wiki_sample()
    tok = T.wiki_tokenizer(texts)
    shipped = T.WIKI_VOCAB_FILE.read_text(encoding="utf-8").splitlines()
    assert T._texts_hash(texts) == T.WIKI_VOCAB_TEXTS and T.wiki_tokenizer() is tok
    assert [t for t, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1])] == shipped
    assert shipped[:5] == T.SPECIALS and len(shipped) < T.WIKI_VOCAB_SIZE
    ids = tok(list(texts), add_special_tokens=False)["input_ids"]
    emitted = {i for row in ids for i in row}
    assert set(range(len(shipped))) - emitted == {0, 1, 2, 3, 4} - emitted     # only specials are never emitted


def test_wiki_vocab_keeps_only_the_pieces_it_emits_and_tokenizes_as_before():
    from tokenizers import BertWordPieceTokenizer, Tokenizer

    wp = BertWordPieceTokenizer(lowercase=True, strip_accents=True, clean_text=True)
    wp.train_from_iterator(TEXTS, vocab_size=200, min_frequency=1, show_progress=False, special_tokens=T.SPECIALS)
    full = wp._tokenizer
    pruned = Tokenizer.from_str(T._prune_to_emitted(full, TEXTS))
    assert pruned.get_vocab_size() < full.get_vocab_size()           # the trainer keeps pieces it never emits
    assert [pruned.token_to_id(t) for t in T.SPECIALS] == [0, 1, 2, 3, 4]
    before = [e.tokens for e in full.encode_batch(TEXTS)]
    after = [e.tokens for e in pruned.encode_batch(TEXTS)]
    assert after == before                                            # same pieces on the texts it was pruned on
    emitted = {t for toks in after for t in toks}
    assert set(pruned.get_vocab()) == emitted | set(T.SPECIALS)       # and every piece it holds is emitted
    tok = T.wiki_tokenizer(TEXTS, vocab_size=200)
    assert len(tok) == pruned.get_vocab_size()
    with pytest.raises(ValueError, match="special tokens"):
        wp2 = BertWordPieceTokenizer(lowercase=True)
        wp2.train_from_iterator(TEXTS, vocab_size=100, show_progress=False, special_tokens=["[UNK]", "[PAD]"])
        T._prune_to_emitted(wp2._tokenizer, TEXTS)


def test_a_run_asked_for_twice_at_once_is_trained_once(monkeypatch):
    """make test runs notebooks side by side: the second asker waits on the run's lock, then loads it."""
    import threading
    import time

    calls = []
    real_run = T._run

    def slow_run(*a, **k):
        calls.append(1)
        time.sleep(0.3)
        return real_run(*a, **k)

    monkeypatch.setattr(T, "_run", slow_run)
    cfg = tiny(steps=1)
    out = []
    threads = [threading.Thread(target=lambda: out.append(T.train(cfg, TEXTS, progress=False))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and sorted(r.from_cache for r in out) == [False, True]


def test_a_cached_run_builds_its_model_only_when_asked(monkeypatch):
    cfg = tiny(snapshot_steps=(0, 2))
    fresh = T.train(cfg, texts=TEXTS)
    calls = []
    real = T.build_model
    monkeypatch.setattr(T, "build_model", lambda *a, **k: calls.append(1) or real(*a, **k))
    cached = T.train(cfg, texts=TEXTS)
    assert cached.from_cache and calls == []            # the arrays are read, the model is not built
    assert np.array_equal(cached.output_embeddings, fresh.output_embeddings) and calls == []   # tied: the last snapshot
    assert np.array_equal(fresh.output_embeddings, fresh.model.get_output_embeddings().weight.detach().numpy())
    w = cached.model.get_input_embeddings().weight.detach().numpy()
    assert calls == [1] and np.array_equal(w, fresh.embeddings)
    assert cached.model is cached.model and calls == [1]  # built once
    untied = T.train(tiny(tied=False), texts=TEXTS)
    again = T.train(tiny(tied=False), texts=TEXTS)
    assert np.array_equal(again.output_embeddings, untied.output_embeddings)


def test_eval_steps_give_a_heldout_curve_without_changing_the_run(tmp_path):
    plain = T.train(tiny(steps=6), TEXTS, cache=False, progress=False)
    cfg = tiny(steps=6, eval_steps=(2, 4, 6))
    res = T.train(cfg, TEXTS, progress=False)
    assert sorted(res.heldout_curve) == [2, 4, 6] and res.heldout_curve[6] == res.heldout_loss
    assert np.array_equal(res.losses, plain.losses) and res.heldout_loss == plain.heldout_loss  # the run itself
    assert {2, 4} <= set(res.snapshots)
    # the curve's entry at step 2 is the held-out loss a 2-step run ends with
    two = T.train(tiny(steps=2), TEXTS, cache=False, progress=False)
    assert res.heldout_curve[2] == pytest.approx(two.heldout_loss, abs=1e-6)
    assert np.array_equal(res.snapshots[2], two.embeddings)
    again = T.train(cfg, TEXTS, progress=False)
    assert again.from_cache and again.heldout_curve == res.heldout_curve
    # a config without eval_steps keeps the key it always had; one with them gets another
    assert "eval_steps" not in tiny().to_dict() and T.run_key(cfg, TEXTS) != T.run_key(tiny(steps=6), TEXTS)
    assert T.train(tiny(steps=2), TEXTS, cache=False, progress=False).heldout_curve == {}
    with pytest.raises(ValueError, match="eval_steps"):
        tiny(steps=6, eval_steps=(0, 3))
    with pytest.raises(ValueError, match="eval_steps"):
        tiny(steps=6, eval_steps=(7,))

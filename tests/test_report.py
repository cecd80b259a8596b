"""helpers.report: the one-command HTML diagnostic, on tiny local models and the embedded model."""
import base64
import html
import json
import math
import re

import numpy as np
import pytest

from helpers import models, report


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory):
    d = tmp_path_factory.mktemp("gpt2")
    models.build_random("gpt2", d, "tiny", seed=0)
    return d


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A randomly initialised BertForMaskedLM, saved as is: transformers zeroes its [PAD] row."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    d = tmp_path_factory.mktemp("bert")
    tok = AutoTokenizer.from_pretrained(models.embedded_model_path(), local_files_only=True)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64)
    mdl = BertForMaskedLM(cfg)
    assert not mdl.get_input_embeddings().weight[tok.pad_token_id].any()  # the defect's precondition
    mdl.save_pretrained(d)
    tok.save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def bert_res(tiny_bert):
    return report.collect(tiny_bert, n_sentences=4, max_queries=20, remedy_rows=500, progress=False)


def _text(page: str) -> str:
    """The page's visible text (tags, styles and embedded images removed)."""
    page = re.sub(r"<style>.*?</style>|<img[^>]*>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _check_page(page: str, n_png: int = 3):
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"(src|href)=['\"](https?:|//|file:)", page)  # self-contained: nothing fetched
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(pngs) == n_png
    for p in pngs:
        assert base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n"
    for section in ["Metric zoo", "Table 1", "Anisotropy per layer", "hull", "Rogue dimensions", "remedy",
                    "Wendel", "Ethayarajh", "Zipfian whitened", "all-but-the-top", "centred", "whitened (PCA)",
                    "Is this model's embedding space anisotropic?", "Where", "What would fix it", "blind to"]:
        assert section in page, section
    # the headline comes first, before any evidence
    assert page.index("Is this model's embedding space anisotropic?") < page.index("Metric zoo")
    text = _text(page)
    # no raw dicts, no metric keys in snake_case, no underflowed probability, no doubled parentheses
    assert "{'" not in text and "':" not in text
    for key in list(report.METRICS) + ["knn_l2", "knn_dot", "cumulative_share"]:
        assert not re.search(rf"\b{key}\b", text), key
    assert "0.0e+00" not in text and "e-inf" not in text
    assert "((" not in text.replace(" ", "") and "))" not in text.replace(" ", "")
    assert "<th></th>" not in page.replace("<th class='l'></th>", "X")  # no pandas index-name header rows


def test_report_tiny_local_model(tiny_gpt2, tmp_path):
    counts = np.random.default_rng(0).zipf(1.5, size=1000).clip(max=10**6)  # a made-up training corpus
    np.save(tmp_path / "counts.npy", counts)
    res = report.collect(tiny_gpt2, n_sentences=12, max_queries=50, counts=tmp_path / "counts.npy", progress=False)
    assert res["family"] == "GPT-2" and res["shape"] == (1000, 32)
    assert len(res["anisotropy"]) == 3 and np.all(np.abs(res["anisotropy"]) <= 1)
    assert list(res["remedies"].index)[:4] == ["raw", "centred", "all-but-the-top (D=1)", "whitened (PCA)"]
    # whitening makes the covariance isotropic: IsoScore 1 (up to round-off), whatever the model
    assert res["remedies"].loc["whitened (PCA)", "isoscore"] > 0.99
    assert res["remedies"].loc["centred", "random_pair_cosine"] < 0.05  # centring removes the common direction
    assert "table1_counts" in res and all(c.startswith("count [") for c in res["table1_counts"].columns)
    page = report.render(res)
    _check_page(page)
    assert "By training-corpus count" in page
    assert "family: GPT-2" in page and "all-zero row" not in page  # GPT-2 has no zeroed row


def test_report_all_zero_rows_are_listed_and_left_out(bert_res, tiny_bert, tmp_path):
    res = bert_res
    pad = report.models.load(tiny_bert)[0].pad_token_id
    assert res["zero_rows"] == {"count": 1, "ids": [pad], "tokens": ["[PAD]"]}
    V = res["shape"][0]
    assert sum(res["table1"].attrs["n_tokens"].values()) == V - 1  # every other row is in a bucket, [PAD] in none
    assert all(math.isfinite(v) for v in res["zoo"].values())
    page = report.render(res, tmp_path)
    _check_page(page)
    text = " ".join(_text(page).split())
    assert "1 all-zero row in the input embeddings ([PAD])" in text and f"({V - 1:,} rows measured)" in text
    assert "family: BERT (incl. MiniLM);" in text
    assert text.index("1 all-zero row") < text.index("1. Metric zoo")
    # links to the notebooks that explain each metric, relative to where the page is written
    assert re.search(r"href='[./]*[^']*notebooks/06_pretrained_word_embeddings.ipynb'>notebook 06</a>", page)
    doc = report.to_json(res)
    json.dumps(doc, allow_nan=False)
    assert doc["zero_rows"]["tokens"] == ["[PAD]"] and doc["headline"] == res["headline"]
    assert doc["zoo"]["random_pair_cosine"] == res["zoo"]["random_pair_cosine"]
    assert doc["table1"]["rows"]["norm"].keys() == set(res["table1"].columns)


def test_report_embedded_model_cli(tmp_path, capsys):
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    rc = report.main(["--out", str(out), "--json", str(js), "--sentences", "12", "--max-queries", "30", "--no-progress"])
    assert rc == 0 and "wrote" in capsys.readouterr().out
    page = out.read_text()
    _check_page(page)
    assert "all-MiniLM-L6-v2" in page and "30,522 &times; 384" in page
    doc = json.loads(js.read_text())  # every number; strict JSON (no NaN)
    assert doc["shape"] == [30522, 384] and len(doc["anisotropy"]) == len(doc["anisotropy_centred"]) == 7
    assert doc["headline"]["verdict"] in ("anisotropic", "mildly anisotropic", "not anisotropic")
    assert doc["headline"]["answer"] in _text(page)
    assert set(doc["zoo"]) == set(report.METRICS) and doc["zero_rows"]["count"] == 0
    assert doc["hull"]["log10_null"] <= 0 and set(doc["remedies"]["rows"]) >= {"raw", "centred", "whitened (PCA)"}


def test_report_two_models_side_by_side(bert_res, tmp_path, capsys, monkeypatch):
    other = dict(bert_res, label="checkpoint-B", anisotropy=bert_res["anisotropy"][:2],
                 anisotropy_centred=bert_res["anisotropy_centred"][:2])
    fake = {"A-dir": bert_res, "B-dir": other}
    monkeypatch.setattr(report, "collect", lambda m, **kw: fake[m])  # the CLI's two-model path, measured once
    for d in fake:
        (tmp_path / d).mkdir()
    monkeypatch.chdir(tmp_path)
    rc = report.main(["A-dir", "B-dir", "--out", "c.html", "--json", "c.json", "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    page = (tmp_path / "c.html").read_text()
    _check_page(page, n_png=7)  # each model's three figures and one with both curves
    text = " ".join(_text(page).split())
    assert "two models side by side" in text and "checkpoint-B" in text
    assert text.index("Headline") < text.index("Key numbers") < text.index("A: ") < text.index("B: checkpoint-B in full")
    assert "A, centred" in text and "A.1. Metric zoo" in text and "B.6. What each remedy" in text
    assert "A has 2 layers, B 1, so equal rows are not equal relative depths" in text
    doc = json.loads((tmp_path / "c.json").read_text())
    assert [m["label"] for m in doc["models"]] == [bert_res["label"], "checkpoint-B"]
    rc = report.main(["a", "b", "c", "--no-progress"])
    assert rc == 2 and capsys.readouterr().err.startswith("error: give at most two models")


@pytest.mark.parametrize("bad", ["no-such-org/no-such-model-xyz", "DIR"])
def test_report_bad_model_one_clear_error(bad, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    name = str(tmp_path) if bad == "DIR" else bad  # an empty directory holds no model
    rc = report.main([name, "--out", str(tmp_path / "x.html"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: cannot load model") and "Traceback" not in err
    assert err.count("\n") == 1 and "MODEL = None" not in err and "helpers.models.load()" not in err
    assert "python -m helpers.report" in err  # a command-line hint
    if bad != "DIR":
        assert "offline mode is on" in err and f"make report MODEL={bad}" in err
    assert not (tmp_path / "x.html").exists()
    with pytest.raises(models.ModelUnavailableError):
        report.collect(name, progress=False)


@pytest.mark.parametrize("args, message", [
    (["./no/such/model-dir"], "error: no such directory: ./no/such/model-dir (a local model"),
    (["/no/such/dir/"], "error: no such directory: /no/such/dir/"),
    (["--sentences", "1"], "error: --sentences must be at least 2"),
    (["--max-queries", "0"], "error: --max-queries must be at least 1"),
    (["--counts", "missing.npy"], "error: --counts missing.npy: no such file"),
    (["--out", "no-such-dir/r.html"], "error: --out no-such-dir/r.html: the directory"),
    (["--json", "no-such-dir/r.json"], "error: --json no-such-dir/r.json: the directory"),
    (["--out", "."], "error: --out .: is a directory; give a file name"),
])
def test_report_bad_input_one_line_before_any_work(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(report, "collect", lambda *a, **k: pytest.fail("measured despite bad input"))
    assert report.main(args + ["--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err


def test_hidden_states_truncate_to_the_models_positions(tiny_bert):
    tok, mdl = models.load(tiny_bert)  # 64 positions
    H = models.hidden_states(mdl, tok, ["word " * 200, "a short one"])
    assert H.shape[0] == 3 and H.shape[1] == 64 + 5  # the long sentence cut to 64 tokens, the short one whole (5)


def test_report_bad_counts_file(tiny_bert, tmp_path):
    (tmp_path / "c.npy").write_text("not an array")
    with pytest.raises(ValueError, match="cannot read a .npy array"):
        report.collect(tiny_bert, n_sentences=4, counts=tmp_path / "c.npy", progress=False)
    with pytest.raises(ValueError, match="finite and non-negative"):
        report.collect(tiny_bert, n_sentences=4, counts=-np.ones(30522), progress=False)


def test_report_bad_arguments(tiny_gpt2):
    with pytest.raises(ValueError, match="n_sentences"):
        report.collect(tiny_gpt2, n_sentences=1, progress=False)
    with pytest.raises(ValueError, match="max_queries"):
        report.collect(tiny_gpt2, max_queries=0, progress=False)
    with pytest.raises(ValueError, match="one entry per vocabulary row"):
        report.collect(tiny_gpt2, n_sentences=4, max_queries=10, counts=np.ones(7), progress=False)


def test_wendel_null():
    assert report.wendel_miss_probability(5, 10) == 1.0  # n <= d: always misses
    assert report.wendel_miss_probability(20, 10) == pytest.approx(0.5)  # n = 2d: one half
    assert report.wendel_miss_probability(2000, 100) < 1e-200
    # against the closed form for small n, d
    from math import comb

    assert report.wendel_miss_probability(9, 3) == pytest.approx(sum(comb(8, k) for k in range(3)) / 2**8)
    with pytest.raises(ValueError):
        report.wendel_miss_probability(0, 3)


def test_ethayarajh_values_have_13_layers():
    assert all(len(v) == 13 for v in report.ETHAYARAJH.values())
    assert report.ETHAYARAJH["gpt2"][-1] == 0.978 and report.ETHAYARAJH["bert-base-cased"][0] == 0.105


def test_wendel_log10_matches_the_float_and_goes_below_it():
    for n, d in [(5, 10), (20, 10), (9, 3), (200, 10), (1000, 50)]:
        p = report.wendel_miss_probability(n, d)
        assert report.wendel_log10(n, d) == pytest.approx(math.log10(p), abs=1e-9)
    assert report.wendel_miss_probability(3846, 384) == 0.0  # the float underflows ...
    lg = report.wendel_log10(3846, 384)  # ... its logarithm does not
    assert -800 < lg < -500
    assert report.probability_text(lg) == f"about 10^{round(lg)}"
    assert report.probability_text(math.log10(0.5)) == "0.50"
    assert report.probability_text(-12.5) == "3.2e-13"
    for bad in (0.1, float("nan"), float("-inf")):
        with pytest.raises(ValueError):
            report.probability_text(bad)
    with pytest.raises(ValueError):
        report.wendel_log10(3, 0)


# ---------------------------------------------------------------------------------------------
# the headline's rules: every verdict, every fix and every hull note, with their exact words
# ---------------------------------------------------------------------------------------------
def _sp(name, c, cc, share=0.1, dim=7, layer=None):
    return report.Space(name, c, cc, dim, share, layer)


def _layers(*pairs):
    return [_sp(f"layer {i}", c, cc, layer=i) for i, (c, cc) in enumerate(pairs)]


HULL_YES = {"contains": True, "log10_null": -700.0, "margin_ratio": 0.0, "n": 3846, "d": 384}
HULL_ONE_SIDED = {"contains": False, "log10_null": -700.0, "margin_ratio": 0.025, "n": 3846, "d": 384}
HULL_NO_EVIDENCE = {"contains": False, "log10_null": math.log10(0.5), "margin_ratio": 0.01, "n": 40, "d": 20}


def test_headline_not_anisotropic():
    h = report.headline([_sp("input embeddings", 0.02, 0.0)] + _layers((0.05, 0.0), (0.08, 0.01)))
    assert h == {"verdict": "not anisotropic",
                 "answer": "No: in every space random pairs have a mean cosine below 0.10 (the largest is 0.08, layer 1).",
                 "where": "nowhere by this measure", "fix": "Nothing to fix for cosine similarity.", "notes": []}


def test_headline_mild_with_centring_fix():
    h = report.headline([_sp("input embeddings", 0.02, 0.0)] + _layers((0.05, 0.0), (0.13, 0.01), (0.24, -0.001), (0.02, 0.0)))
    assert h["verdict"] == "mildly anisotropic"
    assert h["answer"] == ("Mildly: random pairs have a mean cosine between 0.10 and 0.40 in layers 1–2 (peak 0.24, "
                           "layer 2); no space is a narrow cone (>= 0.40).")
    assert h["where"] == "layer 1: 0.13; layer 2: 0.24"
    assert h["fix"] == ("Subtracting the mean vector (centring) removes it in layers 1–2 (layer 2: 0.24 → 0.00): "
                        "there it is one common direction shared by all vectors.")


def test_headline_cone_centring_not_enough_and_rogue():
    sp = [_sp("input embeddings", 0.45, 0.30, share=0.2)] + _layers((0.50, 0.05), (0.2, 0.0), (0.9, 0.6))
    sp[-1] = _sp("layer 2", 0.9, 0.6, share=0.8, dim=588, layer=2)
    h = report.headline(sp)
    assert h["verdict"] == "anisotropic"
    assert h["answer"] == ("Yes: random pairs have a mean cosine of at least 0.40 (a narrow cone) in input embeddings, "
                           "layer 0, layer 2; the peak is 0.90 (layer 2).")
    assert h["where"] == "input embeddings: 0.45; layer 0: 0.50; layer 1: 0.20; layer 2: 0.90"
    assert h["fix"] == (
        "Subtracting the mean vector (centring) removes it in layers 0–1 (layer 0: 0.50 → 0.05): there it is one common "
        "direction shared by all vectors; centring is not enough in input embeddings, layer 2 (layer 2: 0.90 → 0.60 after "
        "centring): the directions themselves are concentrated, and whitening (PCA or Zipfian) is needed to spread them; "
        "in layer 2 dimension 588 alone carries 80% of the mean cosine: standardising each dimension (z-scores) before "
        "comparing vectors removes its dominance.")


def test_headline_rogue_only_counts_where_anisotropic():
    # an unstable share in an isotropic space (cosine near 0) is not reported as rogue
    h = report.headline([_sp("input embeddings", 0.01, 0.0, share=5.0)] + _layers((0.2, 0.0)))
    assert "dimension" not in h["fix"]


@pytest.mark.parametrize("hull, last, note", [
    (HULL_YES, 0.5, "The last layer's token states surround the origin (their convex hull contains it): no one-sided "
                    "geometry there."),
    (HULL_ONE_SIDED, 0.02, "The last layer's 3,846 token states all lie on one side of a hyperplane through the origin "
                           "(their hull misses it by 2.5% of a state's mean length); a symmetric cloud of 3,846 points in "
                           "d = 384 would do that with probability about 10^-700. One-sided is not a cone: the last "
                           "layer's mean cosine is only 0.02."),
    (HULL_ONE_SIDED, 0.6, "The last layer's 3,846 token states all lie on one side of a hyperplane through the origin "
                          "(their hull misses it by 2.5% of a state's mean length); a symmetric cloud of 3,846 points in "
                          "d = 384 would do that with probability about 10^-700."),
    (HULL_NO_EVIDENCE, 0.02, "The last layer's hull misses the origin, but a symmetric cloud of only 40 points in d = 20 "
                             "would too with probability 0.50: no evidence either way; measure more tokens (--sentences)."),
])
def test_headline_hull_notes(hull, last, note):
    h = report.headline([_sp("input embeddings", 0.0, 0.0)] + _layers((0.0, 0.0), (last, 0.0)), hull)
    assert h["notes"] == [note]


@pytest.mark.parametrize("ref, note", [
    ([0.5, 0.6, 0.7], "Every layer is less anisotropic than Ethayarajh's (2019) bert-base-cased (0.50–0.70 at these depths) at the "
                      "same relative depth."),
    ([0.0, 0.0, 0.1], "Every layer is more anisotropic than Ethayarajh's (2019) bert-base-cased (0.00–0.10 at these depths) at the "
                      "same relative depth."),
    ([0.1, 0.5, 0.1], "More anisotropic than Ethayarajh's (2019) bert-base-cased (0.10–0.50 at these depths) at the same relative "
                      "depth in layer 0, layer 2 only; less elsewhere."),
])
def test_headline_published_curve_notes(ref, note):
    h = report.headline(_layers((0.2, 0.0), (0.3, 0.0), (0.4, 0.0)), reference=("bert-base-cased", ref))
    assert h["notes"] == [note]
    with pytest.raises(ValueError, match="3 layers"):
        report.headline(_layers((0.2, 0.0), (0.3, 0.0), (0.4, 0.0)), reference=("gpt2", [0.1]))


def test_headline_levels_and_bad_input():
    assert [report.level(c) for c in (0.0, report.MILD, report.CONE - 1e-9, report.CONE, 1.0)] == [
        "none", "mild", "mild", "cone", "cone"]
    with pytest.raises(ValueError, match="non-empty list"):
        report.headline([])
    with pytest.raises(ValueError, match="finite number"):
        report.headline([_sp("input embeddings", float("nan"), 0.0)])
    with pytest.raises(ValueError, match="finite number"):
        report.level(True)


def test_headline_on_the_tiny_bert_is_derived_from_its_numbers(bert_res):
    spaces = report._spaces(bert_res)
    assert [s.name for s in spaces] == ["input embeddings", "layer 0", "layer 1", "layer 2"]
    assert spaces[0].cosine == bert_res["zoo"]["random_pair_cosine"]
    assert bert_res["headline"] == report.headline(spaces, report._hull_input(bert_res["hull"]), report._reference(bert_res))
    assert report._reference(bert_res)[0] == "bert-base-cased"


def test_headline_centring_not_enough_alone():
    h = report.headline([_sp("input embeddings", 0.45, 0.30)] + _layers((0.05, 0.0)))
    assert h["fix"] == ("Centring is not enough in input embeddings (input embeddings: 0.45 → 0.30 after centring): the "
                        "directions themselves are concentrated, and whitening (PCA or Zipfian) is needed to spread them.")


@pytest.mark.parametrize("err, hint", [
    (models._unavailable("org/m", "it is not in the local cache and the model hub cannot be reached", "unreachable"),
     "; check the network connection, or give a local directory saved with save_pretrained; without a model name"),
    (models._unavailable("x", "the hub has no such model or refused it (OSError)", "not_on_hub"),
     "; give a hub id (e.g. bert-base-uncased) or a directory saved with save_pretrained; without a model name"),
    (models.ModelUnavailableError("something else"), "cannot load model 'm': something else; without a model name"),
    (models.UnsupportedModelError("cannot use model 'm': unsupported model family 't5'"),
     "cannot use model 'm': unsupported model family 't5' (without a model name"),
])
def test_cli_error_hints_are_command_line_words(err, hint):
    msg = report._cli_error(err, "m")
    assert hint in msg and "MODEL = None" not in msg and "\n" not in msg


def test_hull_text_without_evidence_and_build_report_arity(tmp_path):
    h = {"contains": False, "log10_null": math.log10(0.5), "margin": 0.1, "n": 40, "d": 20, "mean_norm": 1.0}
    assert "the verdict says little; use more sentences" in report._hull_text(h)
    with pytest.raises(ValueError, match="one model, or two"):
        report.build_report(["a", "b", "c"], tmp_path / "x.html")


def test_centred_cosine_is_exact_and_refuses_identical_vectors():
    X = np.random.default_rng(0).standard_normal((50, 4)) + 3.0
    C = X - X.mean(axis=0)
    U = C / np.linalg.norm(C, axis=1, keepdims=True)
    G = U @ U.T
    assert report._centred_cosine(X) == pytest.approx((G.sum() - 50) / (50 * 49), abs=1e-9)
    with pytest.raises(ValueError, match="every vector is the same"):
        report._centred_cosine(np.ones((5, 3)))

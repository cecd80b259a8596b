"""helpers.report: the one-command HTML diagnostic, on a tiny local model and the embedded model."""
import base64
import re

import numpy as np
import pytest

from helpers import models, report


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory):
    d = tmp_path_factory.mktemp("gpt2")
    models.build_random("gpt2", d, "tiny", seed=0)
    return d


def _check_page(page: str):
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"(src|href)=['\"](https?:|//|file:)", page)  # self-contained: nothing fetched
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(pngs) == 3
    for p in pngs:
        assert base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n"
    for section in ["Metric zoo", "Table 1", "Anisotropy per layer", "hull", "Rogue dimensions", "remedy",
                    "Wendel", "Ethayarajh", "Zipfian whitened", "all-but-the-top", "centred", "whitened (PCA)"]:
        assert section in page, section


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


def test_report_embedded_model_cli(tmp_path, capsys):
    out = tmp_path / "r.html"
    rc = report.main(["--out", str(out), "--sentences", "12", "--max-queries", "30", "--no-progress"])
    assert rc == 0 and "wrote" in capsys.readouterr().out
    page = out.read_text()
    _check_page(page)
    assert "all-MiniLM-L6-v2" in page and "30,522 &times; 384" in page


@pytest.mark.parametrize("bad", ["no-such-org/no-such-model-xyz", "DIR"])
def test_report_bad_model_one_clear_error(bad, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    name = str(tmp_path) if bad == "DIR" else bad  # an empty directory holds no model
    rc = report.main([name, "--out", str(tmp_path / "x.html"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: cannot load model") and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()
    with pytest.raises(models.ModelUnavailableError):
        report.collect(name, progress=False)


def test_report_bad_arguments(tiny_gpt2):
    with pytest.raises(ValueError, match="n_sentences"):
        report.collect(tiny_gpt2, n_sentences=1, progress=False)
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

"""helpers.ledger and the shared helpers in helpers/__init__.py."""
import json

import numpy as np
import pytest

import helpers
from helpers import ledger


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_record_and_read_back(tmp_cache):
    ledger.record("05", "tied.random_pair_cosine", np.float32(0.8125))
    ledger.record("05", "unseen", np.int64(9300))
    ledger.record("05", "holds", True)
    ledger.record("08", "table", {"whiten": [0.01, np.float64(0.5)]})
    assert ledger.results("05") == {"tied.random_pair_cosine": 0.8125, "unseen": 9300, "holds": True}
    assert ledger.results()["08"]["table"]["whiten"] == [0.01, 0.5]
    # re-recording a key overwrites it; the file is plain JSON
    ledger.record("05", "unseen", 9301)
    assert json.loads((tmp_cache / "results" / "05.json").read_text())["unseen"] == 9301


def test_bad_values(tmp_cache):
    with pytest.raises(ValueError, match="non-finite"):
        ledger.record("05", "x", float("nan"))
    with pytest.raises(ValueError, match="type"):
        ledger.record("05", "x", object())
    with pytest.raises(ValueError):
        ledger.record("", "x", 1.0)


def test_missing_notebook_says_what_to_do(tmp_cache):
    with pytest.raises(KeyError, match="run it first"):
        ledger.results("07")


def test_dirs_follow_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FIGURES_DIR", str(tmp_path / "figs"))
    assert helpers.figures_dir() == tmp_path / "figs" and (tmp_path / "figs").is_dir()


def test_plotting_save(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import save

    monkeypatch.setenv("COURSE_FIGURES_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    p = save(fig, "xx_test")
    assert p == tmp_path / "xx_test.png" and p.stat().st_size > 0
    with pytest.raises(ValueError, match="plain file name"):
        save(fig, "../escape")
    plt.close(fig)


def test_setup_is_reproducible():
    import torch

    helpers.setup(seed=3, offline=True, threads=2)
    a = torch.rand(3)
    helpers.setup(seed=3, offline=True, threads=2)
    assert torch.equal(a, torch.rand(3)) and torch.get_num_threads() == 2


def test_ensure_runs_nothing_when_results_exist(tmp_cache):
    ledger.record("00", "x", 1)
    assert ledger.ensure(["00"]) == []


def test_ensure_unknown_notebook(tmp_cache):
    with pytest.raises(ValueError, match="no notebook numbered"):
        ledger.ensure(["77"])

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


def test_relative_cache_and_figure_dirs_are_taken_from_the_repository_root(tmp_path, monkeypatch):
    """Notebooks run in notebooks/ and notebooks/solutions/: a relative $COURSE_CACHE_DIR must be one
    directory for both (otherwise the ledger's solutions cannot see what the notebooks recorded)."""
    root = helpers.cache_dir.__globals__["_REPO_ROOT"]
    rel = f".cache/test-rel-{tmp_path.name}"
    monkeypatch.setenv("COURSE_CACHE_DIR", rel)
    monkeypatch.setenv("COURSE_FIGURES_DIR", rel + "/figs")
    try:
        dirs = set()
        for cwd in (tmp_path, root / "notebooks", root / "notebooks" / "solutions"):
            monkeypatch.chdir(cwd)
            dirs.add((helpers.cache_dir(), helpers.figures_dir()))
        assert dirs == {(root / rel, root / rel / "figs")}
        monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "abs"))
        assert helpers.cache_dir() == tmp_path / "abs"           # absolute paths are kept
    finally:
        import shutil
        shutil.rmtree(root / rel, ignore_errors=True)


@pytest.mark.parametrize("raw, expected", [("", 2), ("1", 1), (" 4 ", 4)])
def test_threads_setting_reads_course_threads(raw, expected, monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", raw)
    assert helpers.threads_setting() == expected
    assert helpers.threads_setting(3) == 3                       # an explicit argument wins


@pytest.mark.parametrize("raw", ["two", "0", "-1", "1.5"])
def test_threads_setting_bad_input(raw, monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", raw)
    with pytest.raises(ValueError, match="positive integer"):
        helpers.threads_setting()


def test_begin_drops_earlier_keys_and_full_results_stay_apart(tmp_cache):
    ledger.record("05", "old.key", 1.0)                    # an earlier run's key
    ledger.begin("05")
    assert ledger.recorded("05") == [] and "05" not in ledger.results()
    ledger.record("05", "a", 1.0)
    ledger.record("05", "b", 2.0)
    ledger.record("05", "a", 3.0)
    assert ledger.results("05") == {"a": 3.0, "b": 2.0} and ledger.recorded("05") == ["a", "b"]
    # a FULL run records into its own file; the CI results are untouched, and begin(full=True) drops only FULL ones
    ledger.begin("05", full=True)
    ledger.record("05", "a", 9.0)
    assert ledger.results("05") == {"a": 3.0, "b": 2.0}
    assert ledger.results("05", full=True) == {"a": 9.0} and ledger.results(full=True) == {"05": {"a": 9.0}}
    assert (tmp_cache / "results" / "05.full.json").exists() and set(ledger.results()) == {"05"}
    ledger.begin("05", full=True)
    assert ledger.results(full=True) == {} and ledger.results("05") == {"a": 3.0, "b": 2.0}
    with pytest.raises(KeyError, match="FULL"):
        ledger.results("05", full=True)
    # back to CI: begin drops the CI file only
    ledger.record("05", "f", 1.0)
    ledger.begin("05")
    assert "05" not in ledger.results() and ledger.results("05", full=True) == {"f": 1.0}
    for bad in ("", "05.full", "a/b", 5):
        with pytest.raises(ValueError):
            ledger.begin(bad)
    with pytest.raises(ValueError):
        ledger.begin("05", full="yes")


def test_every_recording_notebook_begins_its_results():
    """A notebook that records results calls ledger.begin(<its id>, ...) in a code cell before its first record."""
    import re
    from pathlib import Path

    root = Path(helpers.__file__).resolve().parents[1] / "notebooks"
    checked = 0
    for nb_path in sorted(root.glob("[0-9][0-9]*_*.ipynb")):   # 02a_..., 02b_... too
        cells = [("".join(c["source"])) for c in json.loads(nb_path.read_text())["cells"] if c["cell_type"] == "code"]
        rec = [i for i, src in enumerate(cells) if re.search(r"ledger\.record\(", src)]
        if not rec:
            continue
        nb_id = nb_path.name.split("_", 1)[0]   # "05", "02a"
        beg = [i for i, src in enumerate(cells) if re.search(rf"ledger\.begin\(\s*[\"']{nb_id}[\"']", src)]
        assert beg and beg[0] <= rec[0], f"{nb_path.name}: call ledger.begin({nb_id!r}, full=...) before its first record"
        assert not re.search(r"class _Recorder", "\n".join(cells)), f"{nb_path.name} defines its own recorder"
        checked += 1
    assert checked >= 12   # 00, 01, 02a, 02b, 02c, 03-09: the split notebook's three parts are checked too

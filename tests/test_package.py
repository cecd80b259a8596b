"""The helpers package's structure: no import cycle, no private name imported across modules, intra-package
imports at module level, one implementation per measurement, one single-thread guard."""
import ast
from pathlib import Path

import pytest

from helpers import geometry, metrics, report, theory
from helpers._threads import single_thread

PKG = Path(__file__).resolve().parent.parent / "helpers"
MODULES = {p.stem: p for p in PKG.glob("*.py")}

#: Function-local intra-package imports that stay: the functions are part of the training cache key
#: (``training._numeric_code``: editing them would retrain every cached run), or ``optim`` imports torch.
FROZEN_LOCAL = {("training", "prepare_data", "data"), ("training", "_make_optimizer", "optim"),
                ("training", "_numeric_code", "optim")}


def _imports():
    """[(module, enclosing function or None, imported module, imported names)] of every relative import."""
    out = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())

        def visit(node, func):
            for child in ast.iter_child_nodes(node):
                f = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and func is None else func
                if isinstance(child, ast.ImportFrom) and child.level == 1:
                    names = [a.name for a in child.names]
                    targets = [child.module] if child.module else [n for n in names if n in MODULES]
                    for t in targets or ["__init__"]:
                        out.append((name, func, t, names if child.module else []))
                visit(child, f)

        visit(tree, None)
    return out


def test_no_import_cycle():
    graph = {}
    for mod, _, target, _ in _imports():
        graph.setdefault(mod, set()).add(target)
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        assert state.get(m) != "active", f"import cycle: {' -> '.join(path + [m])}"
        state[m] = "active"
        for t in sorted(graph.get(m, ())):
            visit(t, path + [m])
        state[m] = "done"

    for m in sorted(graph):
        visit(m, [])


def test_no_private_name_imported_across_modules():
    bad = [(mod, target, n) for mod, _, target, names in _imports() for n in names
           if n.startswith("_") and n not in MODULES]
    assert not bad, bad


def test_intra_package_imports_are_at_module_level():
    local = {(mod, func, target) for mod, func, target, _ in _imports() if func is not None}
    assert local <= FROZEN_LOCAL, sorted(local - FROZEN_LOCAL)


def test_one_implementation_per_measurement():
    assert metrics.random_pair_cosine is geometry.random_pair_cosine
    assert report.wendel_miss_probability is theory.wendel_probability
    assert not hasattr(geometry, "_merge_rows") and not hasattr(report, "_fmt")
    assert report.COUNT_RANGES[0] == (1000, None) and not hasattr(report, "COUNT_BUCKETS")


def test_single_thread_restores_the_callers_settings():
    torch = pytest.importorskip("torch")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    n = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with single_thread(torch=True):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), single_thread(torch=True):
            raise RuntimeError("restored also when the block raises")
        assert torch.get_num_threads() == 2
        with single_thread(torch=False, blas=True):
            assert torch.get_num_threads() == 2
            blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
            assert all(i["num_threads"] == 1 for i in blas)
    finally:
        torch.set_num_threads(n)


def test_setup_seeds_torch_when_it_is_first_imported(tmp_path, monkeypatch):
    """helpers.setup defers torch's seeding to torch's import when torch is not imported yet (a wrapt
    post-import hook), and seeds at once when it is; the last setup's seed wins. Driven on a stand-in
    module, since the test process has imported torch long ago."""
    import importlib
    import sys

    import helpers

    (tmp_path / "fake_torch_for_setup.py").write_text(
        "calls = []\n"
        "def manual_seed(s):\n    calls.append(('seed', s))\n"
        "def set_num_threads(n):\n    calls.append(('threads', n))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("fake_torch_for_setup", None)
    helpers._seed_torch_when_imported(3, 1, module="fake_torch_for_setup")
    helpers._seed_torch_when_imported(5, 2, module="fake_torch_for_setup")
    assert "fake_torch_for_setup" not in sys.modules          # nothing imported it yet
    fake = importlib.import_module("fake_torch_for_setup")
    assert fake.calls == [("seed", 3), ("threads", 1), ("seed", 5), ("threads", 2)]   # the last seed wins
    helpers._seed_torch_when_imported(7, 1, module="fake_torch_for_setup")             # already imported: now
    assert fake.calls[-2:] == [("seed", 7), ("threads", 1)]
    sys.modules.pop("fake_torch_for_setup", None)

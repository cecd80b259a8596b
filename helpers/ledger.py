"""Measured results that notebooks hand to the claims ledger (notebook 10).

A notebook records each number it proves with ``record("05", "tied.random_pair_cosine", 0.81)``;
the ledger notebook reads them all with ``results()`` and ``helpers.claims`` turns them into its
verdicts. Values live in ``helpers.cache_dir()/results/NN.json`` -- one file per notebook, each key overwritten when the
notebook records it again -- so the ledger never types a number in by hand. Running the notebooks in
order (``make course`` or ``make test``) fills it. A key that a notebook no longer records (renamed,
or recorded only with ``FULL = True``) stays in the file until the file is deleted (``make clean``
removes ``.cache``): a fresh clone, as in CI, starts without any.
"""
from __future__ import annotations

import json
import math
from numbers import Real

from . import cache_dir, write_atomic

__all__ = ["record", "results", "results_dir", "ensure"]


def results_dir():
    d = cache_dir() / "results"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _plain(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Real):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"refusing to record a non-finite value ({v})")
        return int(value) if isinstance(value, int) else v
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy / torch scalars
        return _plain(value.item())
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    raise ValueError(f"cannot record a value of type {type(value).__name__}")


def record(notebook: str, key: str, value) -> None:
    """Store ``value`` (number, bool, string, or list/dict of them) under ``key`` for ``notebook``."""
    if not notebook or not key:
        raise ValueError("record needs a notebook id such as '05' and a key")
    path = results_dir() / f"{notebook}.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = _plain(value)
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def results(notebook: str | None = None) -> dict:
    """All recorded results, ``{notebook: {key: value}}`` (or one notebook's dict)."""
    out = {}
    for p in sorted(results_dir().glob("*.json")):
        out[p.stem] = json.loads(p.read_text())
    if notebook is not None:
        if notebook not in out:
            raise KeyError(f"no results recorded for notebook {notebook!r}: run it first (make course)")
        return out[notebook]
    return out


def ensure(notebooks, timeout: int = 900) -> list[str]:
    """Make sure each notebook id in ``notebooks`` (e.g. ``["02", "05"]``) has recorded results.

    A notebook whose results are missing (say the reader opened the ledger first) is executed
    headless with papermill into a temporary directory -- its stored copy is not modified -- which
    records its results. Returns the ids that had to be run (empty when all were there).
    """
    import tempfile
    from pathlib import Path

    have = set(results())
    todo = [n for n in notebooks if n not in have]
    if not todo:
        return []
    import papermill

    nb_dir = Path(__file__).resolve().parent.parent / "notebooks"
    with tempfile.TemporaryDirectory() as tmp:
        for n in todo:
            found = sorted(nb_dir.glob(f"{n}_*.ipynb"))
            if not found:
                raise ValueError(f"no notebook numbered {n!r} in {nb_dir}")
            papermill.execute_notebook(str(found[0]), str(Path(tmp) / found[0].name), cwd=str(nb_dir),
                                       progress_bar=False, execution_timeout=timeout)
    missing = [n for n in todo if n not in results()]
    if missing:
        raise RuntimeError(f"notebooks {missing} ran but recorded no results")
    return todo

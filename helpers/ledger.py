"""Measured results that notebooks hand to the claims ledger (notebook 10).

A notebook starts its results with ``begin("05", full=FULL)`` and then records each number it proves
with ``record("05", "tied.random_pair_cosine", 0.81)``; the ledger notebook reads them all with
``results()`` and ``helpers.claims`` turns them into its verdicts, so the ledger never types a number
in by hand.

- **No history.** ``begin`` drops everything the notebook recorded before (in that mode), so a key that
  the notebook no longer records -- renamed, or recorded only under some condition -- cannot survive
  into the ledger from an earlier run. ``recorded(nb)`` lists the keys recorded since ``begin``.
- **CI and FULL never mix.** Results of a run with ``FULL = True`` go to their own file: CI-mode results
  live in ``helpers.cache_dir()/results/NN.json``, FULL-mode ones in ``NN.full.json``. ``results()``
  reads the CI files (what ``make test`` verifies and the ledger shows); ``results(full=True)`` the
  FULL ones.

Running the notebooks in order (``make course`` or ``make test``) fills the results; a fresh clone, as
in CI, starts without any. ``record`` without a ``begin`` in the same process merges into the CI file
(as it did before ``begin`` existed); every course notebook that records calls ``begin`` first
(``tests/test_ledger.py`` checks it).
"""
from __future__ import annotations

import json
import math
from numbers import Real

from . import cache_dir, write_atomic

__all__ = ["begin", "record", "recorded", "results", "results_dir", "ensure"]

#: notebook id -> "ci" | "full": the mode ``begin`` set in this process
_MODE: dict = {}
#: notebook id -> keys recorded since ``begin`` in this process
_RECORDED: dict = {}


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


def _check_id(notebook) -> str:
    if not isinstance(notebook, str) or not notebook or "." in notebook or "/" in notebook:
        raise ValueError(f"a notebook id is a string such as '05' (no '.' or '/'), got {notebook!r}")
    return notebook


def _path(notebook: str, full: bool):
    return results_dir() / (f"{notebook}.full.json" if full else f"{notebook}.json")


def begin(notebook: str, full: bool = False) -> None:
    """Start ``notebook``'s results afresh in this process: delete what it recorded before in this mode
    (CI, or FULL with ``full=True``), and send its later ``record`` calls to that mode's file."""
    _check_id(notebook)
    if not isinstance(full, bool):
        raise ValueError(f"full must be True or False, got {full!r}")
    _MODE[notebook] = "full" if full else "ci"
    _RECORDED[notebook] = []
    _path(notebook, full).unlink(missing_ok=True)


def record(notebook: str, key: str, value) -> None:
    """Store ``value`` (number, bool, string, or list/dict of them) under ``key`` for ``notebook``, in the
    mode ``begin`` set (the CI file when ``begin`` was not called)."""
    if not notebook or not key:
        raise ValueError("record needs a notebook id such as '05' and a key")
    _check_id(notebook)
    value = _plain(value)
    path = _path(notebook, _MODE.get(notebook) == "full")
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True))
    keys = _RECORDED.setdefault(notebook, [])
    if key not in keys:
        keys.append(key)


def recorded(notebook: str) -> list:
    """The keys ``notebook`` recorded in this process since ``begin`` (in recording order)."""
    return list(_RECORDED.get(_check_id(notebook), []))


def results(notebook: str | None = None, full: bool = False) -> dict:
    """All recorded results, ``{notebook: {key: value}}`` (or one notebook's dict): the CI-mode results,
    or with ``full=True`` those of ``FULL = True`` runs."""
    out = {}
    for p in sorted(results_dir().glob("*.full.json" if full else "*.json")):
        nb = p.name[: -len(".full.json")] if full else p.stem
        if not full and "." in nb:
            continue  # a FULL file
        out[nb] = json.loads(p.read_text())
    if notebook is not None:
        if notebook not in out:
            mode = " with FULL = True" if full else ""
            raise KeyError(f"no results recorded for notebook {notebook!r}{mode}: run it first (make course)")
        return out[notebook]
    return out


def ensure(notebooks, timeout: int = 900) -> list[str]:
    """Make sure each notebook id in ``notebooks`` (e.g. ``["02a", "05"]``) has recorded results.

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
            found = sorted(nb_dir.glob(f"{n}_*.ipynb"))   # id "02a" -> 02a_*.ipynb
            if not found:
                raise ValueError(f"no notebook numbered {n!r} in {nb_dir}")
            papermill.execute_notebook(str(found[0]), str(Path(tmp) / found[0].name), cwd=str(nb_dir),
                                       progress_bar=False, execution_timeout=timeout)
    missing = [n for n in todo if n not in results()]
    if missing:
        raise RuntimeError(f"notebooks {missing} ran but recorded no results")
    return todo

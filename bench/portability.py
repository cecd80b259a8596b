"""Portability harness: do the stored notebook outputs reproduce on other CPUs? (``make portability``)

Strict nbval compares every printed line of every notebook with the stored one. A reader's CI runs
on another CPU: another OpenBLAS kernel for numpy/scipy, another vectorised code path in torch, MKL
and oneDNN, another thread count. Each lever below changes the low-order bits of the same
computation on this machine, so together they stand for other machines (an AVX2 laptop, an AMD
server, an older x86, and -- as far as one can without the hardware -- an ARM laptop, whose kernels
are none of these):

==================  ======================================================================
lever               environment variable (values used)
==================  ======================================================================
BLAS kernel         ``OPENBLAS_CORETYPE``: SkylakeX (this machine's own), Haswell, Sandybridge
torch kernels       ``ATEN_CPU_CAPABILITY``: avx512 (own), avx2, default (no vector units)
MKL code path       ``MKL_CBWR``: unset, AVX2, COMPATIBLE
oneDNN ISA          ``ONEDNN_MAX_CPU_ISA``: unset, AVX2, SSE41
threads             ``COURSE_THREADS`` (torch, read by ``helpers.setup``) and the BLAS/OpenMP
                    thread variables: 2 (the course's default), 1, 4
==================  ======================================================================

``PROFILES`` combine the levers into machines; ``LEVERS`` change one lever at a time (to find which
lever moves an output). Each environment executes the notebooks and the solutions headless, in its
own cache directory (so no cached training run hides a difference), with figures written to scratch,
and compares every output line with the stored one exactly as strict nbval does (the same sanitize
file, the same markers, html and widget outputs skipped as in ``conftest.py``).

    python bench/portability.py                     # the machine profiles (default), all notebooks
    python bench/portability.py --env levers        # every single-lever environment
    python bench/portability.py --env avx2 --nb 05  # one environment, notebooks whose name matches
    python bench/portability.py --list              # the environments and what they set

It prints a table, environment x notebook -> "identical" or "N lines differ" (or "error"), then
every differing line, and exits non-zero on any difference. The executed copies and a JSON report
stay in ``.cache/portability/<env>/`` for inspection.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
# what conftest.py adds to nbval's own skips (compared outputs are text only)
SKIP_MIME = {"text/html", "application/javascript", "application/vnd.jupyter.widget-state+json",
             "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg"}


def _threads(n: int) -> dict:
    n = str(n)
    return {"COURSE_THREADS": n, "OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n}


#: Machine profiles: every lever value of the module docstring appears in at least one of them.
PROFILES = {
    "native": {},  # this machine as it is: the environment `make test` runs in
    "avx2-1t": {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2",
                "ONEDNN_MAX_CPU_ISA": "AVX2", **_threads(1)},  # an AVX2 machine (Intel Haswell.., AMD Zen), one thread
    "generic-1t": {"OPENBLAS_CORETYPE": "Sandybridge", "ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE",
                   "ONEDNN_MAX_CPU_ISA": "SSE41", **_threads(1)},  # no AVX2 anywhere, one thread
    "skylakex-4t": {"OPENBLAS_CORETYPE": "SkylakeX", **_threads(4)},  # this CPU's kernels, 4 threads
}
#: One lever at a time, everything else as on this machine.
LEVERS = {
    "blas-haswell": {"OPENBLAS_CORETYPE": "Haswell"},
    "blas-sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "torch-avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "torch-default": {"ATEN_CPU_CAPABILITY": "default"},
    "mkl-compatible": {"MKL_CBWR": "COMPATIBLE"},
    "onednn-avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "threads-1": _threads(1),
    "threads-4": _threads(4),
}
ENVIRONMENTS = {**PROFILES, **LEVERS}
#: The environment CI re-runs strict nbval in after `make test` (.ci/run): another OpenBLAS kernel, another
#: torch, MKL and oneDNN code path and another thread count than `make test` on this (AVX-512) machine. Not
#: generic-1t: its unvectorised kernels make the training notebooks 3-4x slower.
CI_ENV = "avx2-1t"


def course_notebooks() -> list[Path]:
    """The notebooks in course order, then the solutions (as `make test` lists them)."""
    main = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))
    sols = sorted((NOTEBOOKS / "solutions").glob("*.ipynb"))
    return main + sols


def _cpu_flags() -> set:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    m = re.search(r"^flags\s*:(.*)$", text, re.M)
    return set(m.group(1).split()) if m else set()


# what each lever value needs from the CPU (x86): forcing a kernel the CPU lacks would crash, not differ
_NEEDS = {("OPENBLAS_CORETYPE", "SkylakeX"): "avx512f", ("OPENBLAS_CORETYPE", "Haswell"): "avx2",
          ("OPENBLAS_CORETYPE", "Sandybridge"): "avx", ("ATEN_CPU_CAPABILITY", "avx512"): "avx512f",
          ("ATEN_CPU_CAPABILITY", "avx2"): "avx2", ("MKL_CBWR", "AVX2"): "avx2",
          ("ONEDNN_MAX_CPU_ISA", "AVX2"): "avx2", ("ONEDNN_MAX_CPU_ISA", "SSE41"): "sse4_1"}


def unsupported(name: str) -> list[str]:
    """The CPU features environment ``name`` needs that this CPU lacks (empty: it can run here)."""
    flags = _cpu_flags()
    need = {_NEEDS[(k, v)] for k, v in env_vars(name).items() if (k, v) in _NEEDS}
    if not flags:  # not an x86 Linux machine: only the thread levers apply
        return sorted(need)
    return sorted(need - flags)


def env_vars(name: str) -> dict:
    """The environment variables of environment ``name`` (on top of the offline/quiet ones)."""
    if name not in ENVIRONMENTS:
        raise SystemExit(f"unknown environment {name!r}; choose from {', '.join(ENVIRONMENTS)}")
    return dict(ENVIRONMENTS[name])


# ----------------------------------------------------------------------------------------------
# comparison, as strict nbval does it


def _sanitize_patterns():
    from nbval.plugin import get_sanitize_patterns

    return [(re.compile(rx), rep) for rx, rep in get_sanitize_patterns(SANITIZE.read_text())]


def _markers(cell) -> dict:
    """nbval's markers of a cell: {'skip': True}, {'check': False} (NBVAL_IGNORE_OUTPUT), ..."""
    from nbval.plugin import find_comment_markers, find_metadata_tags

    found = dict(find_comment_markers(cell.source))
    found.update(find_metadata_tags(cell.metadata))
    return found


def _compared_text(outputs, patterns) -> list[str]:
    """The lines strict nbval compares for one cell: streams merged per name, text mime types, errors."""
    import copy

    from nbval.plugin import coalesce_streams

    lines = []

    def add(label, text):
        if isinstance(text, list):
            text = "".join(text)
        for rx, rep in patterns:
            text = rx.sub(rep, text)
        lines.extend(f"{label}: {ln}" for ln in text.splitlines())

    for out in coalesce_streams(copy.deepcopy(outputs)):
        kind = out.get("output_type")
        if kind == "stream":
            add(out.get("name", "stream"), out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            for mime, val in sorted(out.get("data", {}).items()):
                if mime not in SKIP_MIME:
                    add(mime, val if isinstance(val, (str, list)) else json.dumps(val))
        elif kind == "error":
            add("error", f"{out.get('ename')}: {out.get('evalue')}")
    return lines


def compare(stored_path: Path, fresh_path: Path) -> list[dict]:
    """Per code cell whose output strict nbval checks: the lines that differ (empty list: identical).

    Returns ``[{"cell": i, "stored": [...], "fresh": [...], "n": lines}]`` for the cells that differ;
    ``i`` is nbval's cell number (code cells counted from 0).
    """
    import nbformat

    a = nbformat.read(stored_path, as_version=4)
    b = nbformat.read(fresh_path, as_version=4)
    patterns = _sanitize_patterns()
    code_a = [c for c in a.cells if c.cell_type == "code"]
    code_b = [c for c in b.cells if c.cell_type == "code"]
    if len(code_a) != len(code_b):
        return [{"cell": -1, "stored": [f"{len(code_a)} code cells"], "fresh": [f"{len(code_b)} code cells"], "n": 1}]
    diffs = []
    for i, (ca, cb) in enumerate(zip(code_a, code_b)):
        marks = _markers(ca)
        if marks.get("skip"):
            continue
        la, lb = _compared_text(ca.outputs, patterns), _compared_text(cb.outputs, patterns)
        if marks.get("check") is False:
            # NBVAL_IGNORE_OUTPUT: nbval runs the cell but compares nothing; an error still fails it
            la = [ln for ln in la if ln.startswith("error:")]
            lb = [ln for ln in lb if ln.startswith("error:")]
        if la == lb:
            continue
        sm = SequenceMatcher(a=la, b=lb, autojunk=False)
        n = 0
        stored, fresh = [], []
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag != "equal":
                n += max(i2 - i1, j2 - j1)
                stored += la[i1:i2]
                fresh += lb[j1:j2]
        diffs.append({"cell": i, "stored": stored, "fresh": fresh, "n": n})
    return diffs


# ----------------------------------------------------------------------------------------------
# execution


def _execute(nb: Path, out_dir: Path, env: dict, timeout: int) -> tuple[Path, float, str]:
    out = out_dir / nb.relative_to(NOTEBOOKS)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
           f"--ExecutePreprocessor.timeout={timeout}", "--ExecutePreprocessor.kernel_name=python3",
           "--output", str(out), str(nb)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=nb.parent, capture_output=True, text=True)
    dt = time.perf_counter() - t
    err = "" if proc.returncode == 0 and out.exists() else (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return out, dt, err


def run_environment(name: str, notebooks: list[Path], jobs: int, timeout: int, fresh: bool) -> dict:
    """Execute ``notebooks`` under environment ``name`` and compare each with its stored outputs."""
    base = ROOT / ".cache" / "portability" / name
    if fresh and base.exists():
        shutil.rmtree(base)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS_", "ATEN_", "MKL_", "ONEDNN_", "OMP_"))}
    env.pop("COURSE_THREADS", None)
    from helpers import OFFLINE_ENV, QUIET_ENV

    env.update(OFFLINE_ENV)
    env.update(QUIET_ENV)
    env.update({"COURSE_CACHE_DIR": str(base / "cache"), "COURSE_FIGURES_DIR": str(base / "figures"),
                "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    env.update(env_vars(name))
    # the ledger (10) reads what 00-09 recorded: it waits for them; everything else runs as a pool
    last = [nb for nb in notebooks if nb.name.startswith("10_")]
    first = [nb for nb in notebooks if nb not in last]
    # the three training notebooks first, so the pool's workers finish together (as conftest.py orders make test)
    long_first = ("09_", "05_", "08_")
    first.sort(key=lambda nb: next((i for i, p in enumerate(long_first)
                                    if nb.parent == NOTEBOOKS and nb.name.startswith(p)), len(long_first)))
    report = {"env": name, "vars": env_vars(name), "notebooks": {}}

    def one(nb):
        out, dt, err = _execute(nb, base / "executed", env, timeout)
        diffs = compare(nb, out) if not err else []
        rel = str(nb.relative_to(NOTEBOOKS))
        report["notebooks"][rel] = {"seconds": round(dt, 1), "error": err, "diffs": diffs}
        state = f"error: {err}" if err else ("identical" if not diffs else f"{sum(d['n'] for d in diffs)} lines differ")
        print(f"  [{name}] {rel}: {state} ({dt:.0f} s)", flush=True)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, first))
    for nb in last:
        one(nb)
    (base / "report.json").write_text(json.dumps(report, indent=1))
    return report


def summarise(reports: list[dict], notebooks: list[Path]) -> int:
    """Print the table and the differing lines; return the number of (env, notebook) pairs that differ."""
    names = [str(nb.relative_to(NOTEBOOKS)).replace(".ipynb", "") for nb in notebooks]
    width = max(len(n) for n in names) + 2
    envs = [r["env"] for r in reports]
    colw = max(14, *(len(e) + 2 for e in envs))
    print("\n" + "notebook".ljust(width) + "".join(e.ljust(colw) for e in envs))
    bad = 0
    for nb, label in zip(notebooks, names):
        rel = str(nb.relative_to(NOTEBOOKS))
        row = label.ljust(width)
        for r in reports:
            got = r["notebooks"].get(rel)
            if got is None:
                cell = "-"
            elif got["error"]:
                cell, bad = "error", bad + 1
            elif got["diffs"]:
                cell, bad = f"{sum(d['n'] for d in got['diffs'])} differ", bad + 1
            else:
                cell = "identical"
            row += cell.ljust(colw)
        print(row)
    for r in reports:
        for rel, got in r["notebooks"].items():
            if got["error"]:
                print(f"\n[{r['env']}] {rel}: execution failed: {got['error']}")
            for d in got["diffs"]:
                print(f"\n[{r['env']}] {rel} cell {d['cell']} ({d['n']} lines):")
                for ln in d["stored"]:
                    print(f"  - {ln}")
                for ln in d["fresh"]:
                    print(f"  + {ln}")
    total = sum(len(r["notebooks"]) for r in reports)
    print(f"\n{total - bad} of {total} (environment, notebook) pairs identical to the stored outputs")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", nargs="*", default=["profiles"],
                    help="environment names, or 'profiles' (default), 'levers', 'all'")
    ap.add_argument("--nb", nargs="*", default=[], help="only notebooks whose path contains one of these strings")
    ap.add_argument("--jobs", type=int, default=None,
                    help="notebooks executed at once per environment (default: as many as the cores allow "
                         "at the environment's thread count, at least 1)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    ap.add_argument("--keep-cache", action="store_true", help="reuse each environment's cache from an earlier run")
    ap.add_argument("--compare-only", action="store_true", help="re-compare the executed copies of an earlier run")
    ap.add_argument("--list", action="store_true", help="list the environments and exit")
    ap.add_argument("--print-env", nargs="?", const=CI_ENV, metavar="ENV",
                    help=f"print ENV's variables as NAME=VALUE words (default {CI_ENV}, CI's second environment) and exit")
    args = ap.parse_args(argv)

    if args.print_env:
        vars_ = env_vars(args.print_env)
        if unsupported(args.print_env):  # another architecture: only what it can honour (the threads)
            vars_ = {k: v for k, v in vars_.items() if k.endswith("THREADS")}
        print(" ".join(f"{k}={v}" for k, v in vars_.items()))
        return 0
    if args.list:
        for name, vars_ in ENVIRONMENTS.items():
            kind = "profile" if name in PROFILES else "lever"
            print(f"{name:18s} {kind:8s} " + (" ".join(f"{k}={v}" for k, v in vars_.items()) or "(this machine as it is)"))
        return 0
    names = []
    for e in args.env:
        names += list(PROFILES) if e == "profiles" else list(LEVERS) if e == "levers" else list(ENVIRONMENTS) if e == "all" else [e]
    runnable = []
    for n in names:
        env_vars(n)
        missing = unsupported(n)
        if missing:
            print(f"== {n}: skipped, this CPU lacks {', '.join(missing)}")
        else:
            runnable.append(n)
    names = runnable
    notebooks = [nb for nb in course_notebooks() if not args.nb or any(s in str(nb.relative_to(NOTEBOOKS)) for s in args.nb)]
    if not notebooks:
        raise SystemExit("no notebook matches --nb")
    sys.path.insert(0, str(ROOT))
    reports = []
    for name in names:
        if args.compare_only:
            base = ROOT / ".cache" / "portability" / name / "executed"
            rep = {"env": name, "notebooks": {}}
            for nb in notebooks:
                out = base / nb.relative_to(NOTEBOOKS)
                if out.exists():
                    rep["notebooks"][str(nb.relative_to(NOTEBOOKS))] = {"seconds": 0, "error": "", "diffs": compare(nb, out)}
            reports.append(rep)
            continue
        print(f"== {name}: " + (" ".join(f"{k}={v}" for k, v in env_vars(name).items()) or "this machine as it is"), flush=True)
        t = time.perf_counter()
        jobs = args.jobs or max(1, (os.cpu_count() or 2) // int(env_vars(name).get("COURSE_THREADS", 2)))
        reports.append(run_environment(name, notebooks, jobs, args.timeout, fresh=not args.keep_cache))
        print(f"== {name}: {time.perf_counter() - t:.0f} s", flush=True)
    return 1 if summarise(reports, notebooks) else 0


if __name__ == "__main__":
    sys.exit(main())

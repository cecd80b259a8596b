"""Scale check (``make check-scale``): the MODEL path at bert-base and gpt2 shape, offline.

    python bench/check_scale.py                       # both families, notebooks 03, 06, 07 + the report
    python bench/check_scale.py --families bert --notebooks 06

For each family it builds a randomly initialised model of the real shape into a temporary
directory (``helpers.models.build_random``): BERT 12 x 768 with the embedded model's
bert-base-uncased WordPiece tokenizer (30,522 types); GPT-2 12 x 768 with a byte-level BPE
tokenizer trained offline on the gensim Wikipedia sample to gpt2's 50,257 types. Then it runs the
empirical notebooks with papermill (``-p MODEL <dir>``) and ``python -m helpers.report <dir>``, each
under GNU time, and prints a table: wall time, CPU time and peak RSS of each step against the
budgets (notebook <= 180 s and <= 6 GB, report <= 300 s and <= 6 GB, on 2 idle cores). Random
weights: the numbers test time, memory and code paths, not geometry. Exit status 1 if a step fails.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {"03": "notebooks/03_layer_norm.ipynb", "06": "notebooks/06_pretrained_word_embeddings.ipynb",
             "07": "notebooks/07_contextual_layers.ipynb"}
BUDGET = {"notebook": (180.0, 6 * 1024), "report": (300.0, 6 * 1024)}


def timed(cmd, env, log):
    """Run ``cmd`` under GNU time: (exit code, wall s, CPU s, peak RSS MiB of the largest process)."""
    fmt = "%e %U %S %M"
    with open(log, "w") as f:
        proc = subprocess.run(["/usr/bin/time", "-f", fmt, "-o", str(log) + ".time", *cmd], cwd=ROOT, env=env,
                              stdout=f, stderr=subprocess.STDOUT)
    try:
        e, u, s, m = Path(str(log) + ".time").read_text().split()[-4:]
        return proc.returncode, float(e), float(u) + float(s), float(m) / 1024
    except (OSError, ValueError):
        return proc.returncode, float("nan"), float("nan"), float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--families", default="bert,gpt2")
    ap.add_argument("--notebooks", default="03,06,07")
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--shape", default="base", help="base (the real shapes) or tiny (a smoke test of this script)")
    ap.add_argument("--keep", default=None, help="directory to keep the models and outputs in (default: a temp dir)")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               TRANSFORMERS_VERBOSITY="error", HF_HUB_DISABLE_PROGRESS_BARS="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="check_scale_"))
    work.mkdir(parents=True, exist_ok=True)
    # never overwrite the course's committed figures or its claims-ledger results (.cache/results)
    env["COURSE_FIGURES_DIR"] = str(work / "figures")
    env["COURSE_CACHE_DIR"] = str(work / "cache")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores; "
          f"work dir {work}", flush=True)
    rows, failed = [], 0
    for fam in args.families.split(","):
        fam = fam.strip()
        mdir = work / f"{fam}-{args.shape}"
        t0 = time.perf_counter()
        rc, wall, cpu, rss = timed([sys.executable, "-c",
                                    f"from helpers import models; models.build_random({fam!r}, {str(mdir)!r}, {args.shape!r})"],
                                   env, work / f"build_{fam}.log")
        rows.append((fam, "build random model", rc, wall, cpu, rss, None))
        print(f"{fam}: built {mdir} in {time.perf_counter() - t0:.0f} s (exit {rc})", flush=True)
        if rc != 0:
            failed += 1
            continue
        for nb in args.notebooks.split(","):
            nb = nb.strip()
            out = work / f"{fam}_{nb}.ipynb"
            cmd = [sys.executable, "-m", "papermill", "--no-progress-bar", "-k", "python3", "-p", "MODEL", str(mdir),
                   NOTEBOOKS[nb], str(out)]
            rc, wall, cpu, rss = timed(cmd, env, work / f"{fam}_{nb}.log")
            rows.append((fam, f"notebook {nb}", rc, wall, cpu, rss, "notebook"))
            print(f"{fam}: notebook {nb}: exit {rc}, {wall:.0f} s wall, {cpu:.0f} s CPU, {rss:.0f} MiB", flush=True)
            failed += rc != 0
        if not args.no_report:
            cmd = [sys.executable, "-m", "helpers.report", str(mdir), "--out", str(work / f"report_{fam}.html"),
                   "--no-progress"]
            rc, wall, cpu, rss = timed(cmd, env, work / f"report_{fam}.log")
            rows.append((fam, "report", rc, wall, cpu, rss, "report"))
            print(f"{fam}: report: exit {rc}, {wall:.0f} s wall, {cpu:.0f} s CPU, {rss:.0f} MiB", flush=True)
            failed += rc != 0

    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'family':7} {'step':20} {'exit':>4} {'wall s':>7} {'CPU s':>7} {'peak MiB':>9}  budget")
    for fam, step, rc, wall, cpu, rss, kind in rows:
        b = ""
        if kind:
            tb, mb = BUDGET[kind]
            b = f"<= {tb:.0f} s, <= {mb} MiB: " + ("FAILED (see its log)" if rc != 0 else
                                                   "ok" if wall <= tb and rss <= mb else "OVER (wall; see CPU under load)")
        print(f"{fam:7} {step:20} {rc:>4} {wall:7.1f} {cpu:7.1f} {rss:9.0f}  {b}")
    if failed:
        print(f"{failed} step(s) failed: see the logs in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Run every benchmark of the course in one go and print the ratios (``make bench``).

    python bench/run_all.py            # the heavy steps against their baselines
    python bench/run_all.py --nbval    # ... and the whole strict-nbval run: wall time, peak memory

Each ``bench/bench_*.py`` is a standalone script that times one heavy step of the course against
its baseline (hull test vs the LP, kNN table vs the bare GEMM and sklearn, masked-only MLM
training vs all-positions) and prints its own table. Timings are wall-clock on this machine; run
on an otherwise idle machine. The README's performance section records the numbers.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd, label):
    print(f"\n=== {label} ===", flush=True)
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT)
    dt = time.perf_counter() - t
    if proc.returncode != 0:
        print(f"!!! {label} failed with exit code {proc.returncode}")
    return dt, proc.returncode


def main(argv):
    scripts = sorted(p for p in (ROOT / "bench").glob("bench_*.py"))
    failures = 0
    for s in scripts:
        _, rc = run([sys.executable, str(s)], s.name)
        failures += rc != 0
    if "--nbval" in argv:
        nbs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
               "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", *nbs]
        print("\n=== whole-course strict nbval ===", flush=True)
        t = time.perf_counter()
        rc = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        dt = time.perf_counter() - t
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"whole-course nbval: {len(nbs)} notebooks, wall {dt:.0f} s (budget 600 s), "
              f"peak RSS of the largest process {peak_mb:.0f} MB (budget 4096 MB), exit {rc}")
        failures += rc != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

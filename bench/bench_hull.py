"""Benchmark helpers.theory's hull solver against a linear programme (scipy HiGHS).

Run:  python bench/bench_hull.py            (about a minute on 2 cores)
      python bench/bench_hull.py --quick    (skips the 30,000 x 768 rows and the larger LPs)

It prints one table. For each case it reports the verdict (does conv(rows) contain the origin?),
the distance ||p*|| from the origin to the hull, the duality gap, Wolfe's major cycles, the number
of full passes over the matrix, and the wall-clock time; then it solves the same question as an LP
where the LP can finish and checks that the verdicts agree:

- "contains" LP: feasibility of  lambda >= 0, sum(lambda) = 1, H^T lambda = 0;
- l-infinity max-margin LP (what max_margin_direction(H, "linf") solves): its margin is > 0 iff
  the hull misses the origin, and, rescaled to a unit l2 vector, its l2 margin cannot beat ||p*||.

Cases: isotropic Gaussian clouds around the origin (hull contains it), shifted clouds (misses it),
and LayerNorm-like rows (zero mean, unit variance per row, then a gain and a bias as a Transformer
layer applies) -- the situation of notebook 03. Wall-clock times depend on the machine's load.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.theory import hull_certificate  # noqa: E402


def layer_norm_like(rng, n, d, bias_scale=0.5):
    X = rng.standard_normal((n, d))
    X = (X - X.mean(1, keepdims=True)) / X.std(1, keepdims=True)
    gain = 1.0 + 0.1 * rng.standard_normal(d)
    return (X * gain + bias_scale * rng.standard_normal(d)).astype(np.float32)


def shifted(rng, n, d, shift):
    H = rng.standard_normal((n, d)).astype(np.float32)
    H[:, 0] += shift
    return H


def lp_contains(H):
    n, d = H.shape
    A_eq = np.vstack([H.T.astype(np.float64), np.ones((1, n))])
    b_eq = np.r_[np.zeros(d), 1.0]
    res = linprog(np.zeros(n), A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * n, method="highs")
    return res.status == 0


def lp_linf_margin(H):
    n, d = H.shape
    c = np.zeros(d + 1)
    c[-1] = -1
    res = linprog(c, A_ub=np.hstack([H.astype(np.float64), np.ones((n, 1))]), b_ub=np.zeros(n),
                  bounds=[(-1, 1)] * d + [(None, None)], method="highs")
    u = res.x[:d]
    l2 = -(H.astype(np.float64) @ u).max() / max(np.linalg.norm(u), 1e-300)
    return res.x[-1], l2


def timed(f, *a, **k):
    t = time.perf_counter()
    out = f(*a, **k)
    return out, time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the d=768 rows and the larger LPs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    cases = [
        ("gauss around 0", rng.standard_normal((30000, 384)).astype(np.float32)),
        ("gauss shift 6", shifted(rng, 30000, 384, 6.0)),
        ("gauss shift 3", shifted(rng, 30000, 384, 3.0)),
        ("layer-norm + bias", layer_norm_like(rng, 30000, 384)),
        ("layer-norm, no bias", layer_norm_like(rng, 30000, 384, 0.0)),
    ]
    if not args.quick:
        cases += [
            ("gauss around 0", rng.standard_normal((30000, 768)).astype(np.float32)),
            ("gauss shift 6", shifted(rng, 30000, 768, 6.0)),
            ("layer-norm + bias", layer_norm_like(rng, 30000, 768)),
        ]
    lp_sizes = [(2000, 64)] if args.quick else [(2000, 64), (10000, 100), (20000, 100)]
    for n, d in lp_sizes:
        cases += [("gauss around 0", rng.standard_normal((n, d)).astype(np.float32)),
                  ("gauss shift 3", shifted(rng, n, d, 3.0))]

    hull_certificate(np.ones((2, 2)))  # warm imports
    header = (f"{'case':20s} {'n x d':>12s} {'verdict':>8s} {'||p*||':>9s} {'gap':>8s} {'cycles':>6s} "
              f"{'passes':>6s} {'wolfe s':>8s} | {'LP contains':>11s} {'s':>6s} {'linf LP t':>9s} {'s':>6s} agree")
    print(header)
    print("-" * len(header))
    all_agree = True
    for name, H in cases:
        cert, t = timed(hull_certificate, H)
        verdict = "contains" if cert.contains else "misses"
        line = (f"{name:20s} {f'{H.shape[0]}x{H.shape[1]}':>12s} {verdict:>8s} {cert.margin:9.4f} "
                f"{cert.gap:8.1e} {cert.iterations:6d} {cert.rounds:6d} {t:8.2f}")
        if H.shape[0] * H.shape[1] <= 2_000_000:
            lp_c, t1 = timed(lp_contains, H)
            (tinf, l2_of_linf), t2 = timed(lp_linf_margin, H)
            agree = (lp_c == cert.contains) and ((tinf > 1e-9) == (not cert.contains))
            if not cert.contains:
                agree = agree and l2_of_linf <= cert.margin + 1e-9
            all_agree &= agree
            line += f" | {str(lp_c):>11s} {t1:6.2f} {tinf:9.4f} {t2:6.2f} {'yes' if agree else 'NO'}"
        else:
            line += " | (LP not attempted: minutes at this size)"
        print(line, flush=True)
    print("all LP comparisons agree" if all_agree else "DISAGREEMENT with the LP")
    return 0 if all_agree else 1


if __name__ == "__main__":
    raise SystemExit(main())

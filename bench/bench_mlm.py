"""Benchmark: masked-only vocabulary logits vs the plain all-positions MLM forward + backward.

``helpers.training.masked_lm_loss`` runs ``model.bert``, gathers the ~15 % masked positions and applies
the MLM head (transform + 30,522-way decoder) to those rows only. The plain
``BertForMaskedLM(input_ids, labels=labels).loss`` applies the decoder to *every* position, and for a
small model the (B*T, V) logits dominate the cost. Both losses are equal (tests/test_training.py).

Usage:  python bench/bench_mlm.py [--steps 10] [--batch 32] [--max-len 64] [--threads 2]

The two variants alternate step by step; each runs ``--steps`` timed training steps (forward, backward, AdamW step) on the same masked
batches of the Wikipedia sample, after 2 warm-up steps, and reports tokens/s (input tokens, i.e.
batch * max_len per step) by wall-clock and by process CPU time. On a shared machine wall-clock
numbers are inflated by contention; the CPU-time figure and the ratio are more stable.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import helpers

    helpers.setup(seed=0, threads=args.threads)
    import torch

    from helpers import training as T
    from helpers.data import wiki_sample

    cfg = T.TrainConfig(max_len=args.max_len, batch_size=args.batch, dropout=0.0)
    tok = T.course_tokenizer()
    chunks = T.token_chunks(tok, wiki_sample()[:20], cfg.max_len)
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(args.steps + 2):
        idx = rng.choice(len(chunks), cfg.batch_size, replace=False)
        inp, lab = T.mask_tokens(chunks[idx], tok.mask_token_id, [tok.cls_token_id, tok.sep_token_id, tok.pad_token_id],
                                 np.unique(chunks[:, 1:-1]), cfg.mask_prob, rng)
        batches.append((torch.from_numpy(inp), torch.from_numpy(lab)))

    def full(model, inp, lab):
        return model(input_ids=inp, labels=lab).loss

    variants = {"masked-only logits (helpers.training)": T.masked_lm_loss, "all-positions logits (plain forward)": full}
    state = {}
    for name in variants:
        model = T.build_model(cfg, len(tok), tok.pad_token_id).train()
        state[name] = (model, torch.optim.AdamW(model.parameters(), lr=1e-3, foreach=True), np.zeros(4))
    # the two variants alternate step by step, so a change in machine load hits both alike
    for k, (inp, lab) in enumerate(batches):
        for name, fn in variants.items():
            model, opt, acc = state[name]
            w0, c0 = time.perf_counter(), time.process_time()
            loss = fn(model, inp, lab)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            w1, c1 = time.perf_counter(), time.process_time()
            opt.step()
            w2, c2 = time.perf_counter(), time.process_time()
            if k >= 2:  # 2 warm-up steps
                acc += (w1 - w0, c1 - c0, w2 - w1, c2 - c1)
    results = {}
    n_tok = args.steps * cfg.batch_size * cfg.max_len
    for name in variants:
        wall, cpu, wall_opt, cpu_opt = state[name][2]
        results[name] = (n_tok / wall, n_tok / cpu, n_tok / (wall + wall_opt), n_tok / (cpu + cpu_opt))
        print(f"{name}:\n  forward+backward       {n_tok / wall:8.0f} tokens/s wall  {n_tok / cpu:8.0f} tokens/CPU-s"
              f"\n  incl. AdamW step       {n_tok / (wall + wall_opt):8.0f} tokens/s wall  {n_tok / (cpu + cpu_opt):8.0f} tokens/CPU-s"
              f"   ({args.steps} steps of {cfg.batch_size}x{cfg.max_len})")
    a, b = results.values()
    print(f"speed-up of masked-only logits, forward+backward: {a[0] / b[0]:.1f}x (wall), {a[1] / b[1]:.1f}x (CPU time)")
    print(f"speed-up of masked-only logits, incl. optimiser:  {a[2] / b[2]:.1f}x (wall), {a[3] / b[3]:.1f}x (CPU time)")


if __name__ == "__main__":
    main()

"""Optimisers for the "what causes the cone?" factorial (notebook 09).

``CoupledAdam``
    Adam with decoupled weight decay (AdamW) in which, for the parameter groups marked
    ``coupled=True`` -- the vocabulary matrices, one row per word -- the second moment is
    **averaged over the vocabulary** after every update, so all rows share one second-moment vector
    (one value per hidden dimension) and hence one effective learning rate. This is Coupled Adam of
    Stollenwerk & Stollenwerk (ACL 2025, arXiv 2502.08441): with Adam, a rare word's row, whose
    gradient is small, gets a large normalised step, and the rows' updates no longer sum to zero the
    way SGD's softmax gradients do; coupling the second moment restores a common scale. On every
    other group it is exactly AdamW (``torch.optim.AdamW``'s single-tensor update, same order of
    floating-point operations).

``SignDescent``
    sign descent (``momentum=0``: signSGD) or its momentum version Signum (Bernstein et al., ICML
    2018): ``m <- momentum * m + (1 - momentum) * g``; ``p <- p - lr * sign(m)`` (plus decoupled
    weight decay). Every coordinate with a non-zero (averaged) gradient moves by exactly ``lr``;
    a coordinate whose gradient has always been exactly zero does not move. It is the
    ``beta2 -> 0`` limit of Adam's per-coordinate normalisation, so it isolates "normalised,
    sign-like steps" from Adam's running second moment.

Both are ``torch.optim.Optimizer`` subclasses; they are tested in ``tests/test_optim.py``.
"""
from __future__ import annotations

import math

import torch

__all__ = ["CoupledAdam", "SignDescent"]


def _check_number(name, value, lo=None, hi=None, lo_open=False, hi_open=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value < hi if hi_open else value <= hi
    if not ok:
        lo_s = "" if lo is None else f"{'(' if lo_open else '['}{lo}, "
        hi_s = "inf)" if hi is None else f"{hi}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must be a finite number in {lo_s}{hi_s}, got {value!r}")


class CoupledAdam(torch.optim.Optimizer):
    """AdamW whose ``coupled=True`` groups share one second moment across their rows.

    params:       parameters or parameter groups (dicts); a group may set ``coupled=True``, and
                  every parameter of such a group must be a 2-D (V, d) matrix whose rows are words.
    lr, betas, eps, weight_decay: as ``torch.optim.AdamW`` (weight decay decoupled).
    coupled:      default of the per-group flag (False: plain AdamW).

    For a coupled (V, d) parameter the state ``exp_avg_sq`` is kept at shape (V, d) like Adam's, but
    after each update every row is replaced by the mean row (Stollenwerk & Stollenwerk's
    ``v_i <- (1/V) sum_j v_j``; because the running average is linear, this equals averaging the
    squared gradients over the vocabulary at every step). The first moment stays per row.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, coupled=False):
        _check_number("lr", lr, 0, lo_open=True)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        _check_number("betas[0]", betas[0], 0, 1, hi_open=True)
        _check_number("betas[1]", betas[1], 0, 1, hi_open=True)
        _check_number("eps", eps, 0, lo_open=True)
        _check_number("weight_decay", weight_decay, 0)
        if not isinstance(coupled, bool):
            raise ValueError(f"coupled must be True or False, got {coupled!r}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, coupled=coupled)
        super().__init__(params, defaults)
        for g in self.param_groups:
            if not isinstance(g["coupled"], bool):
                raise ValueError(f"a group's 'coupled' must be True or False, got {g['coupled']!r}")
            if g["coupled"]:
                for p in g["params"]:
                    if p.ndim != 2:
                        raise ValueError(
                            f"a coupled parameter must be a 2-D (vocabulary, d) matrix, got shape {tuple(p.shape)}"
                        )

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for g in self.param_groups:
            beta1, beta2 = g["betas"]
            lr, eps, wd = g["lr"], g["eps"], g["weight_decay"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if grad.is_sparse:
                    raise ValueError("CoupledAdam does not support sparse gradients")
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                if wd != 0:
                    p.mul_(1 - lr * wd)
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if g["coupled"]:
                    exp_avg_sq.copy_(exp_avg_sq.mean(dim=0, keepdim=True).expand_as(exp_avg_sq))
                bias_correction1 = 1 - beta1**t
                bias_correction2 = 1 - beta2**t
                step_size = lr / bias_correction1
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)
                p.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


class SignDescent(torch.optim.Optimizer):
    """Sign descent: ``p <- p * (1 - lr * weight_decay) - lr * sign(m)``.

    ``momentum = 0`` gives signSGD (``m = g``); ``0 < momentum < 1`` gives Signum,
    ``m <- momentum * m + (1 - momentum) * g`` (Bernstein et al. 2018).
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0):
        _check_number("lr", lr, 0, lo_open=True)
        _check_number("momentum", momentum, 0, 1, hi_open=True)
        _check_number("weight_decay", weight_decay, 0)
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for g in self.param_groups:
            lr, mom, wd = g["lr"], g["momentum"], g["weight_decay"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise ValueError("SignDescent does not support sparse gradients")
                d = p.grad
                if mom > 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    buf = state["momentum_buffer"]
                    buf.lerp_(d, 1 - mom)
                    d = buf
                if wd != 0:
                    p.mul_(1 - lr * wd)
                p.add_(torch.sign(d), alpha=-lr)
        return loss

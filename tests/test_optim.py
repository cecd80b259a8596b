"""Tests of helpers.optim: Coupled Adam's coupling, its equality with AdamW elsewhere, sign descent."""
import math

import pytest
import torch

from helpers.optim import CoupledAdam, SignDescent


def _grads(shape, steps, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=g) * torch.rand(shape[0], 1, generator=g) ** 3 for _ in range(steps)]


def test_coupled_rows_share_one_second_moment_and_match_the_formula():
    V, d, steps, lr, b1, b2, eps = 50, 6, 5, 1e-2, 0.9, 0.999, 1e-8
    E0 = torch.randn(V, d, generator=torch.Generator().manual_seed(0))
    E = torch.nn.Parameter(E0.clone())
    opt = CoupledAdam([{"params": [E], "coupled": True}], lr=lr, betas=(b1, b2), eps=eps)
    grads = _grads((V, d), steps, 1)
    # reference, written from the paper: m per row, v averaged over the vocabulary rows
    ref, m, v = E0.clone().double(), torch.zeros(V, d, dtype=torch.float64), torch.zeros(V, d, dtype=torch.float64)
    for t, g in enumerate(grads, 1):
        E.grad = g.clone()
        opt.step()
        gd = g.double()
        m = b1 * m + (1 - b1) * gd
        v = b2 * v + (1 - b2) * gd**2
        vbar = v.mean(dim=0, keepdim=True)
        ref -= lr * (m / (1 - b1**t)) / ((vbar / (1 - b2**t)).sqrt() + eps)
    vs = opt.state[E]["exp_avg_sq"]
    assert torch.equal(vs, vs[:1].expand_as(vs)), "every embedding row must share one second-moment vector"
    assert torch.allclose(vs[0].double(), v.mean(dim=0), rtol=1e-5)
    assert torch.allclose(E.detach().double(), ref, atol=1e-6)
    # and it is not Adam: per-row second moments would have given a different result
    A = torch.nn.Parameter(E0.clone())
    adam = torch.optim.AdamW([A], lr=lr, betas=(b1, b2), eps=eps, weight_decay=0.0)
    for g in grads:
        A.grad = g.clone()
        adam.step()
    assert (A.detach() - E.detach()).abs().max() > 1e-3


def test_coupled_adam_equals_adamw_on_every_other_parameter():
    torch.manual_seed(0)
    shapes = [(7, 3), (3,), (4, 5)]
    init = [torch.randn(s) for s in shapes]
    ours = [torch.nn.Parameter(x.clone()) for x in init]
    theirs = [torch.nn.Parameter(x.clone()) for x in init]
    emb = torch.nn.Parameter(torch.randn(20, 3))
    opt = CoupledAdam([{"params": ours[:2], "weight_decay": 0.01}, {"params": ours[2:], "weight_decay": 0.0},
                       {"params": [emb], "coupled": True}], lr=3e-3)
    ref = torch.optim.AdamW([{"params": theirs[:2], "weight_decay": 0.01}, {"params": theirs[2:], "weight_decay": 0.0}],
                            lr=3e-3, foreach=False)
    for step in range(6):
        gs = [torch.randn(s) for s in shapes]
        for p, q, g in zip(ours, theirs, gs):
            p.grad, q.grad = g.clone(), g.clone()
        emb.grad = torch.randn(20, 3)
        opt.step()
        ref.step()
    for p, q in zip(ours, theirs):
        assert torch.allclose(p, q, rtol=0, atol=1e-7), (p - q).abs().max()


def test_coupled_adam_untouched_without_grad_and_bad_input():
    p = torch.nn.Parameter(torch.ones(3, 2))
    opt = CoupledAdam([{"params": [p], "coupled": True}])
    opt.step()  # no grad: nothing happens
    assert torch.equal(p.detach(), torch.ones(3, 2))
    with pytest.raises(ValueError, match="2-D"):
        CoupledAdam([{"params": [torch.nn.Parameter(torch.ones(3))], "coupled": True}])
    for bad in (dict(lr=0.0), dict(lr=float("nan")), dict(betas=(1.0, 0.9)), dict(betas=(0.9,)), dict(eps=0.0),
                dict(weight_decay=-1.0), dict(coupled="yes")):
        with pytest.raises(ValueError):
            CoupledAdam([p], **bad)
    with pytest.raises(ValueError):
        CoupledAdam([{"params": [p], "coupled": 1}])


def test_sign_descent_step():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0, 0.5]))
    opt = SignDescent([p], lr=0.1)
    p.grad = torch.tensor([0.3, -1e-6, 0.0, -5.0])
    opt.step()
    assert torch.allclose(p.detach(), torch.tensor([0.9, -1.9, 3.0, 0.6]), atol=1e-7)  # |step| = lr, zero grad: no move
    # Signum: the sign of the running average, not of the last gradient
    q = torch.nn.Parameter(torch.zeros(2))
    opt = SignDescent([q], lr=0.5, momentum=0.9)
    q.grad = torch.tensor([1.0, 1.0])
    opt.step()
    q.grad = torch.tensor([-0.05, -2.0])  # m = 0.9*0.1 + 0.1*g = [0.085, -0.11]
    opt.step()
    assert torch.allclose(q.detach(), torch.tensor([-1.0, 0.0]), atol=1e-7)
    # decoupled weight decay
    r = torch.nn.Parameter(torch.tensor([2.0]))
    opt = SignDescent([r], lr=0.1, weight_decay=0.5)
    r.grad = torch.tensor([1.0])
    opt.step()
    assert math.isclose(float(r.detach()), 2.0 * (1 - 0.05) - 0.1, rel_tol=1e-6)


def test_sign_descent_bad_input():
    p = torch.nn.Parameter(torch.zeros(2))
    for bad in (dict(lr=-1.0), dict(lr=0.0), dict(momentum=1.0), dict(momentum=-0.1), dict(weight_decay=float("inf"))):
        with pytest.raises(ValueError):
            SignDescent([p], **bad)

"""The package's one single-thread guard (used by ``_knn``, ``remedies`` and ``theory``)."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def single_thread(*, torch: bool = True, blas: bool = False):
    """Inside the ``with``: torch on one intra-op thread (``torch=True``) and/or the BLAS libraries
    (OpenBLAS, MKL) on one thread (``blas=True``, through threadpoolctl); the caller's settings are
    restored after, also when the block raises.

    - ``torch=True``: small torch fits and ``torch.topk`` on many small blocks (``_knn``, the flow, the
      weight fit, SimCSE): a second thread buys little and, on a busy machine, costs a lot of waiting;
      torch's idle OpenMP threads also compete with OpenBLAS's on the next numpy product (measured:
      ~13 % slower products on 2 cores). One thread also makes the fits independent of the caller's
      ``torch.set_num_threads``.
    - ``blas=True``: Wolfe's loop (``theory.hull_certificate``) is thousands of small BLAS calls: one
      thread is faster (and far faster when the machine is shared) than OpenBLAS waking its pool for
      each of them. Without threadpoolctl (it ships with scikit-learn) this part does nothing.
    """
    with contextlib.ExitStack() as stack:
        if blas:
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
                pass
            else:
                stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
        if torch:
            import torch as _torch

            n = _torch.get_num_threads()
            _torch.set_num_threads(1)
            stack.callback(_torch.set_num_threads, n)
        yield

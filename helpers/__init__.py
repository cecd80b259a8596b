"""Helpers for the course on representation degeneration.

One module per idea of the course:

- ``helpers.models``   -- load the embedded (offline) BERT-architecture model or a hub model.
- ``helpers.data``     -- offline data: Wikipedia sample, word-similarity sets, GloVe, token frequencies.
- ``helpers.theory``, ``helpers.simulate`` -- Gao et al.'s theorems: hulls, max-margin directions, toy softmax.
- ``helpers.training`` -- the tiny BERT trained on CPU (the lab).
- ``helpers.geometry``, ``helpers.metrics`` -- measuring embeddings: kNN tables, the metric zoo and
  what each metric is invariant to.
- ``helpers.remedies`` -- cosine regularisation, removal, whitening, flows, SimCSE.
- ``helpers.ledger`` -- measured results handed to the claims ledger.
- ``helpers.claims`` -- the claims ledger's rules: each claim a tested function of the recorded results.
- ``helpers.plotting`` -- small plotting conveniences; ``save(fig, name)`` writes ``figures/NAME.png``.

Heavy libraries (torch, transformers) are imported lazily inside the functions that need them, so
``helpers.setup()`` can set the offline/quiet environment variables *before* they are imported.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

__all__ = ["setup", "cache_dir", "figures_dir", "QUIET_ENV", "OFFLINE_ENV"]

#: Environment variables that keep stored notebook outputs stable (no progress bars, no warnings).
QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "COURSE_QUIET": "1",
}
#: Environment variables that forbid any hub access.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

from ._cache import write_atomic  # noqa: E402  (re-exported: the caches' atomic write)

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_dir(var: str, default: Path) -> Path:
    """``$var`` as a directory; a relative path is taken from the repository root, not from the working
    directory (the notebooks run in ``notebooks/`` and ``notebooks/solutions/``: they must share it)."""
    d = Path(os.environ.get(var) or default)
    return d if d.is_absolute() else _REPO_ROOT / d


def cache_dir() -> Path:
    """Directory for cached derived data (``$COURSE_CACHE_DIR``, default ``<repo>/.cache``)."""
    d = _env_dir("COURSE_CACHE_DIR", _REPO_ROOT / ".cache")
    d.mkdir(parents=True, exist_ok=True)
    return d


def figures_dir() -> Path:
    """Directory the notebooks write figures to (``$COURSE_FIGURES_DIR``, default ``<repo>/figures``)."""
    d = _env_dir("COURSE_FIGURES_DIR", _REPO_ROOT / "figures")
    d.mkdir(parents=True, exist_ok=True)
    return d


#: torch's intra-op thread count when neither ``setup(threads=...)`` nor ``$COURSE_THREADS`` says otherwise.
DEFAULT_THREADS = 2


def threads_setting(threads: int | None = None) -> int:
    """The thread count ``setup`` fixes: ``threads`` if given, else ``$COURSE_THREADS``, else 2.

    The stored outputs do not depend on it (the portability harness, ``bench/portability.py``, runs
    the course with 1, 2 and 4 threads); ``make test`` runs notebooks side by side with one each.
    """
    if threads is None:
        raw = os.environ.get("COURSE_THREADS", "").strip()
        if not raw:
            return DEFAULT_THREADS
        try:
            threads = int(raw)
        except ValueError:
            raise ValueError(f"COURSE_THREADS must be a positive integer, got {raw!r}") from None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    return threads


def _seed_torch_when_imported(seed: int, threads: int, module: str = "torch") -> None:
    """Seed torch's global generator and fix its thread count now if torch is imported, else the moment it
    is (a wrapt post-import hook): a notebook that never touches torch does not pay its ~3 s import, and
    one that does gets the same seeded state, since nothing can draw from torch's generator before it is
    imported. A later ``setup`` call's hook runs after an earlier one's, so the last seed wins, as it would."""
    import sys

    def apply(torch) -> None:
        torch.manual_seed(seed)
        torch.set_num_threads(threads)

    if module in sys.modules:
        apply(sys.modules[module])
    else:
        import wrapt

        wrapt.register_post_import_hook(apply, module)


def setup(seed: int = 0, offline: bool = True, threads: int | None = None) -> None:
    """Make a notebook reproducible and quiet.

    Call it in a notebook's first code cell, before importing transformers:

    - sets the quiet environment (no progress bars, no tokenizer warnings) and, when ``offline`` is
      true, ``HF_HUB_OFFLINE=1`` / ``TRANSFORMERS_OFFLINE=1``;
    - seeds Python's, numpy's legacy and torch's global generators with ``seed`` (torch's when it is
      first imported, if it is not yet);
    - fixes torch to ``threads`` intra-op threads (default ``$COURSE_THREADS``, else 2), so a run's
      speed does not depend on how many cores the machine has; the printed results do not depend on
      it either (checked by the portability harness).
    """
    threads = threads_setting(threads)
    for k, v in QUIET_ENV.items():
        os.environ.setdefault(k, v)
    if offline:
        os.environ.update(OFFLINE_ENV)
    import warnings

    warnings.filterwarnings("ignore", message="IProgress not found")
    warnings.filterwarnings("ignore", category=FutureWarning)
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    _seed_torch_when_imported(seed, threads)
    warnings.filterwarnings("ignore", category=UserWarning, module="transformers")
    # transformers reads TRANSFORMERS_VERBOSITY / HF_HUB_DISABLE_PROGRESS_BARS when it is imported; only an
    # already imported one needs telling (importing it here would cost every notebook ~1.5 s)
    import sys

    if "transformers" in sys.modules:
        transformers = sys.modules["transformers"]
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()

"""pytest configuration shared by the unit tests and strict nbval.

- Offline and quiet: no hub access, no progress bars, no tokenizer warnings. The notebooks' kernels
  inherit this environment (nbval is run with --nbval-current-env).
- nbval compares text outputs only: HTML and widget outputs (pandas' HTML tables, tqdm widgets)
  are skipped; every pandas table a notebook shows also has a text/plain form, which is compared.
"""
import os

from helpers import OFFLINE_ENV, QUIET_ENV

os.environ.update(OFFLINE_ENV)
for _k, _v in QUIET_ENV.items():
    os.environ.setdefault(_k, _v)

_SKIP = ("text/html", "application/javascript", "application/vnd.jupyter.widget-state+json",
         "application/vnd.jupyter.widget-view+json")


def pytest_collectstart(collector):
    if hasattr(collector, "skip_compare"):
        collector.skip_compare = tuple(collector.skip_compare) + _SKIP


# `make test` runs the notebooks side by side (pytest-xdist, --dist loadfile --no-loadscope-reorder):
# each worker takes the next file in collection order when it runs out of work. Longest first, so the
# two workers finish together; the unit tests (many short files) fill the gaps at the end. Notebooks that
# need another notebook's training run wait for it on the run's cache lock (helpers.training), never
# train it twice -- but a worker that waits is an idle core, so a notebook that reuses runs starts after the
# notebook that trains them has (probably) trained them: 09 trains the probes, 05 the lab; 08 reuses 09's
# causal-LM probes and CosReg twins (09's last runs: measured on 2026-12-03, 08 right after 05 waited ~40 s
# for them), solutions 05/09 reuse 09's probes; 02c and solutions 02c reuse 05's lab run, so they start late (02b,
# the longest part of notebook 02, trains nothing and can start third). The ledger (notebook 10) reads every
# notebook's results and runs after them, in a second pytest call.
LONGEST_FIRST = ("09_what", "05_tiny", "02b_implicit", "solutions/05_", "06_pretrained", "08_remedies", "solutions/09_",
                 "solutions/02b_", "02c_tiny", "00_setup", "03_layer", "02a_unseen", "solutions/02c_", "04_rare",
                 "07_contextual", "01_softmax")


def _rank(item):
    path = item.nodeid.split("::")[0]
    if not path.endswith(".ipynb"):
        return (len(LONGEST_FIRST) + 2, 0)
    for i, prefix in enumerate(LONGEST_FIRST):
        if prefix in path:
            return (i, 0)
    return (len(LONGEST_FIRST) + 1, 0)


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=_rank)  # stable: a notebook's cells keep their order


# COURSE_TIMELINE=FILE: each xdist worker appends one line per test item it ran ("worker file-start end file"), to
# see how `make test`'s two workers were kept busy (idle gaps, lock waits, the tail) -- a diagnostic, off by default
_TIMELINE = os.environ.get("COURSE_TIMELINE") if os.environ.get("PYTEST_XDIST_WORKER") else None
_FILE_START: dict = {}


def pytest_runtest_logstart(nodeid, location):
    if _TIMELINE:
        import time

        _FILE_START.setdefault(nodeid.split("::")[0], time.time())


def pytest_runtest_logfinish(nodeid, location):
    if _TIMELINE:
        import time

        f = nodeid.split("::")[0]
        worker = os.environ["PYTEST_XDIST_WORKER"]
        with open(_TIMELINE, "a") as fh:   # one line per item; the last line of a file gives its end
            fh.write(f"{worker} {_FILE_START[f]:.2f} {time.time():.2f} {f}\n")

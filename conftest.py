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

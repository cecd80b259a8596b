# The course's two commands (see README.md):
#   make course   execute every notebook headless, in place, writing figures to figures/
#   make test     unit tests + every notebook under strict nbval
# Both create the virtual environment .venv on first use (Python 3.11, torch 2.13.0 CPU build).

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# torch first, pinned, so nothing resolves a multi-GB CUDA build; see README to use another torch.
TORCH  ?= torch==2.13.0

# numbered notebooks, including the parts of a notebook split in three (02a_, 02b_, 02c_)
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]*_*.ipynb)) $(sort $(wildcard notebooks/solutions/*.ipynb))
# the claims ledger reads what every other notebook recorded: it runs after them (its two notebooks side by side)
LEDGER    := $(filter notebooks/10_% notebooks/solutions/10_%,$(NOTEBOOKS))
FIRST     := $(filter-out $(LEDGER),$(NOTEBOOKS))
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 1200
# two pytest-xdist workers, one notebook (file) each at a time, one thread each (the outputs do not
# depend on the thread count: `make portability`); longest notebooks first (conftest.py)
JOBS     ?= 2
PARALLEL := -n $(JOBS) --dist loadfile --no-loadscope-reorder
ONE_THREAD := COURSE_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export TRANSFORMERS_VERBOSITY := error
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# memory allocation only (no number changes; `make test` checks every output): torch's CPU tensors of >= 2 MB on
# transparent huge pages, and glibc's malloc keeps freed memory for reuse instead of unmapping it. Without them a
# training step zero-fills its ~150 MB of fresh logits, softmax and gradient pages again (23.6M page faults in one
# `make test`, 12.7M with THP alone); with both, a training step is ~8 % faster and `make test` ~20 s shorter.
export THP_MEM_ALLOC_ENABLE := 1
export MALLOC_MMAP_MAX_ := 0
export MALLOC_TRIM_THRESHOLD_ := 17179869184
export MALLOC_TOP_PAD_ := 67108864

.PHONY: venv course test unit nbval lab book slides serve-book browser-test bench clean report check-scale portability portability-ci

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $@

course: venv
	@for nb in $(NOTEBOOKS); do \
	  echo "executing $$nb"; \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.kernel_name=python3 "$$nb" || exit 1; \
	done

test: venv
	$(ONE_THREAD) $(BIN)/pytest -q -p no:cacheprovider $(PARALLEL) --durations=15 -m "not book_build" tests $(NBVAL) $(FIRST)
	$(ONE_THREAD) $(BIN)/pytest -q -p no:cacheprovider $(PARALLEL) $(NBVAL) $(LEDGER)

unit: venv
	$(ONE_THREAD) $(BIN)/pytest -q -p no:cacheprovider $(PARALLEL) tests

nbval: venv
	$(ONE_THREAD) $(BIN)/pytest -q -p no:cacheprovider $(PARALLEL) $(NBVAL) $(FIRST)
	$(ONE_THREAD) $(BIN)/pytest -q -p no:cacheprovider $(PARALLEL) $(NBVAL) $(LEDGER)

# the stored outputs under other numeric environments (BLAS kernel, torch/MKL/oneDNN code paths,
# threads): a table environment x notebook, non-zero exit on any difference (bench/portability.py)
ENVS ?= profiles
portability: venv
	$(PY) bench/portability.py --env $(ENVS)

# what .ci/run adds after `make test`: strict nbval once more in an environment that differs from this
# machine in every lever (bench/portability.py's CI_ENV), with its own cache so no stored run hides a change
PORT_DIR := $(CURDIR)/.cache/portability-ci
portability-ci: venv
	rm -rf $(PORT_DIR)
	env $$($(PY) bench/portability.py --print-env) COURSE_CACHE_DIR=$(PORT_DIR)/cache COURSE_FIGURES_DIR=$(PORT_DIR)/figures \
	  $(BIN)/pytest -q -p no:cacheprovider -n $(JOBS) --dist loadfile --no-loadscope-reorder $(NBVAL) $(FIRST)
	env $$($(PY) bench/portability.py --print-env) COURSE_CACHE_DIR=$(PORT_DIR)/cache COURSE_FIGURES_DIR=$(PORT_DIR)/figures \
	  $(BIN)/pytest -q -p no:cacheprovider -n $(JOBS) --dist loadfile --no-loadscope-reorder $(NBVAL) $(LEDGER)

# JupyterLab serves the repository root (so the notebooks' ../figures/ links resolve) and opens notebooks/;
# as root (a container) it needs --allow-root. The course's notebooks are trusted first: JupyterLab renders
# the saved widget state (sliders and the figure they redraw, before any kernel runs) only in a trusted notebook,
# and runs the scripts of the static explorables' outputs, whose sliders move with no kernel at all: BokehJS for
# them is served from the server's static files (_build/lab-static, copied from the bokeh wheel).
LAB_STATIC := $(CURDIR)/_build/lab-static
lab: venv
	@$(BIN)/jupyter trust $(NOTEBOOKS) >/dev/null
	@$(PY) -c "from helpers.static_explorable import lab_static_dir; lab_static_dir('$(LAB_STATIC)')"
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) --ServerApp.root_dir="$(CURDIR)" \
	  --ServerApp.extra_static_paths='["$(LAB_STATIC)"]' --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

# the book: a Sphinx site (myst-nb, sphinx-book-theme) of the stored, verified outputs, and the slides
# beside it (_build/slides, which the book links to); offline, no Node: every script comes from a wheel
book: venv
	$(PY) book/build.py
	$(PY) book/check.py _build/book
	@echo "open _build/book/index.html (or: make serve-book)"

# reveal.js decks alone, one per notebook (make book builds them too)
slides: venv
	$(PY) book/slides.py
	@echo "open _build/slides/index.html"

# the built book (and slides) over http on this machine only: the search page then fetches excerpts itself
PORT ?= 8000
serve-book: venv
	@[ -f _build/book/index.html ] || $(MAKE) --no-print-directory book
	@echo "serving _build/ at http://127.0.0.1:$(PORT)/book/index.html (Ctrl-C stops)"
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build

# the book and one deck in a real browser (Debian's Chromium, driven by Playwright): no request leaves the
# machine, no broken image, no raw markdown or math, nothing cut off at 390 px, search works on file://,
# static explorables' sliders change what is shown (tests/browser/; not part of make test)
CHROMIUM ?= /usr/bin/chromium
browser-test: venv
	@[ -x "$(CHROMIUM)" ] || { echo "make browser-test: no Chromium at $(CHROMIUM): apt-get install -y chromium (Debian), or make browser-test CHROMIUM=/path/to/chromium"; exit 2; }
	$(BIN)/pytest -q -p no:cacheprovider -m book_build tests/test_book.py
	COURSE_BROWSER_TEST=1 CHROMIUM="$(CHROMIUM)" $(BIN)/pytest -q -p no:cacheprovider tests/browser

bench: venv
	$(PY) bench/run_all.py

# make report [MODEL=hub-id-or-dir] [OUT=report.html] [JSON=numbers.json]: one self-contained HTML
# diagnostic page (MODEL="A B": two models side by side). Offline stays the default: only when MODEL names
# a hub id (not an existing local path, nor one spelled like a path: /x, ./x, ../x, ~/x, x/) may this one
# command reach the hub.
MODEL ?=
OUT   ?= report.html
JSON  ?=
report: venv
	@hub=; for m in $(MODEL); do case "$$m" in embedded|/*|./*|../*|~*|*/) ;; *) [ -e "$$m" ] || hub=1;; esac; done; \
	if [ -n "$$hub" ]; then \
	  echo "MODEL names a hub id: the hub may be reached for this command (HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE unset)"; \
	  unset HF_HUB_OFFLINE TRANSFORMERS_OFFLINE; \
	fi; \
	$(PY) -m helpers.report $(MODEL) --out "$(OUT)" $(if $(JSON),--json "$(JSON)")

# bert-base- and gpt2-shaped random models: notebooks 03/06/07 and the report, timed (README)
check-scale: venv
	$(PY) bench/check_scale.py

clean:
	rm -rf .cache .pytest_cache _build

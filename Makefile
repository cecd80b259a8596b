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

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb)) $(sort $(wildcard notebooks/solutions/*.ipynb))
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 600

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export TRANSFORMERS_VERBOSITY := error
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: venv course test unit nbval lab book slides bench clean report check-scale

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
	$(BIN)/pytest -q -p no:cacheprovider --durations=15 tests $(NBVAL) $(NOTEBOOKS)

unit: venv
	$(BIN)/pytest -q -p no:cacheprovider tests

nbval: venv
	$(BIN)/pytest -q -p no:cacheprovider $(NBVAL) $(NOTEBOOKS)

lab: venv
	$(BIN)/jupyter lab notebooks/

# the book: a Sphinx site (myst-nb, sphinx-book-theme) of the stored, verified outputs; offline
book: venv
	$(PY) book/build.py
	$(PY) book/check.py _build/book
	@echo "open _build/book/index.html"

# reveal.js decks, one per notebook (reveal.js from the npm registry on the first build)
slides: venv
	$(PY) book/slides.py
	@echo "open _build/slides/index.html"

bench: venv
	$(PY) bench/run_all.py

# make report [MODEL=hub-id-or-dir] [OUT=report.html]: one self-contained HTML diagnostic page
MODEL ?=
OUT   ?= report.html
report: venv
	$(PY) -m helpers.report $(MODEL) --out $(OUT)

# bert-base- and gpt2-shaped random models: notebooks 03/06/07 and the report, timed (README)
check-scale: venv
	$(PY) bench/check_scale.py

clean:
	rm -rf .cache .pytest_cache _build

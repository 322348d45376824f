# Every target bootstraps .venv from requirements.txt when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Use the venv's own "python3" kernel, whatever kernels the user has installed elsewhere.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
# The course's models are tiny: one PyTorch thread per process is faster than several, and
# parallel test workers do not fight over the cores. Idle OpenMP threads sleep instead of
# spinning. Override on the command line, e.g. make lab OMP_NUM_THREADS=4.
export OMP_NUM_THREADS ?= 1
export OMP_WAIT_POLICY := PASSIVE
# No MPLBACKEND here: a kernel that inherits MPLBACKEND=Agg shows no figures (ipykernel only
# selects its inline backend when MPLBACKEND is unset), so the site and Lab would lose them.
# Headless runs pick Agg by themselves; tests that draw call matplotlib.use("Agg").
PORT ?= 8000
# The site is built on MKL's AVX2 code path, exactly as the tests build it; the tests run the
# notebooks a second time, through nbval, on another path (tests/conftest.py, README).
SITE_NUMERICS := env -u ATEN_CPU_CAPABILITY MKL_CBWR=AVX2

# Jupyter refuses to run as root without --allow-root (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_ARGS ?=

.PHONY: help book test unit lint lab serve bench benchmark dist clean pdf

help:
	@echo "make book   build the website into _build/html (runs changed notebooks; FORCE=1: all)"
	@echo "make pdf    print the built book into one PDF, _build/html/pdf/ (builds it if needed)"
	@echo "make test   lint, unit tests, notebooks (nbval), site build and browser tests"
	@echo "make unit   the fast unit tests of helpers (tests/unit), under a minute"
	@echo "make lab    open Jupyter Lab in the project's environment (extra flags: LAB_ARGS=...)"
	@echo "make serve  serve the built site on http://127.0.0.1:$(PORT)"
	@echo "make bench  time the optimizers, fit_copies and the notebooks, weigh the pages, check the budgets"
	@echo "make benchmark  rerun the benchmarking chapter's study (AlgoPerf-style), about 30 min"
	@echo "make dist   build the helpers wheel and sdist into dist/"
	@echo "make clean  remove the build and caches (keeps .venv)"

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

# make book executes only the notebooks whose code changed since the last build (cached in
# _build/.jupyter_cache), and all of them when helpers/ changed (their hash is kept in
# _build/.helpers-hash) or with FORCE=1. The tests always execute every notebook.
# book/_ext/execute_notebooks.py executes them one per core into that cache; the book build
# then only reads their outputs.
HELPERS_HASH = $(shell cat pyproject.toml $$(find helpers -type f \( -name '*.py' -o -name '*.json' \) | sort) | sha256sum | cut -c1-16)
FORCE ?=

book: $(STAMP)
	@if [ -n "$(FORCE)" ] || [ "$$(cat _build/.helpers-hash 2>/dev/null)" != "$(HELPERS_HASH)" ]; then \
		echo "helpers changed (or FORCE): every notebook runs again"; \
		rm -rf _build/.jupyter_cache _build/.doctrees _build/jupyter_execute; fi
	$(SITE_NUMERICS) $(PY) book/_ext/execute_notebooks.py
	$(SITE_NUMERICS) $(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "$(HELPERS_HASH)" > _build/.helpers-hash
	@echo "Open _build/html/index.html in a browser, or run: make serve"

# The book build prints the PDF too, when Chromium is there (book/_ext/course_site.py);
# this prints it again from the built pages, with the system's Chromium.
pdf: $(STAMP)
	@test -f _build/html/index.html || $(MAKE) book
	$(PY) book/_ext/course_site.py pdf

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(PY) -m pytest -n 2 --dist loadscope --nbval-lax --nbval-current-env book tests

unit: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "not slow" tests/unit

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) $(LAB_ARGS) book/

serve:
	@test -f _build/html/index.html || { echo "No site yet: run make book first"; exit 1; }
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

bench: $(STAMP)
	$(PY) benchmarks/optim_step.py
	$(PY) benchmarks/side_by_side.py
	$(PY) benchmarks/site_report.py

benchmark: $(STAMP)
	nice -n 10 $(PY) benchmarks/benchmark_study.py

dist: $(STAMP)
	$(PY) -m build --no-isolation --outdir dist .

clean:
	rm -rf _build build dist .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

# Set-up needs only Python 3.10+ and make: everything else comes from the package index.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# The tests start about 2,000 Pythons (wsdoctor, its pytest children): with no bytecode cache each
# of them compiles pytest, rich and wsdoctor again, which doubles the suite's time.
unexport PYTHONDONTWRITEBYTECODE
# The child plugin must work on the oldest interpreter and pytest it supports: when a
# Python 3.9 is on this machine, the tests also run it against pytest 7.0.
COMPAT_PYTHON ?= $(shell for p in python3.9 $$(ls $$(pyenv root 2>/dev/null)/versions/3.9*/bin/python3.9 \
	2>/dev/null); do $$p -c '' >/dev/null 2>&1 && { command -v $$p; break; }; done)
COMPAT_VENV := .venv-compat
# A pytest with pytest-randomly, for `bisect --randomly-seed`; not in .venv, where it would
# shuffle every pytest run of wsdoctor's own tests.
RANDOMLY_VENV := .venv-randomly
# `fix` must advise what works on the interpreter the suite runs on: its stub fixture for a module
# in sys.modules is proven on Python 3.11 and 3.12 too, where this machine has them (pyenv).
FIX_PYTHONS ?= $(shell for v in 3.11 3.12; do for p in python$$v $$(ls $$(pyenv root 2>/dev/null)/versions/$$v*/bin/python$$v \
	2>/dev/null); do $$p -c '' >/dev/null 2>&1 && { command -v $$p; break; }; done; done)
FIX_VENVS := .venv-fix

.PHONY: demo test fast fast-coverage lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[demo]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/wsdoctor demo

# The checks and the venvs the tests need are made two at a time: mypy, ruff and pip do not wait for
# each other (a fresh clone's set-up took 60 s in series).
test:
	@$(MAKE) --no-print-directory -j2 lint typecheck unit

# The fast layer: no child processes (tests marked e2e start them), under a minute.
fast: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

# What the fast layer covers on its own.
fast-coverage: $(VENV)/.dev-installed
	$(BIN)/python -m coverage run --source=wsdoctor --omit='wsdoctor/demo/*' -m pytest -q -m "not e2e" $(PYTEST_ARGS)
	$(BIN)/python -m coverage report

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check wsdoctor tests benchmarks

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

$(COMPAT_VENV)/.state: pyproject.toml
	@if [ -n "$(COMPAT_PYTHON)" ]; then \
	  $(COMPAT_PYTHON) -m venv $(COMPAT_VENV) && \
	  $(COMPAT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'pytest==7.0.*' && \
	  echo "$(CURDIR)/$(COMPAT_VENV)/bin/python" > $@; \
	else echo "no Python 3.9 here: the Python 3.9 / pytest 7.0 compatibility tests will be skipped"; \
	  mkdir -p $(COMPAT_VENV) && : > $@; fi

$(RANDOMLY_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RANDOMLY_VENV)
	$(RANDOMLY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pytest pytest-randomly
	touch $@

$(FIX_VENVS)/.state: pyproject.toml
	@mkdir -p $(FIX_VENVS) && : > $@.new
	@for p in $(FIX_PYTHONS); do \
	  v=$$($$p -c 'import sys; print("%d.%d" % sys.version_info[:2])') && \
	  $$p -m venv $(FIX_VENVS)/$$v && \
	  $(FIX_VENVS)/$$v/bin/python -m pip install --quiet --disable-pip-version-check pytest websockets && \
	  printf '%s:' "$(CURDIR)/$(FIX_VENVS)/$$v/bin/python" >> $@.new || exit 1; \
	done
	@[ -s $@.new ] || echo "no Python 3.11 or 3.12 here: fix's proof on them will be skipped"
	@mv $@.new $@

# Two pytest-xdist workers: one end-to-end test seldom keeps two cores busy (its wsdoctor often
# waits on a single child), two side by side do. A scenario's shared runs and bisects are made once
# for both (tests/conftest.py). TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 2

unit: $(VENV)/.dev-installed $(COMPAT_VENV)/.state $(RANDOMLY_VENV)/.installed $(FIX_VENVS)/.state
	WSDOCTOR_COMPAT_PYTHON="$$(cat $(COMPAT_VENV)/.state)" \
	WSDOCTOR_FIX_PYTHONS="$$(cat $(FIX_VENVS)/.state)" \
	WSDOCTOR_RANDOMLY_PYTHON="$(CURDIR)/$(RANDOMLY_VENV)/bin/python" \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_bisect.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_ci.py
	$(BIN)/python benchmarks/bench_fix.py

clean:
	rm -rf $(VENV) $(COMPAT_VENV) $(RANDOMLY_VENV) .coverage .wsdoctor .pytest_cache .mypy_cache .ruff_cache build *.egg-info

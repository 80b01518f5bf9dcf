# Two commands for a fresh machine with only Python 3.11+ and pip:
#   make demo   run the offline demo
#   make test   run the test suite
# Both bootstrap .venv from the committed lock file first (once; again when the lock or
# pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CODE   := journal machine projections cli adapters sandbox view
PYTEST_ARGS ?=
DEMO_DIR ?=

.PHONY: demo test lint fmt lock clean help
.DEFAULT_GOAL := help

help:
	@echo "make demo    run the offline demo (sets up .venv on first use; DEMO_DIR=dir keeps it there)"
	@echo "make test    run the test suite (sets up .venv on first use)"
	@echo "make lint    ruff check, ruff format --check, mypy --strict"
	@echo "make fmt     ruff format + ruff check --fix"
	@echo "make lock    re-resolve requirements.lock from pyproject.toml"

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dmj needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --only-binary=:all: -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	@# mypy cannot follow setuptools' editable import hook, so give it the same dmj.* names
	@# through directory symlinks: new modules appear without any reinstall.
	mkdir -p $(VENV)/src/dmj
	for d in $(CODE); do ln -sfn "$(CURDIR)/$$d" "$(VENV)/src/dmj/$$d"; done
	touch $@

demo: $(STAMP)
	$(BIN)/dmj demo $(DEMO_DIR)

test: $(STAMP)
	@# pytest exits 5 when it collected no tests; that alone is not a failure.
	@# Two workers (pytest-xdist): the end-to-end tests wait on real processes. PYTEST_ARGS="-n 0"
	@# runs serially.
	$(BIN)/pytest -n 2 --dist worksteal $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy -p dmj
	$(BIN)/mypy tests benchmarks

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock:
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet pip-tools
	$(VENV)-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	  --extra test --extra dev --output-file requirements.lock pyproject.toml
	rm -rf $(VENV)-lock

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Two entry points for a fresh clone: `make demo` (main job) and `make test`.
# Both create .venv with Python 3.12 (pyenv reads .python-version) and install the project.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
VENV := .venv
STAMP := $(VENV)/.installed
OUT ?= results/compare

.PHONY: demo test test-fast lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Python 3.12+ is needed (pyenv install 3.12)"'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/smartcity compare --out $(OUT)

# The view's browser test needs the viz extra, Playwright and Debian's chromium; chromium is
# installed with apt-get when missing and running as root (otherwise that test skips).
UI_STAMP := $(VENV)/.installed-ui
$(UI_STAMP): $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e ".[dev,ui-test]"
	touch $(UI_STAMP)

# The API reference site (mkdocs.yml): pages from docs/, the tutorial notebooks and every
# module's docstrings, into results/site/; warnings are errors.
DOCS_STAMP := $(VENV)/.installed-docs
$(DOCS_STAMP): $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e ".[dev,docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

test: $(UI_STAMP) $(DOCS_STAMP)
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped"; fi
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet
	$(VENV)/bin/python -m pytest -q

# Everyday work: lint, the layer contract and every test not marked slow.
test-fast: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(VENV)/bin/python -m benchmarks

clean:
	rm -rf $(VENV) results

# The README's two commands: `make demo` and `make test`.
# Each creates .venv (once), installs the CPU build of torch first, then the
# package with its extras.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup demo test lint wheel-check docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test,examples]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/python examples/demo.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q
	$(MAKE) wheel-check

# Build the wheel and sdist, install the wheel into a clean environment and
# import it, so a file missing from the package fails here, not for a user.
wheel-check: setup
	rm -rf dist $(VENV)-wheel
	$(BIN)/python -m build -q --sdist --wheel --outdir dist . > /dev/null
	$(PYTHON) -m venv $(VENV)-wheel
	$(VENV)-wheel/bin/python -m pip install -q "$(TORCH_SPEC)"
	$(VENV)-wheel/bin/python -m pip install -q dist/*.whl
	cd /tmp && $(CURDIR)/$(VENV)-wheel/bin/python -c "import sklearn_bert; \
	  from sklearn_bert import BertTransformer; \
	  X = BertTransformer().fit_transform(['a b', 'c']); \
	  assert X.shape == (2, 384), X.shape; \
	  print('wheel', sklearn_bert.__version__, 'imports and encodes:', X.shape)"

bench: setup
	$(BIN)/python -m pip install -q -e ".[benchmarks]"
	$(BIN)/python benchmarks/bench_encode.py

clean:
	rm -rf $(VENV) $(VENV)-wheel dist build *.egg-info

# The HTML docs, warnings as errors (all of them listed before it fails).
# docs/generated/ (autosummary's stubs) is rewritten each time so a renamed or
# removed API object leaves no stale page. SKLEARN_BERT_PLOT_GALLERY=1 also
# runs the gallery's examples (about 2 minutes each on a CPU).
DOCS_HTML ?= docs/_build/html
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

docs: setup
	$(BIN)/python -m pip install -q -e ".[docs]"
	rm -rf docs/generated
	$(BIN)/python -m sphinx -W --keep-going -b html docs $(DOCS_HTML)

# Build, then open the site in headless Chromium (docs/check_site.py): pages
# render, images load, search finds the API page; screenshots go to
# docs/_build/screenshots/. Installs Debian's chromium and chromium-driver
# when missing, and selenium into the venv.
.PHONY: docs-check
docs-check: docs
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium chromium-driver; }
	$(BIN)/python -m pip install -q selenium
	$(BIN)/python docs/check_site.py $(DOCS_HTML)

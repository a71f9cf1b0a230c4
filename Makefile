# The README's two commands: `make demo` and `make test`.
# Each creates .venv (once), installs torch first ($(TORCH_SPEC), from the
# index pip is configured with: on Linux x86-64 PyPI's is the CUDA build,
# several GB), then the package with the extras the command needs: `demo`
# the examples' data packages, `test` those and the test tools.
# TORCH_INDEX_URL, when set, is the one index torch comes from, e.g. the
# CPU-only build: make test TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX_URL ?=
TORCH_INSTALL = "$(TORCH_SPEC)" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup demo test lint wheel-check docs bench clean test-bfloat16

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH_INSTALL)
	$(BIN)/python -m pip install -q -e ".[test,examples]"
	touch $(VENV)/.installed-examples $@

# What the demo needs (no test extra); a full setup covers it too.
$(VENV)/.installed-examples: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH_INSTALL)
	$(BIN)/python -m pip install -q -e ".[examples]"
	touch $@

setup: $(VENV)/.installed

demo: $(VENV)/.installed-examples
	$(BIN)/python examples/demo.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q
	$(MAKE) wheel-check

# The numerically sensitive tests as a CPU with bfloat16 units runs them
# (precision="auto" is then bfloat16; emulated, and slower, where the units
# are missing) and as one without them runs them, whatever this CPU has
# (SKLEARN_BERT_TEST_BFLOAT16, read by tests/_precision.py only).
NUMERIC_TESTS ?= tests/test_transformer.py tests/test_classifier.py \
	tests/test_token.py tests/test_export.py tests/test_engine.py \
	tests/test_dask.py tests/test_distributed.py tests/test_machines.py \
	tests/test_speed_features.py tests/test_persistence.py tests/test_chunk.py \
	tests/test_fusion.py tests/test_qa.py tests/test_contrastive.py \
	tests/test_transformer_finetune.py tests/test_mlm.py tests/test_calibration.py \
	tests/test_inspection.py tests/test_model_card.py

test-bfloat16: setup
	SKLEARN_BERT_TEST_BFLOAT16=native $(BIN)/python -m pytest -q $(NUMERIC_TESTS)
	SKLEARN_BERT_TEST_BFLOAT16=absent $(BIN)/python -m pytest -q $(NUMERIC_TESTS)

# Build the wheel and sdist, install the wheel into a clean environment and
# import it from the wheel (not from this checkout), so a file missing from
# the package fails here, not for a user. The clean environment reuses the
# torch of $(VENV) instead of installing it again: torch and the packages it
# requires are linked into $(WHEEL_VENV)/venv-torch, a folder on its path
# (a .pth file) outside its site-packages, so pip counts them as installed
# and can never remove them, and nothing else of $(VENV) is visible
# (sklearn_bert included). With another Python than $(VENV)'s, torch is
# installed as in setup.
WHEEL_VENV ?= $(VENV)-wheel

define LINK_TORCH
import importlib.metadata as md, os, re, subprocess, sys

def key(requirement):
    return re.sub(r"[-_.]+", "-", re.match(r"[\w.-]+", requirement)[0]).lower()

venv = os.path.abspath(sys.argv[1])
purelib, tag = subprocess.check_output([f"{venv}/bin/python", "-c", "import sys, sysconfig; print(sysconfig.get_path('purelib'), sys.implementation.cache_tag)"], text=True).split()
if tag != sys.implementation.cache_tag:
    sys.exit(f"{venv} runs {tag}, torch here is for {sys.implementation.cache_tag}")
dists, todo = {}, ["torch"]
while todo:
    name = key(todo.pop())
    if name not in dists:
        try:
            dists[name] = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        todo += [r for r in dists[name].requires or [] if "extra ==" not in r]
links = os.path.join(venv, "venv-torch")
os.makedirs(links)
for dist in dists.values():
    for top in {f.parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
        if not os.path.lexists(os.path.join(links, top)):
            os.symlink(dist.locate_file(top), os.path.join(links, top))
with open(os.path.join(purelib, "venv-torch.pth"), "w") as pth:
    pth.write(links + "\n")
print(f"torch {md.version('torch')} and the {len(dists) - 1} packages it requires: linked from {sys.prefix}")
endef
export LINK_TORCH

wheel-check: setup
	rm -rf dist $(WHEEL_VENV)
	$(BIN)/python -m build -q --sdist --wheel --outdir dist . > /dev/null
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(BIN)/python -c "$$LINK_TORCH" $(WHEEL_VENV) || \
	  $(WHEEL_VENV)/bin/python -m pip install -q $(TORCH_INSTALL)
	$(WHEEL_VENV)/bin/python -m pip install -q dist/*.whl
	cd /tmp && $(abspath $(WHEEL_VENV))/bin/python -c "import sklearn_bert; \
	  assert sklearn_bert.__file__.startswith('$(abspath $(WHEEL_VENV))/lib/'), \
	    sklearn_bert.__file__; \
	  from sklearn_bert import BertTransformer; \
	  X = BertTransformer().fit_transform(['a b', 'c']); \
	  assert X.shape == (2, 384), X.shape; \
	  from importlib.resources import files; \
	  assert (files('sklearn_bert') / 'py.typed').is_file(), 'no py.typed'; \
	  print('wheel', sklearn_bert.__version__, 'imports and encodes:', X.shape)"

bench: setup
	$(BIN)/python -m pip install -q -e ".[benchmarks]"
	$(BIN)/python benchmarks/bench_encode.py

clean:
	rm -rf $(VENV) $(WHEEL_VENV) dist build *.egg-info

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

# Other Pythons and the lowest dependency versions (docs/install.rst, "Tested
# Python and dependency versions"). Each gets its own venv, built by the
# setup rules above: `make test-python PY=3.13` (.venv-py3.13, torch
# $(TORCH_SPEC), the default suite) and `make test-lowest` (.venv-lowest on
# Python 3.11, every runtime dependency at the floor pinned in
# $(LOWEST_REQS), used as pip constraints; the test and examples extras take
# whatever versions fit those pins). TEST_ARGS picks tests, e.g.
# `make test-python PY=3.12 TEST_ARGS="tests/test_common.py"`.
LOWEST_REQS ?= requirements/lowest.txt
LOWEST_PY ?= 3.11
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
# $(call find_python,3.13): pyenv's newest 3.13.N, else python3.13 on PATH.
find_python = $(or $(shell ls -d $(PYENV_ROOT)/versions/$(1).*/bin/python3 \
	2>/dev/null | grep -E '/versions/$(subst .,\.,$(1))\.[0-9]+/' | sort -V | tail -n 1), \
	$(shell command -v python$(1) 2>/dev/null))
need_python = $(if $(call find_python,$(1)),, \
	$(error No Python $(1): looked in $(PYENV_ROOT)/versions/$(1).*/bin and for \
	python$(1) on PATH; install it, e.g. pyenv install $(1)))

.PHONY: test-python test-lowest
test-python:
	$(if $(PY),,$(error Usage: make test-python PY=3.12))
	$(call need_python,$(PY))
	$(MAKE) setup VENV=.venv-py$(PY) PYTHON=$(call find_python,$(PY))
	.venv-py$(PY)/bin/python -m pytest -q $(TEST_ARGS)

# A changed pin reinstalls into .venv-lowest (an extra prerequisite of the
# .installed rule above; pip then moves each package to its pin).
.venv-lowest/.installed: $(LOWEST_REQS)

test-lowest:
	$(call need_python,$(LOWEST_PY))
	PIP_CONSTRAINT="$(CURDIR)/$(LOWEST_REQS)" $(MAKE) setup VENV=.venv-lowest \
	  PYTHON=$(call find_python,$(LOWEST_PY)) TORCH_SPEC=torch
	.venv-lowest/bin/python -m pytest -q $(TEST_ARGS)

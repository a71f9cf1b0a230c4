"""Sphinx configuration of the sklearn_bert documentation.

Build with ``make docs`` (``sphinx-build -W -b html docs docs/_build/html``);
``make docs-check`` also opens the built site in headless Chromium
(``docs/check_site.py``). The published site,
https://sklearn-bert.readthedocs.io/, is built by Read the Docs from
``.readthedocs.yaml`` with this file, in the same way (the gallery not run,
nothing fetched from the Hugging Face hub).

The example gallery is shown without running the examples by default, so the
build is fast and offline. ``SKLEARN_BERT_PLOT_GALLERY=1 make docs`` (or
``sphinx-build -D plot_gallery=1 ...``) runs them, and then any example that
raises stops the build.

Links to Python, NumPy, scikit-learn, pandas, PyTorch, transformers and skorch
go through intersphinx with the inventories in ``docs/_inventories/``, written
offline from the installed packages by ``docs/_inventories/make_inventories.py``.
With ``SKLEARN_BERT_INTERSPHINX_ONLINE=1`` (a build machine with internet, such
as Read the Docs) the real inventories are downloaded first and the local files
are only the fallback.
"""

import os
import sys
from importlib.util import find_spec, module_from_spec, spec_from_file_location
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import sklearn_bert

project = "sklearn_bert"
author = "sklearn_bert developers"
copyright = "sklearn_bert developers"
release = sklearn_bert.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
default_role = "literal"

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- example gallery ----------------------------------------------------------
# Examples are named ``examples/plot_*.py``. They are shown, not executed, by
# default: the docs build in seconds without a model run. Each takes about two
# minutes on a CPU when run: set SKLEARN_BERT_PLOT_GALLERY=1 (or pass
# ``-D plot_gallery=1``) to run them all, e.g. before a release.
_TRUE = {"1", "true", "yes", "on"}


def _flag(value):
    return str(value).strip().lower() in _TRUE


RUN_GALLERY = _flag(os.environ.get("SKLEARN_BERT_PLOT_GALLERY", "0"))
# Top-level options of sphinx-gallery (they override sphinx_gallery_conf's);
# plot_gallery is a string option so that ``-D plot_gallery=1`` works.
plot_gallery = str(RUN_GALLERY)
# A failing example stops the build at once instead of being reported at the
# end (and ``-D plot_gallery=1`` turns this on too, see _gallery_run_aborts).
abort_on_example_error = RUN_GALLERY

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # Only files named plot_*.py are gallery examples (matched on the file name,
    # or on a full path): demo.py and helpers stay out.
    "ignore_pattern": r"(^|[/\\])(?!plot_)[^/\\]*$",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    # Figures: matplotlib's (the examples plot with it), written at 1x and 2x
    # for high-density screens. Estimators' and DataFrames' HTML reprs show as
    # HTML in the page (capture_repr).
    "image_scrapers": ("matplotlib",),
    "image_srcset": ["2x"],
    "capture_repr": ("_repr_html_", "__repr__"),
    "reset_modules": ("matplotlib",),
    # Thumbnails: the example's first figure (or the one that a comment
    # ``# sphinx_gallery_thumbnail_number = N`` in the example picks); this
    # image for an example without figures, or when the examples are not run.
    "default_thumb_file": str(Path(__file__).parent / "_static" / "gallery_thumb.png"),
    "thumbnail_size": (400, 280),
    # Run only examples whose source changed since their last run.
    "run_stale_examples": False,
    "only_warn_on_example_error": False,
    "show_memory": False,
}


def _gallery_run_aborts(app, config):
    """``-D plot_gallery=1`` without the environment variable aborts on errors too."""
    if _flag(config.plot_gallery):
        config.abort_on_example_error = True


# -- HTML ---------------------------------------------------------------------
if find_spec("pydata_sphinx_theme") is not None:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
    }
else:  # pragma: no cover - fallback when the docs extra is not installed
    html_theme = "alabaster"
# The theme's colour mode before the reader picks one ("auto": the system's);
# without it the theme logs "Got invalid theme mode" on a first visit.
html_context = {"default_mode": "auto"}
html_title = f"sklearn_bert {release}"
# The canonical address of each page: Read the Docs gives it to the build
# (empty elsewhere, which leaves the pages without one).
html_baseurl = os.environ.get("READTHEDOCS_CANONICAL_URL", "")
html_static_path = ["_static"]
# Long code literals in table cells wrap (tables then fit the page).
html_css_files = ["sklearn_bert.css"]


# -- intersphinx ----------------------------------------------------------------
# Inventories written offline (see docs/_inventories/make_inventories.py),
# linking to the real sites. They also resolve the :ref: labels and :term:s
# (``accuracy_score``, ``meta-estimator``, ...) of the docstrings that the
# estimators inherit from scikit-learn.
INVENTORIES = Path(__file__).parent / "_inventories"
INTERSPHINX_ONLINE = _flag(os.environ.get("SKLEARN_BERT_INTERSPHINX_ONLINE", "0"))


def _intersphinx_mapping():
    """``intersphinx_mapping``, and the names of the inventory files missing."""
    path = INVENTORIES / "make_inventories.py"
    spec = spec_from_file_location("make_inventories", path)
    generator = module_from_spec(spec)
    spec.loader.exec_module(generator)
    mapping, missing = {}, []
    for key, (_project, url) in generator.PROJECTS.items():
        local = INVENTORIES / f"{key}.inv"
        if INTERSPHINX_ONLINE and key not in generator.NO_REMOTE_INVENTORY:
            # The real inventory first; the local one if the download fails.
            mapping[key] = (url, (None, str(local)) if local.is_file() else None)
        elif local.is_file():
            mapping[key] = (url, str(local))
        else:
            missing.append(local.name)
    return mapping, missing


intersphinx_mapping, MISSING_INVENTORIES = _intersphinx_mapping()
intersphinx_timeout = 10


def _report_missing_inventories(app, config):
    if MISSING_INVENTORIES:
        from sphinx.util import logging

        logging.getLogger(__name__).info(
            "intersphinx: no %s in %s, links to those projects are left out; "
            "write them with `python docs/_inventories/make_inventories.py`.",
            ", ".join(MISSING_INVENTORIES),
            INVENTORIES,
        )


def setup(app):
    app.connect("config-inited", _gallery_run_aborts)
    app.connect("config-inited", _report_missing_inventories)

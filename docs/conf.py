"""Sphinx configuration of the sklearn_bert documentation.

Build with ``make docs`` (or ``sphinx-build -b html docs docs/_build/html``).
The example gallery is rendered without running the examples, so the build is
fast and offline; run them with ``sphinx-build -D plot_gallery=1 ...`` or
``SKLEARN_BERT_PLOT_GALLERY=1 make docs``.
"""

import os
import sys
from importlib.util import find_spec
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
# default: the docs build in seconds without a model run. Override with
# ``-D plot_gallery=1`` or the SKLEARN_BERT_PLOT_GALLERY environment variable.
plot_gallery = os.environ.get("SKLEARN_BERT_PLOT_GALLERY", "False")
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
}

# -- HTML ---------------------------------------------------------------------
if find_spec("pydata_sphinx_theme") is not None:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
    }
else:  # pragma: no cover - fallback when the docs extra is not installed
    html_theme = "alabaster"
html_title = f"sklearn_bert {release}"
html_static_path = ["_static"]


# -- scikit-learn's own labels ------------------------------------------------
# Methods inherited from scikit-learn (``set_output``, ``get_metadata_routing``)
# carry :ref: links to labels of scikit-learn's documentation; point them there
# instead of leaving dangling references.
SKLEARN_DOCS = "https://scikit-learn.org/stable/"
SKLEARN_LABELS = {
    "metadata_routing": "metadata_routing.html",
    "df_output_transform": "auto_examples/miscellaneous/plot_set_output.html",
    "sphx_glr_auto_examples_miscellaneous_plot_set_output.py": (
        "auto_examples/miscellaneous/plot_set_output.html"
    ),
}


def _sklearn_reference(app, env, node, contnode):
    target = node.get("reftarget")
    if node.get("refdomain") != "std" or target not in SKLEARN_LABELS:
        return None
    from docutils import nodes

    text = contnode.astext() if contnode is not None else target
    ref = nodes.reference("", "", internal=False)
    ref["refuri"] = SKLEARN_DOCS + SKLEARN_LABELS[target]
    ref.append(nodes.inline(text, text))
    return ref


def setup(app):
    app.connect("missing-reference", _sklearn_reference)

"""Write the offline intersphinx inventories kept in this folder.

The docs build has no network, so ``intersphinx`` cannot download the real
``objects.inv`` of scikit-learn, NumPy, Python, pandas, PyTorch, transformers
and skorch. This script writes stand-ins: for each project it lists the public
API of the *installed* package and gives each object the URL it has on the
project's documentation site (the site's known page layout), plus the glossary
terms and cross-reference labels that the docstrings which ``sklearn_bert``
inherits from scikit-learn use (``:term:`meta-estimator```,
``:ref:`accuracy <accuracy_score>```, ...).

``docs/conf.py`` reads the files written here as the inventories and the real
sites as the link targets. Regenerate them after upgrading a dependency::

    .venv/bin/python docs/_inventories/make_inventories.py          # all
    .venv/bin/python docs/_inventories/make_inventories.py sklearn  # one

Output: ``<key>.inv`` (Sphinx inventory version 2) beside this file for each
key of ``PROJECTS``. The files are sorted and compressed deterministically, so
an unchanged environment gives byte-identical files. Only the standard library
and Sphinx (to read the files back as a check) are used besides the
documented packages themselves.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import inspect
import os
import pkgutil
import re
import sys
import warnings
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# key -> (project name, base URL of its documentation)
PROJECTS = {
    "python": ("Python", "https://docs.python.org/3/"),
    "numpy": ("NumPy", "https://numpy.org/doc/stable/"),
    "sklearn": ("scikit-learn", "https://scikit-learn.org/stable/"),
    "pandas": ("pandas", "https://pandas.pydata.org/docs/"),
    "torch": ("PyTorch", "https://docs.pytorch.org/docs/stable/"),
    "transformers": ("transformers", "https://huggingface.co/docs/transformers/en/"),
    "skorch": ("skorch", "https://skorch.readthedocs.io/en/stable/"),
}
# Sites that publish no objects.inv (transformers' docs are not built with
# Sphinx): the file written here is their only inventory, online or not.
NO_REMOTE_INVENTORY = {"transformers"}


# -- helpers ------------------------------------------------------------------


def make_id(text: str) -> str:
    """The HTML id Sphinx gives a glossary term (``sphinx.util.nodes._make_id``)."""
    text = " ".join(text.split())
    text = re.sub(r"[^a-zA-Z0-9._]+", "-", text)
    return re.sub(r"^[-0-9._]+|-+$", "", text)


def docutils_id(label: str) -> str:
    """The HTML id docutils gives an explicit target such as ``.. _r2_score:``."""
    from docutils.nodes import make_id as _make_id

    return _make_id(label)


def public(name: str) -> bool:
    return not name.startswith("_")


def import_quietly(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except Exception:  # optional dependency missing, platform-only module
            return None


def members(cls) -> dict[str, str]:
    """Public methods and properties of a class (inherited ones too): name -> role."""
    out = {}
    for name in dir(cls):
        if not public(name):
            continue
        try:
            static = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if isinstance(static, property):
            out[name] = "py:property"
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = getattr(cls, name)
        except Exception:  # descriptors that refuse class access
            continue
        if inspect.isclass(value):
            continue
        if callable(value):
            out[name] = "py:method"
    return out


def role_of(obj) -> str | None:
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if inspect.isroutine(obj) or callable(obj):
        return "py:function"
    return None


class Inventory:
    """Entries of one ``objects.inv``: name -> (role, priority, uri, dispname)."""

    def __init__(self, key: str):
        self.key = key
        self.project, self.base = PROJECTS[key]
        self.entries: dict[tuple[str, str], tuple[int, str, str]] = {}
        self.problems: list[str] = []  # reported by main(), which then fails

    def add(self, name, role, uri, dispname="-", priority=1):
        if " " in role or not uri or "\n" in name:
            raise ValueError((name, role, uri))
        self.entries.setdefault((name, role), (priority, uri, dispname))

    def py(self, name, role, page, anchor=None):
        """A Python object on ``page``, anchored at its full name by default."""
        self.add(name, role, f"{page}#{name if anchor is None else anchor}")

    def term(self, term, page="glossary.html"):
        self.add(term.lower(), "std:term", f"{page}#term-{make_id(term)}", term, -1)

    def label(self, label, page, title, anchor=None):
        anchor = docutils_id(label) if anchor is None else anchor
        self.add(label, "std:label", f"{page}#{anchor}", title or "-", -1)

    def write(self, version: str) -> Path:
        lines = []
        for (name, role), (priority, uri, disp) in sorted(self.entries.items()):
            if uri.endswith("#" + name):  # the format's shorthand
                uri = uri[: -len(name)] + "$"
            lines.append(f"{name} {role} {priority} {uri} {disp}\n")
        header = (
            "# Sphinx inventory version 2\n"
            f"# Project: {self.project}\n"
            f"# Version: {version}\n"
            "# The remainder of this file is compressed using zlib.\n"
        )
        body = zlib.compress("".join(lines).encode("utf-8"), 9)
        path = HERE / f"{self.key}.inv"
        path.write_bytes(header.encode("utf-8") + body)
        return path


def short_version(module) -> str:
    version = getattr(module, "__version__", "")
    return ".".join(version.split("+")[0].split(".")[:2])


# -- scikit-learn -------------------------------------------------------------

# Labels of scikit-learn's user guide that the docstrings of its base classes
# and mixins (``BaseEstimator``, ``ClassifierMixin.score``, ``set_output``,
# ``set_*_request``, ...) and of the tools our users combine the estimators
# with refer to: label -> (page, title). The anchor is docutils' id of the
# label, as on the real site.
SKLEARN_LABELS = {
    "accuracy_score": ("modules/model_evaluation.html", "Accuracy score"),
    "r2_score": (
        "modules/model_evaluation.html",
        "R² score, the coefficient of determination",
    ),
    "model_evaluation": ("modules/model_evaluation.html", "Metrics and scoring"),
    "scoring_parameter": (
        "modules/model_evaluation.html",
        "The scoring parameter: defining model evaluation rules",
    ),
    "scoring_api_overview": ("modules/model_evaluation.html", "Scoring API overview"),
    "scoring_string_names": ("modules/model_evaluation.html", "String name scorers"),
    "scoring_callable": ("modules/model_evaluation.html", "Callable scorers"),
    "multimetric_scoring": (
        "modules/model_evaluation.html",
        "Using multiple metric evaluation",
    ),
    "metadata_routing": ("metadata_routing.html", "Metadata Routing"),
    "df_output_transform": (
        "modules/df_output_transform.html",
        "Pandas/Polars Output for Transformers with set_output API",
    ),
    "randomness": ("common_pitfalls.html", "Controlling randomness"),
    "rolling_your_own_estimator": (
        "developers/develop.html",
        "Rolling your own estimator",
    ),
    "developer_api_set_output": (
        "developers/develop.html",
        "Developer API for set_output",
    ),
    "estimator_tags": ("developers/develop.html", "Estimator Tags"),
    "combining_estimators": (
        "modules/compose.html",
        "Pipelines and composite estimators",
    ),
    "pipeline": ("modules/compose.html", "Pipeline: chaining estimators"),
    "feature_union": (
        "modules/compose.html",
        "FeatureUnion: composite feature spaces",
    ),
    "column_transformer": (
        "modules/compose.html",
        "ColumnTransformer for heterogeneous data",
    ),
    "make_column_transformer": ("modules/compose.html", "make_column_transformer"),
    "visualizing_composite_estimators": (
        "modules/compose.html",
        "Visualizing Composite Estimators",
    ),
    "cross_validation": (
        "modules/cross_validation.html",
        "Cross-validation: evaluating estimator performance",
    ),
    "multimetric_cross_validation": (
        "modules/cross_validation.html",
        "The cross_validate function and multiple metric evaluation",
    ),
    "permutation_test_score": (
        "modules/cross_validation.html",
        "Permutation test score",
    ),
    "grid_search": (
        "modules/grid_search.html",
        "Tuning the hyper-parameters of an estimator",
    ),
    "multimetric_grid_search": (
        "modules/grid_search.html",
        "Specifying multiple metrics for evaluation",
    ),
    "randomized_parameter_search": (
        "modules/grid_search.html",
        "Randomized Parameter Optimization",
    ),
    "learning_curve": ("modules/learning_curve.html", "Learning curve"),
    "validation_curve": ("modules/learning_curve.html", "Validation curve"),
    "text_feature_extraction": (
        "modules/feature_extraction.html",
        "Text feature extraction",
    ),
    "model_persistence": ("model_persistence.html", "Model persistence"),
    "glossary": ("glossary.html", "Glossary of Common Terms and API Elements"),
    "user_guide": ("user_guide.html", "User Guide"),
    "api_ref": ("api/index.html", "API Reference"),
}

# Glossary terms our own pages may use, on top of every term that scikit-learn's
# docstrings use (collected from the installed sources below).
# fmt: off
SKLEARN_TERMS = [
    "array-like", "classifier", "clone", "cloned", "cross-validation", "cv",
    "CV splitter", "estimator", "estimators", "feature", "features", "fit",
    "fit_transform", "fitted", "get_feature_names_out", "hyperparameter",
    "meta-estimator", "meta-estimators", "metadata routing", "multiclass",
    "multilabel", "multioutput", "n_jobs", "n_samples", "n_features", "parameter",
    "parameters", "pipeline", "predict", "predict_proba", "random_state",
    "regressor", "sample_weight", "scorer", "scoring", "set_params", "get_params",
    "transform", "transformer", "warm_start",
]
# fmt: on

SKIP_PARTS = {"tests", "externals", "conftest", "experimental"}
# Sources of the base classes and mixins whose methods (score, set_output,
# set_*_request, get_metadata_routing, ...) sklearn_bert's estimators inherit.
SKLEARN_INHERITED_FROM = [
    "base.py",
    "utils/_set_output.py",
    "utils/_metadata_requests.py",
    "utils/_tags.py",
    "utils/_repr_html/estimator.py",
]


def sklearn_inventory(inv: Inventory) -> str:
    import sklearn

    src = Path(sklearn.__file__).parent
    modules = {"sklearn": sklearn}
    for info in pkgutil.walk_packages(sklearn.__path__, "sklearn."):
        parts = info.name.split(".")
        if any(not public(p) or p in SKIP_PARTS for p in parts):
            continue
        module = import_quietly(info.name)
        if module is not None:
            modules[info.name] = module

    # Every public (module, name) that exposes each object; pick one name per
    # object: from a module whose __all__ lists it, else the module closest to
    # where the object is defined.
    candidates: dict[int, list[tuple[tuple, str, object]]] = {}
    for modname, module in modules.items():
        listed = getattr(module, "__all__", None)
        names = listed if listed is not None else [n for n in dir(module) if public(n)]
        for name in names:
            obj = getattr(module, name, None)
            if obj is None or inspect.ismodule(obj) or role_of(obj) is None:
                continue
            defined_in = getattr(obj, "__module__", "") or ""
            if not defined_in.startswith("sklearn"):
                continue
            common = os.path.commonprefix([defined_in + ".", modname + "."])
            rank = (listed is not None, len(common.split(".")), -len(modname))
            candidates.setdefault(id(obj), []).append((rank, f"{modname}.{name}", obj))

    generated = "modules/generated/"
    for options in candidates.values():
        _, qualname, obj = max(options, key=lambda o: o[0])
        page = f"{generated}{qualname}.html"
        inv.py(qualname, role_of(obj), page)
        if inspect.isclass(obj):
            for member, role in members(obj).items():
                inv.py(f"{qualname}.{member}", role, page)

    for modname in modules:
        top = ".".join(modname.split(".")[:2])
        inv.py(modname, "py:module", f"api/{top}.html", f"module-{modname}")

    # Glossary terms and labels used by the installed docstrings.
    text = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in src.rglob("*.py")
        if "tests" not in p.parts
    )
    terms = set(SKLEARN_TERMS)
    labels = set()
    for role, target in re.findall(r":(term|ref):`([^`]+)`", text):
        target = " ".join(target.split())
        match = re.search(r"<([^<>]+)>$", target)
        target = match.group(1) if match else target
        (terms if role == "term" else labels).add(target)
    for term in sorted(terms):
        inv.term(term)
    for label, (page, title) in SKLEARN_LABELS.items():
        inv.label(label, page, title)
    # Example pages of scikit-learn's gallery: sphx_glr_auto_examples_<dir>_<file>.py
    for label in sorted(labels):
        match = re.fullmatch(
            r"sphx_glr_auto_examples_(?:(\w+?)_)?(plot_\w+)\.py", label
        )
        if match:
            folder = f"{match.group(1)}/" if match.group(1) else ""
            inv.label(label, f"auto_examples/{folder}{match.group(2)}.html", None)

    # The labels that the estimators' inherited docstrings use must all be
    # there, or the docs build warns: a new scikit-learn may add one.
    inherited = "\n".join(
        (src / path).read_text(encoding="utf-8") for path in SKLEARN_INHERITED_FROM
    )
    for target in re.findall(r":ref:`(?:[^`<]*<)?([^`<>]+)>?`", inherited):
        if (target, "std:label") not in inv.entries:
            inv.problems.append(
                f"label {target!r} (used by scikit-learn's base classes) has no "
                "page: add it to SKLEARN_LABELS"
            )
    return short_version(sklearn)


# -- NumPy --------------------------------------------------------------------

# fmt: off
NUMPY_TERMS = [
    "array", "array_like", "array scalar", "broadcast", "C order", "contiguous",
    "copy", "dtype", "fancy indexing", "field", "flattened", "homogeneous",
    "ndarray", "record array", "scalar", "shape", "stride", "structured array",
    "subarray", "ufunc", "vectorization", "view",
]
# fmt: on


def numpy_inventory(inv: Inventory) -> str:
    import numpy as np

    gen = "reference/generated/"
    for name in sorted(np.__all__):
        obj = getattr(np, name, None)
        role = role_of(obj)
        if role is None or inspect.ismodule(obj):
            continue
        qual = f"numpy.{name}"
        if inspect.isclass(obj) and issubclass(obj, np.generic):
            inv.py(qual, "py:class", "reference/arrays.scalars.html")
            continue
        page = f"{gen}{qual}.html"
        inv.py(qual, role, page)
        if obj is np.ndarray or obj is np.dtype:
            for member, mrole in members(obj).items():
                inv.py(f"{qual}.{member}", mrole, f"{gen}{qual}.{member}.html")
    for name in sorted(np.linalg.__all__):
        if role_of(getattr(np.linalg, name, None)):
            qual = f"numpy.linalg.{name}"
            inv.py(qual, role_of(getattr(np.linalg, name)), f"{gen}{qual}.html")
    rgen = "reference/random/"
    for name in sorted(np.random.__all__):
        obj = getattr(np.random, name, None)
        if role_of(obj) is None:
            continue
        qual = f"numpy.random.{name}"
        if inspect.isclass(obj):
            page = {
                "Generator": "generator.html",
                "RandomState": "legacy.html",
                "SeedSequence": f"bit_generators/generated/{qual}.html",
                "BitGenerator": f"bit_generators/generated/{qual}.html",
            }.get(name, f"bit_generators/{name.lower()}.html")
            inv.py(qual, "py:class", rgen + page)
            if name in {"Generator", "RandomState"}:
                for member, mrole in members(obj).items():
                    inv.py(
                        f"{qual}.{member}",
                        mrole,
                        f"{rgen}generated/{qual}.{member}.html",
                    )
        elif name == "default_rng":
            inv.py(qual, "py:function", rgen + "generator.html")
        else:
            inv.py(qual, "py:function", f"{rgen}generated/{qual}.html")
    inv.py("numpy", "py:module", "reference/index.html", "module-numpy")
    inv.py("numpy.random", "py:module", rgen + "index.html", "module-numpy.random")
    inv.py(
        "numpy.linalg",
        "py:module",
        "reference/routines.linalg.html",
        "module-numpy.linalg",
    )
    for term in NUMPY_TERMS:
        inv.term(term)
    return short_version(np)


# -- pandas -------------------------------------------------------------------

# fmt: off
PANDAS_CLASSES_WITH_MEMBERS = [
    "DataFrame", "Series", "Index", "MultiIndex", "RangeIndex", "Categorical",
    "CategoricalIndex", "CategoricalDtype", "Timestamp", "Timedelta",
]
# fmt: on


def pandas_inventory(inv: Inventory) -> str:
    import pandas as pd

    api = "reference/api/"
    for name in sorted(pd.__all__):
        obj = getattr(pd, name, None)
        role = role_of(obj)
        if role is None or inspect.ismodule(obj):
            continue
        qual = f"pandas.{name}"
        inv.py(qual, role, f"{api}{qual}.html")
        if name in PANDAS_CLASSES_WITH_MEMBERS:
            for member, mrole in members(obj).items():
                inv.py(f"{qual}.{member}", mrole, f"{api}{qual}.{member}.html")
    # Series.str: the accessor that text columns use.
    from pandas.core.strings.accessor import StringMethods

    for member, mrole in members(StringMethods).items():
        qual = f"pandas.Series.str.{member}"
        inv.py(
            qual, "py:method" if mrole == "py:method" else mrole, f"{api}{qual}.html"
        )
    for modname in ("pandas.api.types", "pandas.errors"):
        module = importlib.import_module(modname)
        for name in sorted(module.__all__):
            role = role_of(getattr(module, name, None))
            if role:
                inv.py(f"{modname}.{name}", role, f"{api}{modname}.{name}.html")
    inv.py("pandas", "py:module", "reference/index.html", "module-pandas")
    return short_version(pd)


# -- PyTorch ------------------------------------------------------------------

TORCH_CLASS_PAGES = {
    "Tensor": "tensors.html",
    "Size": "size.html",
    "device": "tensor_attributes.html",
    "dtype": "tensor_attributes.html",
    "layout": "tensor_attributes.html",
    "memory_format": "tensor_attributes.html",
    "Generator": "generated/torch.Generator.html",
    "no_grad": "generated/torch.no_grad.html",
    "enable_grad": "generated/torch.enable_grad.html",
    "inference_mode": "generated/torch.autograd.grad_mode.inference_mode.html",
    "set_grad_enabled": "generated/torch.autograd.grad_mode.set_grad_enabled.html",
    "autocast": "amp.html",
}


def torch_inventory(inv: Inventory) -> str:
    import torch
    import torch.nn
    import torch.nn.functional
    import torch.optim
    import torch.optim.lr_scheduler
    import torch.utils.data

    gen = "generated/"
    for name, page in TORCH_CLASS_PAGES.items():
        inv.py(f"torch.{name}", "py:class", page)
    for member, role in members(torch.Tensor).items():
        qual = f"torch.Tensor.{member}"
        inv.py(qual, role, f"{gen}{qual}.html")
    for name in sorted(torch.__all__):
        obj = getattr(torch, name, None)
        if name[0].isupper() or inspect.isclass(obj) or not callable(obj):
            continue  # the public classes are listed above; the rest is internal
        inv.py(f"torch.{name}", "py:function", f"{gen}torch.{name}.html")
    for name in sorted(torch.nn.modules.__all__):
        obj = getattr(torch.nn, name, None)
        if inspect.isclass(obj):
            inv.py(f"torch.nn.{name}", "py:class", f"{gen}torch.nn.{name}.html")
    for member, role in members(torch.nn.Module).items():
        inv.py(f"torch.nn.Module.{member}", role, f"{gen}torch.nn.Module.html")
    param = "torch.nn.parameter.Parameter"
    inv.py(param, "py:class", f"{gen}{param}.html")
    inv.py("torch.nn.Parameter", "py:class", f"{gen}{param}.html", param)
    for name in dir(torch.nn.functional):
        obj = getattr(torch.nn.functional, name)
        if public(name) and inspect.isroutine(obj) and name[0].islower():
            qual = f"torch.nn.functional.{name}"
            inv.py(qual, "py:function", f"{gen}{qual}.html")
    for name in sorted(torch.optim.__all__):
        obj = getattr(torch.optim, name, None)
        if inspect.isclass(obj):
            qual = f"torch.optim.{name}"
            page = "optim.html" if name == "Optimizer" else f"{gen}{qual}.html"
            inv.py(qual, "py:class", page)
    for member, role in members(torch.optim.Optimizer).items():
        qual = f"torch.optim.Optimizer.{member}"
        inv.py(qual, role, f"{gen}{qual}.html")
    for name in sorted(torch.optim.lr_scheduler.__all__):
        if inspect.isclass(getattr(torch.optim.lr_scheduler, name, None)):
            qual = f"torch.optim.lr_scheduler.{name}"
            inv.py(qual, "py:class", f"{gen}{qual}.html")
    for name in sorted(torch.utils.data.__all__):
        obj = getattr(torch.utils.data, name, None)
        role = role_of(obj)
        if role:
            inv.py(f"torch.utils.data.{name}", role, "data.html")
    for name in ("is_available", "device_count", "manual_seed", "empty_cache"):
        inv.py(f"torch.cuda.{name}", "py:function", f"{gen}torch.cuda.{name}.html")
    for name in ("is_available", "is_built"):
        inv.py(f"torch.backends.mps.{name}", "py:function", "backends.html")
    for modname, page in {
        "torch": "torch.html",
        "torch.nn": "nn.html",
        "torch.nn.functional": "nn.functional.html",
        "torch.optim": "optim.html",
        "torch.utils.data": "data.html",
        "torch.cuda": "cuda.html",
    }.items():
        inv.py(modname, "py:module", page, f"module-{modname}")
    return short_version(torch)


# -- transformers -------------------------------------------------------------

# Module of the transformers package -> page of its documentation.
TRANSFORMERS_PAGES = {
    "modeling_utils": "main_classes/model",
    "configuration_utils": "main_classes/configuration",
    "tokenization_utils_base": "main_classes/tokenizer",
    "tokenization_utils_tokenizers": "main_classes/tokenizer",
    "tokenization_python": "main_classes/tokenizer",
    "tokenization_utils": "main_classes/tokenizer",
    "trainer": "main_classes/trainer",
    "training_args": "main_classes/trainer",
    "trainer_callback": "main_classes/callback",
    "modeling_outputs": "main_classes/output",
    "optimization": "main_classes/optimizer_schedules",
    "data.data_collator": "main_classes/data_collator",
    "feature_extraction_utils": "main_classes/feature_extractor",
    "feature_extraction_sequence_utils": "main_classes/feature_extractor",
    "processing_utils": "main_classes/processors",
}


def transformers_inventory(inv: Inventory) -> str:
    import transformers

    # The lazy module knows where every public name lives without importing it.
    for name, module in sorted(transformers._class_to_module.items()):
        if module.startswith("utils.dummy"):
            continue
        if module.startswith("models.auto."):
            page = "model_doc/auto"
        elif module.startswith("models."):
            page = "model_doc/" + module.split(".")[1].replace("_", "-")
        elif module.startswith("pipelines"):
            page = "main_classes/pipelines"
        elif module.startswith("generation"):
            page = "main_classes/text_generation"
        else:
            page = TRANSFORMERS_PAGES.get(module)
        if page is None:
            continue
        role = "py:class" if name[0].isupper() else "py:function"
        inv.py(f"transformers.{name}", role, page)
    inv.py("transformers", "py:module", "index", "module-transformers")
    return short_version(transformers)


# -- skorch -------------------------------------------------------------------

# fmt: off
SKORCH_PAGES = [
    "callbacks", "classifier", "dataset", "exceptions", "helper", "hf", "history",
    "llm", "net", "probabilistic", "regressor", "scoring", "toy", "utils",
]
# fmt: on


def skorch_inventory(inv: Inventory) -> str:
    import skorch

    # One page per module (``.. automodule:: skorch.<page>`` with :members:).
    for page in SKORCH_PAGES:
        modname = f"skorch.{page}"
        module = import_quietly(modname)
        if module is None:
            continue
        inv.py(modname, "py:module", f"{page}.html", f"module-{modname}")
        listed = getattr(module, "__all__", None)
        for name in listed if listed is not None else dir(module):
            obj = getattr(module, name, None)
            if not public(name) or role_of(obj) is None:
                continue
            if listed is None and getattr(obj, "__module__", None) != modname:
                continue
            qual = f"{modname}.{name}"
            inv.py(qual, role_of(obj), f"{page}.html")
            if inspect.isclass(obj):
                for member, role in members(obj).items():
                    if member in vars(obj):  # autodoc :members: shows own members
                        inv.py(f"{qual}.{member}", role, f"{page}.html")
    return short_version(skorch)


# -- Python -------------------------------------------------------------------

# fmt: off
PYTHON_MODULES = [
    "abc", "argparse", "collections", "collections.abc", "contextlib", "copy",
    "dataclasses", "datetime", "enum", "functools", "glob", "hashlib",
    "http.server", "importlib", "inspect", "io", "itertools", "json", "logging",
    "math", "numbers", "operator", "os", "os.path", "pathlib", "pickle", "random",
    "re", "shutil", "string", "subprocess", "sys", "tempfile", "textwrap",
    "threading", "time", "types", "typing", "unicodedata", "urllib.parse",
    "urllib.request", "warnings", "zipfile", "zlib",
]
# fmt: on
# Builtin classes documented in stdtypes.html (the others are in functions.html).
# fmt: off
PYTHON_STDTYPES = {
    "bytearray", "bytes", "dict", "frozenset", "list", "memoryview", "range", "set",
    "str", "tuple",
}
# fmt: on


def python_inventory(inv: Inventory) -> str:
    for name in dir(builtins):
        obj = getattr(builtins, name)
        if not public(name):
            continue
        if name in {"None", "True", "False", "NotImplemented", "Ellipsis"}:
            inv.py(name, "py:data", "library/constants.html")
        elif inspect.isclass(obj) and issubclass(obj, BaseException):
            inv.py(name, "py:exception", "library/exceptions.html")
        elif inspect.isclass(obj):
            page = "stdtypes" if name in PYTHON_STDTYPES else "functions"
            inv.py(name, "py:class", f"library/{page}.html")
            if name in PYTHON_STDTYPES:
                for member, role in members(obj).items():
                    inv.py(f"{name}.{member}", role, "library/stdtypes.html")
        elif callable(obj):
            inv.py(name, "py:function", "library/functions.html")
    for modname in PYTHON_MODULES:
        module = import_quietly(modname)
        if module is None:
            continue
        page = f"library/{modname}.html"
        inv.py(modname, "py:module", page, f"module-{modname}")
        listed = getattr(module, "__all__", None)
        for name in listed if listed is not None else dir(module):
            obj = getattr(module, name, None)
            if not public(name) or obj is None or inspect.ismodule(obj):
                continue
            role = role_of(obj) or "py:data"
            qual = f"{modname}.{name}"
            inv.py(qual, role, page)
            if inspect.isclass(obj):
                for member, mrole in members(obj).items():
                    if member in vars(obj):
                        inv.py(f"{qual}.{member}", mrole, page)
    for term in (
        "iterable",
        "sequence",
        "mapping",
        "callable",
        "path-like object",
        "file object",
        "hashable",
        "generator",
        "context manager",
    ):
        inv.term(term)
    return f"{sys.version_info.major}.{sys.version_info.minor}"


BUILDERS = {
    "python": python_inventory,
    "numpy": numpy_inventory,
    "sklearn": sklearn_inventory,
    "pandas": pandas_inventory,
    "torch": torch_inventory,
    "transformers": transformers_inventory,
    "skorch": skorch_inventory,
}


def check(path: Path, base: str) -> int:
    """Read the file back the way intersphinx does; return its entry count."""
    from sphinx.util.inventory import InventoryFile

    data = InventoryFile.loads(path.read_bytes(), uri=base)
    return sum(len(v) for v in data.data.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("keys", nargs="*", help=f"any of {', '.join(BUILDERS)}")
    keys = parser.parse_args(argv).keys or list(BUILDERS)
    unknown = sorted(set(keys) - set(BUILDERS))
    if unknown:
        parser.error(f"unknown key(s) {unknown}; choose from {list(BUILDERS)}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    problems = []
    for key in keys:
        inv = Inventory(key)
        version = BUILDERS[key](inv)
        path = inv.write(version)
        count = check(path, inv.base)
        problems += [f"{key}: {problem}" for problem in sorted(set(inv.problems))]
        print(
            f"{path.relative_to(HERE.parents[1])}: {inv.project} {version}, "
            f"{count} entries, {path.stat().st_size // 1024} KiB -> {inv.base}"
        )
    for problem in problems:
        print(f"make_inventories: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

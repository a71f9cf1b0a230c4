"""Benchmarks and examples use only the public API, read from their code (``ast``).

Public: names importable from ``sklearn_bert`` or from its modules with no
leading underscore in any part of their path (``sklearn_bert.metrics``), and
no attribute or method whose name starts with one. Every ``.py`` file under
``benchmarks/`` and ``examples/`` is read (a benchmarks helper such as
``_harness.py`` is not the library: its own name may be private). Flagged,
with file and line:

- an import of a private module of the package (``from sklearn_bert._engine
  import x``, ``import sklearn_bert._text``) or of a private name from a public
  one (``from sklearn_bert.metrics import _x``), at any level (imports inside
  functions included);
- any access to an attribute with a private name (``BertTransformer._embed``,
  ``estimator._resolved_device()``; dunders such as ``__version__`` are fine),
  also through ``getattr`` / ``setattr`` / ``delattr`` with a literal name;
- a string naming a private path of the package, as ``importlib`` or
  ``unittest.mock.patch`` take (``"sklearn_bert._engine.net.BertNet"``).

The attribute rule is deliberately strict: these scripts show what a user can
do, and a private attribute of any object is nothing a user should rely on.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "sklearn_bert"
FILES = sorted(
    path
    for folder in ("benchmarks", "examples")
    for path in (ROOT / folder).rglob("*.py")
)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_path(dotted: str) -> bool:
    """A dotted path into the package with a private part."""
    parts = dotted.split(".")
    return parts[0] == PACKAGE and any(_private(p) for p in parts[1:])


def violations(source: str) -> list[tuple[int, str]]:
    """(line, what) for each use of the package's private API in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _private_path(alias.name):
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = node.module
            if module.split(".")[0] != PACKAGE:
                continue
            if _private_path(module):
                found.append((node.lineno, f"from {module} import ..."))
            for alias in node.names:
                if _private(alias.name):
                    found.append((node.lineno, f"from {module} import {alias.name}"))
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            found.append((node.lineno, f"attribute .{node.attr}"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "delattr", "hasattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append((node.lineno, f"{node.func.id}(..., {node.args[1].value!r})"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _private_path(node.value)
        ):
            found.append((node.lineno, f"string {node.value!r}"))
    return sorted(found)


def test_there_are_scripts_to_read():
    names = {p.name for p in FILES}
    assert "bench_cache.py" in names and "demo.py" in names, names


def test_benchmarks_and_examples_use_only_the_public_api():
    bad = [
        f"{path.relative_to(ROOT)}:{line} {what}"
        for path in FILES
        for line, what in violations(path.read_text(encoding="utf-8"))
    ]
    assert not bad, "private API of sklearn_bert used:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "source",
    [
        "from sklearn_bert._engine import net",
        "from sklearn_bert._engine.net import BertNet",
        "import sklearn_bert._text",
        "import sklearn_bert._text.tokenize as t",
        "from sklearn_bert import _tasks",
        "from sklearn_bert.metrics import _token_f1",
        "def f():\n    from sklearn_bert._io.loading import model_folder",
        "from sklearn_bert import BertTransformer\nBertTransformer._embed = None",
        "from sklearn_bert import BertTransformer\nf = BertTransformer._embed",
        "import sklearn_bert\nsklearn_bert._tasks.transformer",
        "est.fit(X)._resolved_device()",
        "setattr(BertTransformer, '_embed', f)",
        "getattr(est, '_weights_digest_')",
        "patch('sklearn_bert._engine.net.BertNet')",
        "importlib.import_module('sklearn_bert._text')",
    ],
)
def test_the_reader_flags_private_uses(source):
    assert violations(source), source


@pytest.mark.parametrize(
    "source",
    [
        "import sklearn_bert\nsklearn_bert.__version__",
        "from sklearn_bert import BertTransformer, clear_cache",
        "from sklearn_bert.metrics import squad_f1",
        "import _harness as h\nh.model_folder()",
        "from bench_small_data import load_task",
        "from . import _harness",
        "est.tokenizer_\nest.net_.module_",
        "getattr(clf, 'history_', None)",
        "type(x).__name__",
        "'sklearn_bert'",
    ],
)
def test_the_reader_passes_public_uses(source):
    assert not violations(source), violations(source)

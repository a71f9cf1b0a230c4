"""The package's layering, read from its imports (``ast``), not from memory.

Imports flow one way (CONTRIBUTING.md, "Layout")::

    sklearn_bert (__init__, metrics, inspection, conformal)
      -> _tasks   (the estimators and their helpers)
      -> _engine  (bases, training net, datasets, the inference loop)
      -> _nn, _params (torch modules; shared parameters)
      -> _text, _io (text handling; model files), _version, _typing

A module may import its own layer or any layer below, never one above;
``_text`` and ``_io`` do not import each other; no import cycle exists, lazy
(function-level) imports included; only ``_io`` imports transformers and only
``_engine`` imports skorch.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_bert"

#: Layer of each top-level part of the package (higher imports lower).
LAYERS = {
    "_version": 0,
    "_typing": 0,  # type aliases for annotations; imports nothing of ours
    "_text": 0,
    "_io": 0,
    "_nn": 1,
    "_params": 1,
    "_engine": 2,
    "_tasks": 3,
    "metrics": 4,
    "inspection": 4,
    "conformal": 4,
    "__init__": 4,
}
#: Public modules: re-exports of names defined in private modules.
PUBLIC_MODULES = {"metrics", "inspection", "conformal"}
#: Parts of one layer that must not import each other.
SEPARATE = {frozenset({"_text", "_io"}), frozenset({"_nn", "_params"})}
#: Third-party packages only one part may import.
OWNERS = {"transformers": "_io", "skorch": "_engine"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """Absolute names imported by a module, with line numbers (every level)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # ``from . import x`` may import a submodule x
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _part(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for t, _ in _imports(name, path) if t in modules}
        graph[name] = targets - {name}
    return graph


def test_every_part_has_a_layer():
    parts = {_part(name) for name in _modules()}
    assert parts <= set(LAYERS), parts - set(LAYERS)


def test_imports_never_go_up_a_layer():
    bad = []
    for name, path in _modules().items():
        here = _part(name)
        for target, line in _imports(name, path):
            if not target.startswith("sklearn_bert"):
                continue
            there = _part(target)
            if LAYERS[there] > LAYERS[here] or frozenset({here, there}) in SEPARATE:
                bad.append(f"{path.name}:{line} {name} imports {target}")
    assert not bad, "\n".join(bad)


def test_third_party_doors():
    bad = []
    for name, path in _modules().items():
        for target, line in _imports(name, path):
            top = target.split(".")[0]
            if top in OWNERS and _part(name) != OWNERS[top]:
                bad.append(f"{name}:{line} imports {top} (only {OWNERS[top]} may)")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            assert cycle is None, " -> ".join(cycle)


def test_estimator_modules_are_private():
    import sklearn_bert

    for name in sklearn_bert.__all__:
        obj = getattr(sklearn_bert, name)
        if isinstance(obj, type):
            # defined in a private module, named by its public path (what
            # pickles and skops files record)
            code = next(f for f in vars(obj).values() if inspect.isfunction(f))
            defined = Path(inspect.getsourcefile(code)).relative_to(PACKAGE)
            assert len(defined.parts) > 1, f"{name} in {defined}"
            assert defined.parts[0].startswith("_"), f"{name} in {defined}"
            assert obj.__module__ == "sklearn_bert", name
    public = [
        p.stem
        for p in PACKAGE.glob("*.py")
        if not p.stem.startswith("_") and p.stem not in PUBLIC_MODULES
    ]
    assert public == []


@pytest.mark.parametrize(
    "line, layer, target",
    [
        ("from .._tasks import transformer", "_nn", "sklearn_bert._tasks"),
        ("from ..._engine.net import BertNet", "_text", "sklearn_bert._engine.net"),
        ("import skorch", "_text", "skorch"),
    ],
)
def test_the_import_reader_resolves_relative_imports(tmp_path, line, layer, target):
    # A probe module that the rules above would reject.
    probe = tmp_path / "probe.py"
    probe.write_text(line + "\n")
    depth = "sub." if line.startswith("from ...") else ""
    found = [t for t, _ in _imports(f"sklearn_bert.{layer}.{depth}probe", probe)]
    assert found[0] == target
    if target.startswith("sklearn_bert"):
        assert LAYERS[_part(target)] > LAYERS[layer]
    else:
        assert OWNERS[target] != layer

"""The numpydoc Examples sections run as written (doctest, offline).

Every public class and function (``sklearn_bert.__all__`` and
``sklearn_bert.metrics``) must have an Examples section; its examples, and
those of its methods, run here on the bundled model. Examples in private
modules run too (``test_private_examples_run``), so no docstring example goes
untested. All of them take about 30 seconds on two shared CPU cores, so none is
marked ``slow``.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import sklearn_bert
import sklearn_bert.conformal
import sklearn_bert.inspection
import sklearn_bert.metrics

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
PUBLIC = {
    name: getattr(sklearn_bert, name)
    for name in sklearn_bert.__all__
    if not isinstance(getattr(sklearn_bert, name), str)  # DEFAULT_MODEL, version
} | {
    f"{module.__name__.rpartition('.')[2]}.{name}": getattr(module, name)
    for module in (
        sklearn_bert.metrics,
        sklearn_bert.inspection,
        sklearn_bert.conformal,
    )
    for name in module.__all__
}


def _public_tests(obj, name: str) -> list[doctest.DocTest]:
    """The doctests of a public object and of its methods (those defined in
    this package, inherited ones included)."""
    finder = doctest.DocTestFinder(recurse=False)
    owners = [obj]
    if inspect.isclass(obj):
        owners = [c for c in obj.__mro__ if c.__module__.startswith("sklearn_bert")]
    tests = finder.find(obj, name=name, module=False)
    for owner in owners:
        for attr, member in vars(owner).items():
            if attr.startswith("_") or not callable(member):
                continue
            tests += finder.find(member, name=f"{name}.{attr}", module=False)
    return [t for t in tests if t.examples]


def _private_tests() -> list[doctest.DocTest]:
    """The doctests of every module of the package, minus the public objects'."""
    public = {
        t.docstring for name, obj in PUBLIC.items() for t in _public_tests(obj, name)
    }
    finder = doctest.DocTestFinder()
    found = []
    for info in pkgutil.walk_packages(sklearn_bert.__path__, "sklearn_bert."):
        module = importlib.import_module(info.name)
        for test in finder.find(module):
            if test.examples and test.docstring not in public:
                found.append(test)
    return found


def _run(test: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    result = runner.run(test, out=report.append, clear_globs=True)
    assert result.failed == 0, "".join(report)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_object_has_examples(name):
    obj = PUBLIC[name]
    # cleandoc: Python 3.13 strips docstrings' indentation, older ones keep it
    assert "\nExamples\n--------\n" in inspect.cleandoc(obj.__doc__ or ""), name
    assert _public_tests(obj, name), f"{name} has no runnable example"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever an example writes lands here
    for test in _public_tests(PUBLIC[name], name):
        _run(test)


PRIVATE = _private_tests()


@pytest.mark.parametrize("test", PRIVATE, ids=[t.name for t in PRIVATE])
def test_private_examples_run(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run(test)

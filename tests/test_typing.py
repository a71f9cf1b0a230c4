"""Type hints: every public method and function is annotated (arguments and
return), the annotations resolve, and the package says it is typed
(``py.typed``, PEP 561)."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest

import sklearn_bert
import sklearn_bert.conformal
import sklearn_bert.inspection
import sklearn_bert.metrics

#: Methods scikit-learn or skorch define that the estimators inherit as they
#: are (their annotations are not ours to write).
_INHERITED_FROM_OTHERS = ("sklearn.", "skorch.")


def _public_callables():
    for module in (
        sklearn_bert,
        sklearn_bert.metrics,
        sklearn_bert.inspection,
        sklearn_bert.conformal,
    ):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                for attr, member in inspect.getmembers(obj, inspect.isfunction):
                    if attr.startswith("_") or member.__module__.startswith(
                        _INHERITED_FROM_OTHERS
                    ):
                        continue
                    yield f"{name}.{attr}", member
            elif inspect.isfunction(obj):
                yield name, obj


CALLABLES = dict(_public_callables())


def test_the_package_is_marked_typed():
    assert (Path(sklearn_bert.__file__).parent / "py.typed").is_file()


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_public_callable_is_annotated(name):
    func = inspect.unwrap(CALLABLES[name])
    signature = inspect.signature(func)
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
    ]
    assert not missing, f"{name}: parameters without a type hint: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, (
        f"{name}: no return type hint"
    )
    # the hints resolve (no misspelt name in a string annotation)
    typing.get_type_hints(func, globalns=_namespace(func))


def _namespace(func):
    import collections.abc
    import os

    import numpy as np
    import pandas as pd

    namespace = dict(vars(inspect.getmodule(func)))
    namespace.update(
        np=np, pd=pd, os=os, Sequence=collections.abc.Sequence, Any=typing.Any
    )
    return namespace

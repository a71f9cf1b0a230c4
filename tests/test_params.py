"""Shared parameters: one meaning, one default, one text in every estimator;
and the scikit-learn private APIs the estimators rely on."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import pytest
import sklearn

import sklearn_bert
from sklearn_bert import _params

ROOT = Path(__file__).resolve().parents[1]
ESTIMATORS = [
    getattr(sklearn_bert, name)
    for name in sklearn_bert.__all__
    if name.startswith("Bert")
]


def _signature(cls) -> dict[str, object]:
    params = inspect.signature(cls.__init__).parameters
    return {name: p.default for name, p in params.items() if name != "self"}


def test_shared_parameter_docs_are_in_sync():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import sync_param_docs
    finally:
        sys.path.pop(0)
    assert sync_param_docs.sync(check=True) == [], (
        "run `python tools/sync_param_docs.py`"
    )


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_is_constrained_and_documented(cls):
    signature = _signature(cls)
    assert set(signature) == set(cls._parameter_constraints)
    doc = inspect.cleandoc(cls.__doc__)  # the same on every Python (3.13 dedents)
    for name in signature:
        assert re.search(rf"^{name} : ", doc, flags=re.M), f"{name} undocumented"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_shared_parameters_share_defaults_and_constraints(cls):
    for name, default in _signature(cls).items():
        if name in _params.CONSTRAINTS:
            assert cls._parameter_constraints[name] == _params.CONSTRAINTS[name] or (
                cls is sklearn_bert.BertMaskedLM and name == "max_epochs"
            ), name
        if name in _params.DEFAULTS and name not in _params.OWN_DEFAULTS:
            assert default == _params.DEFAULTS[name], (cls.__name__, name)


def test_fine_tuning_estimators_take_every_training_parameter():
    from sklearn_bert._engine.finetune import FineTuneBase

    for cls in ESTIMATORS:
        if not issubclass(cls, FineTuneBase):
            continue
        missing = set(_params.TRAINING) - set(_signature(cls))
        # the masked-LM head has no dropout of its own (documented)
        assert missing <= ({"dropout"} if cls is sklearn_bert.BertMaskedLM else set())


# -- scikit-learn's private APIs ------------------------------------------------


def _pinned_range() -> tuple[str, str]:
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'"scikit-learn>=([\d.]+),<([\d.]+)"', text)
    assert match, "pyproject.toml must pin scikit-learn to a tested range"
    return match.group(1), match.group(2)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2])


def test_scikit_learn_is_in_the_pinned_range():
    low, high = _pinned_range()
    assert _version(low) <= _version(sklearn.__version__) < _version(high)


def test_private_scikit_learn_apis_behave_as_relied_on(tiny_bert):
    # ``_fit_context`` validates parameters before fit and names the parameter;
    # ``_param_validation`` provides the constraint types the estimators use.
    from sklearn.base import _fit_context
    from sklearn.utils._param_validation import (
        HasMethods,
        Interval,
        InvalidParameterError,
        StrOptions,
    )

    assert "prefer_skip_nested_validation" in inspect.signature(_fit_context).parameters
    kinds = {
        type(c)
        for v in _params.CONSTRAINTS.values()
        for c in v
        if not inspect.isclass(c)
    }
    assert kinds <= {str, type(None), Interval, StrOptions, HasMethods}
    with pytest.raises(InvalidParameterError, match="'lr' parameter"):
        sklearn_bert.BertClassifier(tiny_bert, lr=-1).fit(["a", "b"], [0, 1])
    with pytest.raises(InvalidParameterError, match="'pooling' parameter"):
        sklearn_bert.BertTransformer(tiny_bert, pooling="first").fit(["a"])
    # ``_get_output_config`` tells the Dask path of ``transform`` which
    # container ``set_output`` asked for (``_engine.base.EmbeddingMixin``).
    from sklearn.utils._set_output import _get_output_config

    est = sklearn_bert.BertTransformer(tiny_bert).set_output(transform="pandas")
    assert _get_output_config("transform", est)["dense"] == "pandas"

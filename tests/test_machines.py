"""The same estimator on two machines: one with bfloat16 units, one without.

``precision="auto"`` is bfloat16 where the CPU has AMX or AVX512-BF16 units
and float32 elsewhere. ``fit`` records its choice in ``precision_``;
``predict``/``transform`` resolve ``"auto"`` again on the machine they run on.
These tests play both machines in one process (the library's detection is
patched, as ``SKLEARN_BERT_TEST_BFLOAT16`` does for the whole suite) and check
what ``docs/machines.rst`` promises:

- an estimator fitted on one machine and used on the other (pickle, skops)
  gives the outputs of the precision the second machine computes in, and
  agrees with the first machine's outputs at the bfloat16 tolerance;
- ``precision="float32"`` gives the same numbers on both;
- the tolerance table on the page is the one the tests use.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from _precision import TOLERANCE, assert_agree

from sklearn_bert import (
    BertClassifier,
    BertRegressor,
    BertTokenClassifier,
    BertTransformer,
)
from sklearn_bert._engine import device

DOCS = Path(__file__).parent.parent / "docs" / "machines.rst"
TEXTS = [
    "a good film with a great story",
    "a bad film",
    "great acting, love it",
    "terrible plot and awful pacing, hated it",
    "fine",
    "the price was bad and the staff slow",
] * 2
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg"] * 2
WORDS = [t.split() for t in TEXTS]
TAGS = [
    ["B-X" if w in {"good", "bad", "great", "fine"} else "O" for w in s] for s in WORDS
]
FAST = {"max_epochs": 1, "batch_size": 4, "max_length": 32, "random_state": 0}


def as_machine(monkeypatch: pytest.MonkeyPatch, units: bool) -> None:
    """Make the CPU detection answer as a CPU with (or without) bfloat16 units."""
    flags = ("avx512_bf16",) if units else ()
    monkeypatch.setattr(device, "cpu_bfloat16_flags", lambda: flags)


def _fit(kind: str, model: str, **params):
    if kind == "transformer":
        return BertTransformer(model, device="cpu", **params).fit(TEXTS)
    if kind == "classifier":
        return BertClassifier(model, **FAST, **params).fit(TEXTS, LABELS)
    if kind == "regressor":
        y = np.linspace(0.0, 3.0, len(TEXTS))
        return BertRegressor(model, **FAST, **params).fit(TEXTS, y)
    return BertTokenClassifier(model, **FAST, **params).fit(WORDS, TAGS)


def _outputs(kind: str, est) -> np.ndarray:
    if kind == "transformer":
        return est.transform(TEXTS)
    if kind == "classifier":
        return est.predict_proba(TEXTS)
    if kind == "regressor":
        return est.predict(TEXTS)
    return np.concatenate(est.predict_proba(WORDS))


def _skops_round_trip(est):
    import skops.io as sio

    blob = sio.dumps(est)
    return sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))


KINDS = ["transformer", "classifier", "regressor", "token"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fitted_on_units", [True, False], ids=["bf16-cpu", "f32-cpu"])
@pytest.mark.parametrize("persist", ["pickle", "skops"])
def test_fitted_on_one_cpu_and_used_on_the_other(
    monkeypatch, tiny_bert, kind, fitted_on_units, persist
):
    as_machine(monkeypatch, fitted_on_units)
    est = _fit(kind, tiny_bert)
    here = "bfloat16" if fitted_on_units else "float32"
    there = "float32" if fitted_on_units else "bfloat16"
    assert est.precision_ == here
    on_first = _outputs(kind, est)
    if persist == "pickle":
        blob = pickle.dumps(est)
        as_machine(monkeypatch, not fitted_on_units)
        moved = pickle.loads(blob)
    else:
        as_machine(monkeypatch, not fitted_on_units)
        moved = _skops_round_trip(est)
    assert moved.precision_ == here  # what fit computed in, kept
    on_second = _outputs(kind, moved)
    # the second machine computes in its own precision ...
    pinned = pickle.loads(pickle.dumps(est)).set_params(precision=there)
    np.testing.assert_array_equal(on_second, _outputs(kind, pinned))
    # ... and agrees with the first at the looser of the two tolerances
    assert_agree(on_second, on_first, here, there)
    assert not np.array_equal(on_second, on_first)  # the precisions differ


@pytest.mark.parametrize("kind", KINDS)
def test_float32_gives_the_same_numbers_on_both_cpus(monkeypatch, tiny_bert, kind):
    runs = []
    for units in (True, False):
        as_machine(monkeypatch, units)
        est = _fit(kind, tiny_bert, precision="float32")
        assert est.precision_ == "float32"
        runs.append(_outputs(kind, est))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_auto_fits_on_the_two_cpus_are_two_models(monkeypatch, tiny_bert):
    """``"auto"`` trains in bfloat16 on one machine and in float32 on the
    other: the weights differ (the docs say so; pin ``precision`` for one
    model everywhere)."""
    fits = []
    for units in (True, False):
        as_machine(monkeypatch, units)
        fits.append(_fit("classifier", tiny_bert))
    assert [f.precision_ for f in fits] == ["bfloat16", "float32"]
    states = [f.net_.module_.state_dict() for f in fits]
    assert any(not states[0][k].equal(states[1][k]) for k in states[0])


def _docs_table() -> dict[str, dict[str, float]]:
    """The tolerance table of docs/machines.rst: ``precision | rtol | atol``."""
    rows = re.findall(
        r"^\s+\* - ``(\w+)``\n\s+- ([0-9.e-]+)\n\s+- ([0-9.e-]+)$",
        DOCS.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    return {p: {"rtol": float(r), "atol": float(a)} for p, r, a in rows}


def test_the_docs_state_the_tolerances_the_tests_use():
    assert _docs_table() == TOLERANCE

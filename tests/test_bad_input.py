"""The bad-input matrix: every estimator and method against bad input.

Each *kind* of bad input in ``KINDS`` is tried on every estimator and method
it applies to (its *cells*). A kind either must raise, with an error of the
listed type whose message names the problem (and the row, where there is
one), or must work (unusual but valid text), with outputs of the right shape
and no NaN. Every call is also checked for what it must never do:

- raise from deep inside torch, transformers or the tokenizer: the frame that
  raises belongs to sklearn_bert or scikit-learn;
- hang: each call runs under an alarm;
- change a fitted estimator: a failed call leaves its fitted attributes (the
  same objects) and its weights as they were.

``docs/user_guide/reliability.rst`` states the size of this matrix; keep it
in step (``test_matrix_size_is_documented``).
"""

from __future__ import annotations

import copy
import os
import shutil
import signal
import subprocess
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from _precision import assert_agree
from _qa_data import qa_frame
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_bert import (
    BertClassifier,
    BertMaskedLM,
    BertQuestionAnswerer,
    BertRegressor,
    BertTokenClassifier,
    BertTransformer,
)

SMALL = {"max_epochs": 1, "batch_size": 4, "max_length": 32, "random_state": 0}
FACTORIES: dict[str, Callable[[str], Any]] = {
    "BertTransformer": lambda m: BertTransformer(m, batch_size=4, max_length=32),
    "BertClassifier": lambda m: BertClassifier(m, **SMALL),
    "BertRegressor": lambda m: BertRegressor(m, **SMALL),
    "BertMaskedLM": lambda m: BertMaskedLM(m, **SMALL),
    "BertTokenClassifier": lambda m: BertTokenClassifier(m, **SMALL),
    "BertQuestionAnswerer": lambda m: BertQuestionAnswerer(
        m, **{**SMALL, "max_length": 48, "stride": 16}
    ),
}
ALL = tuple(FACTORIES)
#: The classifier and the regressor on a DataFrame of a text column beside
#: tabular ones (``text_columns``): a group of their own, tried with the
#: kinds that apply to a DataFrame (see section 8).
FUSED = ("BertClassifier[text_columns]", "BertRegressor[text_columns]")
FACTORIES["BertClassifier[text_columns]"] = lambda m: BertClassifier(
    m, text_columns="text", **SMALL
)
FACTORIES["BertRegressor[text_columns]"] = lambda m: BertRegressor(
    m, text_columns="text", **SMALL
)
#: Estimators of single texts and sentence pairs.
TEXT = ("BertTransformer", "BertClassifier", "BertRegressor", "BertMaskedLM")
SUPERVISED = (
    "BertClassifier",
    "BertRegressor",
    "BertTokenClassifier",
    "BertQuestionAnswerer",
)
FINE_TUNING = SUPERVISED + ("BertMaskedLM",)
SAVES = FINE_TUNING
INFERENCE: dict[str, tuple[str, ...]] = {
    "BertTransformer": ("transform",),
    "BertClassifier": ("predict", "predict_proba", "decision_function", "score"),
    "BertRegressor": ("predict", "score"),
    "BertMaskedLM": ("transform", "score"),
    "BertTokenClassifier": ("predict", "predict_proba", "score"),
    "BertQuestionAnswerer": ("predict", "score"),
    "BertClassifier[text_columns]": (
        "predict",
        "predict_proba",
        "decision_function",
        "score",
    ),
    "BertRegressor[text_columns]": ("predict", "score"),
}


# -- good data, and bad values put into it ------------------------------------

TEXTS = [
    "a good film",
    "a bad film",
    "great story and friendly staff",
    "terrible story",
    "love this food",
    "hate the slow service",
]
SENTENCES = [
    ["John", "lives", "in", "Paris"],
    ["Mary", "works"],
    ["the", "city", "of", "Rome"],
    ["Anna", "visited", "London"],
    ["nothing", "happened"],
    ["Tom", "met", "Lisa"],
]
TAGS = [
    ["B-PER", "O", "O", "B-LOC"],
    ["B-PER", "O"],
    ["O", "O", "O", "B-LOC"],
    ["B-PER", "O", "B-LOC"],
    ["O", "O"],
    ["B-PER", "O", "B-PER"],
]


def good(name: str) -> tuple[Any, Any]:
    """``(X, y)`` of ``name``: six rows; ``y`` of the estimator's kind."""
    if name == "BertTokenClassifier":
        return copy.deepcopy(SENTENCES), copy.deepcopy(TAGS)
    if name == "BertQuestionAnswerer":
        X, y = qa_frame(2)
        return X.astype(object), list(y)
    if name in FUSED:
        X = pd.DataFrame(
            {
                "text": pd.Series(TEXTS, dtype=object),
                "price": np.linspace(1.0, 6.0, len(TEXTS)),
                "shop": pd.Series(["a", "b", "c"] * 2, dtype=object),
            }
        )
        return X, good(name.split("[")[0])[1]
    if name == "BertRegressor":
        return list(TEXTS), np.linspace(0.0, 5.0, len(TEXTS))
    return list(TEXTS), np.array(["pos", "neg"] * 3, dtype=object)


def good_pairs(name: str) -> tuple[pd.DataFrame, Any]:
    """Sentence pairs as a DataFrame with columns ``a`` and ``b``."""
    X, y = good(name)
    return pd.DataFrame({"a": X, "b": X[::-1]}, dtype=object), y


def inject(name: str, value: Any, *, question: bool = False) -> tuple[Any, Any]:
    """Good data with ``value`` at row 1: a text, a token (token 1 of the
    sentence), or a context (a question with ``question=True``)."""
    X, y = good(name)
    if name == "BertTokenClassifier":
        X[1] = ["Mary", value]
    elif name in FUSED:
        X = X.copy()
        X["text"] = X["text"].astype(object)
        X.at[1, "text"] = value
    elif name == "BertQuestionAnswerer":
        columns = {c: X[c].tolist() for c in X.columns}
        columns["question" if question else "context"][1] = value
        X = pd.DataFrame(columns, dtype=object)
        if not question:
            y[1] = ""  # no answer in that context
    else:
        X[1] = value
    return X, y


def call(name: str, method: str, est: Any, X: Any, y: Any) -> Any:
    """``est.<method>`` with the arguments the estimator takes."""
    supervised = name in SUPERVISED or name in FUSED
    if method == "fit":
        return est.fit(X, y) if supervised else est.fit(X)
    if method == "score":
        return est.score(X, y) if supervised else est.score(X)
    return getattr(est, method)(X)


def n_rows(X: Any) -> int:
    return len(X)


# -- the kinds ----------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of bad input and where it applies.

    ``run(name, method, est, ctx)`` makes the call; ``error`` (with the regular
    expression ``match``) is what it must raise, or None when it must work.
    ``on`` says which estimator the call gets: ``"fitted"`` (a shallow copy
    of a fitted one, sharing its fitted attributes), ``"frame"`` (fitted on
    a DataFrame), or ``"unfitted"``.
    """

    name: str
    cells: tuple[tuple[str, str], ...]
    run: Callable[[str, str, Any, Any], Any]
    error: Any = None
    match: str = ""
    on: str = "fitted"


KINDS: list[Kind] = []


def kind(name, cells, run, error=None, match="", on="fitted") -> None:
    KINDS.append(Kind(name, tuple(cells), run, error, match, on))


def cells(names, methods=("fit",), *, inference=False) -> list[tuple[str, str]]:
    out = []
    for name in names:
        out += [(name, m) for m in methods]
        if inference:
            out += [(name, m) for m in INFERENCE[name]]
    return out


# 1. a bad value in one row of X (a text, a token, a question)
for label, value, error, match in [
    ("None in X", None, ValueError, r"missing value \(None\) at .*row 1"),
    ("NaN in X", float("nan"), ValueError, r"missing value \(nan\) at .*row 1"),
    ("pd.NA in X", pd.NA, ValueError, r"missing value \(<NA>\) at .*row 1"),
    ("an integer in X", 7, TypeError, r"row 1.*got int"),
    ("a float in X", 2.5, TypeError, r"row 1.*got float"),
    ("a bool in X", True, TypeError, r"row 1.*got bool"),
    ("bytes in X", b"a film", TypeError, r"row 1.*got bytes"),
    ("a nested list in X", ["a", ["b"]], TypeError, r"row 1.*got list"),
    ("a dict in X", {"text": "a"}, TypeError, r"row 1.*got dict"),
    ("a lone surrogate in X", "bad \ud800 text", ValueError, r"row 1.*surrogate"),
]:

    def run_value(name, method, est, ctx, value=value):
        return call(name, method, est, *inject(name, value, question=True))

    kind(label, cells(ALL + FUSED, inference=True), run_value, error, match)


# 2. X itself is bad
def _three_columns(name):
    X, _ = good(name)
    if name == "BertQuestionAnswerer":
        return X.assign(extra=X["question"])
    if name == "BertTokenClassifier":
        return pd.DataFrame({"a": X, "b": X, "c": X})
    return pd.DataFrame({"a": X, "b": X, "c": X}, dtype=object)


def _empty_frame(name):
    if name == "BertQuestionAnswerer":
        return pd.DataFrame({"question": [], "context": []}, dtype=object)
    return pd.DataFrame({"text": []}, dtype=object)


for label, make_X, error, match in [
    ("X is None", lambda n: None, TypeError, "NoneType"),
    ("X is one string", lambda n: "a good film", ValueError, "single str"),
    ("X is bytes", lambda n: b"a good film", ValueError, "single bytes"),
    ("X is a number", lambda n: 5, TypeError, "got int"),
    ("X is a dict", lambda n: {"text": "a"}, TypeError, "got dict"),
    ("X is an empty list", lambda n: [], ValueError, "empty input"),
    (
        "X is an empty array",
        lambda n: np.array([], dtype=object),
        ValueError,
        "empty input",
    ),
    ("X is an empty DataFrame", _empty_frame, ValueError, "empty input"),
    (
        "X is a 3-D array",
        lambda n: np.full((2, 2, 2), "a", dtype=object),
        ValueError,
        "3-D",
    ),
    ("X has three columns", _three_columns, ValueError, r"\b3\b"),
]:

    def run_X(name, method, est, ctx, make_X=make_X):
        _, y = good(name)
        return call(name, method, est, make_X(name), y)

    kind(label, cells(ALL, inference=True), run_X, error, match)


# 3. unusual but valid text: must work (inference on each; fit on all at once)
MB = "word " * 200_000  # 1 MB
UNUSUAL = {
    "an empty string": "",
    "whitespace only": " \t\n  ",
    "a NUL character": "a\x00b",
    "control characters": "\x01\x02\x1b[31mred\x1b[0m\x7f",
    "zero-width characters": "\u200b\u200c\u200d\ufeff",
    "right-to-left text": "\u202eمرحبا بالعالم שלום\u202c",
    "emoji": "😀 🎉 👍🏽 👨‍👩‍👧 🇫🇷",
    "combining marks": "e\u0301 n\u0303 Z\u0334\u0321\u031ba\u0338l\u0336g\u0337o",
    "CJK and Hangul": "日本語のテキストと한국어",
    "line and paragraph separators": "one\ntwo\r\nthree\u2028four\u2029",
    "private-use and noncharacters": "\ue000 \uffff \U0010ffff",
}


for label, value in UNUSUAL.items():

    def run_unusual(name, method, est, ctx, value=value):
        return call(name, method, est, *inject(name, value))

    kind(label, cells(ALL, (), inference=True), run_unusual)


def run_mb(name, method, est, ctx):
    if "long_text" in est.get_params():
        est.set_params(long_text="truncate")  # chunking 1 MB takes seconds
    if name == "BertTokenClassifier":  # one word of 1 MB: the unknown token
        return call(name, method, est, *inject(name, "x" * 1_000_000))
    with pytest.warns(UserWarning, match="truncated|longer"):
        return call(name, method, est, *inject(name, MB, question=True))


# One cell per way of tokenizing (tokenizing 1 MB takes about a second): the
# regressor tokenizes as the classifier, the masked LM embeds as the
# transformer.
kind(
    "a 1 MB string",
    [(n, INFERENCE[n][0]) for n in ALL if n not in ("BertRegressor", "BertMaskedLM")],
    run_mb,
)


def run_unusual_fit(name, method, est, ctx):
    X, y = good(name)
    values = list(UNUSUAL.values())
    if name == "BertTokenClassifier":
        X = X + [[v, "x"] for v in values]
        y = y + [["O", "B-LOC"]] * len(values)
    elif name == "BertQuestionAnswerer":
        extra = pd.DataFrame({"question": values, "context": values}, dtype=object)
        X = pd.concat([X, extra], ignore_index=True)
        y = y + [""] * len(values)
    else:
        X = X + values
        y = np.resize(y, len(X))
    return call(name, method, est, X, y)


kind("all unusual texts at once", cells(ALL), run_unusual_fit, on="unfitted")


# 4. bad targets
def with_y(change):
    def run(name, method, est, ctx):
        X, y = good(name)
        return call(name, method, est, X, change(name, y))

    return run


def _set(i, value, dtype=object):
    def change(name, y):
        y = np.array(y, dtype=dtype)
        y[i] = value
        return y

    return change


for label, where, change, error, match in [
    (
        "y is None",
        cells(SUPERVISED),
        lambda n, y: None,
        ValueError,
        "y is required",
    ),
    (
        "y shorter than X",
        cells(SUPERVISED, ("fit", "score")),
        lambda n, y: y[:-1],
        ValueError,
        r"rows but y has|sentences but y has|inconsistent numbers",
    ),
    (
        "y longer than X",
        cells(SUPERVISED, ("fit", "score")),
        lambda n, y: list(y) + list(y[:1]),
        ValueError,
        r"rows but y has|sentences but y has|inconsistent numbers",
    ),
    (
        "y with an extra dimension",
        cells(("BertClassifier", "BertRegressor")),
        lambda n, y: np.asarray(y).reshape(-1, 1, 1),
        ValueError,
        r"shape \(6, 1, 1\)",
    ),
    (
        "ragged y",
        cells(("BertClassifier", "BertRegressor")),
        lambda n, y: [[1, 2], [3]] * 3,
        ValueError,
        "ragged",
    ),
    (
        "NaN in y",
        cells(("BertRegressor",)),
        _set(1, np.nan, float),
        ValueError,
        r"nan.* at row 1",
    ),
    (
        "NaN in y at score",
        cells(("BertRegressor",), ("score",)),
        _set(1, np.nan, float),
        ValueError,
        "NaN",
    ),
    (
        "inf in y",
        cells(("BertRegressor",)),
        _set(1, np.inf, float),
        ValueError,
        r"inf at row 1",
    ),
    (
        "-inf in y",
        cells(("BertRegressor",)),
        _set(1, -np.inf, float),
        ValueError,
        r"-inf at row 1",
    ),
    (
        "strings as regression targets",
        cells(("BertRegressor",)),
        lambda n, y: ["high"] * len(y),
        ValueError,
        "numeric",
    ),
    (
        "NaN among float labels",
        cells(("BertClassifier",)),
        lambda n, y: np.array([1.0, np.nan, 0.0, 1.0, 0.0, 1.0]),
        ValueError,
        r"missing value \(nan\) at row 1",
    ),
    (
        "NaN among string labels",
        cells(("BertClassifier",)),
        _set(1, np.nan),
        ValueError,
        r"missing value \(nan\) at row 1",
    ),
    (
        "None among labels",
        cells(("BertClassifier",)),
        _set(1, None),
        ValueError,
        r"missing value \(None\) at row 1",
    ),
    (
        "one class only",
        cells(("BertClassifier",)),
        lambda n, y: ["pos"] * len(y),
        ValueError,
        "at least 2 classes",
    ),
    (
        "continuous labels",
        cells(("BertClassifier",)),
        lambda n, y: np.linspace(0.1, 0.9, len(y)),
        ValueError,
        "Unknown label type",
    ),
    (
        "one tag only",
        cells(("BertTokenClassifier",)),
        lambda n, y: [["O"] * len(t) for t in y],
        ValueError,
        "at least 2 distinct tags",
    ),
    (
        "a tag list of another length",
        cells(("BertTokenClassifier",), ("fit", "score")),
        lambda n, y: [y[0], y[1] + ["O"], *y[2:]],
        ValueError,
        r"[Rr]ow 1 has 2 tokens but 3 tags",
    ),
    (
        "None among tags",
        cells(("BertTokenClassifier",)),
        lambda n, y: [y[0], ["B-PER", None], *y[2:]],
        ValueError,
        r"missing value \(None\) at tag 1 of row 1",
    ),
    (
        "a float tag",
        cells(("BertTokenClassifier",)),
        lambda n, y: [y[0], ["B-PER", 1.5], *y[2:]],
        TypeError,
        r"tag 1 of row 1",
    ),
    (
        "tags mixing strings and integers",
        cells(("BertTokenClassifier",)),
        lambda n, y: [y[0], [0, 1], *y[2:]],
        TypeError,
        "mix strings and integers",
    ),
    (
        "an answer absent from its context",
        cells(("BertQuestionAnswerer",)),
        lambda n, y: [y[0], "not in the context", *y[2:]],
        ValueError,
        r"row 1.*does not occur in its context",
    ),
    (
        "a missing answer",
        cells(("BertQuestionAnswerer",)),
        lambda n, y: [y[0], None, *y[2:]],
        ValueError,
        r"row 1",
    ),
    (
        "an answer that is a number",
        cells(("BertQuestionAnswerer",)),
        lambda n, y: [y[0], 3.5, *y[2:]],
        TypeError,
        r"row 1",
    ),
    (
        "answer offsets beyond the context",
        cells(("BertQuestionAnswerer",)),
        lambda n, y: [(0, 3), (0, 10_000), *[(0, 3)] * (len(y) - 2)],
        ValueError,
        r"row 1",
    ),
    (
        "answer offsets ending before they start",
        cells(("BertQuestionAnswerer",)),
        lambda n, y: [(0, 3), (5, 2), *[(0, 3)] * (len(y) - 2)],
        ValueError,
        r"row 1",
    ),
    (
        "y is one string",
        cells(("BertQuestionAnswerer",)),
        lambda n, y: "Ada Byron",
        ValueError,
        "single str",
    ),
]:
    kind(label, where, with_y(change), error, match)


def with_weights(sample_weight):
    def run(name, method, est, ctx):
        X, y = good(name)
        return est.fit(X, y, sample_weight=sample_weight)

    return run


for label, weights, match in [
    ("sample_weight of another length", np.ones(5), r"sample_weight has shape"),
    ("a negative sample_weight", -np.ones(6), "non-negative"),
    ("NaN in sample_weight", np.array([1, np.nan, 1, 1, 1, 1]), "finite"),
    ("sample_weight all zero", np.zeros(6), "sum to 0"),
]:
    kind(label, cells(SUPERVISED), with_weights(weights), ValueError, match)


# 5. DataFrame columns at predict that differ from fit (on estimators fitted
# on DataFrames: pairs ``a``, ``b``; QA ``question``, ``context``; tokens
# ``tokens``)
def frame_X(name):
    if name == "BertQuestionAnswerer":
        return good(name)[0]
    if name == "BertTokenClassifier":
        return pd.DataFrame({"tokens": good(name)[0]})
    return good_pairs(name)[0]


def with_frame(change):
    def run(name, method, est, ctx):
        _, y = good(name)
        return call(name, method, est, change(frame_X(name)), y)

    return run


FRAMED = ALL
PAIRED = TEXT + ("BertQuestionAnswerer",)
for label, where, change, match in [
    (
        "renamed DataFrame columns",
        cells(FRAMED, (), inference=True),
        lambda X: X.set_axis([f"{c}_x" for c in X.columns], axis=1),
        r"columns .* are not the columns .* seen in fit",
    ),
    (
        "reordered DataFrame columns",
        cells(PAIRED, (), inference=True),
        lambda X: X[X.columns[::-1]],
        r"columns .* are not the columns .* seen in fit",
    ),
    (
        "a DataFrame column missing",
        cells(PAIRED, (), inference=True),
        lambda X: X[X.columns[:1]],
        r"fitted on sentence pairs|needs \(question, context\) rows",
    ),
    (
        "an extra DataFrame column",
        cells(FRAMED, (), inference=True),
        lambda X: X.assign(extra=X.iloc[:, 0]),
        r"got [23]|2 columns",
    ),
    (
        "single texts where pairs were fitted",
        cells(PAIRED, (), inference=True),
        lambda X: X.iloc[:, 0].tolist(),
        r"fitted on sentence pairs|needs \(question, context\) rows",
    ),
    (
        "an array of three text columns",
        cells(PAIRED, (), inference=True),
        lambda X: np.column_stack([X.to_numpy()] * 2)[:, :3],
        r"got 3",
    ),
]:
    kind(label, where, with_frame(change), ValueError, match, on="frame")


def run_pairs_for_single(name, method, est, ctx):
    X, y = good_pairs(name)
    return call(name, method, est, X, y)


kind(
    "pairs where single texts were fitted",
    cells(TEXT, (), inference=True),
    run_pairs_for_single,
    ValueError,
    r"fitted on single texts",
)


# 6. invalid parameter values: in fit, and set after fit (inference)
def with_params(params, *, fit=True):
    def run(name, method, est, ctx):
        X, y = good(name)
        est.set_params(**params)
        return call(name, method, est, X, y)

    return run


def having(param, names=ALL):
    return [n for n in names if param in FACTORIES[n]("x").get_params()]


for label, params, also_after_fit in [
    ("batch_size=0", {"batch_size": 0}, True),
    ("max_length=2", {"max_length": 2}, False),
    ("lr=-1", {"lr": -1.0}, False),
    ("max_epochs=-1", {"max_epochs": -1}, False),
    ('pooling="median"', {"pooling": "median"}, True),
    ('precision="float64"', {"precision": "float64"}, True),
    ("validation_fraction=1", {"validation_fraction": 1.0}, False),
    ("dropout=1.5", {"dropout": 1.5}, False),
    ('class_weight="auto"', {"class_weight": "auto"}, False),
    ("threshold=2", {"threshold": 2.0}, True),
    ("stride=-1", {"stride": -1}, True),
    ('verbose="loud"', {"verbose": "loud"}, True),
    ('callbacks="print"', {"callbacks": "print"}, False),
    ('random_state="seed"', {"random_state": "seed"}, False),
    ("warmup_ratio=2", {"warmup_ratio": 2.0}, False),
    ("n_iter_no_change=0", {"n_iter_no_change": 0}, False),
    ("max_answer_length=0", {"max_answer_length": 0}, True),
    ("mlm_probability=1", {"mlm_probability": 1.0}, False),
    ('scoring="f2"', {"scoring": "f2"}, True),
    ('long_text="cut"', {"long_text": "cut"}, True),
]:
    (param,) = params
    names = having(param, ALL + FUSED)
    where = cells(names) + (
        [(n, m) for n in names for m in INFERENCE[n]] if also_after_fit else []
    )
    kind(label, where, with_params(params), ValueError, rf"'{param}' parameter")


def run_device(device):
    def run(name, method, est, ctx):
        if device.startswith("cuda") and torch.cuda.is_available():
            pytest.skip("CUDA is available here")
        return with_params({"device": device})(name, method, est, ctx)

    return run


kind(
    'device="tpu"',
    cells(ALL + FUSED, inference=True),
    run_device("tpu"),
    ValueError,
    "device='tpu' is not a device torch knows",
)
kind(
    'device="cuda" without CUDA',
    cells(ALL + FUSED, inference=True),
    run_device("cuda"),
    ValueError,
    "CUDA is not available",
)
kind(
    'precision="float16" on the CPU',
    cells(FINE_TUNING + FUSED) + [(n, m) for n in ALL + FUSED for m in INFERENCE[n]],
    with_params({"precision": "float16", "device": "cpu"}),
    ValueError,
    "not supported on the CPU",
)


def run_unknown_param(name, method, est, ctx):
    return est.set_params(no_such_parameter=1)


kind(
    "an unknown parameter",
    [(n, "set_params") for n in ALL],
    run_unknown_param,
    ValueError,
    "Invalid parameter",
)


# 7. text beside tabular columns (text_columns): X must be a DataFrame whose
# columns are matched by name to fit's
def with_fused(change, *, fit_params=None):
    def run(name, method, est, ctx):
        X, y = good(name)
        if fit_params:
            est.set_params(**fit_params)
        return call(name, method, est, change(X), y)

    return run


for label, where, change, params, error, match in [
    (
        "a list where a DataFrame was fitted",
        cells(FUSED, inference=True),
        lambda X: X["text"].tolist(),
        None,
        TypeError,
        "must be a pandas DataFrame",
    ),
    (
        "a tabular column missing",
        cells(FUSED, (), inference=True),
        lambda X: X.drop(columns="price"),
        None,
        ValueError,
        r"missing the column\(s\) \['price'\]",
    ),
    (
        "a column not seen in fit",
        cells(FUSED, (), inference=True),
        lambda X: X.assign(extra=1.0),
        None,
        ValueError,
        r"column\(s\) \['extra'\] not seen in fit",
    ),
    (
        "text_columns names an absent column",
        cells(FUSED),
        lambda X: X,
        {"text_columns": "review"},
        ValueError,
        r"text_columns names \['review'\]",
    ),
    (
        'long_text="chunk" with text_columns',
        cells(FUSED, inference=True),
        lambda X: X,
        {"long_text": "chunk"},
        ValueError,
        "long_text='chunk' does not apply with text_columns",
    ),
]:
    kind(label, where, with_fused(change, fit_params=params), error, match)


# 7b. a model that cannot be loaded
def with_model(key):
    def run(name, method, est, ctx):
        X, y = good(name)
        est.set_params(model=ctx.models[key] if isinstance(key, str) else key)
        return call(name, method, est, X, y)

    return run


for label, key, error, match in [
    ("a model path that does not exist", "missing", ValueError, "no such folder"),
    ("a model path that is a file", "file", ValueError, "is a file"),
    ("an empty model folder", "empty", ValueError, "no config.json"),
    ("a model folder without weights", "no_weights", ValueError, "no weights"),
    (
        "a model folder with pickle weights only",
        "bin_only",
        ValueError,
        r"pickle-based files \(pytorch_model.bin\)",
    ),
    (
        "a model folder with corrupt weights",
        "corrupt_weights",
        ValueError,
        "Could not load the weights",
    ),
    (
        "a model folder with an invalid config.json",
        "bad_config",
        ValueError,
        "config.json is not valid JSON",
    ),
    (
        "a model folder without a tokenizer",
        "no_tokenizer",
        ValueError,
        "no tokenizer files",
    ),
    (
        "a hub id that is not available offline",
        "hub",
        ValueError,
        "offline mode is set",
    ),
    ("model=42", 42, ValueError, "'model' parameter"),
]:
    kind(label, cells(ALL), with_model(key), error, match, on="unfitted")


# 8. save_pretrained targets
def save_to(key):
    def run(name, method, est, ctx):
        target = key if key is None else ctx.targets[key]
        if key == "read_only" and target is None:
            pytest.skip("cannot make a read-only folder here")
        return est.save_pretrained(target)

    return run


for label, key, error, match in [
    ("a save target that is a file", "file", ValueError, "is an existing file"),
    ("a save target under a file", "under_file", ValueError, "is a file"),
    ("a read-only save target", "read_only", PermissionError, "read-only"),
    ("a save target of None", None, TypeError, "Expected a folder path"),
]:
    kind(label, cells(SAVES, ("save_pretrained",)), save_to(key), error, match)


def run_save_unfitted(name, method, est, ctx):
    return est.save_pretrained(ctx.targets["fresh"])


kind(
    "save_pretrained before fit",
    cells(SAVES, ("save_pretrained",)),
    run_save_unfitted,
    NotFittedError,
    "not fitted",
    on="unfitted",
)


# 9. the rest
def run_fill_mask(texts, top_k=5):
    def run(name, method, est, ctx):
        return est.fill_mask(texts, top_k=top_k)

    return run


kind(
    "fill_mask with top_k=0",
    [("BertMaskedLM", "fill_mask")],
    run_fill_mask(["the [MASK] film"], top_k=0),
    ValueError,
    "top_k must be a positive integer",
)
kind(
    "fill_mask on sentence pairs",
    [("BertMaskedLM", "fill_mask")],
    run_fill_mask(np.array([["a [MASK]", "b"]], dtype=object)),
    ValueError,
    "1 text column",
)


def run_only_special(name, method, est, ctx):
    return est.score(["", " ", "\u200b"])


kind(
    "texts without a maskable token",
    [("BertMaskedLM", "score")],
    run_only_special,
    ValueError,
    "no token that can be masked",
)


def run_fine_tune_without_y(name, method, est, ctx):
    return est.set_params(fine_tune=True).fit(TEXTS)


kind(
    "fine_tune=True without y",
    [("BertTransformer", "fit")],
    run_fine_tune_without_y,
    ValueError,
    "fine_tune=True needs targets",
    on="unfitted",
)


def run_indexed_series(name, method, est, ctx):
    X = pd.Series(TEXTS, index=[f"r{i}" for i in range(6)], dtype=object)
    X.iloc[2] = None
    _, y = good(name)
    return call(name, method, est, X, y)


kind(
    "a missing value in a Series with its own index",
    cells(TEXT, inference=True),
    run_indexed_series,
    ValueError,
    r"row 2 \(index 'r2'\)",
)


# -- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(tiny_bert) -> dict[str, Any]:
    """One fitted estimator of each kind, on plain input."""
    return {
        name: call(name, "fit", FACTORIES[name](tiny_bert), *good(name))
        for name in ALL + FUSED
    }


@pytest.fixture(scope="module")
def frame_fitted(tiny_bert) -> dict[str, Any]:
    """One fitted estimator of each kind, on a DataFrame."""
    out = {}
    for name in ALL:
        _, y = good(name)
        out[name] = call(name, "fit", FACTORIES[name](tiny_bert), frame_X(name), y)
    return out


@dataclass
class Context:
    models: dict[str, str]
    targets: dict[str, str | None]


def _make_read_only(folder: Path) -> bool:
    """Make ``folder`` read-only, also for root (immutable); False if not."""
    folder.chmod(0o555)
    if _writable(folder):
        if shutil.which("chattr") is None:
            return False
        subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    return not _writable(folder)


def _writable(folder: Path) -> bool:
    try:
        (folder / ".probe").write_text("x")
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


@pytest.fixture(scope="module")
def ctx(tiny_bert, tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_input")
    source = Path(tiny_bert)
    weights = source / "model.safetensors"

    def folder(key, skip=(), extra=None):
        path = root / key
        path.mkdir()
        for f in source.iterdir():
            if f.name not in skip:
                shutil.copy(f, path / f.name)
        for rel, data in (extra or {}).items():
            (path / rel).write_bytes(data)
        return str(path)

    tokenizer_files = [
        f.name for f in source.iterdir() if f.name.startswith(("tokenizer", "vocab"))
    ]
    models = {
        "missing": str(root / "no" / "such" / "model"),
        "file": str(weights),
        "empty": str(Path(folder("empty", skip=[f.name for f in source.iterdir()]))),
        "no_weights": folder("no_weights", skip=["model.safetensors"]),
        "bin_only": folder(
            "bin_only",
            skip=["model.safetensors"],
            extra={"pytorch_model.bin": b"not read"},
        ),
        "corrupt_weights": folder(
            "corrupt", extra={"model.safetensors": b"not safetensors"}
        ),
        "bad_config": folder("bad_config", extra={"config.json": b"{not json"}),
        "no_tokenizer": folder("no_tokenizer", skip=tokenizer_files),
        "hub": "someone/a-model-not-in-the-cache",
    }
    (root / "a_file").write_text("x")
    read_only = root / "read_only"
    read_only.mkdir()
    targets = {
        "file": str(root / "a_file"),
        "under_file": str(root / "a_file" / "sub"),
        "read_only": str(read_only) if _make_read_only(read_only) else None,
        "fresh": str(root / "fresh"),
    }
    yield Context(models, targets)
    subprocess.run(["chattr", "-i", str(read_only)], capture_output=True)
    read_only.chmod(0o755)


@pytest.fixture(autouse=True)
def no_hang():
    """Fail a call that hangs (one minute, against about 0.1 s)."""

    def stop(signum, frame):
        raise TimeoutError("the call did not return within 60 s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# -- checks ---------------------------------------------------------------------

_OURS = (os.sep + "sklearn_bert" + os.sep, os.sep + "sklearn" + os.sep)


def assert_raised_by_library(exc: BaseException) -> None:
    """The frame that raised is sklearn_bert's or scikit-learn's, so the message
    is about the user's input, not torch's or the tokenizer's internals."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = frames[-1].filename
    assert any(part in where for part in _OURS), (
        f"{type(exc).__name__} raised in {where}:{frames[-1].lineno}: {exc}"
    )


def weights_of(est: Any) -> float:
    model = getattr(est, "net_", None)
    model = model.module_ if model is not None else getattr(est, "model_", None)
    if model is None:
        return 0.0
    return float(sum(p.detach().double().abs().sum() for p in model.parameters()))


def fitted_state(est: Any) -> dict[str, int]:
    return {k: id(v) for k, v in vars(est).items() if k.endswith("_")}


def check_output(name: str, method: str, out: Any, n: int) -> None:
    if method == "fit":
        return
    if method == "score":
        assert np.isfinite(out)
        return
    if name in ("BertTokenClassifier",):
        assert len(out) == n
        if method == "predict_proba":
            for p in out:
                assert np.isfinite(p).all()
        return
    if name == "BertQuestionAnswerer":
        assert len(out) == n and all(isinstance(a, str) for a in out)
        return
    out = np.asarray(out)
    assert len(out) == n
    if out.dtype.kind == "f":
        assert np.isfinite(out).all()
    if method == "transform":
        assert out.dtype == np.float32 and out.ndim == 2
    if method == "predict_proba":
        assert_agree(out.sum(axis=1), 1.0, "float32")


MATRIX = [
    pytest.param(k, name, method, id=f"{k.name}-{name}-{method}")
    for k in KINDS
    for name, method in k.cells
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("kind", "name", "method"), MATRIX)
def test_bad_input(kind, name, method, fitted, frame_fitted, ctx):
    source = frame_fitted[name] if kind.on == "frame" else fitted[name]
    est = clone(source) if kind.on == "unfitted" else copy.copy(source)
    state, weights = fitted_state(est), weights_of(source)
    if kind.error is None:
        out = kind.run(name, method, est, ctx)
        X = inject(name, "x")[0]
        check_output(name, method, out, n_rows(X))
        return
    with pytest.raises(kind.error, match=kind.match) as info:
        kind.run(name, method, est, ctx)
    assert_raised_by_library(info.value)
    assert fitted_state(est) == state
    assert weights_of(source) == weights


def test_shared_estimators_are_unchanged_after_the_matrix(fitted, tiny_bert):
    """After every call of the matrix, the shared fitted estimators still
    give the outputs of a fresh fit (same ``random_state``)."""
    for name, est in fitted.items():
        X, _ = good(name)
        method = INFERENCE[name][0]
        fresh = call(name, "fit", FACTORIES[name](tiny_bert), *good(name))
        a, b = getattr(est, method)(X), getattr(fresh, method)(X)
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            np.testing.assert_array_equal(a, b)
        else:
            assert list(map(str, a)) == list(map(str, b))


def test_matrix_size_is_documented():
    """The reliability page states how many kinds and cells there are."""
    page = Path(__file__).parents[1] / "docs" / "user_guide" / "reliability.rst"
    text = " ".join(page.read_text().split())
    assert f"{len(KINDS)} kinds of bad input" in text, len(KINDS)
    assert f"{len(MATRIX)} estimator-method cells" in text, len(MATRIX)


def test_matrix_covers_every_estimator_and_method():
    covered = {(name, method) for k in KINDS for name, method in k.cells}
    for name in ALL + FUSED:
        for method in ("fit", *INFERENCE[name]):
            assert (name, method) in covered, (name, method)
        if name in SAVES:
            assert (name, "save_pretrained") in covered
    assert len(KINDS) >= 60

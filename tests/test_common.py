"""The contract every estimator of sklearn_bert keeps, checked on tiny models.

scikit-learn's ``check_estimator`` skips estimators that take strings, so this
module is the library's own common test suite: each check runs against every
registered estimator and every tiny model family (``tests/_tiny_models.py``).

Registering a new estimator
---------------------------
Add one :class:`EstimatorCase` to ``ESTIMATORS``; nothing else changes::

    EstimatorCase(
        name="BertClassifier",
        factory=lambda folder: BertClassifier(
            folder, max_epochs=1, batch_size=4, max_length=32, random_state=0
        ),
        make_data=make_text_classification,
        kind="classifier",
        search_grid={"lr": [1e-4, 3e-4]},
    )

- ``factory(folder)`` builds an unfitted estimator on a tiny model folder.
  Shrink it for speed (small ``batch_size``, ``max_length=32``, one epoch) and
  fix ``random_state`` so that refitting is deterministic.
- ``make_data()`` returns ``(X, y)``: about a dozen rows of the input the
  estimator takes (texts, sentence pairs, token lists, (question, context)
  rows) and matching targets. ``y`` is always returned; unsupervised kinds
  ignore it in ``fit`` but transformers use it for the GridSearchCV check.
- ``kind`` tells which checks apply and how outputs are read (see
  ``KIND_METHODS``): ``"transformer"`` (``transform``, feature names,
  ``set_output``, used inside a ColumnTransformer), ``"classifier"``
  (``predict``, ``predict_proba``, ``decision_function``, ``score``),
  ``"regressor"``, ``"token_classifier"`` and ``"question_answerer"``
  (``predict`` may return lists), ``"masked_lm"`` (``transform``, ``score``
  without ``y``).
- ``search_grid`` is one parameter and two values for the GridSearchCV check.
  For transformers it is searched inside
  ``Pipeline([("est", estimator), ("clf", LogisticRegression())])``.
- ``heavy_families`` lists the families on which the slower checks
  (GridSearchCV, ColumnTransformer) run; the light ones run on all six.
  The default pairs a model with token types (BERT) and one without
  (DistilBERT).
- ``variant`` registers another configuration of an estimator already in
  the registry (for example text plus tabular columns); it becomes part of
  the test ids, ``BertClassifier[tabular]``.

A check that cannot hold for a kind branches on ``case.kind`` or is skipped
with a reason, as imbalanced-learn does, so every exception is written down
here rather than lost.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from _qa_data import qa_frame
from _tiny_models import FAMILIES
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks as skchecks
from sklearn.utils.validation import check_is_fitted

from sklearn_bert import (
    BertClassifier,
    BertContrastiveClassifier,
    BertContrastiveRegressor,
    BertMaskedLM,
    BertQuestionAnswerer,
    BertRegressor,
    BertTokenClassifier,
    BertTransformer,
)
from sklearn_bert._text.inputs import check_text_input

# -- the registry --------------------------------------------------------------

#: The methods whose output each kind of estimator is judged by.
KIND_METHODS: dict[str, tuple[str, ...]] = {
    "transformer": ("transform",),
    "classifier": ("predict", "predict_proba", "decision_function"),
    "regressor": ("predict",),
    "token_classifier": ("predict", "predict_proba"),
    "question_answerer": ("predict",),
    "masked_lm": ("transform",),
}
#: Kinds whose ``fit`` takes ``y``.
SUPERVISED_KINDS = {"classifier", "regressor", "token_classifier", "question_answerer"}

HEAVY_FAMILIES = ("bert", "distilbert")

#: Public estimators not registered yet, each with the reason. An estimator
#: exported from ``sklearn_bert`` must be in ``ESTIMATORS`` or here.
PENDING: dict[str, str] = {}


@dataclass(frozen=True)
class EstimatorCase:
    """One estimator registered in the contract suite (see the module doc)."""

    name: str
    factory: Callable[[str], BaseEstimator]
    make_data: Callable[[], tuple[Any, Any]]
    kind: str
    search_grid: dict[str, list] = field(default_factory=dict)
    heavy_families: tuple[str, ...] = HEAVY_FAMILIES
    variant: str = ""

    def __post_init__(self):
        if self.kind not in KIND_METHODS:
            raise ValueError(f"unknown kind {self.kind!r} for {self.name}")
        if len(self.search_grid) != 1:
            raise ValueError(f"{self.name}: search_grid needs exactly one parameter")

    @property
    def supervised(self) -> bool:
        return self.kind in SUPERVISED_KINDS

    @property
    def tabular(self) -> bool:
        """Whether ``X`` is a DataFrame of text and tabular columns."""
        return self.variant == "tabular"

    def __str__(self) -> str:  # the test id
        return f"{self.name}[{self.variant}]" if self.variant else self.name


def make_text_classification() -> tuple[list[str], np.ndarray]:
    """12 short texts, 2 balanced classes."""
    good = ["a good film", "great story", "very good", "love this film"]
    good += ["good food and friendly staff", "great price"]
    bad = ["a bad film", "terrible story", "very bad", "hate this film"]
    bad += ["bad food and slow service", "terrible price"]
    X = [t for pair in zip(good, bad, strict=True) for t in pair]
    y = np.array([1, 0] * 6)
    return X, y


def make_text_regression() -> tuple[list[str], np.ndarray]:
    """The same 12 texts with a float score."""
    X, y = make_text_classification()
    return X, y * 4.0 + np.linspace(0.0, 1.0, len(y))


def make_token_data() -> tuple[list[list[str]], list[list[str]]]:
    """12 tagged sentences (IOB2: PER, LOC, ORG) and one empty sentence."""
    rows = [
        ("John lives in Paris", "B-PER O O B-LOC"),
        ("Mary works for Acme Corp", "B-PER O O B-ORG I-ORG"),
        ("the city of Rome is old", "O O O B-LOC O O"),
        ("Google hired Anna", "B-ORG O B-PER"),
        ("Peter Brown visited New York", "B-PER I-PER O B-LOC I-LOC"),
        ("nothing happened today", "O O O"),
        ("Lisa joined IBM in Berlin", "B-PER O B-ORG O B-LOC"),
        ("Red Cross opened an office in Madrid", "B-ORG I-ORG O O O O B-LOC"),
        ("Tom lives in London", "B-PER O O B-LOC"),
        ("the United Nations hired Tom Miller", "O B-ORG I-ORG O B-PER I-PER"),
        ("Anna visited Paris with John", "B-PER O B-LOC O B-PER"),
        ("", ""),
    ]
    return [w.split() for w, _ in rows], [t.split() for _, t in rows]


def make_tabular_classification() -> tuple[pd.DataFrame, np.ndarray]:
    """The 12 texts beside a price (with a gap) and a shop (with a gap)."""
    X, y = make_text_classification()
    price = np.where(y == 1, 1.0, -1.0) + np.linspace(0.0, 0.5, len(y))
    price[4] = np.nan
    shop = np.array(["north", "south", "east", None] * 3, dtype=object)
    frame = pd.DataFrame({"review": X, "price": price, "shop": shop})
    return frame, y


def small(cls: type, **extra: Any) -> Callable[[str], BaseEstimator]:
    """A factory for a shrunk fine-tuning estimator (one epoch, short inputs)."""
    params = {"max_epochs": 1, "batch_size": 4, "max_length": 32}
    return lambda folder: cls(folder, device="cpu", random_state=0, **params, **extra)


ESTIMATORS: list[EstimatorCase] = [
    EstimatorCase(
        name="BertTransformer",
        factory=lambda folder: BertTransformer(
            folder, batch_size=4, max_length=32, device="cpu"
        ),
        make_data=make_text_classification,
        kind="transformer",
        search_grid={"pooling": ["mean", "cls"]},
    ),
    EstimatorCase(
        name="BertClassifier",
        factory=small(BertClassifier),
        make_data=make_text_classification,
        kind="classifier",
        search_grid={"lr": [1e-4, 3e-4]},
        heavy_families=("bert",),
    ),
    EstimatorCase(
        name="BertClassifier",
        variant="tabular",
        factory=small(BertClassifier, text_columns="review"),
        make_data=make_tabular_classification,
        kind="classifier",
        search_grid={"fusion": ["concat", "gated"]},
        heavy_families=("distilbert",),
    ),
    EstimatorCase(
        name="BertClassifier",
        variant="chunk",
        # 6 tokens: the longer texts make two windows or more in every family
        factory=lambda folder: BertClassifier(
            folder,
            max_length=6,
            long_text="chunk",
            stride=1,
            max_epochs=1,
            batch_size=4,
            device="cpu",
            random_state=0,
        ),
        make_data=make_text_classification,
        kind="classifier",
        search_grid={"chunk_aggregation": ["mean_logits", "max_logits"]},
        heavy_families=("roberta",),
    ),
    EstimatorCase(
        name="BertRegressor",
        factory=small(BertRegressor),
        make_data=make_text_regression,
        kind="regressor",
        search_grid={"lr": [1e-4, 3e-4]},
        heavy_families=("distilbert",),
    ),
    EstimatorCase(
        name="BertMaskedLM",
        factory=small(BertMaskedLM),
        make_data=make_text_classification,
        kind="masked_lm",
        search_grid={"mlm_probability": [0.15, 0.3]},
        heavy_families=("roberta",),
    ),
    EstimatorCase(
        name="BertTokenClassifier",
        factory=small(BertTokenClassifier),
        make_data=make_token_data,
        kind="token_classifier",
        search_grid={"lr": [1e-4, 3e-4]},
        heavy_families=("electra",),
    ),
    EstimatorCase(
        name="BertContrastiveClassifier",
        factory=small(BertContrastiveClassifier),
        make_data=make_text_classification,
        kind="classifier",
        search_grid={"lr": [1e-4, 3e-4]},
        heavy_families=("deberta-v2",),
    ),
    EstimatorCase(
        name="BertContrastiveRegressor",
        factory=small(BertContrastiveRegressor),
        make_data=make_text_regression,
        kind="regressor",
        search_grid={"pooling": ["mean", "max"]},
        heavy_families=("bert",),
    ),
    EstimatorCase(
        name="BertQuestionAnswerer",
        factory=lambda folder: BertQuestionAnswerer(
            folder, max_epochs=1, batch_size=8, max_length=64, random_state=0
        ),
        make_data=lambda: qa_frame(4),
        kind="question_answerer",
        search_grid={"max_answer_length": [3, 30]},
        heavy_families=("modernbert",),
    ),
]

# -- parametrisation -----------------------------------------------------------

ALL = [
    pytest.param(case, family, id=f"{case}-{family}")
    for case in ESTIMATORS
    for family in FAMILIES
]
HEAVY = [
    pytest.param(case, family, id=f"{case}-{family}")
    for case in ESTIMATORS
    for family in case.heavy_families
]


def of_kind(*kinds: str) -> list:
    return [p for p in ALL if p.values[0].kind in kinds]


# -- helpers -------------------------------------------------------------------

_FITTED: dict[tuple[str, str], BaseEstimator] = {}


def make(case: EstimatorCase, dirs: dict[str, str], family: str) -> BaseEstimator:
    """A fresh unfitted estimator on the tiny model of ``family``."""
    return case.factory(dirs[family])


def fit(case: EstimatorCase, estimator: BaseEstimator, X, y) -> Any:
    return estimator.fit(X, y) if case.supervised else estimator.fit(X)


def fitted(case: EstimatorCase, dirs: dict[str, str], family: str) -> BaseEstimator:
    """A fitted estimator: a deep copy of one fitted once per session."""
    key = (str(case), family)
    if key not in _FITTED:
        X, y = case.make_data()
        _FITTED[key] = fit(case, make(case, dirs, family), X, y)
    return copy.deepcopy(_FITTED[key])


def outputs(case: EstimatorCase, estimator: BaseEstimator, X) -> dict[str, Any]:
    """What the estimator returns for ``X``, by method."""
    return {
        method: getattr(estimator, method)(X)
        for method in KIND_METHODS[case.kind]
        if hasattr(estimator, method)
    }


def assert_same_outputs(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    assert a, "no output method was called"
    for method, value in a.items():
        if isinstance(value, list):  # token lists, answer strings, arrays
            assert len(value) == len(b[method]), method
            for got, want in zip(value, b[method], strict=True):
                if isinstance(got, np.ndarray):  # per-sentence probabilities
                    np.testing.assert_array_equal(got, want, err_msg=method)
                else:
                    assert got == want, method
        else:
            np.testing.assert_array_equal(value, b[method], err_msg=method)


def fitted_attributes(estimator: BaseEstimator) -> list[str]:
    return [k for k in vars(estimator) if k.endswith("_") and not k.startswith("_")]


def assert_equal_params(a: BaseEstimator, b: BaseEstimator) -> None:
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    assert pa.keys() == pb.keys()
    for name in pa:
        assert type(pa[name]) is type(pb[name]), name
        assert pa[name] == pb[name], name


def as_frame(X, n: int) -> pd.DataFrame:
    """``X`` as a ``text`` column beside a numeric one, with a non-default index."""
    index = pd.Index([100 + 7 * i for i in range(n)])
    frame = pd.DataFrame({"num": np.arange(n, dtype=float)}, index=index)
    if isinstance(X, pd.DataFrame):  # (question, context) rows keep their columns
        for column in X.columns:
            frame[column] = X[column].to_numpy(dtype=object)
        return frame
    frame["text"] = pd.Series(list(X), index=index, dtype=object)
    return frame


# -- tags and scikit-learn's data-free API checks ------------------------------


@pytest.mark.parametrize("case", ESTIMATORS, ids=str)
def test_tags_declare_string_input(case, tiny_bert):
    tags = case.factory(tiny_bert).__sklearn_tags__()
    assert tags.input_tags.string is True
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.sparse is False
    if case.kind == "transformer":
        assert tags.transformer_tags is not None
    assert is_classifier(case.factory(tiny_bert)) == (case.kind == "classifier")
    assert is_regressor(case.factory(tiny_bert)) == (case.kind == "regressor")


#: scikit-learn checks that need no numeric data (or fail before reading it).
API_CHECKS = [
    skchecks.check_no_attributes_set_in_init,
    skchecks.check_get_params_invariance,
    skchecks.check_set_params,
    skchecks.check_parameters_default_constructible,
    skchecks.check_estimator_repr,
    skchecks.check_estimator_cloneable,
    skchecks.check_do_not_raise_errors_in_init_or_set_params,
    skchecks.check_valid_tag_types,
    skchecks.check_estimator_tags_renamed,
    skchecks.check_mixin_order,
    # fit validates parameters before it looks at X
    skchecks.check_param_validation,
]
#: Checks that apply to some kinds only: they call a method before fit.
KIND_API_CHECKS = {
    "transformer": [
        skchecks.check_transformers_unfitted,
        skchecks.check_get_feature_names_out_error,
    ],
    "classifier": [skchecks.check_estimators_unfitted],
    "regressor": [skchecks.check_estimators_unfitted],
}


def api_check_params() -> list:
    params = []
    for p in ALL:
        case, family = p.values
        for check in API_CHECKS + KIND_API_CHECKS.get(case.kind, []):
            params.append(
                pytest.param(case, family, check, id=f"{p.id}-{check.__name__}")
            )
    return params


@pytest.mark.filterwarnings("ignore:.*occurred during set_params:UserWarning")
@pytest.mark.parametrize(("case", "family", "check"), api_check_params())
def test_sklearn_api_check(case, family, check, tiny_model_dirs):
    check(case.name, make(case, tiny_model_dirs, family))


# -- clone, params, fit --------------------------------------------------------


@pytest.mark.parametrize(("case", "family"), ALL)
def test_clone_gives_unfitted_twin(case, family, tiny_model_dirs):
    estimator = make(case, tiny_model_dirs, family)
    twin = clone(estimator)
    assert twin is not estimator
    assert_equal_params(twin, estimator)
    assert fitted_attributes(twin) == []

    trained = fitted(case, tiny_model_dirs, family)
    assert fitted_attributes(trained)
    twin = clone(trained)
    assert_equal_params(twin, trained)
    assert fitted_attributes(twin) == []
    with pytest.raises(NotFittedError):
        check_is_fitted(twin)


@pytest.mark.parametrize(("case", "family"), ALL)
def test_every_estimator_shows_its_model_as_model_(case, family, tiny_model_dirs):
    """One attribute for the fitted weights: ``model_`` is the Hugging Face
    model the estimator runs (the object inside its net, not a copy), absent
    before ``fit`` and after ``clone``."""
    from transformers import PreTrainedModel

    estimator = make(case, tiny_model_dirs, family)
    assert not hasattr(estimator, "model_")
    trained = fitted(case, tiny_model_dirs, family)
    assert isinstance(trained.model_, PreTrainedModel)
    net = vars(trained).get("net_")
    if net is not None:
        assert trained.model_ is net.module_.hf_model
        assert "model_" not in vars(trained)  # stored once, in the net
    assert not hasattr(clone(trained), "model_")


@pytest.mark.parametrize(("case", "family"), ALL)
def test_fit_returns_self_and_keeps_params(case, family, tiny_model_dirs):
    estimator = make(case, tiny_model_dirs, family)
    before = copy.deepcopy(estimator.get_params(deep=False))
    X, y = case.make_data()
    assert fit(case, estimator, X, y) is estimator
    after = estimator.get_params(deep=False)
    assert after.keys() == before.keys()
    for name, value in before.items():
        assert after[name] == value, f"fit changed the parameter {name}"
    check_is_fitted(estimator)
    if case.tabular:  # every column of the DataFrame
        assert estimator.feature_names_in_.tolist() == list(X.columns)
    elif case.kind != "token_classifier":  # token lists have no columns
        assert estimator.n_features_in_ == check_text_input(X).n_columns


@pytest.mark.parametrize(("case", "family"), ALL)
def test_not_fitted_error_before_fit(case, family, tiny_model_dirs):
    estimator = make(case, tiny_model_dirs, family)
    X, y = case.make_data()
    methods = [m for m in KIND_METHODS[case.kind] if hasattr(estimator, m)]
    if case.kind == "transformer":
        methods.append("get_feature_names_out")
    assert methods
    for method in methods:
        args = () if method == "get_feature_names_out" else (X,)
        with pytest.raises(NotFittedError):
            getattr(estimator, method)(*args)
    if hasattr(estimator, "score"):
        with pytest.raises(NotFittedError):
            estimator.score(X, y) if case.supervised else estimator.score(X)


@pytest.mark.parametrize(("case", "family"), ALL)
def test_get_set_params_round_trip(case, family, tiny_model_dirs):
    estimator = make(case, tiny_model_dirs, family)
    params = estimator.get_params()
    assert estimator.set_params(**params) is estimator
    assert estimator.get_params() == params
    name, values = next(iter(case.search_grid.items()))
    other = next(v for v in values if v != params[name])
    estimator.set_params(**{name: other})
    assert estimator.get_params()[name] == other
    assert clone(estimator).get_params()[name] == other
    with pytest.raises(ValueError, match="Invalid parameter"):
        estimator.set_params(no_such_parameter=1)


# -- outputs: persistence, determinism -----------------------------------------


@pytest.mark.parametrize(("case", "family"), ALL)
def test_pickle_round_trip(case, family, tiny_model_dirs, tmp_path):
    estimator = fitted(case, tiny_model_dirs, family)
    X, _ = case.make_data()
    expected = outputs(case, estimator, X)
    loaded = pickle.loads(pickle.dumps(estimator))
    assert type(loaded) is type(estimator)
    assert_equal_params(loaded, estimator)
    assert_same_outputs(outputs(case, loaded, X), expected)
    joblib.dump(estimator, tmp_path / "estimator.joblib")
    loaded = joblib.load(tmp_path / "estimator.joblib")
    assert_same_outputs(outputs(case, loaded, X), expected)
    # pickling does not change the original
    assert_same_outputs(outputs(case, estimator, X), expected)


@pytest.mark.parametrize(("case", "family"), ALL)
def test_refit_is_deterministic(case, family, tiny_model_dirs):
    X, y = case.make_data()
    estimator = fit(case, make(case, tiny_model_dirs, family), X, y)
    first = outputs(case, estimator, X)
    assert_same_outputs(outputs(case, fit(case, estimator, X, y), X), first)
    twin = fit(case, clone(estimator), X, y)
    assert_same_outputs(outputs(case, twin, X), first)


@pytest.mark.parametrize(("case", "family"), ALL)
def test_silent_at_verbose_zero(case, family, tiny_model_dirs, capfd):
    X, y = case.make_data()
    estimator = make(case, tiny_model_dirs, family)
    assert estimator.get_params()["verbose"] == 0
    capfd.readouterr()
    outputs(case, fit(case, estimator, X, y), X)
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == ""


# -- composition ---------------------------------------------------------------


@pytest.mark.parametrize(("case", "family"), ALL)
def test_in_pipeline(case, family, tiny_model_dirs):
    X, y = case.make_data()
    alone = fitted(case, tiny_model_dirs, family)
    if case.kind == "transformer":
        pipe = Pipeline(
            [("est", make(case, tiny_model_dirs, family)), ("scale", StandardScaler())]
        )
        got = pipe.fit(X).transform(X)
        expected = StandardScaler().fit_transform(alone.transform(X))
        # the same computation: exact, as for the other kinds below
        np.testing.assert_array_equal(got, expected)
        assert pipe.get_feature_names_out().tolist() == (
            alone.get_feature_names_out().tolist()
        )
    else:
        pipe = Pipeline([("est", make(case, tiny_model_dirs, family))])
        fit(case, pipe, X, y)
        assert_same_outputs(outputs(case, pipe, X), outputs(case, alone, X))


@pytest.mark.parametrize(("case", "family"), HEAVY)
def test_in_column_transformer(case, family, tiny_model_dirs):
    X, y = case.make_data()
    frame = as_frame(X, len(X))
    alone = fitted(case, tiny_model_dirs, family)
    if case.kind == "transformer":
        ct = ColumnTransformer(
            [
                ("est", make(case, tiny_model_dirs, family), "text"),
                ("scale", StandardScaler(), ["num"]),
            ]
        ).set_output(transform="pandas")
        out = ct.fit_transform(frame)
        assert isinstance(out, pd.DataFrame)
        assert out.index.equals(frame.index)
        width = alone.transform(X).shape[1]
        assert out.shape == (len(X), width + 1)
        assert out.columns[0] == "est__text_0"
        assert out.columns[-1] == "scale__num"
        assert all(c.startswith("est__text_") for c in out.columns[:width])
        # the same computation: exact, as for the other kinds below
        np.testing.assert_array_equal(
            out.iloc[:, :width].to_numpy(), alone.transform(X)
        )
    elif case.tabular:
        # a fused estimator reads named columns: a ColumnTransformer with
        # pandas output selects them (dtypes kept), dropping "num"
        frame = X.set_axis(frame.index).assign(num=frame["num"])
        select = ColumnTransformer(
            [("keep", "passthrough", list(X.columns))],
            verbose_feature_names_out=False,
        ).set_output(transform="pandas")
        pipe = Pipeline(
            [("select", select), ("est", make(case, tiny_model_dirs, family))]
        )
        fit(case, pipe, frame, y)
        assert_same_outputs(outputs(case, pipe, frame), outputs(case, alone, X))
    else:
        # predictors read the text column selected by a ColumnTransformer
        text_columns = [c for c in frame.columns if c != "num"]
        select = ColumnTransformer([("text", "passthrough", text_columns)])
        pipe = Pipeline(
            [("select", select), ("est", make(case, tiny_model_dirs, family))]
        )
        fit(case, pipe, frame, y)
        assert_same_outputs(outputs(case, pipe, frame), outputs(case, alone, X))


@pytest.mark.parametrize(("case", "family"), HEAVY)
def test_grid_search(case, family, tiny_model_dirs):
    X, y = case.make_data()
    name, values = next(iter(case.search_grid.items()))
    if case.kind == "transformer":
        estimator = Pipeline(
            [
                ("est", make(case, tiny_model_dirs, family)),
                ("clf", LogisticRegression(max_iter=200)),
            ]
        )
        grid = {f"est__{name}": values}
    else:
        estimator = make(case, tiny_model_dirs, family)
        grid = {name: values}
    search = GridSearchCV(estimator, grid, cv=2, error_score="raise")
    search.fit(X, y)
    assert list(search.cv_results_["params"]) == [
        {k: v} for k, vs in grid.items() for v in vs
    ]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    ((key, best),) = search.best_params_.items()
    assert search.best_estimator_.get_params()[key] == best
    # a transformer is searched inside a Pipeline ending in a classifier
    method = "predict" if case.kind == "transformer" else KIND_METHODS[case.kind][0]
    assert len(getattr(search, method)(X)) == len(X)


@pytest.mark.parametrize(("case", "family"), of_kind("transformer"))
def test_set_output_pandas(case, family, tiny_model_dirs):
    X, _ = case.make_data()
    index = pd.Index([f"row{i}" for i in range(len(X))][::-1])
    series = pd.Series(X, index=index, name="review")
    estimator = make(case, tiny_model_dirs, family).set_output(transform="pandas")
    out = estimator.fit(series).transform(series)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(index)
    assert out.columns.tolist() == estimator.get_feature_names_out().tolist()
    assert out.columns[0] == "review_0"
    plain = make(case, tiny_model_dirs, family).fit(series).transform(series)
    np.testing.assert_array_equal(out.to_numpy(), plain)


# -- the registry itself -------------------------------------------------------


def test_registry_is_consistent(tiny_bert):
    names = [str(case) for case in ESTIMATORS]
    assert len(names) == len(set(names))
    for case in ESTIMATORS:
        estimator = case.factory(tiny_bert)
        assert type(estimator).__name__ == case.name
        params = estimator.get_params()
        assert set(case.search_grid) <= set(params)
        X, y = case.make_data()
        assert len(X) == len(y) >= 6
        assert any(hasattr(estimator, m) for m in KIND_METHODS[case.kind])


def test_every_public_estimator_is_registered():
    import sklearn_bert

    public = {
        name
        for name in sklearn_bert.__all__
        if isinstance(getattr(sklearn_bert, name), type)
        and issubclass(getattr(sklearn_bert, name), BaseEstimator)
    }
    registered = {case.name for case in ESTIMATORS}
    assert public - registered <= set(PENDING), "register it in ESTIMATORS"
    assert not registered & set(PENDING), "registered: remove it from PENDING"

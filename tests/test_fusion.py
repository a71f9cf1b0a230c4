"""Text plus tabular columns in BertClassifier and BertRegressor (``text_columns``),
and the frozen path's reduced embeddings (BertTransformer ``n_components``),
on tiny models."""

from __future__ import annotations

import copy
import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from _precision import assert_agree
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from sklearn_bert import BertClassifier, BertMaskedLM, BertRegressor, BertTransformer
from sklearn_bert._params import FUSIONS
from sklearn_bert._text.batching import pad_batch, row_length

FAST = {"max_length": 32, "batch_size": 8, "max_epochs": 1, "random_state": 0}
FAST["device"] = "cpu"


def make_frame(n: int = 24) -> tuple[pd.DataFrame, np.ndarray]:
    """Texts, a title, a number with gaps, a category with a gap and a flag;
    the label follows the text and the price."""
    rng = np.random.default_rng(0)
    y = np.array(["pos", "neg"] * (n // 2), dtype=object)
    good = ["a good film", "great story", "love this film", "very good food"]
    bad = ["a bad film", "terrible story", "hate this film", "very bad food"]
    text = [good[i % 4] if y[i] == "pos" else bad[i % 4] for i in range(n)]
    price = np.where(y == "pos", 2.0, -2.0) + rng.normal(size=n)
    price[3] = np.nan
    shop = np.array(["north", "south", "east"] * (n // 3), dtype=object)
    shop[5] = None
    X = pd.DataFrame(
        {
            "review": text,
            "title": ["title " + t.split()[-1] for t in text],
            "price": price,
            "shop": shop,
            "member": np.arange(n) % 2 == 0,
        },
        index=pd.RangeIndex(100, 100 + n),
    )
    return X, y


X_DF, Y = make_frame()
TEXT_ONLY = X_DF.drop(columns=["title"])  # one text column


def fused(model, **kw):
    return BertClassifier(model, **{"text_columns": "review", **FAST, **kw})


@pytest.fixture(scope="module")
def fitted_fused(tiny_bert):
    return fused(tiny_bert).fit(TEXT_ONLY, Y)


@pytest.fixture
def clf(fitted_fused):
    return copy.deepcopy(fitted_fused)


# -- fit: columns, preprocessor, fitted attributes ----------------------------


def test_fit_reads_text_and_tabular_columns(clf):
    assert clf.n_features_in_ == 4
    assert clf.feature_names_in_.tolist() == ["review", "price", "shop", "member"]
    assert clf.text_columns_ == ["review"]
    assert clf.tabular_columns_ == ["price", "shop", "member"]
    names = clf.tabular_feature_names_.tolist()
    assert names == clf.tabular_preprocessor_.get_feature_names_out().tolist()
    assert "num__price" in names and "num__missingindicator_price" in names
    assert {"cat__shop_north", "cat__shop_missing"} <= set(names)
    assert clf.net_.module_.n_tabular == len(names)
    proba = clf.predict_proba(TEXT_ONLY)
    assert proba.shape == (len(Y), 2)
    assert_agree(proba.sum(axis=1), 1, "float32")
    assert set(clf.predict(TEXT_ONLY)) <= {"pos", "neg"}


@pytest.mark.parametrize(
    "as_dtype", ["object", "string"], ids=["object-None", "nullable-NA"]
)
def test_a_missing_category_is_one_category_whatever_its_dtype(as_dtype):
    """``None`` in an object column (pandas 2's default for text) and ``pd.NA``
    in a nullable string column are imputed as ``"missing"``, not kept as a
    category "None" or refused."""
    from sklearn_bert._tasks.sequence.tabular import _plain_strings, auto_preprocessor

    shop = pd.Series(["north", None, "south", "north"], dtype=as_dtype)
    frame = _plain_strings(pd.DataFrame({"shop": shop, "price": [1.0, 2, 3, 4]}))
    prep = auto_preprocessor(frame).fit(frame)
    names = prep.get_feature_names_out().tolist()
    assert "cat__shop_missing" in names and "cat__shop_None" not in names
    assert prep.transform(frame)[1, names.index("cat__shop_missing")] == 1.0


def test_predict_checks_parameters_changed_after_fit(clf):
    """``set_params`` after ``fit`` is checked again at ``predict``, as for
    text input, naming the parameter (not ``range() arg 3 must not be zero``)."""
    from sklearn.utils._param_validation import InvalidParameterError

    clf.set_params(batch_size=0)
    with pytest.raises(InvalidParameterError, match="batch_size"):
        clf.predict(TEXT_ONLY)


def test_preprocessor_is_fitted_on_the_training_rows_only(tiny_bert):
    train = TEXT_ONLY.iloc[:12]
    clf = fused(tiny_bert).fit(train, Y[:12])
    scaler = clf.tabular_preprocessor_.named_transformers_["num"][-1]
    expected = train[["price"]].fillna(train["price"].median())
    np.testing.assert_allclose(scaler.mean_[0], expected["price"].mean())
    # the test rows' unseen category is no error: it is encoded as zeros
    test = TEXT_ONLY.iloc[12:].copy()
    test["shop"] = "west"
    assert clf.predict_proba(test).shape == (12, 2)


def test_preprocessor_is_refitted_in_each_cross_validation_fold(tiny_bert):
    seen = []

    class Recorder(StandardScaler):
        def fit(self, X, y=None, sample_weight=None):
            seen.append(len(X))
            return super().fit(X, y, sample_weight)

    prep = make_column_transformer((Recorder(), ["price"]), remainder="drop")
    X = TEXT_ONLY.assign(price=TEXT_ONLY["price"].fillna(0.0))
    scores = cross_val_score(fused(tiny_bert, tabular_preprocessor=prep), X, Y, cv=3)
    assert len(scores) == 3
    assert seen == [16, 16, 16]


def test_user_preprocessor_is_cloned_not_changed(tiny_bert):
    prep = make_column_transformer(
        (
            make_pipeline(FunctionTransformer(np.nan_to_num), StandardScaler()),
            ["price"],
        ),
        (OneHotEncoder(handle_unknown="ignore"), ["shop"]),
        ("passthrough", ["member"]),
    )
    X = TEXT_ONLY.assign(shop=TEXT_ONLY["shop"].fillna("none"))
    clf = fused(tiny_bert, tabular_preprocessor=prep).fit(X, Y)
    assert not hasattr(prep, "transformers_")  # the parameter stays unfitted
    assert clf.tabular_preprocessor_ is not prep
    assert clf.net_.module_.n_tabular == 1 + 4 + 1  # sparse output made dense
    assert clf.predict(X).shape == (len(Y),)


def test_passthrough_uses_numeric_columns_as_they_are(tiny_bert):
    X = TEXT_ONLY[["review", "member"]].assign(price=np.arange(len(Y), dtype=float))
    clf = fused(tiny_bert, tabular_preprocessor="passthrough").fit(X, Y)
    assert clf.tabular_preprocessor_ is None
    assert clf.tabular_feature_names_.tolist() == ["member", "price"]
    with pytest.raises(TypeError, match=r"'passthrough' needs numeric.*'shop'"):
        fused(tiny_bert, tabular_preprocessor="passthrough").fit(TEXT_ONLY, Y)
    with pytest.raises(ValueError, match=r"row 3 \(index 103\) in 'price'"):
        fused(tiny_bert, tabular_preprocessor="passthrough").fit(
            TEXT_ONLY[["review", "price"]], Y
        )


def test_auto_preprocessor_handles_pandas_dtypes(tiny_bert):
    X = pd.DataFrame(
        {
            "review": TEXT_ONLY["review"].to_numpy(),
            "count": pd.array([1, None] * 12, dtype="Int64"),
            "flag": pd.array([True, None, False] * 8, dtype="boolean"),
            "city": pd.array(["a", pd.NA, "b"] * 8, dtype="string"),
            "kind": pd.Categorical(["x", "y", None] * 8),
        }
    )
    clf = fused(tiny_bert).fit(X, Y)
    assert np.isfinite(clf.predict_proba(X)).all()
    with pytest.raises(TypeError, match=r"not \['when \(datetime64"):
        fused(tiny_bert).fit(X.assign(when=pd.Timestamp("2020-01-01")), Y)


def test_preprocessor_output_must_be_finite_numbers(tiny_bert):
    keep_nan = make_column_transformer(("passthrough", ["price"]))
    with pytest.raises(ValueError, match=r"missing or infinite value at row 3"):
        fused(tiny_bert, tabular_preprocessor=keep_nan).fit(TEXT_ONLY, Y)
    strings = make_column_transformer(("passthrough", ["shop"]))
    X = TEXT_ONLY.assign(shop=TEXT_ONLY["shop"].fillna("none"))
    with pytest.raises(TypeError, match="not numbers"):
        fused(tiny_bert, tabular_preprocessor=strings).fit(X, Y)


def test_every_column_a_text_column(tiny_bert):
    X = X_DF[["review", "title"]]
    clf = fused(tiny_bert, text_columns=["review", "title"]).fit(X, Y)
    assert clf.tabular_columns_ == []
    assert clf.tabular_preprocessor_ is None
    assert clf.net_.module_.tabular is None
    assert clf.predict(X).shape == (len(Y),)


# -- without text_columns: as before --------------------------------------------


def test_without_text_columns_nothing_changes(tiny_bert):
    texts = TEXT_ONLY["review"].tolist()
    plain = BertClassifier(tiny_bert, **FAST).fit(texts, Y)
    assert not hasattr(plain, "text_columns_")
    assert not hasattr(plain, "tabular_preprocessor_")
    twin = BertClassifier(tiny_bert, head_lr=plain.head_lr_, **FAST).fit(texts, Y)
    np.testing.assert_array_equal(twin.predict_proba(texts), plain.predict_proba(texts))
    # a DataFrame of text columns is still read as sentence pairs
    pairs = X_DF[["review", "title"]]
    assert BertClassifier(tiny_bert, **FAST).fit(pairs, Y).n_features_in_ == 2


# -- the network: fusion, joint training, learning rates -----------------------


def _changed(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return any(
        not torch.equal(p, q)
        for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


@pytest.mark.parametrize("fusion", FUSIONS)
def test_each_fusion_trains_encoder_and_tabular_layers_jointly(tiny_bert, fusion):
    from transformers import AutoModel

    torch.manual_seed(0)
    clf = fused(tiny_bert, fusion=fusion, max_epochs=2).fit(TEXT_ONLY, Y)
    module = clf.net_.module_
    assert module.spec()["fusion"] == fusion
    assert _changed(module.hf_model, AutoModel.from_pretrained(tiny_bert))
    # the prediction reads the tabular values
    other = TEXT_ONLY.assign(price=-TEXT_ONLY["price"].fillna(0.0) * 10)
    assert not np.allclose(clf.predict_proba(other), clf.predict_proba(TEXT_ONLY))
    assert np.isfinite(clf.decision_function(TEXT_ONLY)).all()


def test_fusion_learns_from_the_table(tiny_bert):
    # the text says nothing; the label is the sign of the price
    X = pd.DataFrame({"review": ["same words"] * 32, "price": np.linspace(-3, 3, 32)})
    y = np.where(X["price"] > 0, "up", "down")
    clf = fused(tiny_bert, max_epochs=10, batch_size=4).fit(X, y)
    assert clf.score(X, y) >= 0.9


def test_head_lr_gives_new_weights_their_own_learning_rate(tiny_bert):
    clf = fused(tiny_bert).fit(TEXT_ONLY, Y)
    assert clf.head_lr_ == pytest.approx(1e-3)  # "auto" with lr="auto"
    module = clf.net_.module_
    heads = {id(p) for m in module.head_modules() for p in m.parameters()}
    encoder = {id(p) for p in module.hf_model.parameters()}
    for group in clf.net_.optimizer_.param_groups:
        ids = {id(p) for p in group["params"]}
        assert ids <= heads or ids <= encoder
        expected = clf.head_lr_ if ids <= heads else clf.lr_
        assert group["initial_lr"] == pytest.approx(expected)

    def group_of(param):
        groups = clf.net_.optimizer_.param_groups
        return next(g for g in groups if any(p is param for p in g["params"]))

    assert group_of(module.head.bias)["weight_decay"] == 0.0
    assert group_of(module.head.weight)["weight_decay"] > 0.0
    explicit = fused(tiny_bert, head_lr=3e-4).fit(TEXT_ONLY, Y)
    assert explicit.head_lr_ == 3e-4
    # "auto" is 20 times the encoder's rate, as for a text-only head
    assert fused(tiny_bert, lr=2e-5).fit(TEXT_ONLY, Y).head_lr_ == pytest.approx(4e-4)
    single = fused(tiny_bert, lr=2e-5, head_lr=None).fit(TEXT_ONLY, Y)
    assert {g["initial_lr"] for g in single.net_.optimizer_.param_groups} == {2e-5}


# -- several text columns ---------------------------------------------------------


def _tokenized(clf, X):
    """The sequences a fitted fused model reads for ``X``."""
    from sklearn_bert._tasks.sequence.rows import input_kind

    kind = input_kind(clf, fitting=False)
    return kind.tokenize(clf.tokenizer_, clf.net_.module_.hf_model, kind.check(X), 32)


def test_join_encodes_texts_as_one_sequence(tiny_bert):
    clf = fused(tiny_bert, text_columns=["review", "title"]).fit(X_DF, Y)
    assert clf.net_.module_.n_texts == 1
    tok = _tokenized(clf, X_DF)
    features = tok.features
    sep = clf.tokenizer_.sep_token_id
    assert features[0]["input_ids"].count(sep) == 2  # [CLS] a [SEP] b [SEP]
    assert "input_ids.1" not in features[0]
    assert set(features[0]["token_type_ids"]) == {0, 1}


def test_separate_encodes_each_text_with_its_own_budget(tiny_bert):
    long_title = X_DF.assign(title=["word " * 44] * len(Y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no text is cut: 32 tokens each
        clf = fused(
            tiny_bert,
            text_columns=["review", "title"],
            combine_texts="separate",
            max_length=48,
        ).fit(long_title, Y)
    assert clf.net_.module_.n_texts == 2
    assert clf.net_.module_.head.in_features > 2 * 32  # two texts + tabular
    other = long_title.assign(title=["terrible"] * len(Y))
    assert not np.allclose(clf.predict_proba(other), clf.predict_proba(long_title))
    with pytest.warns(UserWarning, match="truncated"):
        fused(tiny_bert, text_columns=["review", "title"], max_length=48).fit(
            long_title, Y
        )


def test_three_text_columns_join_with_separators(tiny_bert):
    X = X_DF.assign(note=["note"] * len(Y))
    clf = fused(tiny_bert, text_columns=["review", "title", "note"]).fit(X, Y)
    tok = _tokenized(clf, X)
    features = tok.features
    assert features[0]["input_ids"].count(clf.tokenizer_.sep_token_id) == 3


# -- predict: never silent misalignment ---------------------------------------------


def test_columns_in_another_order_give_the_same_outputs(clf):
    expected = clf.predict_proba(TEXT_ONLY)
    shuffled = TEXT_ONLY[["member", "shop", "review", "price"]]
    # the same rows once the columns are selected: the very same computation
    np.testing.assert_array_equal(clf.predict_proba(shuffled), expected)


def test_unknown_categories_and_missing_numbers_are_handled(clf):
    X = TEXT_ONLY.copy()
    X["shop"] = ["west", None] * 12
    X["price"] = np.nan
    assert np.isfinite(clf.predict_proba(X)).all()


def test_missing_and_unseen_columns_are_errors_naming_them(clf):
    with pytest.raises(ValueError, match=r"missing the column\(s\) \['price'\]"):
        clf.predict(TEXT_ONLY.drop(columns="price"))
    with pytest.raises(ValueError, match=r"column\(s\) \['extra'\] not seen in fit"):
        clf.predict(TEXT_ONLY.assign(extra=1))
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        clf.predict(TEXT_ONLY["review"].tolist())


def test_bad_inputs_in_fit_are_errors_naming_them(tiny_bert):
    with pytest.raises(ValueError, match=r"text_columns names \['body'\]"):
        fused(tiny_bert, text_columns=["body"]).fit(TEXT_ONLY, Y)
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        fused(tiny_bert).fit(TEXT_ONLY.to_numpy(), Y)
    with pytest.raises(ValueError, match="text_columns is empty"):
        fused(tiny_bert, text_columns=[]).fit(TEXT_ONLY, Y)
    X = TEXT_ONLY.copy()
    X.loc[104, "review"] = None
    with pytest.raises(ValueError, match=r"row 4 \(index 104\) of column 'review'"):
        fused(tiny_bert).fit(X, Y)
    with pytest.raises(TypeError, match="column names must be strings"):
        fused(tiny_bert).fit(TEXT_ONLY.set_axis(["review", 1, 2, 3], axis=1), Y)


def test_predict_before_fit_raises_not_fitted(tiny_bert):
    with pytest.raises(NotFittedError):
        fused(tiny_bert).predict(TEXT_ONLY)


# -- scikit-learn tools, persistence ------------------------------------------------


def test_grid_search_over_the_fusion(tiny_bert):
    search = GridSearchCV(
        fused(tiny_bert),
        {"fusion": ["concat", "gated", "attention"]},
        cv=2,
        error_score="raise",
    )
    search.fit(TEXT_ONLY, Y)
    assert [p["fusion"] for p in search.cv_results_["params"]] == list(FUSIONS)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert (
        search.best_estimator_.net_.module_.spec()["fusion"]
        == (search.best_params_["fusion"])
    )


def test_pickle_holds_everything_predict_needs(clf):
    expected = clf.predict_proba(TEXT_ONLY)
    loaded = pickle.loads(pickle.dumps(clf))
    assert_agree(loaded.predict_proba(TEXT_ONLY), expected, clf.precision_)
    assert loaded.tabular_columns_ == clf.tabular_columns_
    assert clone(loaded).get_params()["text_columns"] == "review"


def test_sample_and_class_weights_apply(tiny_bert):
    weights = np.where(Y == "pos", 2.0, 1.0)
    clf = fused(tiny_bert, class_weight="balanced").fit(
        TEXT_ONLY, Y, sample_weight=weights
    )
    assert clf.predict(TEXT_ONLY).shape == (len(Y),)


def test_save_pretrained_writes_the_preprocessor_safely(clf, tmp_path):
    import skops.io as sio

    path = clf.save_pretrained(tmp_path / "saved")
    names = {p.name for p in path.iterdir()}
    assert {"sklearn_bert_head.safetensors", "sklearn_bert_tabular.skops"} <= names
    assert "2_Dense" not in names  # sentence-transformers stops at the pooling
    record = json.loads((path / "config.json").read_text())["sklearn_bert"]
    assert record["fusion"]["text_columns"] == ["review"]
    assert record["fusion"]["tabular_columns"] == ["price", "shop", "member"]
    assert record["fusion"]["module"]["fusion"] == "concat"
    file = path / "sklearn_bert_tabular.skops"
    untrusted = sio.get_untrusted_types(file=file)
    assert all(t.startswith(("numpy.", "pandas.")) for t in untrusted), untrusted
    prep = sio.load(file, trusted=untrusted)
    frame = TEXT_ONLY[clf.tabular_columns_]
    np.testing.assert_allclose(
        prep.transform(frame), clf.tabular_preprocessor_.transform(frame)
    )


def test_an_estimator_started_from_the_folder_restores_the_fused_model(clf, tmp_path):
    path = clf.save_pretrained(tmp_path / "saved")
    expected = clf.predict_proba(TEXT_ONLY)
    # almost no training: the restored model predicts as the saved one did
    again = BertClassifier(
        str(path), text_columns="review", lr=1e-12, head_lr=1e-12, **FAST
    ).fit(TEXT_ONLY.iloc[:8], Y[:8])
    assert_agree(again.predict_proba(TEXT_ONLY), expected, clf.precision_)
    # the saved preprocessor was used as it is, not refitted on the 8 rows
    scaler = again.tabular_preprocessor_.named_transformers_["num"][-1]
    original = clf.tabular_preprocessor_.named_transformers_["num"][-1]
    np.testing.assert_allclose(scaler.mean_, original.mean_)
    # another fusion starts its new layers fresh, from the saved encoder
    other = BertClassifier(str(path), text_columns="review", fusion="gated", **FAST)
    assert other.fit(TEXT_ONLY, Y).net_.module_.spec()["fusion"] == "gated"
    # a text-only estimator does not read the fused head
    plain = BertClassifier(str(path), **FAST).fit(TEXT_ONLY["review"], Y)
    assert plain.predict(TEXT_ONLY["review"]).shape == (len(Y),)


def test_an_untrusted_saved_preprocessor_is_not_loaded(tiny_bert, tmp_path):
    prep = make_column_transformer(
        (FunctionTransformer(_double, feature_names_out="one-to-one"), ["price"]),
        remainder="drop",
    )
    X = TEXT_ONLY.assign(price=TEXT_ONLY["price"].fillna(0.0))
    path = (
        fused(tiny_bert, tabular_preprocessor=prep)
        .fit(X, Y)
        .save_pretrained(tmp_path / "custom")
    )
    with pytest.raises(ValueError, match=r"not trusted by default: \[.*_double"):
        BertClassifier(str(path), text_columns="review", **FAST).fit(X, Y)


def _double(X):
    return X * 2


def test_saved_fused_folder_loads_in_sentence_transformers(clf, tmp_path):
    import sentence_transformers as st

    path = clf.save_pretrained(tmp_path / "saved")
    emb = st.SentenceTransformer(str(path), device="cpu").encode(["a good film"])
    assert emb.shape == (1, 32)


def test_domain_adaptation_on_the_text_columns(tiny_bert):
    mlm = BertMaskedLM(tiny_bert, max_epochs=1, batch_size=8, max_length=32)
    clf = BertClassifier(mlm, text_columns=["review", "title"], **FAST).fit(X_DF, Y)
    assert clf.predict(X_DF).shape == (len(Y),)


# -- the regressor -----------------------------------------------------------------


def test_fused_regressor(tiny_bert, tmp_path):
    y = TEXT_ONLY["price"].fillna(0.0).to_numpy() * 10 + 100
    reg = BertRegressor(tiny_bert, text_columns="review", fusion="gated", **FAST)
    reg.fit(TEXT_ONLY, y)
    pred = reg.predict(TEXT_ONLY)
    assert pred.shape == (len(y),)
    assert reg.score(TEXT_ONLY, y) <= 1
    path = reg.save_pretrained(tmp_path / "reg")
    record = json.loads((path / "config.json").read_text())["sklearn_bert"]
    assert record["fusion"]["module"]["fusion"] == "gated"
    loaded = pickle.loads(pickle.dumps(reg))
    assert_agree(loaded.predict(TEXT_ONLY), pred, reg.precision_)


# -- the pieces ------------------------------------------------------------------


def test_pad_batch_stacks_row_vectors_and_pads_each_text():
    rows = [
        {
            "input_ids": [5, 6, 7],
            "input_ids.1": [8],
            "tabular": np.array([1.0, 2.0], dtype=np.float32),
        },
        {
            "input_ids": [5],
            "input_ids.1": [8, 9, 9, 9],
            "tabular": np.array([3.0, 4.0], dtype=np.float32),
        },
    ]
    batch = pad_batch(rows, pad_token_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["input_ids.1"].tolist() == [[8, 0, 0, 0], [8, 9, 9, 9]]
    assert batch["attention_mask.1"].tolist() == [[1, 0, 0, 0], [1, 1, 1, 1]]
    assert batch["tabular"].dtype == torch.float32
    assert batch["tabular"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert [row_length(r) for r in rows] == [4, 5]


# -- the frozen path: BertTransformer(n_components) ----------------------------------


def test_transformer_reduces_embeddings_with_readable_names(tiny_bert):
    texts = TEXT_ONLY["review"].tolist()
    full = BertTransformer(tiny_bert, device="cpu").fit(texts)
    reduced = BertTransformer(tiny_bert, n_components=4, device="cpu")
    out = reduced.fit_transform(pd.Series(texts, name="review"))
    assert out.shape == (len(texts), 4)
    assert out.dtype == np.float32
    assert_agree(reduced.transform(texts), out, reduced.precision_)
    assert_agree(out, reduced.pca_.transform(full.transform(texts)), reduced.precision_)
    assert reduced.get_feature_names_out().tolist() == [
        f"review_pc{i}" for i in range(4)
    ]
    share = BertTransformer(tiny_bert, n_components=0.9, device="cpu").fit(texts)
    assert 1 <= share.n_features_out_ < 32
    loaded = pickle.loads(pickle.dumps(reduced))
    assert_agree(loaded.transform(texts), out, reduced.precision_)


def test_reduced_embeddings_in_a_column_transformer(tiny_bert):
    ct = ColumnTransformer(
        [
            (
                "bert",
                BertTransformer(tiny_bert, n_components=3, device="cpu"),
                "review",
            ),
            ("scale", StandardScaler(), ["price"]),
        ]
    ).set_output(transform="pandas")
    out = ct.fit_transform(TEXT_ONLY.assign(price=TEXT_ONLY["price"].fillna(0)))
    assert out.columns.tolist() == [
        "bert__review_pc0",
        "bert__review_pc1",
        "bert__review_pc2",
        "scale__price",
    ]

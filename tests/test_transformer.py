"""Tests for ``BertTransformer`` on the tiny models (and a few slow ones on the
bundled default)."""

from __future__ import annotations

import functools
import io
import pickle
import tempfile
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from _precision import CPU_PRECISIONS, assert_agree, tolerance
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from transformers import AutoModel, AutoTokenizer

from sklearn_bert import DEFAULT_MODEL, BertTransformer
from sklearn_bert._io import loading as _hf
from sklearn_bert._io.models import resolve_model

TEXTS = [
    "hello world",
    "The movie was great, the acting was good and the story was very moving.",
    "a",
    "Prices rose by 3.5% in 2024!",
    "Email me at someone@example.com today",
]
SECOND = ["second", "pair text", "x y z", "what happened next?", "never"]
SENTENCE = "the movie was great and the story was very moving"
LONG = " ".join([SENTENCE] * 4)
HIDDEN = 32


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity."""
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def pool_by_hand(hidden: torch.Tensor, pooling: str) -> torch.Tensor:
    """Pool one unpadded sequence (tokens, dim)."""
    if pooling == "mean":
        return hidden.mean(0)
    if pooling == "cls":
        return hidden[0]
    return hidden.max(0).values


@functools.cache
def load_by_hand(folder: str):
    """Tokenizer and encoder loaded with transformers alone (cached per folder)."""
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return tokenizer, AutoModel.from_pretrained(folder).eval()


@functools.cache
def hidden_by_hand(folder: str, texts: tuple, pairs: tuple | None) -> list:
    """Last hidden states, one text at a time: no padding, no sorting, no dedup."""
    tokenizer, model = load_by_hand(folder)
    out = []
    with torch.no_grad():
        for i, text in enumerate(texts):
            pair = None if pairs is None else pairs[i]
            enc = tokenizer(text, pair, return_tensors="pt")
            assert enc["attention_mask"].all()  # nothing padded
            out.append(model(**enc).last_hidden_state[0])
    return out


def embed_by_hand(folder, texts, pairs=None, pooling="mean") -> np.ndarray:
    """Embeddings computed with transformers directly, pooled over all tokens."""
    pairs = None if pairs is None else tuple(pairs)
    hidden = hidden_by_hand(folder, tuple(texts), pairs)
    return np.stack([pool_by_hand(h, pooling).numpy() for h in hidden])


@pytest.fixture(scope="module")
def fitted_bert(tiny_bert):
    """A BertTransformer fitted on the tiny BERT (do not mutate: copy first)."""
    return BertTransformer(tiny_bert, device="cpu").fit(TEXTS)


# -- correctness against transformers ------------------------------------------


def test_fit_transform_shape_and_dtype(tiny_model):
    est = BertTransformer(tiny_model, device="cpu")
    out = est.fit_transform(TEXTS)
    assert out.shape == (len(TEXTS), HIDDEN)
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    assert not np.allclose(out[0], out[1])  # texts are told apart


# Identity tests run in each precision every CPU computes (bfloat16 emulated
# where the units are missing) against float32 references computed by hand,
# at the tolerance of the precision used (tests/_precision.py).
@pytest.mark.parametrize("precision", CPU_PRECISIONS)
@pytest.mark.parametrize("pooling", ["mean", "cls", "max"])
def test_matches_unbatched_forward_pass(tiny_model, pooling, precision):
    est = BertTransformer(
        tiny_model, pooling=pooling, device="cpu", precision=precision
    )
    out = est.fit_transform(TEXTS)
    expected = embed_by_hand(tiny_model, TEXTS, pooling=pooling)
    assert cosine(out, expected).min() >= 0.999
    assert_agree(out, expected, est.precision_)


@pytest.mark.parametrize("precision", CPU_PRECISIONS)
@pytest.mark.parametrize("pooling", ["mean", "cls", "max"])
def test_pairs_match_unbatched_forward_pass(tiny_model, pooling, precision):
    X = pd.DataFrame({"a": TEXTS, "b": SECOND})
    est = BertTransformer(
        tiny_model, pooling=pooling, device="cpu", precision=precision
    )
    out = est.fit_transform(X)
    expected = embed_by_hand(tiny_model, TEXTS, SECOND, pooling=pooling)
    assert cosine(out, expected).min() >= 0.999
    assert_agree(out, expected, est.precision_)


def test_pairs_differ_from_single_texts(fitted_bert, tiny_bert):
    pairs = BertTransformer(tiny_bert, device="cpu").fit_transform(
        np.array(list(zip(TEXTS, SECOND, strict=True)), dtype=object)
    )
    assert pairs.shape == (len(TEXTS), HIDDEN)
    assert cosine(pairs, fitted_bert.transform(TEXTS)).max() < 0.9999


def test_fitted_attributes(tiny_model):
    est = BertTransformer(tiny_model, device="cpu", max_length=40).fit(TEXTS)
    assert est.n_features_in_ == 1
    assert est.n_features_out_ == HIDDEN
    assert est.max_length_ == 40
    assert est.model_.training is False
    assert est.tokenizer_.is_fast
    assert not hasattr(est, "feature_names_in_")
    default = BertTransformer(tiny_model, device="cpu").fit(TEXTS)
    assert default.max_length_ == 512


# -- batching: duplicates, order, batch size -----------------------------------


def test_duplicates_get_identical_rows_and_are_encoded_once(tiny_bert):
    est = BertTransformer(tiny_bert, device="cpu", batch_size=2).fit(TEXTS)
    rows_seen = []
    forward = est.model_.forward

    @functools.wraps(forward)  # keeps the signature the encoder inspects
    def counting_forward(*args, **kwargs):
        rows_seen.append(kwargs["input_ids"].shape[0])
        return forward(*args, **kwargs)

    est.model_.forward = counting_forward
    X = ["b c", "a", "b c", "a", "d", "b c"]
    out = est.transform(X)
    assert sum(rows_seen) == 3
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[0], out[5])
    np.testing.assert_array_equal(out[1], out[3])
    assert not np.allclose(out[0], out[1])


def test_order_is_restored(tiny_model):
    texts = [f"{w} {' '.join(['word'] * n)}" for n, w in enumerate("abcdefghij")]
    est = BertTransformer(tiny_model, device="cpu", batch_size=3).fit(texts)
    out = est.transform(texts)
    perm = np.random.RandomState(0).permutation(len(texts))
    shuffled = est.transform([texts[i] for i in perm])
    assert_agree(shuffled, out[perm], est.precision_)  # other batches


@pytest.mark.parametrize("precision", CPU_PRECISIONS)
def test_batch_size_does_not_change_output(tiny_model, precision):
    kw = {"device": "cpu", "precision": precision}
    one = BertTransformer(tiny_model, batch_size=1, **kw).fit(TEXTS)
    many = BertTransformer(tiny_model, batch_size=64, **kw).fit(TEXTS)
    assert_agree(one.transform(TEXTS), many.transform(TEXTS), one.precision_)


# -- long texts ----------------------------------------------------------------


def test_truncation_warns(tiny_bert):
    est = BertTransformer(tiny_bert, device="cpu", max_length=16).fit(TEXTS)
    with pytest.warns(UserWarning, match=r"1 text\(s\).*max_length=16"):
        est.transform([LONG, "short"])


def truncation_warnings(record):
    return [w for w in record if "truncated" in str(w.message)]


def test_no_warning_for_short_texts(tiny_bert):
    est = BertTransformer(tiny_bert, device="cpu", max_length=16).fit(TEXTS)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.transform(["short", "also short"])
    assert truncation_warnings(record) == []


def test_chunk_differs_from_truncation_and_does_not_warn(tiny_bert):
    truncated = BertTransformer(tiny_bert, device="cpu", max_length=16).fit(TEXTS)
    chunked = BertTransformer(
        tiny_bert, device="cpu", max_length=16, long_text="chunk"
    ).fit(TEXTS)
    with pytest.warns(UserWarning):
        a = truncated.transform([LONG, "short"])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        b = chunked.transform([LONG, "short"])
    assert truncation_warnings(record) == []
    assert np.isfinite(b).all()
    assert not np.allclose(a[0], b[0], **tolerance(chunked.precision_))
    np.testing.assert_array_equal(a[1], b[1])  # short text: one chunk


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_chunk_matches_hand_computation(tiny_bert, pooling):
    est = BertTransformer(
        tiny_bert,
        device="cpu",
        max_length=16,
        stride=4,
        pooling=pooling,
        long_text="chunk",
    ).fit(TEXTS)
    out = est.transform([LONG])[0]
    tokenizer, model = load_by_hand(tiny_bert)
    windows = tokenizer(
        LONG, truncation=True, max_length=16, stride=4, return_overflowing_tokens=True
    )["input_ids"]
    assert len(windows) > 2
    vectors, weights = [], []
    with torch.no_grad():
        for ids in windows:
            hidden = model(input_ids=torch.tensor([ids])).last_hidden_state[0]
            vectors.append(pool_by_hand(hidden, pooling))
            weights.append(len(ids))
    vectors = torch.stack(vectors)
    if pooling == "max":
        expected = vectors.max(0).values
    else:
        w = torch.tensor(weights, dtype=torch.float32)[:, None]
        expected = (vectors * w).sum(0) / w.sum()
    assert_agree(out, expected.numpy(), est.precision_, "float32")


def test_chunk_works_for_pairs_and_every_family(tiny_model):
    X = pd.DataFrame({"q": ["question", "q2"], "c": [LONG, "short"]})
    est = BertTransformer(tiny_model, device="cpu", max_length=16, long_text="chunk")
    out = est.fit_transform(X)
    assert out.shape == (2, HIDDEN)
    assert np.isfinite(out).all()


# -- options -------------------------------------------------------------------


def test_normalize_gives_unit_norms(tiny_bert, fitted_bert):
    est = BertTransformer(tiny_bert, device="cpu", normalize=True).fit(TEXTS)
    out = est.transform(TEXTS)
    assert_agree(np.linalg.norm(out, axis=1), 1.0, "float32")
    raw = fitted_bert.transform(TEXTS)
    # far from unit norms: a margin, no precision tolerance
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0, atol=1e-3)
    assert cosine(out, raw).min() >= 0.9999


def test_bfloat16_on_cpu(tiny_bert):
    est = BertTransformer(tiny_bert, device="cpu", precision="bfloat16").fit(TEXTS)
    out = est.transform(TEXTS)
    assert out.dtype == np.float32
    full = BertTransformer(tiny_bert, device="cpu", precision="float32")
    full = full.fit(TEXTS).transform(TEXTS)
    assert cosine(out, full).min() >= 0.99
    assert not np.array_equal(out, full)  # autocast really ran in bfloat16


def test_float16_on_cpu_is_refused(tiny_bert):
    est = BertTransformer(tiny_bert, device="cpu", precision="float16").fit(TEXTS)
    with pytest.raises(ValueError, match="bfloat16"):
        est.transform(TEXTS)


def test_device_cpu(tiny_bert, fitted_bert):
    assert next(fitted_bert.model_.parameters()).device.type == "cpu"
    if torch.cuda.is_available():
        return
    auto = BertTransformer(tiny_bert, device="auto").fit(TEXTS)
    np.testing.assert_array_equal(auto.transform(TEXTS), fitted_bert.transform(TEXTS))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_unavailable_cuda_is_a_clear_error_in_fit(tiny_bert, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        BertTransformer(tiny_bert, device="cuda").fit(TEXTS)


# -- feature names and pandas output -------------------------------------------


def test_feature_names_default_prefix(fitted_bert):
    names = fitted_bert.get_feature_names_out()
    assert names.dtype == object
    assert names.tolist() == [f"berttransformer_{i}" for i in range(HIDDEN)]


def test_feature_names_from_series_name(tiny_bert):
    est = BertTransformer(tiny_bert, device="cpu")
    est.fit(pd.Series(TEXTS, name="review"))
    assert est.feature_names_in_.tolist() == ["review"]
    assert est.get_feature_names_out()[[0, -1]].tolist() == ["review_0", "review_31"]


def test_feature_names_from_dataframe_columns(tiny_bert):
    est = BertTransformer(tiny_bert, device="cpu")
    est.fit(pd.DataFrame({"body": TEXTS}))
    assert est.get_feature_names_out()[0] == "body_0"
    est.fit(pd.DataFrame({"a": TEXTS, "b": SECOND}))
    assert est.get_feature_names_out()[0] == "a__b_0"
    # refitting on a plain list forgets the column names
    est.fit(TEXTS)
    assert not hasattr(est, "feature_names_in_")
    assert est.get_feature_names_out()[0] == "berttransformer_0"


def test_feature_names_from_input_features(fitted_bert):
    names = fitted_bert.get_feature_names_out(["title"])
    assert names.tolist() == [f"title_{i}" for i in range(HIDDEN)]


def test_feature_names_before_fit(tiny_bert):
    with pytest.raises(NotFittedError):
        BertTransformer(tiny_bert).get_feature_names_out()


def test_set_output_pandas_keeps_index_and_names(tiny_bert):
    X = pd.Series(TEXTS, index=[50, 40, 30, 20, 10], name="review")
    est = BertTransformer(tiny_bert, device="cpu").set_output(transform="pandas")
    out = est.fit(X).transform(X)
    assert isinstance(out, pd.DataFrame)
    assert out.index.tolist() == [50, 40, 30, 20, 10]
    assert out.columns.tolist() == est.get_feature_names_out().tolist()
    assert out.columns[0] == "review_0"
    plain = BertTransformer(tiny_bert, device="cpu").fit(X).transform(X)
    np.testing.assert_array_equal(out.to_numpy(), plain)


def test_set_output_pandas_for_pairs_and_lists(tiny_bert):
    X = pd.DataFrame({"a": TEXTS, "b": SECOND}, index=list("vwxyz"))
    est = BertTransformer(tiny_bert, device="cpu").set_output(transform="pandas")
    out = est.fit_transform(X)
    assert out.index.tolist() == list("vwxyz")
    assert out.columns[0] == "a__b_0"
    out = est.fit_transform(TEXTS)
    assert out.index.tolist() == list(range(len(TEXTS)))
    assert out.columns[0] == "berttransformer_0"


def test_column_transformer_with_tabular_columns(tiny_bert):
    df = pd.DataFrame(
        {
            "text": ["good film", "bad film", "ok film", "great"],
            "product": ["a", "b", "a", "c"],
            "price": [1.0, 2.0, 3.0, 10.0],
        },
        index=[101, 102, 103, 104],
    )
    ct = ColumnTransformer(
        [
            ("bert", BertTransformer(tiny_bert, device="cpu"), "text"),
            ("onehot", OneHotEncoder(sparse_output=False), ["product"]),
            ("scale", StandardScaler(), ["price"]),
        ]
    ).set_output(transform="pandas")
    out = ct.fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert out.shape == (4, HIDDEN + 3 + 1)
    assert out.index.tolist() == [101, 102, 103, 104]
    columns = out.columns.tolist()
    assert columns[:2] == ["bert__text_0", "bert__text_1"]
    assert columns[HIDDEN - 1] == f"bert__text_{HIDDEN - 1}"
    assert columns[HIDDEN:] == [
        "onehot__product_a",
        "onehot__product_b",
        "onehot__product_c",
        "scale__price",
    ]
    alone = BertTransformer(tiny_bert, device="cpu").fit_transform(df["text"])
    # the same texts in the same batches: the very same computation
    np.testing.assert_array_equal(out.iloc[:, :HIDDEN].to_numpy(), alone)
    assert_agree(out["scale__price"].mean(), 0.0, "float32")


# -- parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("pooling", "sum"),
        ("batch_size", 0),
        ("max_length", 1),
        ("long_text", "x"),
        ("precision", "float8"),
        ("stride", -1),
        ("normalize", "yes"),
        ("model", 3),
    ],
)
def test_invalid_parameters_raise_in_fit(tiny_bert, param, value):
    est = BertTransformer(tiny_bert, device="cpu").set_params(**{param: value})
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        est.fit(TEXTS)
    assert not hasattr(est, "model_")


def test_init_does_nothing(monkeypatch, tiny_bert):
    calls = []

    def forbidden(*args, **kwargs):
        calls.append(args)
        raise RuntimeError("load_pretrained called")

    monkeypatch.setattr(_hf, "load_pretrained", forbidden)
    est = BertTransformer(tiny_bert, pooling="sum", batch_size=-5, device="nope")
    assert est.get_params()["pooling"] == "sum"
    assert calls == []
    # the patch is live: fit with valid parameters reaches it
    with pytest.raises(RuntimeError, match="load_pretrained called"):
        BertTransformer(tiny_bert).fit(TEXTS)
    assert len(calls) == 1


def test_pairs_then_single_texts_is_an_error(tiny_bert):
    est = BertTransformer(tiny_bert, device="cpu")
    est.fit(pd.DataFrame({"a": TEXTS, "b": SECOND}))
    assert est.n_features_in_ == 2
    with pytest.raises(ValueError, match=r"sentence pairs \(2 column"):
        est.transform(pd.DataFrame({"a": TEXTS}))
    with pytest.raises(ValueError, match="got 1 column"):
        est.transform(TEXTS)


def test_single_texts_then_pairs_is_an_error(fitted_bert):
    with pytest.raises(ValueError, match=r"single texts \(1 column"):
        fitted_bert.transform(pd.DataFrame({"a": TEXTS, "b": SECOND}))


def test_bad_rows_are_reported_before_encoding(fitted_bert):
    with pytest.raises(ValueError, match=r"row 1 \(index 'y'\)"):
        fitted_bert.transform(pd.Series(["ok", None], index=["x", "y"]))
    with pytest.raises(TypeError, match="row 0"):
        fitted_bert.transform([5, "ok"])


# -- persistence ---------------------------------------------------------------


def test_pickle_round_trip_is_portable(tiny_bert, monkeypatch):
    # pass the folder as a relative path, as a user in that directory would
    monkeypatch.chdir(Path(tiny_bert).parent)
    est = BertTransformer("bert", device="cpu").fit(TEXTS)
    expected = est.transform(TEXTS)
    data = pickle.dumps(est)
    assert str(Path(tiny_bert).parent).encode() not in data
    assert b"site-packages" not in data
    # pickling leaves the original estimator intact
    assert hasattr(est, "model_") and hasattr(est, "tokenizer_")
    assert not hasattr(est, "_pretrained_files")
    np.testing.assert_array_equal(est.transform(TEXTS), expected)

    monkeypatch.chdir("/")
    loaded = pickle.loads(data)
    np.testing.assert_array_equal(loaded.transform(TEXTS), expected)
    assert loaded.get_params() == est.get_params()
    assert loaded.model_.training is False
    assert loaded.tokenizer_.name_or_path == "bert"
    assert loaded.model_.config._name_or_path == "bert"
    # a second round trip stays clean too: no temporary folder of the first
    again = pickle.dumps(loaded)
    assert tempfile.gettempdir().encode() not in again
    np.testing.assert_array_equal(pickle.loads(again).transform(TEXTS), expected)


def test_pickle_holds_an_absolute_model_path_only_as_the_parameter(tiny_bert):
    est = BertTransformer(tiny_bert, device="cpu").fit(TEXTS)
    data = pickle.dumps(est)
    assert data.count(str(Path(tiny_bert).parent).encode()) == 1
    assert b"site-packages" not in data


def test_joblib_round_trip(fitted_bert, tmp_path):
    expected = fitted_bert.transform(TEXTS)
    path = tmp_path / "est.joblib"
    joblib.dump(fitted_bert, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.transform(TEXTS), expected)
    buffer = io.BytesIO()
    joblib.dump(fitted_bert, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).transform(TEXTS), expected)


def test_unfitted_pickle_round_trip(tiny_bert):
    est = BertTransformer(tiny_bert, pooling="max")
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.get_params() == est.get_params()
    assert not hasattr(loaded, "model_")


# -- the bundled default model (slow) ------------------------------------------


@pytest.mark.slow
def test_bundled_default_shape():
    out = BertTransformer().fit_transform(["a b", "c"])
    assert out.shape == (2, 384)
    assert out.dtype == np.float32


@pytest.mark.slow
def test_bundled_default_matches_sentence_transformers():
    import sentence_transformers as st

    texts = [
        "A good film with a moving story.",
        "The food was terrible and the service was slow.",
        "a b",
        "Prices rose by 3.5% in 2024, while wages grew by only 2%.",
    ]
    folder = resolve_model(DEFAULT_MODEL).path
    expected = st.SentenceTransformer(folder, device="cpu").encode(
        texts, normalize_embeddings=True
    )
    out = BertTransformer(normalize=True, device="cpu").fit_transform(texts)
    assert out.shape == expected.shape == (len(texts), 384)
    assert cosine(out, expected).min() >= 0.999


@pytest.mark.slow
def test_bundled_default_pickle_has_no_install_path():
    est = BertTransformer(device="cpu").fit(["a b"])
    data = pickle.dumps(est)
    assert b"site-packages" not in data
    assert resolve_model(DEFAULT_MODEL).path.encode() not in data
    np.testing.assert_array_equal(
        pickle.loads(data).transform(["a b", "c"]), est.transform(["a b", "c"])
    )

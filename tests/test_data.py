"""Tests for ``sklearn_bert._text.inputs``: text input conversion and validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sklearn_bert._text.inputs import (
    TextInput,
    check_sample_weight_length,
    check_text_input,
)

TEXTS = ["a good film", "a dull film", "ok"]
SECOND = ["first pair", "second pair", "third pair"]


# -- accepted forms of single texts -------------------------------------------


@pytest.mark.parametrize(
    "X",
    [
        TEXTS,
        tuple(TEXTS),
        np.array(TEXTS),
        np.array(TEXTS, dtype=object),
        np.array(TEXTS, dtype=object).reshape(-1, 1),
        (t for t in TEXTS),
    ],
    ids=["list", "tuple", "ndarray-str", "ndarray-object", "ndarray-2d", "generator"],
)
def test_single_texts(X):
    text_input = check_text_input(X)
    assert text_input.texts == TEXTS
    assert all(type(t) is str for t in text_input.texts)
    assert text_input.pairs is None
    assert text_input.index is None
    assert text_input.columns is None
    assert text_input.n_columns == 1
    assert len(text_input) == 3
    assert text_input.rows() == [(t,) for t in TEXTS]


def test_series_keeps_index_and_name():
    X = pd.Series(TEXTS, index=["x", "y", "z"], name="review")
    text_input = check_text_input(X)
    assert text_input.texts == TEXTS
    assert list(text_input.index) == ["x", "y", "z"]
    assert text_input.columns == ["review"]


def test_unnamed_series_has_no_columns():
    text_input = check_text_input(pd.Series(TEXTS, index=[5, 6, 7]))
    assert text_input.columns is None
    assert list(text_input.index) == [5, 6, 7]


def test_one_column_dataframe():
    X = pd.DataFrame({"review": TEXTS}, index=[10, 20, 30])
    text_input = check_text_input(X)
    assert text_input.texts == TEXTS
    assert text_input.pairs is None
    assert text_input.columns == ["review"]
    assert list(text_input.index) == [10, 20, 30]


def test_non_string_column_names_become_strings():
    text_input = check_text_input(pd.DataFrame({0: TEXTS}))
    assert text_input.columns == ["0"]


# -- sentence pairs ------------------------------------------------------------


def test_two_column_dataframe_is_pairs():
    X = pd.DataFrame({"a": TEXTS, "b": SECOND}, index=[3, 2, 1])
    text_input = check_text_input(X)
    assert text_input.texts == TEXTS
    assert text_input.pairs == SECOND
    assert text_input.n_columns == 2
    assert text_input.columns == ["a", "b"]
    assert list(text_input.index) == [3, 2, 1]
    assert text_input.rows() == list(zip(TEXTS, SECOND, strict=True))


@pytest.mark.parametrize("dtype", [None, object])
def test_n_by_2_array_is_pairs(dtype):
    X = np.array(list(zip(TEXTS, SECOND, strict=True)), dtype=dtype)
    assert X.shape == (3, 2)
    text_input = check_text_input(X)
    assert text_input.texts == TEXTS
    assert text_input.pairs == SECOND
    assert text_input.columns is None


def test_pairs_rejected_when_not_allowed():
    with pytest.raises(ValueError, match="got 2"):
        check_text_input(pd.DataFrame({"a": TEXTS, "b": SECOND}), allow_pairs=False)
    with pytest.raises(ValueError, match="got 2"):
        check_text_input(np.array([["a", "b"]]), allow_pairs=False)
    # single texts are still fine
    assert check_text_input(TEXTS, allow_pairs=False).texts == TEXTS


@pytest.mark.parametrize(
    "X",
    [
        pd.DataFrame({"a": TEXTS, "b": SECOND, "c": TEXTS}),
        np.array([["a", "b", "c"]]),
    ],
    ids=["dataframe", "ndarray"],
)
def test_three_columns_rejected(X):
    with pytest.raises(ValueError, match="1 or 2 columns.*got 3"):
        check_text_input(X)


def test_3d_array_rejected():
    with pytest.raises(ValueError, match="3-D"):
        check_text_input(np.array([[["a"]]]))


# -- whole-input errors --------------------------------------------------------


@pytest.mark.parametrize("X", ["a single text", b"bytes"])
def test_single_string_rejected(X):
    with pytest.raises(ValueError, match=r"Wrap it in a list"):
        check_text_input(X)


@pytest.mark.parametrize(
    "X",
    [[], (), np.array([], dtype=object), pd.Series([], dtype=object)]
    + [pd.DataFrame({"a": pd.Series([], dtype=object)})],
    ids=["list", "tuple", "ndarray", "series", "dataframe"],
)
def test_empty_input_rejected(X):
    with pytest.raises(ValueError, match="empty input"):
        check_text_input(X)


@pytest.mark.parametrize("X", [42, {"a": "b"}, None])
def test_not_a_collection_rejected(X):
    with pytest.raises(TypeError, match="Expected a list, array, Series or DataFrame"):
        check_text_input(X)


# -- bad rows ------------------------------------------------------------------


@pytest.mark.parametrize("missing", [None, np.nan, float("nan"), pd.NA, pd.NaT])
def test_missing_value_names_row(missing):
    with pytest.raises(ValueError, match=r"missing value .* at row 1\b") as info:
        check_text_input(["fine", missing, "fine"])
    assert "fillna" in str(info.value)


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(["fine", "fine", None], index=["a", "b", "c"]),
        pd.Series(["fine", "fine", None], index=["a", "b", "c"], dtype=object),
        pd.Series(["fine", "fine", pd.NA], index=["a", "b", "c"], dtype="string"),
        pd.Series(["fine", "fine", np.nan], index=["a", "b", "c"]),
    ],
    ids=["default-dtype", "object", "string", "nan"],
)
def test_missing_value_in_series_names_position_and_label(series):
    with pytest.raises(ValueError, match=r"row 2 \(index 'c'\)"):
        check_text_input(series)


def test_missing_value_in_dataframe_names_column():
    X = pd.DataFrame({"a": ["x", "y"], "b": ["z", None]}, index=[7, 8])
    with pytest.raises(ValueError, match=r"row 1 \(index 8\) of column 'b'"):
        check_text_input(X)


def test_missing_value_in_object_array():
    X = np.array([["x", "y"], [np.nan, "z"]], dtype=object)
    with pytest.raises(ValueError, match=r"missing value \(nan\) at row 1"):
        check_text_input(X)


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [(3, "int"), (2.5, "float"), (b"bytes", "bytes"), (["nested"], "list")],
)
def test_non_string_row_is_type_error(bad, type_name):
    with pytest.raises(TypeError, match=rf"at row 2, got {type_name}\b"):
        check_text_input(["x", "y", bad])


def test_non_string_in_series_names_label():
    X = pd.Series(["x", 5], index=["first", "second"], dtype=object)
    with pytest.raises(TypeError, match=r"row 1 \(index 'second'\), got int"):
        check_text_input(X)


def test_long_bad_value_repr_is_shortened():
    with pytest.raises(TypeError) as info:
        check_text_input(["x", list(range(1000))])
    assert len(str(info.value)) < 300
    assert "..." in str(info.value)


def test_empty_string_is_valid_text():
    text_input = check_text_input(["", "x", ""])
    assert text_input.texts == ["", "x", ""]
    pairs = check_text_input(pd.DataFrame({"a": ["", "x"], "b": ["y", ""]}))
    assert pairs.texts == ["", "x"]
    assert pairs.pairs == ["y", ""]


def test_numpy_str_elements_become_python_str():
    text_input = check_text_input(np.array(["x", "y"]))
    assert [type(t) for t in text_input.texts] == [str, str]


def test_text_input_rows_and_len():
    text_input = TextInput(["a", "b"], ["c", "d"])
    assert len(text_input) == 2
    assert text_input.n_columns == 2
    assert text_input.rows() == [("a", "c"), ("b", "d")]


# -- sample_weight -------------------------------------------------------------


def test_sample_weight_none_is_ones():
    weights = check_sample_weight_length(None, 3)
    assert weights.dtype == np.float32
    np.testing.assert_array_equal(weights, [1.0, 1.0, 1.0])


def test_sample_weight_scalar_is_broadcast():
    np.testing.assert_array_equal(check_sample_weight_length(2, 3), [2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    "weights", [[1, 2, 3], np.array([1.0, 2.0, 3.0]), pd.Series([1, 2, 3])]
)
def test_sample_weight_array_like(weights):
    out = check_sample_weight_length(weights, 3)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("weights", [[1, 2], [1, 2, 3, 4], [[1, 2, 3]]])
def test_sample_weight_wrong_length(weights):
    with pytest.raises(ValueError, match=r"expected \(3,\)"):
        check_sample_weight_length(weights, 3)


@pytest.mark.parametrize("weights", [[1, -1, 1], [1, np.nan, 1], [1, np.inf, 1]])
def test_sample_weight_must_be_finite_non_negative(weights):
    with pytest.raises(ValueError, match="finite and non-negative"):
        check_sample_weight_length(weights, 3)

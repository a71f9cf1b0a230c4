"""Text plus tabular input: the DataFrame's columns checked and split, and the
tabular preprocessor built, fitted, applied, saved and loaded.

A fused estimator (``text_columns`` set) reads a DataFrame: the text columns
are checked like any text input (a missing value or a non-string names its row
and column), every other column is tabular. At ``predict`` the columns are
matched by name (another order works; a missing or unseen column is an error
naming it), so rows are never silently misaligned.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..._text.inputs import check_text_input, row_name

#: Most one-hot columns ``"auto"`` makes of one categorical column.
MAX_CATEGORIES = 32

#: Types that a saved tabular preprocessor may hold, beyond those skops trusts
#: by default (scikit-learn's own estimators): what ``"auto"`` writes.
TRUSTED_TYPES = ("numpy.dtype",)


@dataclass
class FusedInput:
    """The validated rows of a fused estimator.

    Attributes
    ----------
    texts : list of list of str
        One list per text column, in ``text_columns`` order.
    tabular : DataFrame or None
        The tabular columns (in the order seen in ``fit``); None when every
        column is a text column.
    index : pandas.Index
        The DataFrame's index (to name rows in errors).
    values : ndarray of shape (n_rows, n_tabular_features) or None
        The tabular columns after the preprocessor (float32).
    """

    texts: list[list[str]]
    tabular: Any
    index: Any
    values: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.texts[0])

    def take(self, indices: Any) -> FusedInput:
        """The rows at ``indices`` (texts and preprocessed values only)."""
        return FusedInput(
            texts=[[column[i] for i in indices] for column in self.texts],
            tabular=None,
            index=None,
            values=None if self.values is None else self.values[indices],
        )

    def all_texts(self) -> list[str]:
        """Every text of every text column (for domain adaptation)."""
        return [text for column in self.texts for text in column]


def text_column_list(text_columns: Any) -> list[str]:
    """``text_columns`` as a non-empty list of distinct names."""
    names = [text_columns] if isinstance(text_columns, str) else list(text_columns)
    if not names:
        raise ValueError("text_columns is empty; name at least one text column.")
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"text_columns must hold column names (strings); got {bad!r}.")
    if len(set(names)) != len(names):
        raise ValueError(f"text_columns names a column twice: {names}.")
    return names


def check_fused_frame(
    X: Any,
    text_columns: list[str],
    fitted_columns: list[str] | None = None,
) -> tuple[FusedInput, list[str]]:
    """Check a fused estimator's ``X``; return its rows and its columns.

    In ``fit`` (``fitted_columns`` None) every column other than
    ``text_columns`` is tabular. Afterwards ``X`` must hold exactly the
    columns seen in ``fit``, in any order: it is reordered to match.
    """
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            "With text_columns set, X must be a pandas DataFrame holding the text "
            f"column(s) {text_columns} and the tabular columns; got "
            f"{type(X).__name__}."
        )
    columns = list(X.columns)
    non_str = [c for c in columns if not isinstance(c, str)]
    if non_str:
        raise TypeError(
            f"The DataFrame's column names must be strings; got {non_str!r}. "
            "Rename them, for example with X.columns = X.columns.astype(str)."
        )
    if len(set(columns)) != len(columns):
        twice = sorted({c for c in columns if columns.count(c) > 1})
        raise ValueError(f"The DataFrame has duplicated columns {twice}.")
    if fitted_columns is None:
        absent = [c for c in text_columns if c not in columns]
        if absent:
            raise ValueError(
                f"text_columns names {absent}, which X does not have; its columns "
                f"are {columns}."
            )
        fitted_columns = columns
    else:
        missing = [c for c in fitted_columns if c not in columns]
        if missing:
            raise ValueError(
                f"X is missing the column(s) {missing} seen in fit. A fitted "
                f"model needs all of its columns: {list(fitted_columns)}."
            )
        unseen = [c for c in columns if c not in fitted_columns]
        if unseen:
            raise ValueError(
                f"X has column(s) {unseen} not seen in fit; drop them. The model "
                f"reads the columns {list(fitted_columns)}."
            )
        X = X[list(fitted_columns)]
    if len(X) == 0:
        raise ValueError("Found an empty input (0 rows); at least 1 is required.")
    texts = [check_text_input(X[name]).texts for name in text_columns]
    tabular_columns = [c for c in fitted_columns if c not in text_columns]
    tabular = _plain_strings(X[tabular_columns]) if tabular_columns else None
    return FusedInput(texts, tabular, X.index), list(fitted_columns)


def _plain_strings(frame: Any) -> Any:
    """``frame`` with its string-like columns as Python objects whose missing
    values are all ``np.nan``, the one missing value scikit-learn's imputers
    and encoders recognise in object columns: ``None`` (pandas 2's object
    columns) and ``pd.NA`` (nullable string columns, which cannot even be
    compared) would otherwise become a category of their own or an error."""
    import pandas as pd

    stringlike = [
        name
        for name, dtype in frame.dtypes.items()
        if (isinstance(dtype, pd.StringDtype) and dtype.na_value is pd.NA)
        or (pd.api.types.is_object_dtype(dtype) and frame[name].isna().any())
    ]
    if not stringlike:
        return frame
    frame = frame.copy()
    for name in stringlike:
        column = frame[name].astype(object)
        frame[name] = column.where(column.notna(), np.nan)
    return frame


# -- the preprocessor ------------------------------------------------------
def auto_preprocessor(frame: Any) -> Any:
    """The ``"auto"`` preprocessor for the columns of ``frame``.

    Numeric and boolean columns: median imputation with a missing-value
    indicator, then standardisation. Text-like and categorical columns:
    imputation with ``"missing"``, then one-hot encoding (unknown categories
    encoded as the infrequent category when there is one, else as zeros).
    Other kinds (dates, durations, ...) are an error naming them.
    """
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric, categorical, other = [], [], []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or (
            pd.api.types.is_numeric_dtype(dtype)
            and not pd.api.types.is_complex_dtype(dtype)
        ):
            numeric.append(name)
        elif (
            pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        ):
            categorical.append(name)
        else:
            other.append(f"{name} ({dtype})")
    if other:
        raise TypeError(
            f"tabular_preprocessor='auto' handles numeric, boolean and "
            f"categorical columns, not {other}. Convert them first (for example "
            "a datetime to its hour or day of week), list them in text_columns, "
            "or pass your own tabular_preprocessor."
        )
    steps = []
    if numeric:
        steps.append(
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True),
                    StandardScaler(),
                ),
                numeric,
            )
        )
    if categorical:
        steps.append(
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="missing"),
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist",
                        max_categories=MAX_CATEGORIES,
                        sparse_output=False,
                    ),
                ),
                categorical,
            )
        )
    return ColumnTransformer(steps, sparse_threshold=0.0)


def make_preprocessor(spec: Any, frame: Any) -> Any:
    """An unfitted preprocessor from the ``tabular_preprocessor`` parameter."""
    from sklearn.base import clone

    if isinstance(spec, str) and spec == "auto":
        return auto_preprocessor(frame)
    if isinstance(spec, str) and spec == "passthrough":
        return None
    return clone(spec)


def tabular_matrix(preprocessor: Any, frame: Any, *, fit: bool) -> np.ndarray:
    """``frame`` through ``preprocessor`` (fitted first when ``fit``), as a
    dense finite float32 matrix; ``None`` passes numeric columns through."""
    import scipy.sparse

    if preprocessor is None:  # "passthrough"
        return _passthrough(frame)
    out = preprocessor.fit_transform(frame) if fit else preprocessor.transform(frame)
    if scipy.sparse.issparse(out):
        out = out.toarray()
    out = np.asarray(out)
    if out.ndim != 2 or out.shape[0] != len(frame):
        raise ValueError(
            "The tabular preprocessor must return one row per input row; it "
            f"returned shape {out.shape} for {len(frame)} rows."
        )
    try:
        out = out.astype(np.float32)
    except (TypeError, ValueError):
        raise TypeError(
            "The tabular preprocessor returned values that are not numbers; "
            "encode the categorical columns (the default 'auto' does)."
        ) from None
    _check_finite(out, frame.index, _output_names(preprocessor, out.shape[1]))
    return out


def _passthrough(frame: Any) -> np.ndarray:
    import pandas as pd

    bad = [
        name
        for name, dtype in frame.dtypes.items()
        if not (
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        )
    ]
    if bad:
        raise TypeError(
            f"tabular_preprocessor='passthrough' needs numeric columns; {bad} are "
            "not. Use 'auto' to one-hot encode them."
        )
    out = frame.astype("float64").to_numpy(dtype=np.float32, na_value=np.nan)
    _check_finite(out, frame.index, list(frame.columns))
    return out


def _output_names(preprocessor: Any, width: int) -> list[str]:
    try:
        return [str(n) for n in preprocessor.get_feature_names_out()]
    except Exception:  # a transformer without output names
        return [f"output {j}" for j in range(width)]


def _check_finite(values: np.ndarray, index: Any, names: list[str]) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        name = names[col] if col < len(names) else f"output {col}"
        raise ValueError(
            f"The tabular values hold a missing or infinite value at "
            f"{row_name(row, index)} in {name!r}. Impute it (the default "
            "tabular_preprocessor='auto' does) or drop the row."
        )


def feature_names(preprocessor: Any, columns: list[str], width: int) -> np.ndarray:
    """Names of the tabular vector's values."""
    if preprocessor is None:
        return np.asarray(columns, dtype=object)
    return np.asarray(_output_names(preprocessor, width), dtype=object)


# -- saved with a model ----------------------------------------------------
def save_preprocessor(preprocessor: Any, path: Path) -> None:
    """Write a fitted preprocessor with skops (no pickle: loading executes no
    code of the file)."""
    import skops.io as sio

    sio.dump(preprocessor, path)


def load_preprocessor(path: Path) -> Any:
    """Read a preprocessor written by :func:`save_preprocessor`.

    Only types that skops trusts (scikit-learn's estimators) and
    :data:`TRUSTED_TYPES` are loaded; a file holding others raises an error
    that names them, since loading them could run their code.
    """
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    unknown = [t for t in untrusted if t not in TRUSTED_TYPES]
    if unknown:
        raise ValueError(
            f"The tabular preprocessor saved in {path} holds types that are not "
            f"trusted by default: {unknown}. If you trust the folder, load it "
            "yourself with skops.io.load(path, trusted=[...]) and pass "
            "tabular_preprocessor=sklearn.frozen.FrozenEstimator(loaded)."
        )
    return sio.load(path, trusted=list(untrusted))

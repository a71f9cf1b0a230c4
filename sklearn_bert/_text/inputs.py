"""Input conversion and validation for text estimators.

Every text estimator accepts a list / tuple / 1-D array / pandas Series of
strings, a one-column DataFrame or 2-D array, and sentence pairs as a
two-column DataFrame or an ``(n, 2)`` array. Bad rows are reported by
position (and index label for pandas input), before any model work.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class TextInput:
    """Validated text input.

    Attributes
    ----------
    texts : list of str
        The first (or only) text of each row.
    pairs : list of str or None
        The second text of each row for sentence pairs.
    index : pandas.Index or None
        The index of pandas input, to carry over to pandas output.
    columns : list of str or None
        Column names of DataFrame input (or ``[name]`` of a named Series).
    is_frame : bool
        Whether the input was a DataFrame.
    """

    texts: list[str]
    pairs: list[str] | None = None
    index: Any = None
    columns: list[str] | None = None
    is_frame: bool = False

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_columns(self) -> int:
        return 1 if self.pairs is None else 2

    def take(self, indices: Any) -> TextInput:
        """The rows at ``indices`` (without index or column names)."""
        texts = [self.texts[i] for i in indices]
        pairs = None if self.pairs is None else [self.pairs[i] for i in indices]
        return TextInput(texts, pairs)

    def rows(self) -> list[tuple[str, ...]]:
        """One tuple per row: ``(text,)`` or ``(text_a, text_b)``."""
        if self.pairs is None:
            return [(t,) for t in self.texts]
        return list(zip(self.texts, self.pairs, strict=True))


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating) and np.isnan(value):
        return True
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False


def row_name(position: int, index: Any) -> str:
    if index is None:
        return f"row {position}"
    label = index[position]
    if isinstance(label, np.generic):  # show 8, not np.int64(8)
        label = label.item()
    return f"row {position} (index {label!r})"


def _check_column(values: Any, index: Any, column: str | None) -> list[str]:
    where = "" if column is None else f" of column {column!r}"
    out = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            check_encodable(value, lambda i=i: f"{row_name(i, index)}{where}")
            out.append(str(value))
            continue
        name = row_name(i, index)
        if is_missing(value):
            raise ValueError(
                f"Input contains a missing value ({value!r}) at {name}{where}. "
                "Fill or drop missing texts first, for example with "
                "`X.fillna('')` (an empty string is valid text)."
            )
        raise TypeError(
            f"Expected a string at {name}{where}, got {type(value).__name__} "
            f"({short_repr(value)}). Convert the column to text first."
        )
    return out


def check_encodable(text: str, where: Any) -> None:
    """Raise a ``ValueError`` if ``text`` is not valid Unicode (a lone
    surrogate, from text decoded with ``errors="surrogateescape"``), which no
    tokenizer can encode. ``where()`` names the place for the message."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"The text at {where()} holds a lone surrogate "
            f"({text[exc.start]!r} at character {exc.start}), which is not valid "
            "Unicode and cannot be tokenized. Decode the source bytes with "
            "errors='replace' (or clean the text) first."
        ) from None


def short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_text_input(X: Any, *, allow_pairs: bool = True) -> TextInput:
    """Validate text input and return it as a :class:`TextInput`.

    Parameters
    ----------
    X : list, tuple, ndarray, Series or DataFrame
        Texts, or sentence pairs as two columns.
    allow_pairs : bool, default=True
        Whether two columns (sentence pairs) are accepted.

    Returns
    -------
    text_input : TextInput

    Raises
    ------
    ValueError
        For a missing value, an empty input, a single string or a wrong number
        of columns.
    TypeError
        For a row that is not a string.

    Examples
    --------
    >>> from sklearn_bert._text.inputs import check_text_input
    >>> check_text_input(["a b", "c"]).texts
    ['a b', 'c']
    """
    import pandas as pd

    if isinstance(X, str | bytes):
        raise ValueError(
            "Expected an iterable of texts (a list, array, Series or DataFrame), "
            f"got a single {type(X).__name__}. Wrap it in a list: [text]."
        )
    index = None
    columns: list[str] | None = None
    if isinstance(X, pd.DataFrame):
        index = X.index
        columns = [str(c) for c in X.columns]
        cols = [X.iloc[:, j].tolist() for j in range(X.shape[1])]
    elif isinstance(X, pd.Series):
        index = X.index
        columns = None if X.name is None else [str(X.name)]
        cols = [X.tolist()]
    elif isinstance(X, np.ndarray):
        if X.ndim == 1:
            cols = [X.tolist()]
        elif X.ndim == 2:
            cols = [X[:, j].tolist() for j in range(X.shape[1])]
        else:
            raise ValueError(f"Expected 1-D or 2-D input, got {X.ndim}-D.")
    elif hasattr(X, "__iter__") and not isinstance(X, dict):
        cols = _list_columns(list(X))
    else:
        raise TypeError(
            "Expected a list, array, Series or DataFrame of texts, got "
            f"{type(X).__name__}."
        )
    n_cols = len(cols)
    if n_cols not in (1, 2) or (n_cols == 2 and not allow_pairs):
        allowed = "1 or 2 columns (text, or sentence pairs)" if allow_pairs else "1"
        raise ValueError(f"Expected {allowed} text column(s), got {n_cols}.")
    if len(cols[0]) == 0:
        raise ValueError("Found an empty input (0 texts); at least 1 is required.")
    names = columns if columns is not None and len(columns) == n_cols else None
    checked = [
        _check_column(col, index, None if names is None else names[j])
        for j, col in enumerate(cols)
    ]
    return TextInput(
        texts=checked[0],
        pairs=checked[1] if n_cols == 2 else None,
        index=index,
        columns=columns,
        is_frame=isinstance(X, pd.DataFrame),
    )


def _list_columns(rows: list) -> list[list]:
    """The columns of a Python list: one column of texts, or, when every row
    is itself a list, tuple or array (a list of sentence pairs, as scikit-learn
    reads a list of lists: 2-D), one column per position."""
    if not rows or not all(
        isinstance(row, list | tuple | np.ndarray) and not isinstance(row, str)
        for row in rows
    ):
        return [rows]
    widths = [len(row) for row in rows]
    if len(set(widths)) != 1:
        first = next(i for i, w in enumerate(widths) if w != widths[0])
        raise ValueError(
            f"Expected rows of one length (a text, or a pair of texts); row 0 "
            f"has {widths[0]} items and row {first} has {widths[first]}."
        )
    return [[row[j] for row in rows] for j in range(widths[0])]


def as_target_array(y: Any) -> np.ndarray:
    """``np.asarray(y)`` that keeps a missing label visible: a Python list of
    strings holding None or NaN (what ``frame["label"].tolist()`` gives)
    becomes an object array, not strings with a class ``'nan'``."""
    if isinstance(y, list | tuple) and any(
        is_missing(v) for v in y if not isinstance(v, list | tuple | np.ndarray)
    ):
        return np.asarray(y, dtype=object)
    return np.asarray(y)


def check_sample_weight_length(sample_weight: Any, n_samples: int) -> np.ndarray:
    """Return ``sample_weight`` as a float array of length ``n_samples``."""
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float32)
    if isinstance(sample_weight, numbers.Number):
        return np.full(n_samples, float(sample_weight), dtype=np.float32)
    weights = np.asarray(sample_weight, dtype=np.float32)
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weights.shape}, expected ({n_samples},)."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    return weights


def check_target_values(y: np.ndarray) -> None:
    """Raise a ``ValueError`` naming the first row of ``y`` holding a missing
    value (None, NaN) or an infinite number."""
    values = np.asarray(y)
    if values.dtype.kind == "f":
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            value = values[np.unravel_index(int(np.flatnonzero(bad)[0]), values.shape)]
            what = "a missing value (nan)" if np.isnan(value) else f"{value}"
            raise ValueError(
                f"y contains {what} at row {row}; targets must be finite. Drop "
                "or fill those rows first."
            )
        return
    if values.dtype.kind != "O":
        return
    for position, value in np.ndenumerate(values):
        if is_missing(value):
            raise ValueError(
                f"y contains a missing value ({value!r}) at row {position[0]}; drop "
                "or fill those rows first."
            )

"""Type aliases of the public methods' arguments (for annotations only).

The aliases are strings read by type checkers: nothing here is imported at
run time by the estimators' modules beyond this file, which imports no
third-party package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: Texts or sentence pairs: a list of strings (or of pairs), a 1- or
#: 2-column array, a Series or a DataFrame; a Dask collection where the
#: method says so.
TextData: TypeAlias = (
    "Sequence[str] | Sequence[Sequence[str]] | np.ndarray | pd.Series"
    " | pd.DataFrame | Any"
)
#: Sentences as lists of tokens (or strings split on whitespace).
TokenData: TypeAlias = "Sequence[Sequence[str]] | Sequence[str] | pd.Series"
#: Question and context rows: a DataFrame or a 2-column array or list.
QAData: TypeAlias = "pd.DataFrame | np.ndarray | Sequence[Sequence[str]]"
#: Targets: labels, numbers, an indicator matrix, tags or answers.
Targets: TypeAlias = "Sequence[Any] | np.ndarray | pd.Series | pd.DataFrame"
#: Targets where they are optional (``y=None``). A string alias cannot be
#: joined with ``| None`` in an annotation (``typing.get_type_hints`` would
#: evaluate ``str | None``), hence this spelled-out one.
OptionalTargets: TypeAlias = (
    "Sequence[Any] | np.ndarray | pd.Series | pd.DataFrame | None"
)
#: One weight per row.
SampleWeight: TypeAlias = "Sequence[float] | np.ndarray | None"
#: A folder to write.
PathLike: TypeAlias = "str | os.PathLike[str]"

__all__ = [
    "OptionalTargets",
    "PathLike",
    "QAData",
    "SampleWeight",
    "Targets",
    "TextData",
    "TokenData",
]

if TYPE_CHECKING:  # pragma: no cover
    import os  # noqa: F401

"""Long texts in windows (``long_text="chunk"``) for the classifier and the
regressor: how a row's weight is shared by its windows, and how the outputs
of its windows become the row's (``chunk_aggregation``).

Pure NumPy functions of the windows' outputs and owners (the row each window
comes from, as ``_text.tokenize.tokenize`` returns them).
"""

from __future__ import annotations

import numpy as np


def window_weights(
    weights: np.ndarray | None, owners: np.ndarray, n_rows: int
) -> np.ndarray:
    """The weight of each window: its row's weight divided by the row's number
    of windows, so that a row's windows together weigh what the row weighs
    (``sample_weight`` means repetition: a row counts once, however long).

    Parameters
    ----------
    weights : ndarray of shape (n_rows,) or None
        The rows' weights (None: 1 each).
    owners : ndarray of int, shape (n_windows,)
        The row of each window.
    n_rows : int

    Returns
    -------
    ndarray of shape (n_windows,), float32

    Examples
    --------
    >>> window_weights(np.array([1.0, 3.0]), np.array([0, 1, 1, 1]), 2)
    array([1., 1., 1., 1.], dtype=float32)
    """
    owners = np.asarray(owners, dtype=np.int64)
    counts = np.bincount(owners, minlength=n_rows)
    rows = np.ones(n_rows) if weights is None else np.asarray(weights, np.float64)
    return (rows[owners] / counts[owners]).astype(np.float32)


def aggregate_windows(
    outputs: np.ndarray,
    owners: np.ndarray,
    lengths: np.ndarray,
    n_rows: int,
    how: str,
) -> np.ndarray:
    """The head's outputs of each row from those of its windows.

    Parameters
    ----------
    outputs : ndarray of shape (n_windows, n_outputs)
        The head's outputs (logits, or standardised values) of each window.
    owners : ndarray of int, shape (n_windows,)
        The row of each window; every row has at least one.
    lengths : ndarray of shape (n_windows,)
        Tokens of each window (the weights of ``"mean_pooled"``).
    n_rows : int
    how : {"mean_logits", "max_logits", "mean_pooled"}
        ``"mean_logits"``: the mean of the windows' outputs; ``"max_logits"``:
        their element-wise maximum; ``"mean_pooled"``: the outputs of the
        head on the token-weighted mean of the windows' pooled vectors. The
        head being one linear layer (dropout is off at inference), that is
        the token-weighted mean of the windows' outputs, computed as such.

    Returns
    -------
    ndarray of shape (n_rows, n_outputs), float32
        ``outputs`` itself when every row has one window.

    Examples
    --------
    >>> out = np.array([[0.0, 2.0], [4.0, 0.0], [1.0, 1.0]])
    >>> aggregate_windows(out, np.array([0, 0, 1]), np.array([8, 4, 5]), 2,
    ...                   "mean_logits")
    array([[2., 1.],
           [1., 1.]], dtype=float32)
    >>> aggregate_windows(out, np.array([0, 0, 1]), np.array([8, 4, 5]), 2,
    ...                   "mean_pooled")[0]
    array([1.3333334, 1.3333334], dtype=float32)
    """
    owners = np.asarray(owners, dtype=np.int64)
    if len(owners) == n_rows and np.array_equal(owners, np.arange(n_rows)):
        return np.asarray(outputs, dtype=np.float32)
    values = np.asarray(outputs, dtype=np.float64)
    if how == "max_logits":
        out = np.full((n_rows, values.shape[1]), -np.inf)
        np.maximum.at(out, owners, values)
        return out.astype(np.float32)
    if how == "mean_logits":
        weights = np.ones(len(owners))
    elif how == "mean_pooled":
        weights = np.asarray(lengths, dtype=np.float64)
    else:
        raise ValueError(f"Unknown chunk_aggregation {how!r}.")
    total = np.zeros((n_rows, values.shape[1]))
    np.add.at(total, owners, values * weights[:, None])
    norm = np.bincount(owners, weights=weights, minlength=n_rows)
    return (total / norm[:, None]).astype(np.float32)

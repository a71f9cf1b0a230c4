"""Dask collections in, lazy Dask collections out: inference partition by
partition on a cluster's workers.

Given a Dask Series, DataFrame or Array, ``transform``, ``predict``,
``predict_proba`` and ``decision_function`` build a lazy Dask collection
(:func:`map_partitions`) instead of encoding in the calling process:

- each partition (a pandas Series or DataFrame, or a NumPy block) goes
  through the estimator's own in-memory method on a worker, so results equal
  the in-process path and anything the estimator does per call (its device,
  precision, batching) happens on the worker;
- the fitted estimator travels to each worker once: with a
  ``distributed.Client`` it is scattered (pickled once by the client,
  unpickled once on each worker that runs a partition, never by the
  scheduler); with Dask's local schedulers it is a single graph key and is
  not pickled at all;
- the output's metadata is declared, not guessed from a trial run: float32
  embeddings, the dtypes of ``predict``, and with
  ``set_output(transform="pandas")`` a Dask DataFrame whose columns are
  ``get_feature_names_out()`` and whose index is the input's;
- empty partitions give empty outputs; a worker runs one partition's model
  calls at a time (torch already spreads one forward pass over the worker's
  threads).

``fit`` computes a Dask input in the calling process (fine-tuning holds its
rows in memory), except where it needs no rows at all
(:func:`input_template`). Dask itself is imported only here, and only once a
Dask collection has been passed (:func:`is_dask_collection` never imports it).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

#: What to install for the Dask paths.
EXTRA = "sklearn-bert[dask]"

# One partition's model calls at a time in a worker process (see module doc).
_model_lock = threading.Lock()


def is_dask_collection(X: Any) -> bool:
    """Whether ``X`` is a Dask collection (without importing Dask)."""
    dask = sys.modules.get("dask")
    return dask is not None and bool(dask.is_dask_collection(X))


def import_dask() -> tuple[Any, Any, Any]:
    """``(dask, dask.array, dask.dataframe)``, or an ImportError naming the extra."""
    try:
        import dask
        import dask.array as da
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(
            f"Dask input needs the optional Dask dependencies ({exc}); install "
            f"them with `pip install '{EXTRA}'`."
        ) from exc
    return dask, da, dd


@dataclass(frozen=True)
class Output:
    """What a method returns for each row.

    Attributes
    ----------
    width : int or None
        Values per row; None for one value per row (a 1-D output).
    dtype : numpy dtype
        Their dtype.
    columns : list of str or None
        Column names of a DataFrame output (``set_output(transform="pandas")``);
        None for an array.
    """

    width: int | None
    dtype: Any
    columns: list[str] | None = None

    def empty(self, index: Any = None) -> Any:
        """The output of zero rows (also the Dask ``meta``)."""
        if self.columns is not None:
            import pandas as pd

            return pd.DataFrame(
                {c: pd.Series(dtype=self.dtype) for c in self.columns},
                index=index if index is not None else pd.RangeIndex(0),
            )
        shape = (0,) if self.width is None else (0, self.width)
        return np.empty(shape, dtype=self.dtype)


def input_template(X: Any) -> Any:
    """One in-memory row shaped like the Dask collection ``X`` (its column
    names, or its number of columns), for checks that need no data."""
    import pandas as pd

    _, da, dd = import_dask()
    if isinstance(X, dd.DataFrame):
        return pd.DataFrame({c: ["a"] for c in X.columns})
    if isinstance(X, dd.Series):
        return pd.Series(["a"], name=X.name)
    if isinstance(X, da.Array) and X.ndim in (1, 2):
        return np.full((1, *X.shape[1:]), "a", dtype=object)
    raise TypeError(
        f"Expected a Dask Series, DataFrame or Array of texts, got {type(X).__name__}."
    )


def computed(*values: Any) -> tuple[Any, ...]:
    """``values`` with their Dask collections computed (together, so that a
    shared source such as one DataFrame is read once)."""
    lazy = [i for i, v in enumerate(values) if is_dask_collection(v)]
    if not lazy:
        return values
    dask, _, _ = import_dask()
    results = dask.compute(*(values[i] for i in lazy))
    out = list(values)
    for i, result in zip(lazy, results, strict=True):
        out[i] = result
    return tuple(out)


def map_partitions(estimator: Any, method: str, X: Any, output: Output) -> Any:
    """``estimator.<method>`` over the partitions of the Dask collection ``X``.

    Returns a lazy Dask DataFrame when ``output.columns`` is set (the input's
    index and divisions), otherwise a Dask Array of ``output.dtype`` with one
    row per input row, chunked as the input's partitions or blocks. The sizes
    of a DataFrame's or Series' partitions are computed here (a pass over the
    texts, without the model), so that the array's shape is known.
    """
    _, da, dd = import_dask()
    shipped = _ship(estimator)
    if isinstance(X, dd.Series | dd.DataFrame):
        if output.columns is not None:
            return X.map_partitions(
                _apply,
                shipped,
                method,
                output,
                meta=output.empty(X._meta.index),
                enforce_metadata=False,
            )
        return _from_partitions(X, shipped, method, output)
    if not isinstance(X, da.Array) or X.ndim not in (1, 2):
        raise TypeError(
            "Expected a Dask Series, DataFrame or 1-D / 2-D Array of texts, got "
            f"{type(X).__name__}."
        )
    if X.ndim == 2 and X.numblocks[1] > 1:
        X = X.rechunk({1: -1})  # a block holds whole rows
    out_width = () if output.width is None else (output.width,)
    kwargs: dict[str, Any] = {}
    if X.ndim == 1 and output.width is not None:
        kwargs["new_axis"] = 1
    elif X.ndim == 2 and output.width is None:
        kwargs["drop_axis"] = 1
    result = X.map_blocks(
        _apply,
        shipped,
        method,
        Output(output.width, output.dtype),
        chunks=(X.chunks[0], *((w,) for w in out_width)),
        dtype=output.dtype,
        meta=np.empty((0, *out_width), dtype=output.dtype),
        **kwargs,
    )
    if output.columns is None:
        return result
    return dd.from_dask_array(result, columns=list(output.columns))


def _from_partitions(X: Any, shipped: Any, method: str, output: Output) -> Any:
    """A Dask Array with one block per partition of ``X``, of known sizes.

    The partitions' lengths are computed first (a pass over the texts, not
    the model), so that ``len``, ``shape`` and scikit-learn's metrics work on
    the result; the blocks are the method's outputs on the pandas partitions.
    """
    dask, da, _ = import_dask()
    lengths = [int(n) for n in X.map_partitions(len).compute()]
    apply = dask.delayed(_apply, pure=True)
    width = () if output.width is None else (output.width,)
    blocks = [
        da.from_delayed(
            apply(part, shipped, method, output),
            shape=(n, *width),
            dtype=output.dtype,
            meta=output.empty(),
        )
        for part, n in zip(X.to_delayed(), lengths, strict=True)
    ]
    return blocks[0] if len(blocks) == 1 else da.concatenate(blocks)


def _ship(estimator: Any) -> Any:
    """The estimator as a graph dependency: a future scattered to the workers
    of the current ``distributed.Client``, or a single delayed key."""
    dask, _, _ = import_dask()
    client = _current_client()
    if client is not None:
        # hash=False: no tokenizing (pickling) of the whole model for a key.
        return client.scatter(estimator, hash=False)
    return dask.delayed(estimator, pure=False, traverse=False)


def _current_client() -> Any:
    """The ``distributed.Client`` Dask would compute with now, or None (as
    ``dask.config.set(scheduler=...)`` and ``Client.as_current`` say)."""
    if "distributed" not in sys.modules:  # no client without distributed
        return None
    from dask.base import get_scheduler
    from distributed import Client

    client = getattr(get_scheduler(), "__self__", None)
    return client if isinstance(client, Client) else None


def _apply(part: Any, estimator: Any, method: str, output: Output) -> Any:
    """One partition through the estimator's in-memory method."""
    index = getattr(part, "index", None)
    if len(part) == 0:
        return output.empty(index)
    with _model_lock:
        out = getattr(estimator, method)(part)
    if output.columns is None:
        return np.asarray(out, dtype=output.dtype)
    import pandas as pd

    if not isinstance(out, pd.DataFrame):
        out = pd.DataFrame(out, columns=output.columns)
    out.index = index
    return out

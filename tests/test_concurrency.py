"""Concurrent use: one fitted estimator serving 8 threads at once gives each
exactly the serial result (``transform``, ``predict*``, ``score``,
``fill_mask``), for every estimator."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from test_common import ESTIMATORS, assert_same_outputs, fitted, outputs

N_THREADS = 8


def _subsets(X, n):
    """``n`` different inputs from ``X``: rotations, so batches differ."""
    import pandas as pd

    rows = list(range(len(X)))
    out = []
    for k in range(n):
        order = rows[k % len(rows) :] + rows[: k % len(rows)]
        order = order[: len(rows) - k % 3]
        out.append(
            X.iloc[order] if isinstance(X, pd.DataFrame) else [X[i] for i in order]
        )
    return out


def run_together(calls):
    """Run the callables in threads released at the same moment."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.parametrize("case", ESTIMATORS, ids=str)
def test_threads_get_the_serial_results(case, tiny_model_dirs):
    estimator = fitted(case, tiny_model_dirs, "bert")
    X, _ = case.make_data()
    inputs = _subsets(X, N_THREADS)
    serial = [outputs(case, estimator, x) for x in inputs]
    concurrent = run_together([lambda x=x: outputs(case, estimator, x) for x in inputs])
    for got, want in zip(concurrent, serial, strict=True):
        assert_same_outputs(got, want)


def test_masked_lm_scores_and_fills_masks_from_threads(tiny_model_dirs):
    case = next(c for c in ESTIMATORS if c.name == "BertMaskedLM")
    mlm = fitted(case, tiny_model_dirs, "bert")
    X, _ = case.make_data()
    texts = [[x] * (k + 1) + ["the [MASK] film"] for k, x in enumerate(X[:N_THREADS])]
    serial = [(mlm.score(t), mlm.fill_mask(t[-1:], top_k=2)) for t in texts]
    concurrent = run_together(
        [lambda t=t: (mlm.score(t), mlm.fill_mask(t[-1:], top_k=2)) for t in texts]
    )
    for (score, fills), (want_score, want_fills) in zip(
        concurrent, serial, strict=True
    ):
        assert score == want_score
        assert fills == want_fills
    np.testing.assert_equal(len(concurrent), N_THREADS)

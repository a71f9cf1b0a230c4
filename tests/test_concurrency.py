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


def _transformers_switches():
    """What transformers' ``from_pretrained`` swaps for no-ops while it loads
    and puts back afterwards (process-wide state)."""
    import torch.nn.init
    from transformers import PreTrainedModel

    return {
        "tie_weights": PreTrainedModel.tie_weights,
        "init_weights": PreTrainedModel.init_weights,
        **{name: getattr(torch.nn.init, name) for name in ("normal_", "zeros_")},
    }


def test_loads_in_threads_leave_transformers_as_they_were(tiny_bert):
    # from_pretrained in two threads at once can keep the other's no-ops for
    # good (tied masked-LM output layers are then never filled in); the
    # library's loads take turns
    from sklearn_bert import BertMaskedLM
    from sklearn_bert._io.loading import load_pretrained

    before = _transformers_switches()
    for _ in range(3):
        run_together([lambda: load_pretrained(tiny_bert, "mlm")] * N_THREADS)
    assert _transformers_switches() == before
    BertMaskedLM(tiny_bert, max_length=16, max_epochs=1).fit(["a film", "a book"])


def test_weights_left_without_data_are_an_error(tiny_bert, monkeypatch):
    # the state a concurrent load outside the library leaves behind
    from transformers import PreTrainedModel

    from sklearn_bert._io.loading import load_pretrained

    monkeypatch.setattr(PreTrainedModel, "tie_weights", lambda *a, **k: None)
    with pytest.raises(RuntimeError, match="several threads at once"):
        load_pretrained(tiny_bert, "mlm")

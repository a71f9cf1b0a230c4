"""Dask: lazy inference over partitions, on Dask's local scheduler and on a
LocalCluster of two worker processes; dask-ml's ParallelPostFit; searches
through joblib's Dask backend.

The cluster's workers are forked from the test process where the platform
allows it (Linux): they start in about a second with torch, transformers and
this module already imported, instead of importing them anew (10 s or more on
a busy 2-core machine). Users keep Dask's default (spawned workers).
"""

from __future__ import annotations

import multiprocessing
import sys

import dask
import dask.array as da
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
from _precision import apply_bfloat16_switch, assert_agree  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from sklearn_bert import BertClassifier, BertRegressor, BertTransformer  # noqa: E402
from sklearn_bert._engine import dask as dask_engine  # noqa: E402

TEXTS = [
    f"{word} text number {i} with {'a few more words ' * (i % 4)}".strip()
    for i, word in enumerate(["good", "bad", "great", "awful", "fine", "poor"] * 5)
]
LABELS = np.array(["pos", "neg"] * 15)
# Encodings of the same text in different batches (another padding length) or
# processes differ by rounding: compare at the tolerance of the precision the
# estimator computed in (assert_agree).


def _series(texts=TEXTS, npartitions=3, name="review"):
    return dd.from_pandas(pd.Series(texts, name=name), npartitions=npartitions)


@pytest.fixture(scope="module")
def transformer(tiny_bert):
    return BertTransformer(tiny_bert, device="cpu").fit(TEXTS)


@pytest.fixture(scope="module")
def classifier(tiny_bert):
    return BertClassifier(
        tiny_bert, max_epochs=1, batch_size=8, max_length=32, random_state=0
    ).fit(TEXTS, LABELS)


# -- lazy outputs, on Dask's local (threaded) scheduler ---------------------


def test_transform_is_lazy_with_known_shape_and_equal_values(transformer):
    lazy = transformer.transform(_series())
    assert isinstance(lazy, da.Array)
    assert lazy.shape == (len(TEXTS), 32) and lazy.dtype == np.float32
    assert lazy.chunks[0] == (10, 10, 10)
    assert_agree(lazy.compute(), transformer.transform(TEXTS), transformer.precision_)


def test_pandas_output_is_a_dask_frame_named_as_feature_names(tiny_bert):
    s = pd.Series(TEXTS, name="review", index=np.arange(100, 100 + len(TEXTS)))
    ds = dd.from_pandas(s, npartitions=4)
    est = BertTransformer(tiny_bert, device="cpu").set_output(transform="pandas")
    lazy = est.fit_transform(ds)  # fit reads only the column of a Dask input
    assert isinstance(lazy, dd.DataFrame)
    assert list(lazy.columns) == list(est.get_feature_names_out())
    assert list(lazy.columns[:2]) == ["review_0", "review_1"]
    assert set(lazy.dtypes) == {np.dtype("float32")}
    assert lazy.divisions == ds.divisions
    out = lazy.compute()
    expected = est.transform(s)
    pd.testing.assert_index_equal(out.index, s.index)
    assert_agree(out.to_numpy(), expected.to_numpy(), est.precision_)


def test_fitting_a_transformer_reads_no_rows_of_a_dask_input(tiny_bert):
    def refuse(part):
        raise AssertionError("fit computed the Dask input")

    ds = _series().map_partitions(refuse, meta=pd.Series([], name="review", dtype=str))
    est = BertTransformer(tiny_bert, device="cpu").fit(ds)
    assert list(est.feature_names_in_) == ["review"] and est.n_features_in_ == 1


def test_sentence_pairs_from_a_dask_frame_and_its_columns_checked_eagerly(tiny_bert):
    frame = pd.DataFrame({"a": TEXTS, "b": TEXTS[::-1]})
    est = BertTransformer(tiny_bert, device="cpu").fit(frame)
    lazy = est.transform(dd.from_pandas(frame, npartitions=2))
    assert_agree(lazy.compute(), est.transform(frame), est.precision_)
    renamed = dd.from_pandas(frame.rename(columns={"b": "c"}), npartitions=2)
    with pytest.raises(ValueError, match="not the columns"):
        est.transform(renamed)  # at the call, not on a worker
    with pytest.raises(ValueError, match="2 column"):
        est.transform(_series())


def test_classifier_outputs_keep_their_dtypes(classifier):
    ds = _series()
    for method, dtype in [
        ("predict", LABELS.dtype),
        ("predict_proba", np.float64),
        ("decision_function", np.float32),
    ]:
        lazy = getattr(classifier, method)(ds)
        expected = getattr(classifier, method)(TEXTS)
        assert isinstance(lazy, da.Array), method
        assert lazy.dtype == dtype and lazy.shape == expected.shape, method
        got = lazy.compute()
        if method == "predict":
            np.testing.assert_array_equal(got, expected)
        else:
            assert_agree(got, expected, classifier.precision_)
    # known chunks: scikit-learn's metrics take the lazy predictions
    assert classifier.score(ds, LABELS) == classifier.score(TEXTS, LABELS)


def test_multi_output_regressor_and_dask_arrays(tiny_bert):
    y = np.c_[np.arange(len(TEXTS)), np.arange(len(TEXTS)) % 3].astype(float)
    reg = BertRegressor(tiny_bert, max_epochs=1, batch_size=8, random_state=0)
    reg.fit(TEXTS, y)
    array = da.from_array(np.asarray(TEXTS, dtype=object), chunks=12)
    lazy = reg.predict(array)
    assert lazy.chunks == ((12, 12, 6), (2,)) and lazy.dtype == np.float64
    assert_agree(lazy.compute(), reg.predict(TEXTS), reg.precision_)


def test_masked_lm_embeddings_are_lazy_too(tiny_bert):
    from sklearn_bert import BertMaskedLM

    mlm = BertMaskedLM(tiny_bert, max_epochs=0, device="cpu").fit(TEXTS)
    lazy = mlm.transform(_series())
    assert isinstance(lazy, da.Array) and lazy.shape == (len(TEXTS), 32)
    assert_agree(lazy.compute(), mlm.transform(TEXTS), mlm.precision_)


def test_empty_partitions_give_empty_blocks(transformer):
    ds = _series(npartitions=3)
    kept = ds[ds.str.startswith("good")]  # some partitions keep nothing
    lazy = transformer.transform(kept)
    expected = transformer.transform([t for t in TEXTS if t.startswith("good")])
    assert_agree(lazy.compute(), expected, transformer.precision_)
    nothing = ds[ds.str.len() < 0]
    assert transformer.transform(nothing).compute().shape == (0, 32)


def test_fine_tuning_computes_dask_inputs(tiny_bert):
    make = BertClassifier(tiny_bert, max_epochs=1, batch_size=8, random_state=0)
    frame = pd.DataFrame({"review": TEXTS, "label": LABELS})
    ddf = dd.from_pandas(frame, npartitions=3)
    lazy_fit = make.fit(ddf["review"], ddf["label"])
    proba = lazy_fit.predict_proba(TEXTS)
    eager = BertClassifier(tiny_bert, max_epochs=1, batch_size=8, random_state=0)
    np.testing.assert_allclose(
        proba, eager.fit(frame["review"], frame["label"]).predict_proba(TEXTS)
    )
    assert list(lazy_fit.feature_names_in_) == ["review"]


def test_unfitted_estimators_fail_at_the_call(tiny_bert):
    with pytest.raises(NotFittedError):
        BertTransformer(tiny_bert).transform(_series())
    with pytest.raises(NotFittedError):
        BertClassifier(tiny_bert).predict_proba(_series())


def test_polars_output_has_no_dask_counterpart(tiny_bert):
    pytest.importorskip("polars")  # not a dependency of the library or its tests
    est = BertTransformer(tiny_bert, device="cpu").fit(TEXTS)
    with pytest.raises(ValueError, match="no Dask counterpart"):
        est.set_output(transform="polars").transform(_series())


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    with pytest.raises(ImportError, match=r"sklearn-bert\[dask\]"):
        dask_engine.import_dask()


def test_in_memory_inputs_never_import_dask(transformer, classifier, monkeypatch):
    for name in [m for m in sys.modules if m == "dask" or m.startswith("dask.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dask", None)  # `import dask` fails now
    assert transformer.transform(TEXTS[:2]).shape == (2, 32)
    assert classifier.predict(pd.Series(TEXTS[:2])).shape == (2,)


# -- dask-ml's ParallelPostFit ----------------------------------------------


def test_parallel_post_fit(tiny_bert):
    import dask_ml.wrappers as wrappers

    frame = pd.DataFrame({"review": TEXTS})
    model = BertClassifier(tiny_bert, max_epochs=1, batch_size=8, random_state=0)
    # Dask's trial call on a DataFrame's made-up rows (holding <NA>) would
    # fail our input check: declare the outputs instead (see the docs).
    ppf = wrappers.ParallelPostFit(
        model,
        predict_meta=np.array([], dtype=LABELS.dtype),
        predict_proba_meta=np.empty((0, 2)),
    ).fit(frame, LABELS)
    expected = ppf.predict_proba(frame)  # in memory: the estimator's own path
    by_frame = ppf.predict_proba(dd.from_pandas(frame, npartitions=3))
    assert_agree(by_frame.compute(), expected, ppf.precision_)
    # a Dask Series reaches the estimator whole: its own lazy path
    by_series = ppf.predict_proba(_series())
    assert by_series.shape == expected.shape
    assert_agree(by_series.compute(), expected, ppf.precision_)
    assert (ppf.predict(_series()).compute() == ppf.predict(frame)).all()


# -- a LocalCluster of two worker processes ---------------------------------


class CountingTransformer(BertTransformer):
    """Counts its unpickling in each process (how often a worker loads it)."""

    loads = 0

    def __setstate__(self, state):
        type(self).loads += 1
        super().__setstate__(state)


def _loads():
    return CountingTransformer.loads


def _reset_loads():
    CountingTransformer.loads = 0


@pytest.fixture(scope="module")
def client():
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with dask.config.set({"distributed.worker.multiprocessing-method": method}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    # Not the default client: the tests above keep Dask's local scheduler.
    client = distributed.Client(cluster, set_as_default=False)
    # Spawned workers detect bfloat16 units as the test process does
    client.run(apply_bfloat16_switch)
    yield client
    client.close()
    cluster.close()


def test_two_worker_processes_load_the_estimator_once_each(client, tiny_bert):
    est = CountingTransformer(tiny_bert, device="cpu").fit(TEXTS)
    texts = TEXTS * 4
    client.run(_reset_loads)
    _reset_loads()  # this process holds the scheduler (fit copied the estimator)
    with client.as_current():
        lazy = est.transform(_series(texts, npartitions=8))
        out = lazy.compute()
        names = est.set_output(transform="pandas").transform(_series(texts, 8))
        frame = names.compute()
    assert_agree(out, est.transform(texts).to_numpy(), est.precision_)
    assert_agree(frame.to_numpy(), out, est.precision_)
    loads = client.run(_loads)
    assert len(loads) == 2
    # once per worker and computation (two here), never once per partition
    assert all(n <= 2 for n in loads.values()), loads
    assert sum(loads.values()) >= 2, loads
    # the scheduler (in this process) never unpickles the model
    assert client.run_on_scheduler(_loads) == 0


def test_workers_share_an_on_disk_cache_folder(
    client, tiny_bert, tmp_path, monkeypatch
):
    """Two worker processes write one cache folder at once (SQLite in WAL
    mode); afterwards every distinct text is in it, once, and any process
    reads its vectors back without encoding."""
    import sqlite3

    from sklearn_bert._engine.cache import CACHE_FILE

    folder = tmp_path / "shared-cache"
    est = BertTransformer(tiny_bert, device="cpu", cache=str(folder)).fit(TEXTS)
    texts = TEXTS * 4  # every partition repeats texts other workers encode too
    with client.as_current():
        out = est.transform(_series(texts, npartitions=8)).compute()
    with sqlite3.connect(folder / CACHE_FILE) as connection:
        (rows,) = connection.execute("SELECT COUNT(*) FROM vectors").fetchone()
    assert rows == len(set(TEXTS))
    reader = BertTransformer(tiny_bert, device="cpu", cache=str(folder)).fit(TEXTS)

    def no_encoding(*args, **kwargs):
        raise AssertionError("a cached text was encoded again")

    monkeypatch.setattr(reader, "_embed", no_encoding)
    assert_agree(reader.transform(texts), out, est.precision_)


def _pid_scorer(estimator, X, y):
    """A 'score' telling which process fitted the candidate."""
    import os

    return float(os.getpid())


def test_grid_search_through_joblibs_dask_backend(client, tiny_bert):
    import os

    import joblib
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(
        BertClassifier(tiny_bert, max_epochs=1, batch_size=8, random_state=0),
        {"lr": [1e-4, 1e-3]},
        cv=2,
        scoring={"accuracy": "accuracy", "pid": _pid_scorer},
        refit="accuracy",
        n_jobs=-1,
    )
    with joblib.parallel_config(backend="dask", client=client):
        search.fit(TEXTS, LABELS)
    # every candidate and fold trained in a worker process
    pids = {search.cv_results_[f"split{k}_test_pid"][i] for k in (0, 1) for i in (0, 1)}
    assert pids <= set(client.run(os.getpid).values()), pids
    # the results of the same search in this process
    local = GridSearchCV(search.estimator, search.param_grid, cv=2).fit(TEXTS, LABELS)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_accuracy"], local.cv_results_["mean_test_score"]
    )
    assert search.best_params_ == local.best_params_

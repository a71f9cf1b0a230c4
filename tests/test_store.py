"""The training store: a search over ``max_epochs`` for the price of its
longest candidate, with results equal to independent fits.

Equality here is exact (``assert_array_equal``): a fit that takes or resumes
from a stored epoch runs the same computation, in the same precision, as one
that trains every epoch itself, whatever that precision is.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_bert import BertClassifier, BertMaskedLM, BertRegressor, clear_cache
from sklearn_bert._engine import store as store_module
from sklearn_bert._engine.net import BertNet, constant_schedule, linear_schedule

X = ["a good film", "a bad film", "great story", "terrible story", "love it"]
X += ["hate it", "good food", "slow service", "great price", "bad price"]
X += ["so good", "so bad", "fine work", "awful work", "nice day", "sad day"]
Y = np.array(["pos", "neg"] * 8)
FAST = {"batch_size": 4, "max_length": 32, "random_state": 0}
CONSTANT = {**FAST, "lr_schedule": "constant", "lr": 1e-3}


@pytest.fixture
def steps(monkeypatch):
    """Counts the training batches run (a list, one item per batch)."""
    seen: list[int] = []
    original = BertNet.train_step

    def counting(self, batch, **fit_params):
        seen.append(1)
        return original(self, batch, **fit_params)

    monkeypatch.setattr(BertNet, "train_step", counting)
    return seen


def batches_per_epoch(n_rows: int, batch_size: int = 4) -> int:
    return -(-n_rows // batch_size)


def losses(est) -> list[float]:
    return [row["train_loss"] for row in est.history_]


# -- the schedule --------------------------------------------------------------


def test_the_constant_schedule_does_not_depend_on_the_length_of_training():
    constant = constant_schedule(3)
    assert [constant(s) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    # the linear decay, by contrast, depends on the total (the store must
    # then key on max_epochs)
    assert linear_schedule(3, 10)(5) != linear_schedule(3, 20)(5)


def test_the_first_epochs_of_a_constant_schedule_fit_are_those_of_a_shorter_fit(
    tiny_bert,
):
    short = BertClassifier(tiny_bert, max_epochs=2, **CONSTANT).fit(X, Y)
    long = BertClassifier(tiny_bert, max_epochs=4, **CONSTANT).fit(X, Y)
    assert losses(long)[:2] == losses(short)
    linear = {**CONSTANT, "lr_schedule": "linear"}
    short = BertClassifier(tiny_bert, max_epochs=2, **linear).fit(X, Y)
    long = BertClassifier(tiny_bert, max_epochs=4, **linear).fit(X, Y)
    assert losses(long)[1] != losses(short)[1]


# -- reuse -----------------------------------------------------------------------


def test_a_shorter_fit_takes_the_stored_epoch_without_training(
    tiny_bert, tmp_path, steps, capsys
):
    BertClassifier(tiny_bert, max_epochs=4, training_store=tmp_path, **CONSTANT).fit(
        X, Y
    )
    assert len(steps) == 4 * batches_per_epoch(len(X))
    steps.clear()
    reused = BertClassifier(
        tiny_bert, max_epochs=2, training_store=tmp_path, verbose=1, **CONSTANT
    ).fit(X, Y)
    assert steps == []
    said = capsys.readouterr().out
    assert "training_store: epoch 2 taken from the store, 0 more to train." in said
    alone = BertClassifier(tiny_bert, max_epochs=2, **CONSTANT).fit(X, Y)
    np.testing.assert_array_equal(reused.predict_proba(X), alone.predict_proba(X))
    assert losses(reused) == losses(alone)
    assert reused.n_iter_ == 2 and reused.max_epochs_ == 2


def test_a_longer_fit_resumes_from_the_last_stored_epoch(tiny_bert, tmp_path, steps):
    BertRegressor(tiny_bert, max_epochs=2, training_store=tmp_path, **CONSTANT).fit(
        X, np.arange(len(X), dtype=float)
    )
    steps.clear()
    resumed = BertRegressor(
        tiny_bert, max_epochs=4, training_store=tmp_path, **CONSTANT
    ).fit(X, np.arange(len(X), dtype=float))
    assert len(steps) == 2 * batches_per_epoch(len(X))
    alone = BertRegressor(tiny_bert, max_epochs=4, **CONSTANT).fit(
        X, np.arange(len(X), dtype=float)
    )
    np.testing.assert_array_equal(resumed.predict(X), alone.predict(X))
    assert losses(resumed) == losses(alone)


def test_under_the_linear_schedule_only_the_same_max_epochs_match(
    tiny_bert, tmp_path, steps
):
    params = {**FAST, "training_store": tmp_path}
    first = BertMaskedLM(tiny_bert, max_epochs=3, **params).fit(X)
    n = len(steps)
    steps.clear()
    BertMaskedLM(tiny_bert, max_epochs=2, **params).fit(X)
    assert len(steps) == 2 * n // 3  # another trajectory: trained in full
    steps.clear()
    again = BertMaskedLM(tiny_bert, max_epochs=3, **params).fit(X)
    assert steps == []
    np.testing.assert_array_equal(again.transform(X), first.transform(X))


def test_a_search_over_max_epochs_trains_its_longest_candidate_once_per_fold(
    tiny_bert, steps
):
    clear_cache()
    grid = {"max_epochs": [1, 2, 3, 4]}
    cv = KFold(2, shuffle=True, random_state=0)
    # early stopping scores and keeps the best epoch (patience long enough
    # that no fit stops, so that the counts below are exact)
    params = {
        **CONSTANT,
        "early_stopping": True,
        "validation_fraction": 0.25,
        "n_iter_no_change": 10,
    }
    stored = GridSearchCV(
        BertClassifier(tiny_bert, training_store=True, **params), grid, cv=cv
    ).fit(X, Y)
    trained = len(steps)
    steps.clear()
    plain = GridSearchCV(BertClassifier(tiny_bert, **params), grid, cv=cv).fit(X, Y)
    refit_epochs = stored.best_params_["max_epochs"]
    np.testing.assert_array_equal(
        stored.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(
        stored.best_estimator_.predict_proba(X), plain.best_estimator_.predict_proba(X)
    )
    assert stored.best_estimator_.validation_scores_.tolist() == (
        plain.best_estimator_.validation_scores_.tolist()
    )
    # folds of 8 rows, 6 of them trained on (2 held out): 2 batches an epoch;
    # with the store 4 epochs per fold, without 1+2+3+4; then the refit
    fold_epoch, refit_epoch = 2, batches_per_epoch(12)
    assert trained == 2 * 4 * fold_epoch + refit_epochs * refit_epoch
    assert len(steps) == 2 * 10 * fold_epoch + refit_epochs * refit_epoch
    clear_cache()


def test_successive_halving_over_epochs_costs_what_its_survivors_train(
    tiny_bert, steps
):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    clear_cache()
    cv = KFold(2, shuffle=True, random_state=0)

    def search(store):
        return HalvingGridSearchCV(
            BertClassifier(tiny_bert, training_store=store, **CONSTANT),
            {"lr": [5e-4, 1e-3, 2e-3, 4e-3]},
            resource="max_epochs",
            min_resources=1,
            max_resources=4,
            factor=2,
            cv=cv,
            refit=False,
            random_state=0,
        ).fit(X, Y)

    stored = search(True)
    trained = len(steps)
    steps.clear()
    plain = search(None)
    assert stored.n_resources_ == plain.n_resources_ == [1, 2, 4]
    np.testing.assert_array_equal(
        stored.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
    )
    # rounds: 4 candidates x 1 epoch, 2 x 2, 1 x 4; with the store a round's
    # survivors train only the epochs beyond the last round's
    fold_epoch = batches_per_epoch(8)
    assert len(steps) == 2 * (4 * 1 + 2 * 2 + 1 * 4) * fold_epoch
    assert trained == 2 * (4 * 1 + 2 * 1 + 1 * 2) * fold_epoch
    clear_cache()


def test_early_stopping_ends_a_longer_fit_where_the_stored_one_stopped(
    tiny_bert, tmp_path, steps
):
    params = {
        **CONSTANT,
        "lr": 5e-2,  # diverges: the validation loss stops improving
        "early_stopping": True,
        "validation_fraction": 0.25,
        "n_iter_no_change": 1,
        "training_store": tmp_path,
    }
    first = BertClassifier(tiny_bert, max_epochs=8, **params).fit(X, Y)
    assert first.n_iter_ < 8, "the test needs a fit that stops early"
    steps.clear()
    longer = BertClassifier(tiny_bert, max_epochs=12, **params).fit(X, Y)
    assert steps == []
    alone = BertClassifier(
        tiny_bert, max_epochs=12, **{**params, "training_store": None}
    ).fit(X, Y)
    assert longer.n_iter_ == alone.n_iter_ == first.n_iter_
    assert longer.best_epoch_ == alone.best_epoch_
    np.testing.assert_array_equal(longer.predict_proba(X), alone.predict_proba(X))


# -- never stale -----------------------------------------------------------------


def test_other_rows_settings_or_weights_never_take_a_stored_epoch(
    tiny_bert, tmp_path, steps
):
    model = tmp_path / "model"
    shutil.copytree(tiny_bert, model)
    store = tmp_path / "store"
    params = {**CONSTANT, "max_epochs": 2, "training_store": store}
    BertClassifier(str(model), **params).fit(X, Y)
    full = len(steps)
    other_rows = [*X[:-1], "a new row"]
    for est, rows in [
        (BertClassifier(str(model), **params), other_rows),
        (BertClassifier(str(model), **{**params, "lr": 2e-3}), X),
        (BertClassifier(str(model), **{**params, "random_state": 1}), X),
    ]:
        steps.clear()
        est.fit(rows, Y)
        assert len(steps) == full, est
    # the same folder with other weights
    from safetensors.torch import load_file, save_file

    weights = next(model.glob("*.safetensors"))
    tensors = load_file(str(weights))
    name = next(k for k in tensors if k.endswith("attention.self.query.weight"))
    tensors[name] = tensors[name] + 0.01
    save_file(tensors, str(weights), metadata={"format": "pt"})
    steps.clear()
    BertClassifier(str(model), **params).fit(X, Y)
    assert len(steps) == full
    steps.clear()
    BertClassifier(str(model), **params).fit(X, Y)
    assert steps == []


# -- the store's bounds and errors -----------------------------------------------


def test_the_store_keeps_within_its_size_limit(tiny_bert, tmp_path, monkeypatch):
    params = {**CONSTANT, "max_epochs": 2, "training_store": tmp_path}
    BertClassifier(tiny_bert, **params).fit(X, Y)
    BertClassifier(tiny_bert, **{**params, "lr": 2e-3}).fit(X, Y)
    trajectories = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(trajectories) == 2
    # only the last epoch of a trajectory keeps the optimizer's state
    for folder in trajectories:
        assert (folder / "epoch-0002" / "optimizer.safetensors").is_file()
        assert not (folder / "epoch-0001" / "optimizer.safetensors").exists()
    monkeypatch.setenv(store_module.LIMIT_VARIABLE, "0.000001")  # about 1 kB
    BertClassifier(tiny_bert, **{**params, "lr": 3e-3}).fit(X, Y)
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1
    monkeypatch.setenv(store_module.LIMIT_VARIABLE, "lots")
    with pytest.raises(ValueError, match="SKLEARN_BERT_TRAINING_STORE_GB"):
        BertClassifier(tiny_bert, **{**params, "lr": 4e-3}).fit(X, Y)


def test_clear_cache_empties_the_temporary_store(tiny_bert, steps):
    params = {**CONSTANT, "max_epochs": 1, "training_store": True}
    BertClassifier(tiny_bert, **params).fit(X, Y)
    steps.clear()
    BertClassifier(tiny_bert, **params).fit(X, Y)
    assert steps == []
    clear_cache()
    BertClassifier(tiny_bert, **params).fit(X, Y)
    assert len(steps) == batches_per_epoch(len(X))
    clear_cache()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"random_state": None}, "set random_state to an int"),
        ({"callbacks": [object()]}, "cannot be used with callbacks"),
    ],
)
def test_a_store_that_cannot_match_fits_is_an_error(tiny_bert, params, match):
    est = BertClassifier(tiny_bert, **{**CONSTANT, "training_store": True, **params})
    with pytest.raises(ValueError, match=match):
        est.fit(X, Y)


def test_a_file_is_not_a_store(tiny_bert, tmp_path):
    path = tmp_path / "a_file"
    path.write_text("")
    est = BertClassifier(tiny_bert, training_store=path, **CONSTANT)
    with pytest.raises(ValueError, match="is a file"):
        est.fit(X, Y)


def test_an_interrupted_fit_leaves_its_complete_epochs_to_resume_from(
    tiny_bert, tmp_path, steps, monkeypatch
):
    params = {**CONSTANT, "max_epochs": 3, "training_store": tmp_path}
    original = BertNet.on_epoch_begin

    def interrupt_third(self, net, **kwargs):
        original(self, net, **kwargs)
        if len(net.history) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(BertNet, "on_epoch_begin", interrupt_third)
    with pytest.raises(KeyboardInterrupt):
        BertClassifier(tiny_bert, **params).fit(X, Y)
    monkeypatch.setattr(BertNet, "on_epoch_begin", original)
    steps.clear()
    resumed = BertClassifier(tiny_bert, **params).fit(X, Y)
    assert len(steps) == batches_per_epoch(len(X))
    alone = BertClassifier(tiny_bert, **{**params, "training_store": None}).fit(X, Y)
    np.testing.assert_array_equal(resumed.predict_proba(X), alone.predict_proba(X))


def _fit_in_a_process(args):
    from _precision import apply_bfloat16_switch

    apply_bfloat16_switch()  # a spawned process detects as this one does
    model, folder = args
    est = BertClassifier(model, max_epochs=3, training_store=folder, **CONSTANT)
    return est.fit(X, Y).predict_proba(X)


def test_processes_that_write_one_trajectory_together_leave_it_whole(
    tiny_bert, tmp_path, steps
):
    import multiprocessing

    # spawned, not forked: a process that has used CUDA cannot fork
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_fit_in_a_process, [(tiny_bert, tmp_path)] * 2)
    np.testing.assert_array_equal(results[0], results[1])
    (trajectory,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert sorted(p.name for p in trajectory.iterdir()) == [
        "epoch-0001",
        "epoch-0002",
        "epoch-0003",
    ]
    again = BertClassifier(tiny_bert, max_epochs=3, training_store=tmp_path, **CONSTANT)
    np.testing.assert_array_equal(again.fit(X, Y).predict_proba(X), results[0])
    assert steps == []


def test_the_store_of_a_process_that_died_is_removed(monkeypatch, tmp_path):
    import os
    import subprocess
    import sys
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(store_module, "_process_folder", [])
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    orphan = tmp_path / f"sklearn_bert_store_{int(ended.stdout)}_abc"
    (orphan / ("0" * 32)).mkdir(parents=True)
    living = tmp_path / f"sklearn_bert_store_{os.getppid()}_abc"
    living.mkdir()
    mine = store_module.open_store(True)
    assert mine.parent == tmp_path and mine.is_dir()
    assert not orphan.exists() and living.exists()
    store_module._process_folder.clear()

"""Faults lose no work: checkpoints and resumed fits, warm starts, a diverging
loss, early stopping, and a training process killed hard.

A fit with ``checkpoint_dir`` writes its whole training state after every
epoch (safetensors and JSON only); ``warm_start=True`` resumes an interrupted
fit from it and ends with the model the uninterrupted fit would have made.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from _precision import assert_agree
from skorch.callbacks import Callback

from sklearn_bert import (
    BertClassifier,
    BertMaskedLM,
    BertQuestionAnswerer,
    BertRegressor,
    BertTokenClassifier,
)
from sklearn_bert._engine.net import BertNet

X = ["a good film", "a bad film", "great story", "terrible story", "love it"]
X += ["hate it", "good food", "slow service", "great price", "bad price"]
Y = np.array(["pos", "neg"] * 5)
FAST = {"batch_size": 4, "max_length": 32, "random_state": 0}


class StopAt(Callback):
    """Raise ``exc`` at a training batch of an epoch (both 1-based)."""

    def __init__(self, epoch, batch, exc=KeyboardInterrupt):
        self.epoch, self.batch, self.exc = epoch, batch, exc

    def on_epoch_begin(self, net, **kwargs):
        self.seen = 0

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            self.seen += 1
            if len(net.history) == self.epoch and self.seen == self.batch:
                raise self.exc


def latest_state(folder: Path) -> dict:
    name = json.loads((folder / "latest.json").read_text())["folder"]
    return json.loads((folder / name / "state.json").read_text())


def latest_epoch(folder: Path) -> int:
    name = json.loads((folder / "latest.json").read_text())["folder"]
    assert name.startswith("epoch-")
    return int(name.split("-")[1])


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# -- a refit that fails keeps the fitted model ---------------------------------


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError], ids=str)
@pytest.mark.parametrize(
    "name",
    [
        "BertClassifier",
        "BertRegressor",
        "BertMaskedLM",
        "BertTokenClassifier",
        "BertQuestionAnswerer",
    ],
)
def test_a_failed_refit_keeps_every_estimator_whole(name, exc, tiny_model_dirs):
    import copy

    from test_common import ESTIMATORS, assert_same_outputs, fit, fitted, outputs

    case = next(c for c in ESTIMATORS if c.name == name)
    estimator = fitted(case, tiny_model_dirs, "bert")
    X, y = case.make_data()
    expected = outputs(case, estimator, X)
    state = {k: v for k, v in vars(estimator).items() if k.endswith("_")}
    failing = copy.copy(estimator).set_params(callbacks=[StopAt(1, 1, exc)])
    with pytest.raises(exc):
        fit(case, failing, X, y)
    assert {k: v for k, v in vars(failing).items() if k.endswith("_")} == state
    assert_same_outputs(outputs(case, failing, X), expected)


# -- checkpoints and resuming --------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda m, **kw: BertClassifier(
            m, early_stopping=True, validation_fraction=0.3, n_iter_no_change=9, **kw
        ),
        lambda m, **kw: BertMaskedLM(m, **kw),
    ],
    ids=["classifier-early-stopping", "masked-lm"],
)
def test_an_interrupted_fit_resumes_to_the_uninterrupted_model(
    tiny_bert, tmp_path, make
):
    def fit(est):
        return est.fit(X, Y) if isinstance(est, BertClassifier) else est.fit(X)

    def out(est):
        if isinstance(est, BertClassifier):
            return est.predict_proba(X)
        return est.transform(X)

    params = {**FAST, "max_epochs": 3}
    whole = fit(make(tiny_bert, checkpoint_dir=tmp_path / "a", **params))
    folder = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        fit(make(tiny_bert, checkpoint_dir=folder, callbacks=[StopAt(3, 2)], **params))
    assert latest_epoch(folder) == 2
    state = latest_state(folder)
    assert state["epoch"] == 2 and not state["finished"]
    # nothing but JSON and safetensors (and the model's tokenizer-free folder)
    assert all(
        name.endswith((".json", ".safetensors")) or (folder / name).is_dir()
        for name in files_in(folder)
    ), files_in(folder)

    resumed = fit(make(tiny_bert, checkpoint_dir=folder, warm_start=True, **params))
    assert len(resumed.history_) == len(whole.history_) == 3
    np.testing.assert_array_equal(out(resumed), out(whole))
    assert [r["train_loss"] for r in resumed.history_] == [
        r["train_loss"] for r in whole.history_
    ]
    state = latest_state(folder)
    assert state["epoch"] == 3 and state["finished"]
    assert len([p for p in folder.iterdir() if p.name.startswith("epoch-")]) == 1


def test_a_finished_checkpoint_restores_the_model(tiny_bert, tmp_path):
    clf = BertClassifier(tiny_bert, max_epochs=2, checkpoint_dir=tmp_path, **FAST)
    clf.fit(X, Y)
    again = BertClassifier(
        tiny_bert, max_epochs=2, checkpoint_dir=tmp_path, warm_start=True, **FAST
    ).fit(X, Y)  # unfitted: nothing left to train, the model is restored
    assert len(again.history_) == 2
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_resuming_another_fit_is_refused(tiny_bert, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        BertClassifier(
            tiny_bert,
            max_epochs=2,
            checkpoint_dir=tmp_path,
            callbacks=[StopAt(2, 1)],
            **FAST,
        ).fit(X, Y)
    other = BertClassifier(
        tiny_bert, max_epochs=2, lr=1e-3, checkpoint_dir=tmp_path, warm_start=True
    )
    with pytest.raises(ValueError, match=r"another fit: lr=0.001 .*used 'auto'"):
        other.set_params(**FAST).fit(X, Y)
    with pytest.raises(ValueError, match="the training rows"):
        BertClassifier(
            tiny_bert, max_epochs=2, checkpoint_dir=tmp_path, warm_start=True, **FAST
        ).fit(X[::-1], Y[::-1])
    # warm_start=False starts over and replaces the checkpoint
    BertClassifier(tiny_bert, max_epochs=1, checkpoint_dir=tmp_path, **FAST).fit(X, Y)
    assert latest_epoch(tmp_path) == 1


def test_an_unreadable_checkpoint_is_a_clear_error(tiny_bert, tmp_path):
    (tmp_path / "latest.json").write_text('{"folder": "../../etc"}')
    clf = BertClassifier(
        tiny_bert, max_epochs=1, checkpoint_dir=tmp_path, warm_start=True, **FAST
    )
    with pytest.raises(ValueError, match="cannot be read"):
        clf.fit(X, Y)


def test_only_the_training_process_writes_checkpoints(tiny_bert, tmp_path, monkeypatch):
    from sklearn_bert._engine import checkpoint

    assert checkpoint._is_writer()  # not distributed
    monkeypatch.setattr(torch.distributed, "is_available", lambda: True)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda *a: 1)
    assert not checkpoint._is_writer()  # rank 1 of a distributed fit
    monkeypatch.undo()
    monkeypatch.setattr(checkpoint, "_is_writer", lambda: False)
    BertClassifier(tiny_bert, max_epochs=1, checkpoint_dir=tmp_path, **FAST).fit(X, Y)
    assert list(tmp_path.iterdir()) == []


# -- warm starts from a fitted model ---------------------------------------------


def test_warm_start_continues_the_fitted_model(tiny_bert):
    clf = BertClassifier(tiny_bert, max_epochs=2, **FAST).fit(X, Y)
    net = clf.net_
    clf.set_params(warm_start=True, max_epochs=1).fit(X, Y)
    assert len(clf.history_) == 3 and clf.net_ is not net
    # the old model is left as it was
    assert not any(
        torch.equal(a, b)
        for a, b in zip(
            net.module_.head.parameters(),
            clf.net_.module_.head.parameters(),
            strict=True,
        )
    )
    with pytest.raises(ValueError, match=r"classes=\['neg', 'pos'\].*\['a', 'b'\]"):
        clf.fit(X, np.array(["a", "b"] * 5))
    assert len(clf.history_) == 3


def test_warm_start_keeps_the_regressor_target_scale(tiny_bert):
    y = np.linspace(0, 100, len(X))
    reg = BertRegressor(tiny_bert, max_epochs=1, **FAST).fit(X, y)
    before = reg.predict(X)
    reg.set_params(warm_start=True, lr=1e-12).fit(X, y * 1000)
    assert_agree(reg.predict(X), before, reg.precision_)
    assert reg.target_scale_ == pytest.approx(np.std(y))


@pytest.mark.parametrize(
    "make",
    [BertTokenClassifier, BertQuestionAnswerer, BertMaskedLM],
    ids=["token", "qa", "masked-lm"],
)
def test_warm_start_for_every_task(tiny_bert, make):
    from _qa_data import qa_frame

    est = make(tiny_bert, max_epochs=1, **{**FAST, "max_length": 48})
    if make is BertTokenClassifier:
        data = (
            [x.split() for x in X],
            [["O"] * (len(x.split()) - 1) + ["B-X"] for x in X],
        )
    elif make is BertQuestionAnswerer:
        data = qa_frame(2)
    else:
        data = (X,)
    est.fit(*data).set_params(warm_start=True).fit(*data)
    assert len(est.history_) == 2


# -- a diverging loss, early stopping ---------------------------------------------


class PoisonHead(Callback):
    """Fill the head's weights with NaN before a training batch."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def on_epoch_begin(self, net, **kwargs):
        self.seen = 0

    def on_batch_begin(self, net, training=None, **kwargs):
        if training:
            self.seen += 1
            if len(net.history) == self.epoch and self.seen == self.batch:
                with torch.no_grad():
                    net.module_.head.weight.fill_(float("nan"))


def test_a_nan_loss_names_epoch_and_batch_and_keeps_the_fitted_model(tiny_bert):
    clf = BertClassifier(tiny_bert, max_epochs=2, **FAST).fit(X, Y)
    before = clf.predict_proba(X)
    clf.set_params(callbacks=[PoisonHead(2, 2)])
    with pytest.raises(ValueError, match=r"loss is nan at epoch 2, batch 2"):
        clf.fit(X, Y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_float16_skips_a_non_finite_batch_with_a_warning():
    net = BertNet.__new__(BertNet)
    net.precision = "float16"
    net.history = [{}, {}]
    net._batch_number = 4
    with pytest.warns(RuntimeWarning, match=r"inf at epoch 2, batch 5 .*skipped"):
        assert net._skip_non_finite(torch.tensor(float("inf")))
    net.precision = "bfloat16"
    with pytest.raises(ValueError, match="epoch 2, batch 5"):
        net._skip_non_finite(torch.tensor(float("nan")))


def test_early_stopping_ends_training_without_an_interrupt(tiny_bert):
    clf = BertClassifier(
        tiny_bert,
        max_epochs=8,
        lr=1e-12,  # nothing improves: stop after n_iter_no_change epochs
        early_stopping=True,
        n_iter_no_change=1,
        validation_fraction=0.3,
        **FAST,
    ).fit(X, Y)
    assert len(clf.history_) < 8
    # a user's skorch EarlyStopping stops training the same way
    from skorch.callbacks import EarlyStopping

    clf = BertClassifier(
        tiny_bert,
        max_epochs=8,
        lr=1e-12,
        callbacks=[EarlyStopping(monitor="train_loss", patience=1, sink=None)],
        **FAST,
    ).fit(X, Y)
    assert len(clf.history_) < 8


# -- a training process killed hard -----------------------------------------------

_TRAIN = """
import sys, time
import numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
from _precision import apply_bfloat16_switch
apply_bfloat16_switch()  # SKLEARN_BERT_TEST_BFLOAT16 reaches this process too
from skorch.callbacks import Callback
from sklearn_bert import BertClassifier

model, folder, marker = sys.argv[1:4]

class Hang(Callback):
    def on_epoch_begin(self, net, **kwargs):
        self.seen = 0
    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            self.seen += 1
            if len(net.history) == 2 and self.seen == 2:
                open(marker, "w").close()
                time.sleep(600)  # killed here, in the middle of epoch 2

X = {X!r}
Y = np.array({Y!r})
BertClassifier(model, max_epochs=3, checkpoint_dir=folder, callbacks=[Hang()],
               **{FAST!r}).fit(X, Y)
"""


@pytest.mark.slow
def test_a_training_process_killed_hard_resumes(tiny_bert, tmp_path):
    folder, marker = tmp_path / "ckpt", tmp_path / "in-epoch-2"
    script = _TRAIN.format(
        X=X, Y=Y.tolist(), FAST=FAST, tests=str(Path(__file__).parent)
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(script),
            tiny_bert,
            str(folder),
            str(marker),
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert process.poll() is None, "the training process ended early"
            assert time.monotonic() < deadline, "the training process hung"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)  # hard: no cleanup runs
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    assert latest_epoch(folder) == 1

    params = {**FAST, "max_epochs": 3}
    resumed = BertClassifier(
        tiny_bert, checkpoint_dir=folder, warm_start=True, **params
    ).fit(X, Y)
    whole = BertClassifier(tiny_bert, **params).fit(X, Y)
    assert len(resumed.history_) == 3
    # epoch 1 ran in another process
    assert_agree(resumed.predict_proba(X), whole.predict_proba(X), whole.precision_)
    assert resumed.score(X, Y) == whole.score(X, Y)

"""The "auto" training budget: epochs, encoder and head learning rates that
adapt to the data (user guide, "Defaults that adapt")."""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_bert import BertClassifier, BertRegressor, BertTokenClassifier
from sklearn_bert._params import AUTO_BUDGET, AutoBudget

# The documented defaults (user guide, "Defaults that adapt"), stated here
# rather than read from the code: about 250 optimizer steps in 3 to 20
# epochs; the encoder at 5e-5 (2e-4 for token labelling); a new head at 20
# times the encoder's rate.
AUTO_STEPS, AUTO_EPOCHS, AUTO_LR, TOKEN_LR, HEAD_FACTOR = 250, (3, 20), 5e-5, 2e-4, 20

POS = ["good film great", "great story love", "happy good friendly", "love great"]
NEG = ["bad film terrible", "terrible story hate", "sad bad slow", "hate terrible"]


def _data(n):
    X = (POS + NEG) * (n // 8)
    y = np.array((["pos"] * 4 + ["neg"] * 4) * (n // 8))
    return X, y


def _optimizer_lrs(est):
    # The schedule ends at zero; each group keeps its peak as ``initial_lr``.
    groups = est.net_.optimizer_.param_groups
    return sorted({g.get("initial_lr", g["lr"]) for g in groups})


# A small target keeps the test fast; the rule is the same: 12 steps at 8
# rows a batch is 2 steps an epoch for 16 rows (6 epochs, clipped to 5) and 8
# steps an epoch for 64 rows (2 epochs).
@pytest.mark.parametrize("n, epochs", [(16, 5), (64, 2)])
def test_auto_epochs_aim_at_a_number_of_steps(tiny_bert, n, epochs, monkeypatch):
    monkeypatch.setitem(AUTO_BUDGET, "sequence", AutoBudget(12, (1, 5), 5e-5))
    X, y = _data(n)
    clf = BertClassifier(tiny_bert, max_length=16, batch_size=8, random_state=0)
    clf.fit(X, y)
    assert clf.max_epochs_ == epochs
    assert len(clf.net_.history) == epochs


def test_auto_epochs_are_clipped_to_their_range(tiny_bert):
    X, y = _data(16)
    clf = BertClassifier(tiny_bert, max_length=16, batch_size=8, random_state=0)
    budget = clf._budget(16, _prepared(new_head=True))
    assert budget.max_epochs == AUTO_EPOCHS[1]  # 2 steps an epoch: many epochs
    budget = clf._budget(10**6, _prepared(new_head=True))
    assert budget.max_epochs == AUTO_EPOCHS[0]  # a large set: the floor
    n = 8 * AUTO_STEPS // 5  # 50 steps an epoch -> 5 epochs
    assert clf._budget(n, _prepared(new_head=True)).max_epochs == 5


def test_accumulation_counts_optimizer_steps(tiny_bert):
    clf = BertClassifier(tiny_bert, batch_size=8, gradient_accumulation_steps=4)
    plain = BertClassifier(tiny_bert, batch_size=8)
    n = 8 * AUTO_STEPS // 5
    assert (
        clf._budget(n, _prepared(True)).max_epochs
        > plain._budget(n, _prepared(True)).max_epochs
    )


def _prepared(new_head):
    from sklearn_bert._engine.finetune import Prepared

    return Prepared(X=None, rows=None, new_head=new_head)


def test_a_new_head_learns_faster_than_the_encoder(tiny_bert):
    X, y = _data(16)
    clf = BertClassifier(
        tiny_bert, max_length=16, batch_size=8, max_epochs=1, random_state=0
    ).fit(X, y)
    assert clf.lr_ == AUTO_LR
    assert clf.head_lr_ == pytest.approx(HEAD_FACTOR * AUTO_LR)
    assert _optimizer_lrs(clf) == pytest.approx([clf.lr_, clf.head_lr_])


def test_a_trained_head_is_not_restarted_at_a_high_rate(tiny_bert, tmp_path):
    """A folder saved by a fitted classifier holds its head: refitting from
    it treats the head like the encoder (one learning rate)."""
    X, y = _data(16)
    fitted = BertClassifier(
        tiny_bert, max_length=16, batch_size=8, max_epochs=1, random_state=0
    ).fit(X, y)
    folder = fitted.save_pretrained(tmp_path / "clf")
    again = BertClassifier(
        str(folder), max_length=16, batch_size=8, max_epochs=1, random_state=0
    ).fit(X, y)
    assert again.head_lr_ == again.lr_ == AUTO_LR
    assert _optimizer_lrs(again) == pytest.approx([AUTO_LR])


def test_explicit_values_win_over_auto(tiny_bert):
    X, y = _data(16)
    clf = BertClassifier(
        tiny_bert,
        max_length=16,
        batch_size=8,
        max_epochs=2,
        lr=1e-4,
        head_lr=3e-4,
        random_state=0,
    ).fit(X, y)
    assert (clf.max_epochs_, clf.lr_, clf.head_lr_) == (2, 1e-4, 3e-4)
    assert len(clf.net_.history) == 2
    assert _optimizer_lrs(clf) == pytest.approx([1e-4, 3e-4])
    same = BertClassifier(
        tiny_bert,
        max_length=16,
        batch_size=8,
        max_epochs=1,
        lr=1e-4,
        head_lr=None,
        random_state=0,
    ).fit(X, y)
    assert same.head_lr_ == same.lr_ == 1e-4


@pytest.mark.parametrize("make", ["regressor", "token"])
def test_other_heads_get_the_same_rule(tiny_bert, make):
    if make == "regressor":
        est = BertRegressor(tiny_bert, max_length=16, batch_size=8, max_epochs=1)
        est.fit(POS + NEG, np.arange(8.0))
    else:
        est = BertTokenClassifier(tiny_bert, max_length=16, batch_size=8, max_epochs=1)
        words = [t.split() for t in POS + NEG]
        est.fit(words, [["B"] + ["O"] * (len(w) - 1) for w in words])
    assert est.head_lr_ == pytest.approx(HEAD_FACTOR * est.lr_)


def test_every_task_has_a_row_in_the_auto_table():
    assert AUTO_BUDGET["sequence"] == AutoBudget(AUTO_STEPS, AUTO_EPOCHS, AUTO_LR)
    assert AUTO_BUDGET["token"] == AutoBudget(AUTO_STEPS, AUTO_EPOCHS, TOKEN_LR)
    assert AUTO_BUDGET["contrastive"] == AutoBudget(20, (1, 10), 1e-4)
    import sklearn_bert._tasks.contrastive.trainer  # noqa: F401 (loaded lazily)
    from sklearn_bert._engine.finetune import FineTuneBase

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    tasks = {sub._task for sub in subclasses(FineTuneBase)}
    assert tasks == set(AUTO_BUDGET)


def test_tagging_has_its_own_auto_learning_rate(tiny_bert):
    words = [t.split() for t in POS + NEG]
    tags = [["B"] + ["O"] * (len(w) - 1) for w in words]
    tagger = BertTokenClassifier(tiny_bert, max_length=16, batch_size=8, max_epochs=1)
    tagger.fit(words, tags)
    assert tagger.lr_ == TOKEN_LR != AUTO_LR
    assert _optimizer_lrs(tagger) == pytest.approx([TOKEN_LR, tagger.head_lr_])
    explicit = BertTokenClassifier(
        tiny_bert, max_length=16, batch_size=8, max_epochs=1, lr=5e-5
    ).fit(words, tags)
    assert explicit.lr_ == 5e-5

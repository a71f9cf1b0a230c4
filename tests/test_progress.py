"""Progress lines at ``verbose=1`` (``_engine.progress``) and warnings that
point at the user's line (``_text.tokenize.user_stacklevel``).

The clock of the progress lines is replaced by one that advances 5 s per
reading, so the lines are deterministic.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from sklearn_bert import BertClassifier, BertRegressor, BertTransformer
from sklearn_bert._engine import progress

X = ["good film great", "great story love", "happy good friendly", "love great"] * 2
X += ["bad film terrible", "terrible story hate", "sad bad slow", "hate terrible"] * 2
Y = np.array(["pos"] * 8 + ["neg"] * 8, dtype=object)
FAST = {"max_length": 32, "batch_size": 4, "random_state": 0}
LINE = re.compile(r"^.+: \d+/\d+ (batches|texts), .+ left$")


@pytest.fixture
def clock(monkeypatch):
    """A clock advancing 5 s per reading; lines as often as it allows."""
    now = [0.0]

    def tick():
        now[0] += 5.0
        return now[0]

    monkeypatch.setattr(progress, "_now", tick)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    return now


def progress_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if LINE.match(line)]


def test_duration():
    assert progress.duration(0.2) == "0 s"
    assert progress.duration(35) == "35 s"
    assert progress.duration(105) == "1 min 45 s"
    assert progress.duration(2 * 3600 + 5 * 60 + 9) == "2 h 5 min"


def test_lines_are_throttled(monkeypatch, capsys):
    now = [0.0]
    monkeypatch.setattr(progress, "_now", lambda: now[0])
    p = progress.Progress("epoch 1/3", 480)
    for done, at in [(10, 5.0), (120, 35.0), (130, 40.0), (300, 49.0), (480, 99)]:
        now[0] = at
        p.update(done)
    # 5 s < INTERVAL: nothing; 35 s: a line; 40 s, 49 s: within INTERVAL of
    # it; done: the epoch's own line follows, so none
    assert capsys.readouterr().out.splitlines() == [
        "epoch 1/3: 120/480 batches, 35 s, about 1 min 45 s left"
    ]


def test_time_left_follows_the_work(clock, capsys):
    # the first of 4 items is half the work: as much time left as spent
    list(progress.tracked(range(4), 4, "predicting", work=[3, 1, 1, 1]))
    assert capsys.readouterr().out.splitlines() == [
        "predicting: 1/4 batches, 5 s, about 5 s left",
        "predicting: 2/4 batches, 10 s, about 5 s left",
        "predicting: 3/4 batches, 15 s, about 3 s left",
    ]


@pytest.mark.parametrize("Estimator", [BertClassifier, BertRegressor])
def test_training_and_prediction_lines(tiny_bert, clock, capsys, Estimator):
    y = Y if Estimator is BertClassifier else (Y == "pos").astype(float)
    est = Estimator(tiny_bert, max_epochs=2, verbose=1, **FAST).fit(X, y)
    lines = progress_lines(capsys.readouterr().out)
    # 16 rows in batches of 4: a line after each batch but the last
    assert lines == [
        "epoch 1/2: 1/4 batches, 5 s, about 15 s left",
        "epoch 1/2: 2/4 batches, 10 s, about 10 s left",
        "epoch 1/2: 3/4 batches, 15 s, about 5 s left",
        "epoch 2/2: 1/4 batches, 5 s, about 15 s left",
        "epoch 2/2: 2/4 batches, 10 s, about 10 s left",
        "epoch 2/2: 3/4 batches, 15 s, about 5 s left",
    ]
    est.predict(X)
    # each distinct text once: 8 texts, 2 batches
    assert progress_lines(capsys.readouterr().out) == [
        "predicting: 1/2 batches, 5 s, about 5 s left"
    ]


def test_validation_lines(tiny_bert, clock, capsys):
    BertClassifier(
        tiny_bert,
        max_epochs=1,
        early_stopping=True,
        validation_fraction=0.5,
        verbose=1,
        **FAST,
    ).fit(X, Y)
    lines = progress_lines(capsys.readouterr().out)
    assert "epoch 1/1: 1/2 batches, 5 s, about 5 s left" in lines
    assert "epoch 1/1, validation: 1/2 batches, 5 s, about 5 s left" in lines


def test_encoding_lines(tiny_bert, clock, capsys):
    BertTransformer(tiny_bert, verbose=1, **FAST).fit_transform(X)
    lines = progress_lines(capsys.readouterr().out)
    # 8 distinct texts in batches of 4: a line after the first batch, which
    # holds the longest texts (more than half the tokens: under 5 s left)
    assert lines == ["encoding: 4/8 texts, 5 s, about 4 s left"]


def test_no_lines(tiny_bert, monkeypatch, capsys):
    # verbose=0 prints nothing at all, however long the epoch
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    est = BertClassifier(tiny_bert, max_epochs=1, **FAST).fit(X, Y)
    est.predict(X)
    assert capsys.readouterr() == ("", "")
    # verbose=2 shows bars instead of lines
    est.set_params(verbose=2).fit(X, Y).predict(X)
    assert progress_lines(capsys.readouterr().out) == []
    # a loop shorter than INTERVAL prints no line (a clock that stands still)
    monkeypatch.setattr(progress, "INTERVAL", 15.0)
    monkeypatch.setattr(progress, "_now", lambda: 0.0)
    est.set_params(verbose=1).fit(X, Y).predict(X)
    out = capsys.readouterr().out
    assert "train_loss" in out
    assert progress_lines(out) == []


LONG = ["a long review " + "word " * 40 + str(i) for i in range(12)]
LABELS = np.array([0, 1] * 6)


def test_truncation_warning_points_at_user_line_in_cached_pipeline(tiny_bert, tmp_path):
    pipe = Pipeline(
        [
            ("bert", BertTransformer(tiny_bert, max_length=8)),
            ("clf", LogisticRegression()),
        ],
        memory=str(tmp_path),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe.fit(LONG, LABELS)
    truncated = [w for w in caught if "longer than max_length=8" in str(w.message)]
    assert truncated
    assert all(w.filename == __file__ for w in truncated), [
        w.filename for w in truncated
    ]


def test_truncation_warning_points_at_user_line_in_column_transformer(tiny_bert):
    frame = pd.DataFrame({"text": LONG})
    columns = ColumnTransformer(
        [("bert", BertTransformer(tiny_bert, max_length=8), "text")]
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        columns.fit_transform(frame)
    truncated = [w for w in caught if "longer than max_length=8" in str(w.message)]
    assert truncated
    assert all(w.filename == __file__ for w in truncated)

"""Property-based tests: arbitrary Unicode text and lengths at inference.

Hypothesis draws texts from the whole of Unicode (controls, combining marks,
emoji, right-to-left scripts, private use, empty and blank strings) and
lengths from empty to 1,500 characters; every fitted estimator must
return outputs of the right shape and type, without NaN and without an
error. A lone surrogate (not valid Unicode) must be a ``ValueError`` naming
its row. The examples are derandomized and bounded, so the suite stays fast
and repeatable.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_common import ESTIMATORS, fitted

SETTINGS = settings(
    max_examples=15, deadline=None, derandomize=True, database=None, print_blob=True
)

#: Any text: mostly short, sometimes longer than any max_length.
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(max_size=300),
    st.text(min_size=1000, max_size=1500),
)
TEXTS = st.lists(TEXT, min_size=1, max_size=5)


@pytest.fixture(scope="module")
def estimators(tiny_model_dirs):
    return {
        case.name: fitted(case, tiny_model_dirs, "bert")
        for case in ESTIMATORS
        if not case.variant  # plain text input
    }


def quiet(call, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # truncation warnings
        return call(*args)


@SETTINGS
@given(texts=TEXTS)
def test_embeddings_of_any_text(estimators, texts):
    for name in ("BertTransformer", "BertMaskedLM"):
        out = quiet(estimators[name].transform, texts)
        assert out.shape == (len(texts), 32) and out.dtype == np.float32
        assert np.isfinite(out).all()


@SETTINGS
@given(texts=TEXTS)
def test_predictions_of_any_text(estimators, texts):
    clf, reg = estimators["BertClassifier"], estimators["BertRegressor"]
    labels = quiet(clf.predict, texts)
    assert labels.shape == (len(texts),) and set(labels) <= set(clf.classes_)
    proba = quiet(clf.predict_proba, texts)
    assert proba.shape == (len(texts), 2) and proba.dtype == np.float64
    # float64 softmax: 1 to rounding (numpy's default rtol), whatever the precision
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    values = quiet(reg.predict, texts)
    assert values.shape == (len(texts),) and np.isfinite(values).all()


@SETTINGS
@given(
    sentences=st.lists(
        st.lists(st.text(max_size=30), max_size=40), min_size=1, max_size=4
    )
)
def test_tags_of_any_tokens(estimators, sentences):
    tagger = estimators["BertTokenClassifier"]
    tags = quiet(tagger.predict, sentences)
    assert [len(t) for t in tags] == [len(s) for s in sentences]
    assert all(tag in set(tagger.classes_) for row in tags for tag in row)
    for proba, sentence in zip(
        quiet(tagger.predict_proba, sentences), sentences, strict=True
    ):
        assert proba.shape == (len(sentence), len(tagger.classes_))
        assert np.isfinite(proba).all()


@SETTINGS
@given(rows=st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=4))
def test_answers_of_any_question_and_context(estimators, rows):
    qa = estimators["BertQuestionAnswerer"]
    X = pd.DataFrame(rows, columns=["question", "context"], dtype=object)
    answers = quiet(qa.predict, X)
    assert answers.shape == (len(rows),)
    for answer, (_, context) in zip(answers, rows, strict=True):
        assert isinstance(answer, str) and answer in context


@SETTINGS
@given(
    texts=TEXTS,
    position=st.integers(0, 4),
    surrogate=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
)
def test_a_lone_surrogate_is_a_clear_error(estimators, texts, position, surrogate):
    row = position % len(texts)
    texts = [*texts[:row], texts[row] + surrogate, *texts[row + 1 :]]
    with pytest.raises(ValueError, match=rf"row {row}\b.*lone surrogate"):
        estimators["BertTransformer"].transform(texts)
    with pytest.raises(ValueError, match=rf"row {row}\b.*lone surrogate"):
        estimators["BertClassifier"].predict(texts)

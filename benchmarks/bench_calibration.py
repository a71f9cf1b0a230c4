"""Calibration of predicted probabilities: the defaults, temperature scaling
and frozen embeddings, in one run.

For text classification (fine-food reviews, binary; BBC News, 5 topics) at
each training size, on a fixed test set:

- ``BertClassifier`` with its defaults (``calibration=None``: the softmax of
  the raw logits; every training row trains);
- ``BertClassifier(calibration="temperature")``: ``validation_fraction``
  (10 %) of the training rows held out of training and used to fit the
  temperature; the raw (temperature 1) probabilities of that same model are
  scored too, so the effect of the temperature and of the held-out rows can
  be told apart;
- frozen ``BertTransformer`` + ``LogisticRegression`` (the reference of
  well-calibrated probabilities).

Scores: accuracy, expected calibration error (15 equal-width bins of the
top-class probability, :func:`sklearn_bert.metrics.expected_calibration_error`),
Brier score (multi-class: the mean squared error of the probability
vectors) and log loss, plus fit seconds. Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_calibration.py --task finefood --sizes 200
    HF_HUB_OFFLINE=1 python benchmarks/bench_calibration.py --quick

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


def scores(y_true, proba, classes) -> dict:
    from sklearn.metrics import log_loss

    from sklearn_bert.metrics import expected_calibration_error

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


def run_size(task, size, seed, data, params, test_limit):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_bert import BertClassifier, BertTransformer

    X_all, y_all, X_test, y_test = data
    X, y = subsample(X_all, y_all, size, seed, stratify=True)
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

    start = time.perf_counter()
    frozen = make_pipeline(BertTransformer(), LogisticRegression(max_iter=2000)).fit(
        X, y
    )
    record(
        "frozen + LogisticRegression",
        frozen.predict_proba(X_test),
        frozen.classes_,
        time.perf_counter() - start,
    )

    start = time.perf_counter()
    clf = BertClassifier(random_state=seed, **params).fit(X, y)
    record(
        "BertClassifier (defaults)",
        clf.predict_proba(X_test),
        clf.classes_,
        time.perf_counter() - start,
        max_epochs=clf.max_epochs_,
    )

    start = time.perf_counter()
    cal = BertClassifier(random_state=seed, calibration="temperature", **params).fit(
        X, y
    )
    seconds = time.perf_counter() - start
    record(
        'BertClassifier(calibration="temperature")',
        cal.predict_proba(X_test),
        cal.classes_,
        seconds,
        temperature=float(cal.temperature_),
        max_epochs=cal.max_epochs_,
    )
    raw = cal.set_params()  # the same model with its temperature set aside
    temperature = raw.temperature_
    raw.temperature_ = 1.0
    record(
        "same model, temperature 1 (90 % of rows trained)",
        raw.predict_proba(X_test),
        raw.classes_,
        seconds,
    )
    raw.temperature_ = temperature
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["finefood", "bbc"], default="finefood")
    parser.add_argument("--sizes", default="200")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test", type=int, default=1000, help="test rows scored")
    parser.add_argument("--params", default="", help="extra settings, k=v,k=v")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
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
    data = load_task(args.task)
    for size in sizes:
        result["runs"] = [
            r for r in result["runs"] if r["size"] != size or r["seed"] != args.seed
        ]
        result["runs"] += run_size(args.task, size, args.seed, data, params, args.test)
        result["load_after"] = h.load_average()
        h.write_json(result, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

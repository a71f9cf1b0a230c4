"""A search over ``max_epochs`` with and without the training store.

On ``n`` fine-food reviews (the bundled model, ``lr_schedule="constant"``,
``random_state=0``, the precision given, float32 by default), in one run:

1. ``cross_val_score`` of ``BertClassifier(max_epochs=4)`` (``cv`` folds):
   the price of the search's largest candidate;
2. ``GridSearchCV`` over ``max_epochs`` in 1..4 (``refit=False``) without a
   store: every candidate trains from scratch (1+2+3+4 epochs per fold);
3. the same search with ``training_store`` (a new folder): each fold trains
   4 epochs in all, later candidates resume from earlier ones.

The searches' scores must be equal (the store changes the cost, not the
results). Then the schedule: ``lr_schedule="constant"`` (which the store
needs to serve every ``max_epochs`` from one fit) against the default
``"linear"`` decay, each fitted on ``--schedule-rows`` reviews for
``--schedule-epochs`` epochs with several seeds and scored on 500 test
reviews. Results: ``results/search_store.json`` (the search) and
``results/lr_schedule.json`` (the schedules); ``--part`` runs one of them.

    python benchmarks/bench_search_store.py          # both parts
    python benchmarks/bench_search_store.py --part schedule
    python benchmarks/bench_search_store.py --quick  # smoke run
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _harness as h  # noqa: E402


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def search_costs(X: list[str], y: Any, *, cv: int, precision: str) -> dict:
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

    from sklearn_bert import BertClassifier

    folds = StratifiedKFold(cv, shuffle=True, random_state=0)
    params = {"lr_schedule": "constant", "precision": precision, "random_state": 0}
    grid = {"max_epochs": [1, 2, 3, 4]}
    cv_scores, cv_seconds = timed(
        lambda: cross_val_score(BertClassifier(max_epochs=4, **params), X, y, cv=folds)
    )
    print(f"cross_val_score, 4 epochs: {cv_seconds:.0f} s")
    plain, plain_seconds = timed(
        lambda: GridSearchCV(BertClassifier(**params), grid, cv=folds, refit=False).fit(
            X, y
        )
    )
    print(f"search without the store: {plain_seconds:.0f} s")
    with tempfile.TemporaryDirectory() as folder:
        stored, store_seconds = timed(
            lambda: GridSearchCV(
                BertClassifier(training_store=folder, **params),
                grid,
                cv=folds,
                refit=False,
            ).fit(X, y)
        )
        store_bytes = sum(
            p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()
        )
    print(f"search with the store: {store_seconds:.0f} s")
    same = bool(
        (
            plain.cv_results_["mean_test_score"]
            == stored.cv_results_["mean_test_score"]
        ).all()
    )
    return {
        "cross_val_score_seconds": round(cv_seconds, 1),
        "cross_val_score_mean": float(cv_scores.mean()),
        "search_without_store_seconds": round(plain_seconds, 1),
        "search_with_store_seconds": round(store_seconds, 1),
        "search_without_store_over_cross_val": round(plain_seconds / cv_seconds, 2),
        "search_with_store_over_cross_val": round(store_seconds / cv_seconds, 2),
        "mean_test_scores": stored.cv_results_["mean_test_score"].round(4).tolist(),
        "scores_equal_with_and_without_store": same,
        "store_bytes_after_search": store_bytes,
    }


def schedules(
    train: Any, test: Any, *, n: int, epochs: int, seeds: list[int], precision: str
) -> dict:
    from sklearn.metrics import accuracy_score

    from sklearn_bert import BertClassifier

    rows = train.sample(n=n, random_state=0)
    out: dict[str, list[float]] = {"linear": [], "constant": []}
    for seed in seeds:
        for schedule in out:
            clf = BertClassifier(
                max_epochs=epochs,
                lr_schedule=schedule,
                precision=precision,
                random_state=seed,
            ).fit(rows["review"].tolist(), rows["score"].to_numpy())
            accuracy = accuracy_score(
                test["score"], clf.predict(test["review"].tolist())
            )
            out[schedule].append(round(float(accuracy), 4))
            print(f"seed {seed}, {schedule}: accuracy {accuracy:.3f}")
    mean = {k: round(sum(v) / len(v), 4) for k, v in out.items()}
    return {
        "n_train": n,
        "n_test": len(test),
        "epochs": epochs,
        "seeds": seeds,
        "accuracy": out,
        "mean_accuracy": mean,
        "constant_minus_linear": round(mean["constant"] - mean["linear"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--schedule-rows", type=int, default=300)
    parser.add_argument("--schedule-epochs", type=int, default=3)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--precision", default="float32")
    parser.add_argument(
        "--part", choices=["both", "search", "schedule"], default="both"
    )
    args = parser.parse_args()
    import torch

    train, test = h.load_finefood()
    test = test.sample(n=24 if args.quick else 500, random_state=0)
    n = 24 if args.quick else args.rows
    rows = train.sample(n=n, random_state=1)
    settings = {
        "estimator": "BertClassifier(random_state=0), the bundled model, other "
        "parameters at their defaults but those named",
        "data": h.FINEFOOD,
        "precision": args.precision,
        "torch_threads": torch.get_num_threads(),
    }
    if args.part in ("both", "search"):
        load_before = h.load_average()
        cv = 2 if args.quick else args.cv
        costs = search_costs(
            rows["review"].tolist(),
            rows["score"].to_numpy(),
            cv=cv,
            precision=args.precision,
        )
        result = {
            "benchmark": "search_store",
            "settings": {
                **settings,
                "lr_schedule": "constant",
                "rows": n,
                "cv": cv,
                "grid": {"max_epochs": [1, 2, 3, 4]},
            },
            "machine": {
                **h.environment(),
                "load_average_before": load_before,
                "load_average_after": h.load_average(),
            },
            "search": costs,
        }
        path = h.write_json(result, h.result_path("search_store", quick=args.quick))
        print(
            h.markdown_table(
                ["what", "seconds", "x cross_val_score"],
                [
                    (
                        "cross_val_score, max_epochs=4",
                        costs["cross_val_score_seconds"],
                        1.0,
                    ),
                    (
                        "search over max_epochs 1..4",
                        costs["search_without_store_seconds"],
                        costs["search_without_store_over_cross_val"],
                    ),
                    (
                        "the same search with training_store",
                        costs["search_with_store_seconds"],
                        costs["search_with_store_over_cross_val"],
                    ),
                ],
                "lrr",
            )
        )
        print(f"written: {path}")
    if args.part in ("both", "schedule"):
        load_before = h.load_average()
        schedule = schedules(
            train,
            test,
            n=24 if args.quick else args.schedule_rows,
            epochs=1 if args.quick else args.schedule_epochs,
            seeds=[0] if args.quick else [int(s) for s in args.seeds.split(",")],
            precision=args.precision,
        )
        result = {
            "benchmark": "lr_schedule",
            "settings": settings,
            "machine": {
                **h.environment(),
                "load_average_before": load_before,
                "load_average_after": h.load_average(),
            },
            "schedule": schedule,
        }
        path = h.write_json(result, h.result_path("lr_schedule", quick=args.quick))
        print(f"mean accuracy: {schedule['mean_accuracy']}; written: {path}")


if __name__ == "__main__":
    main()

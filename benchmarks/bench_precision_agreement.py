"""How far bfloat16 outputs are from float32 ones, on the bundled model.

What a user sees when the same fitted estimator runs on a CPU with bfloat16
units (``precision="auto"`` is bfloat16 there) and on one without (float32),
and when an ``"auto"`` fit runs on each. On the fine-food reviews:

1. ``BertTransformer`` (mean pooling) embeds the test reviews in float32 and
   in bfloat16, with batch size 32 and 1: the largest absolute difference,
   the smallest cosine, and the largest difference between batch sizes within
   one precision.
2. A ``BertClassifier`` fine-tuned in float32 on the first ``--n-train``
   training reviews predicts the test reviews in float32 and in bfloat16 (the
   same weights; ``set_params(precision=...)``): the largest differences of
   ``decision_function`` and ``predict_proba``, and the share of equal labels.
3. The same fit in bfloat16 (what ``"auto"`` trains on the other machine):
   the accuracy of both fits and the share of test reviews they label alike.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_precision_agreement.py
    HF_HUB_OFFLINE=1 python benchmarks/bench_precision_agreement.py --quick

Results go to ``benchmarks/results/precision_agreement.json`` (``--quick``:
``benchmarks/results/quick/``). bfloat16 is emulated, and slower, on CPUs
without the units; the numbers are the same.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import _harness as h
import numpy as np

NAME = "precision_agreement"


def _cosine_min(a: np.ndarray, b: np.ndarray) -> float:
    num = (a * b).sum(1)
    return float((num / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())


def _embeddings(texts: list[str], folder: str, max_length: int) -> dict[str, Any]:
    from sklearn_bert import BertTransformer

    out: dict[str, np.ndarray] = {}
    for precision in ("float32", "bfloat16"):
        for batch_size in (32, 1):
            est = BertTransformer(
                folder,
                device="cpu",
                precision=precision,
                batch_size=batch_size,
                max_length=max_length,
            ).fit(texts[:2])
            out[f"{precision}_b{batch_size}"] = est.transform(texts)
    f32, b16 = out["float32_b32"], out["bfloat16_b32"]
    return {
        "n_texts": len(texts),
        "largest_value": float(np.abs(f32).max()),
        "bfloat16_vs_float32_max_abs": float(np.abs(b16 - f32).max()),
        "bfloat16_vs_float32_min_cosine": _cosine_min(b16, f32),
        "float32_batch1_vs_batch32_max_abs": float(
            np.abs(out["float32_b1"] - f32).max()
        ),
        "bfloat16_batch1_vs_batch32_max_abs": float(
            np.abs(out["bfloat16_b1"] - b16).max()
        ),
    }


def _classifier(
    train: Any, test: Any, folder: str, args: argparse.Namespace
) -> dict[str, Any]:
    from sklearn_bert import BertClassifier

    X, y = train["review"].tolist(), train["score"].astype(str).to_numpy()
    Xt, yt = test["review"].tolist(), test["score"].astype(str).to_numpy()
    fits, seconds = {}, {}
    for precision in ("float32", "bfloat16"):
        start = time.perf_counter()
        fits[precision] = BertClassifier(
            folder,
            device="cpu",
            precision=precision,
            max_epochs=args.max_epochs,
            max_length=args.max_length,
            random_state=0,
        ).fit(X, y)
        seconds[precision] = time.perf_counter() - start
    clf = fits["float32"]
    logits_f32, proba_f32 = clf.decision_function(Xt), clf.predict_proba(Xt)
    clf.set_params(precision="bfloat16")
    logits_b16, proba_b16 = clf.decision_function(Xt), clf.predict_proba(Xt)
    clf.set_params(precision="float32")
    labels = {p: f.predict(Xt) for p, f in fits.items()}
    return {
        "n_train": len(X),
        "n_test": len(Xt),
        "max_epochs": args.max_epochs,
        "max_length": args.max_length,
        "same_weights": {
            "largest_logit": float(np.abs(logits_f32).max()),
            "decision_function_max_abs": float(np.abs(logits_b16 - logits_f32).max()),
            "predict_proba_max_abs": float(np.abs(proba_b16 - proba_f32).max()),
            "same_label_share": float(
                (proba_b16.argmax(1) == proba_f32.argmax(1)).mean()
            ),
        },
        "fit_per_precision": {
            p: {
                "accuracy": float((labels[p] == yt).mean()),
                "fit_seconds": round(seconds[p], 1),
            }
            for p in fits
        },
        "fits_same_label_share": float(
            (labels["float32"] == labels["bfloat16"]).mean()
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=400)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--max-epochs", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--output", type=Path, default=None, help="JSON to write (default: results/)"
    )
    args = parser.parse_args()
    if args.quick:
        args.n_train, args.n_test, args.max_epochs = 24, 16, 1
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    load_before = h.load_average()
    env = h.environment()
    folder = h.model_folder()
    train, test = h.load_finefood()
    train, test = train.head(args.n_train), test.head(args.n_test)
    result = {
        "name": NAME,
        "data": h.FINEFOOD,
        "settings": {k: v for k, v in vars(args).items() if k != "output"},
        "environment": env,
        "embeddings": _embeddings(test["review"].tolist(), folder, args.max_length),
        "classifier": _classifier(train, test, folder, args),
    }
    result["load_average"] = {"before": load_before, "after": h.load_average()}
    path = h.result_path(NAME, quick=args.quick, output=args.output)
    h.write_json(result, path)
    print(h.describe(env, load_before, result["load_average"]["after"]))
    for part in ("embeddings", "classifier"):
        print(part, result[part])
    print("wrote", path)


if __name__ == "__main__":
    main()

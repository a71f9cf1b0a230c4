"""A grid search over a frozen-embedding pipeline, with and without the cache.

The question: how much does a ``GridSearchCV`` over the classifier of a
``Pipeline([BertTransformer(cache=...), LogisticRegression()])`` cost,
compared with encoding the data once? With ``cache=True`` (memory) or a
cache folder, every distinct text should go through the encoder at most once
in the whole search, and the search should take at most 1.5 times (aim: 1.2)
one ``fit`` + ``transform`` of the data.

In one run, on ``--n-texts`` distinct fine-food reviews with their labels
(``great`` / ``other``), ``max_length=128``:

- peer: one ``BertTransformer().fit(X).transform(X)`` (no cache);
- ``GridSearchCV(pipe, {"logisticregression__C": 6 values}, cv=5)`` with
  ``cache=True``, then with a fresh cache folder;
- with ``--uncached``, the same search without a cache (31 encodings of the
  data: long).

It reports seconds, the ratio search / one fit + transform, and the rows the
encoder saw over the number of distinct texts. The rows are counted with the
public API only: a global forward hook of torch
(``torch.nn.modules.module.register_module_forward_hook``) adds up the
sequences of every forward pass of a Hugging Face model (the encoder); with
``long_text="truncate"`` (the default, used here) that is one sequence per
text, so cache hits, which never reach the encoder, are not counted. Run it
with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_cache.py            # 1,000 texts
    HF_HUB_OFFLINE=1 python benchmarks/bench_cache.py --quick    # smoke run

Results go to ``benchmarks/results/cache.json``. Benchmarks compare against a
peer in the same run and report ratios; they never assert on time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import _harness as h

GRID = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--n-texts", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument(
        "--uncached", action="store_true", help="also search without a cache"
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from transformers import PreTrainedModel

    from sklearn_bert import BertTransformer, clear_cache

    h.configure(argparse.Namespace(threads=args.threads))
    n = args.n_texts or (48 if args.quick else 1000)
    train, _ = h.load_finefood()
    frame = train.drop_duplicates("review").iloc[:n]
    X, y = frame["review"].tolist(), frame["score"].to_numpy()
    seen = {"rows": 0}

    def counting(module, inputs, output):
        # the encoder's forward passes; its submodules are no PreTrainedModel
        if isinstance(module, PreTrainedModel):
            seen["rows"] += int(output[0].shape[0])

    hook = torch.nn.modules.module.register_module_forward_hook(counting)
    load_before = h.load_average()
    settings = {"max_length": args.max_length}
    BertTransformer(**settings).fit(X[:4]).transform(X[:4])  # warm-up (imports)

    def once():
        seen["rows"] = 0
        start = time.perf_counter()
        BertTransformer(**settings).fit(X).transform(X)
        return time.perf_counter() - start, seen["rows"]

    def search(cache):
        clear_cache()
        seen["rows"] = 0
        pipe = make_pipeline(
            BertTransformer(cache=cache, **settings), LogisticRegression(max_iter=1000)
        )
        grid = GridSearchCV(pipe, {"logisticregression__C": GRID}, cv=5)
        start = time.perf_counter()
        grid.fit(X, y)
        return time.perf_counter() - start, seen["rows"], grid.best_score_

    rows = []
    peer_s, peer_rows = once()
    rows.append(("one fit + transform (peer)", peer_s, peer_rows, None))
    memory_s, memory_rows, memory_score = search(True)
    rows.append(("search, cache=True", memory_s, memory_rows, memory_score))
    with tempfile.TemporaryDirectory() as folder:
        disk_s, disk_rows, disk_score = search(folder)
    rows.append(("search, cache=folder", disk_s, disk_rows, disk_score))
    if args.uncached:
        none_s, none_rows, none_score = search(None)
        rows.append(("search, no cache", none_s, none_rows, none_score))
    hook.remove()
    result = {
        "benchmark": "cache",
        "settings": {
            "n_texts": len(X),
            "max_length": args.max_length,
            "grid": {"logisticregression__C": GRID},
            "cv": 5,
            "data": h.FINEFOOD,
        },
        "machine": {
            **h.environment(),
            "load_average_before": load_before,
            "load_average_after": h.load_average(),
        },
        "runs": [
            {
                "case": name,
                "seconds": round(seconds, 2),
                "ratio_vs_one_fit_transform": round(seconds / peer_s, 3),
                "rows_encoded": n_rows,
                "rows_encoded_per_distinct_text": round(n_rows / len(X), 3),
                "best_cv_accuracy": None if score is None else round(score, 4),
            }
            for name, seconds, n_rows, score in rows
        ],
    }
    print(
        h.markdown_table(
            ["case", "seconds", "ratio vs one fit+transform", "rows encoded / text"],
            [
                [
                    r["case"],
                    r["seconds"],
                    r["ratio_vs_one_fit_transform"],
                    r["rows_encoded_per_distinct_text"],
                ]
                for r in result["runs"]
            ],
            "lrrr",
        )
    )
    print(f"{len(X)} distinct texts; {np.unique(y).size} classes")
    path = h.result_path("cache", quick=args.quick, output=args.output)
    print(f"written: {h.write_json(result, path)}")
    return result


def main(argv: list[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

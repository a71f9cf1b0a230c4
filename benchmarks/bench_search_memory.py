"""Memory across a search: a 20-candidate GridSearchCV over a fine-tuned model.

``GridSearchCV(BertClassifier(...), grid, cv=2)`` fine-tunes the bundled
model (``sentence-transformers/all-MiniLM-L6-v2``, 22.7 M parameters, 91 MB
of float32 weights) 40 times (20 candidates x 2 folds) plus the final refit,
in this process (``n_jobs=1``), on 32 fine-food reviews (``--n-reviews``). A scorer
records, after every fit, the process's resident memory (RSS, ``psutil``)
and how many fine-tuned models are still alive (skorch ``NeuralNet``
objects, which the estimators' ``net_`` is, and Hugging Face models
reachable by the garbage collector).

The search must not grow memory beyond about one model's worth: each fit's
model is freed when the next candidate starts (``cv_results_`` keeps scores,
not estimators). Growth is reported between the first and the last fit, and
as a slope per fit (least squares), each also in units of the model's weight
bytes, once for RSS as it is and once after ``gc.collect()`` and glibc's
``malloc_trim(0)`` (which hands freed heap pages back to the system; RSS as
it is also counts memory the allocator keeps for reuse). A leak shows as
live models piling up and a steady slope after trimming.

On a machine with a GPU (``device="cuda"``), the same is measured for GPU
memory (``torch.cuda.memory_allocated`` and ``memory_reserved``); on a
machine without one the GPU part is skipped and the JSON says so.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_search_memory.py --threads 1  # full
    HF_HUB_OFFLINE=1 python benchmarks/bench_search_memory.py --quick   # smoke

``--quick``: 4 candidates, 16 reviews, results in
``benchmarks/results/quick/``. The full run writes
``benchmarks/results/search_memory.json`` and prints a markdown table. It
asserts nothing about memory (figures depend on the allocator and the
machine); read the ratios.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import time
import warnings
from typing import Any

import _harness as h
import numpy as np

NAME = "search_memory"


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _live_models() -> dict[str, int]:
    """Fine-tuned nets (skorch nets, as the estimators' ``net_``) and Hugging
    Face models the collector can reach."""
    from skorch import NeuralNet
    from transformers import PreTrainedModel

    counts = {"nets": 0, "hf_models": 0}
    with warnings.catch_warnings():  # isinstance on torch's deprecated aliases
        warnings.simplefilter("ignore")
        for obj in gc.get_objects():
            if isinstance(obj, NeuralNet):
                counts["nets"] += 1
            elif isinstance(obj, PreTrainedModel):
                counts["hf_models"] += 1
    return counts


def _slope(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    return float(np.polyfit(np.arange(len(values)), values, 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    h.add_common_arguments(parser, ours="float32")
    parser.add_argument("--n-reviews", type=int, default=32)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    h.configure(args)
    import torch
    from sklearn.model_selection import GridSearchCV

    from sklearn_bert import BertClassifier

    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no GPU on this machine")
    train, _ = h.load_finefood()
    n = 16 if args.quick else args.n_reviews
    rows = train.groupby("score").head(n // 2).reset_index(drop=True)
    X, y = rows["review"].tolist(), rows["score"].to_numpy()
    grid = (
        {"lr": [3e-5, 1e-4], "pooling": ["mean", "cls"]}
        if args.quick
        else {
            "lr": [2e-5, 3e-5, 5e-5, 1e-4, 2e-4],
            "pooling": ["mean", "cls"],
            "weight_decay": [0.0, 0.01],
        }
    )
    estimator = BertClassifier(
        h.model_folder(),
        max_epochs=1,
        batch_size=8,
        max_length=64,
        device=args.device,
        random_state=args.seed,
    )
    model_bytes = None
    records: list[dict[str, Any]] = []

    def scorer(est, X_test, y_test):
        nonlocal model_bytes
        score = float(np.mean(est.predict(X_test) == y_test))
        if model_bytes is None:
            model_bytes = sum(
                p.numel() * p.element_size() for p in est.net_.module_.parameters()
            )
        record = {"fit": len(records) + 1, "rss": _rss()}
        if cuda:
            record["cuda_allocated"] = torch.cuda.memory_allocated()
            record["cuda_reserved"] = torch.cuda.memory_reserved()
        _trim()
        record["rss_trimmed"] = _rss()
        record.update(_live_models())
        record["time"] = time.perf_counter()
        records.append(record)
        h.warn(
            f"fit {record['fit']:>2}: RSS {record['rss'] / 2**20:7.1f} MiB, "
            f"trimmed {record['rss_trimmed'] / 2**20:7.1f} MiB, live nets "
            f"{record['nets']}, HF models {record['hf_models']}"
        )
        return score

    load_before = h.load_average()
    warnings.filterwarnings("ignore", category=UserWarning)  # truncation
    # a warm-up fit: imports, thread pools, the first model load
    BertClassifier(h.model_folder(), max_epochs=1, batch_size=8, max_length=16).fit(
        X[:8], y[:8]
    )
    _trim()
    baseline = {"rss": _rss(), **_live_models()}
    if cuda:
        baseline["cuda_allocated"] = torch.cuda.memory_allocated()
    search = GridSearchCV(estimator, grid, cv=2, scoring=scorer, refit=True)
    search.fit(X, y)
    del search
    _trim()
    after = {"rss": _rss(), **_live_models()}
    load_after = h.load_average()

    def growth(key: str) -> dict[str, float]:
        values = [r[key] for r in records]
        first, last = values[0], values[-1]
        return {
            "first_mib": first / 2**20,
            "last_mib": last / 2**20,
            "max_mib": max(values) / 2**20,
            "growth_mib": (last - first) / 2**20,
            "growth_models": (last - first) / model_bytes,
            "slope_mib_per_fit": _slope(values) / 2**20,
            "slope_models_per_fit": _slope(values) / model_bytes,
        }

    n_candidates = int(np.prod([len(v) for v in grid.values()]))
    figures = {"rss": growth("rss"), "rss_trimmed": growth("rss_trimmed")}
    if cuda:
        figures["cuda_allocated"] = growth("cuda_allocated")
        figures["cuda_reserved"] = growth("cuda_reserved")
    result = {
        "benchmark": NAME,
        "settings": {
            "model": "sentence-transformers/all-MiniLM-L6-v2 (bundled)",
            "data": f"{len(X)} reviews of {h.FINEFOOD}",
            "grid": grid,
            "candidates": n_candidates,
            "cv": 2,
            "fits": len(records),
            # the bundled model by name, not by its folder on this machine
            "estimator": repr(
                estimator.set_params(model="sentence-transformers/all-MiniLM-L6-v2")
            ),
            "device": args.device,
        },
        "environment": h.environment(),
        "load_average": {"before": load_before, "after": load_after},
        "model_weight_mib": model_bytes / 2**20,
        "baseline": baseline,
        "after_search": after,
        "figures": figures,
        "gpu": "measured" if cuda else "no GPU on this machine: GPU part skipped",
        "records": records,
    }
    path = h.write_json(
        result, h.result_path(NAME, quick=args.quick, output=args.output)
    )
    rows_out = [
        [
            key,
            h.fmt(f["first_mib"], ".0f"),
            h.fmt(f["last_mib"], ".0f"),
            h.fmt(f["growth_mib"], ".0f"),
            h.fmt(f["growth_models"], ".2f"),
            h.fmt(f["slope_mib_per_fit"], ".2f"),
            h.fmt(f["slope_models_per_fit"], ".3f"),
        ]
        for key, f in figures.items()
    ]
    print(
        f"{n_candidates}-candidate GridSearchCV, {len(records)} fits, model "
        f"weights {model_bytes / 2**20:.0f} MiB; "
        f"{h.describe(result['environment'], load_before, load_after)}\n"
    )
    print(
        h.markdown_table(
            [
                "memory",
                "first fit MiB",
                "last fit MiB",
                "growth MiB",
                "growth (models)",
                "MiB per fit",
                "models per fit",
            ],
            rows_out,
            "lrrrrrr",
        )
    )
    print(
        f"\nlive fine-tuned nets after every fit: "
        f"{sorted({r['nets'] for r in records})}; after the search: "
        f"{after['nets']} (baseline {baseline['nets']}). "
        f"{result['gpu'] if not cuda else ''}\nwrote {path}"
    )


if __name__ == "__main__":
    main()

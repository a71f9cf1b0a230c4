"""Where the time of a default fine-tuning goes.

Fits ``BertClassifier`` with its defaults (the bundled model, batch 16,
``max_length=256``; the precision given, float32 by default) on ``n``
fine-food reviews under ``cProfile`` for a few epochs, and splits the fit's
time into: loading the model, tokenizing, training forward passes, backward
passes, optimizer steps (clipping, AdamW, schedule), batching (collation)
and the rest. A default fit trains ``max_epochs="auto"`` epochs, which the
documented rule sets from the number of rows (about 250 optimizer steps, 3
to 20 epochs); its cost is estimated as the fixed part (loading,
tokenizing) plus the measured cost of one epoch times those epochs, and a
plain fit of the same epochs without the profiler gives the profiler's
overhead. Results: ``results/fit_profile.json``.

    python benchmarks/bench_fit_profile.py            # 200 and 1,000 reviews
    python benchmarks/bench_fit_profile.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _harness as h  # noqa: E402

#: The parts of a fit, each the cumulative time of the functions named (a
#: file name ending and a function name, as the profile records them).
PARTS: dict[str, list[tuple[str, str]]] = {
    "load model": [("base.py", "_load_pretrained")],
    "tokenize": [("tokenize.py", "call_tokenizer")],
    "forward (training)": [("net.py", "infer")],
    "backward": [("_tensor.py", "backward")],
    "optimizer step": [("net.py", "_optimizer_step")],
    "batching (collate)": [("data.py", "__call__")],
}


def profile_fit(X: list[str], y: Any, *, epochs: int, precision: str) -> dict:
    """One profiled fit and one plain fit of ``epochs`` epochs."""
    from sklearn_bert import BertClassifier

    def make() -> Any:
        return BertClassifier(max_epochs=epochs, precision=precision, random_state=0)

    # warm-up: the first fit of a process pays one-off costs (imports, the
    # first load of the model files) that neither measured fit should carry
    BertClassifier(max_epochs=1, precision=precision).fit(X[:16], y[:16])
    start = time.perf_counter()
    make().fit(X, y)
    plain = time.perf_counter() - start
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    make().fit(X, y)
    profiler.disable()
    profiled = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats
    parts = {}
    for part, names in PARTS.items():
        parts[part] = sum(
            cumulative
            for (path, _, function), (_, _, _, cumulative, _) in stats.items()
            for ending, name in names
            if function == name and path.endswith(ending)
        )
    parts["rest"] = profiled - sum(parts.values())
    return {"plain_seconds": plain, "profiled_seconds": profiled, "parts": parts}


def auto_epochs(n_rows: int, batch_size: int = 16) -> int:
    """The documented ``max_epochs="auto"`` rule (user guide, "Defaults that
    adapt"): about 250 optimizer steps, clipped to 3..20 epochs."""
    steps = math.ceil(n_rows / batch_size)
    return int(min(20, max(3, math.ceil(250 / steps))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--epochs", type=int, default=2, help="epochs profiled")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    import numpy as np
    import torch

    sizes = [16] if args.quick else [int(s) for s in args.sizes.split(",")]
    epochs = 1 if args.quick else args.epochs
    train, _ = h.load_finefood()
    load_before = h.load_average()
    runs = []
    for n in sizes:
        rows = train.sample(n=n, random_state=0)
        X, y = rows["review"].tolist(), rows["score"].to_numpy()
        run = profile_fit(X, y, epochs=epochs, precision=args.precision)
        fixed = run["parts"]["load model"] + run["parts"]["tokenize"] / epochs
        per_epoch = (run["profiled_seconds"] - fixed) / epochs
        overhead = run["profiled_seconds"] / run["plain_seconds"]
        default_epochs = auto_epochs(n)
        runs.append(
            {
                "n_rows": n,
                "epochs_profiled": epochs,
                **run,
                "shares": {
                    part: round(seconds / run["profiled_seconds"], 3)
                    for part, seconds in run["parts"].items()
                },
                "profiler_overhead": round(overhead, 2),
                "auto_epochs": default_epochs,
                "estimated_default_fit_seconds": round(
                    (fixed + per_epoch * default_epochs) / overhead, 1
                ),
            }
        )
        print(f"{n} rows: {run['plain_seconds']:.1f} s plain for {epochs} epoch(s)")
    result = {
        "benchmark": "fit_profile",
        "settings": {
            "estimator": "BertClassifier() defaults, the bundled model",
            "data": h.FINEFOOD,
            "precision": args.precision,
            "torch_threads": torch.get_num_threads(),
            "numpy": np.__version__,
        },
        "machine": {
            **h.environment(),
            "load_average_before": load_before,
            "load_average_after": h.load_average(),
        },
        "runs": runs,
    }
    path = h.write_json(
        result, h.result_path("fit_profile", quick=args.quick, output=args.output)
    )
    print(
        h.markdown_table(
            ["rows", "part", "share of the profiled fit"],
            [
                (r["n_rows"], part, share)
                for r in runs
                for part, share in r["shares"].items()
            ],
            "lll",
        )
    )
    print(f"written: {path}")


if __name__ == "__main__":
    main()

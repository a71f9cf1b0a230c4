"""Every speed benchmark in one command, with one combined table.

Runs, in one process (the FLOP ceilings are measured once and shared):

- ``bench_encode.py``: ``BertTransformer.transform`` vs
  ``SentenceTransformer.encode`` (texts/s, embedding agreement);
- ``bench_finetune_speed.py``: ``BertClassifier.fit`` vs the Hugging Face
  ``Trainer`` (training samples/s, accuracy);

then prints one table of every contender's throughput, ratio to its peer and
model FLOP utilisation, and draws ``results/speed.png`` with
``plot_results.py``. Each benchmark also writes its own JSON and table, as
when run alone.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/run_all.py            # full run
    HF_HUB_OFFLINE=1 python benchmarks/run_all.py --quick    # smoke run
    HF_HUB_OFFLINE=1 python benchmarks/run_all.py --ours float32,bfloat16,auto

``--quick`` runs every benchmark with its tiny ``--quick`` sizes (1 repeat;
a few minutes on 2 CPU cores) and writes to ``benchmarks/results/quick/``:
it checks that everything runs, its figures mean nothing. ``--ours``,
``--repeats``, ``--threads`` and ``--seed`` are passed to every benchmark;
``--only encode`` (or ``finetune_speed``) runs a subset; ``--no-plot`` skips
the chart. A full run takes long on a small CPU (most of it fine-tuning):
run it on a quiet machine and read the load average recorded with it.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import _harness as h
import bench_encode
import bench_finetune_speed
import plot_results

BENCHMARKS = {"encode": bench_encode, "finetune_speed": bench_finetune_speed}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument(
        "--only",
        type=lambda s: [x for x in s.split(",") if x],
        default=list(BENCHMARKS),
        help="comma-separated subset of: " + ", ".join(BENCHMARKS),
    )
    parser.add_argument("--ours", default=None, help="passed to every benchmark")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown --only {sorted(unknown)}")
    return args


def passed_on(args: argparse.Namespace) -> list[str]:
    argv = ["--quick"] if args.quick else []
    for flag in ("ours", "repeats", "threads", "seed"):
        value = getattr(args, flag)
        if value is not None:
            argv += [f"--{flag}", str(value)]
    return argv


def combined_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for result in results:
        for s in result["summary"]:
            rows.append(
                [
                    s["benchmark"],
                    s["case"],
                    s["contender"],
                    s["precision"],
                    f"{s['throughput']:.2f} {s['unit']}",
                    "peer" if s["is_peer"] else f"{s['ratio_vs_peer']:.2f}x",
                    h.fmt(None if s["mfu"] is None else 100 * s["mfu"], ".1f", "%"),
                    s["quality"],
                ]
            )
    return h.markdown_table(
        [
            "benchmark",
            "case",
            "contender",
            "precision",
            "throughput (median)",
            "ratio vs peer",
            "MFU",
            "quality",
        ],
        rows,
        "llllrrrl",
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    results, status = [], 0
    for name in args.only:
        module = BENCHMARKS[name]
        print(f"\n## {name}\n", flush=True)
        sub = module.parse_args(passed_on(args))
        result = module.run(sub)
        results.append(result)
        if name == "encode" and not result["float32_embeddings_agree_with_peer"]:
            status = 1
    first = results[0]["machine"]
    last = results[-1]["machine"]
    print("\n## All speed benchmarks\n")
    print(h.describe(first, first["load_average_before"], last["load_average_after"]))
    ceilings = results[0]["ceilings"]
    if ceilings:
        print(
            "FLOP ceilings (GFLOP/s, best square matmul): "
            + ", ".join(f"{d} {ceilings[d]['gflops']}" for d in ("float32", "bfloat16"))
        )
    print()
    print(combined_table(results))
    print(
        "\nratio: peer's median time / contender's median time, same work. MFU: "
        "useful model FLOPs per second / measured ceiling of the precision "
        "(see _harness.py)."
    )
    if args.quick:
        print("QUICK SMOKE RUN: tiny sizes, 1 repeat; the figures mean nothing.")
    if not args.no_plot:
        folder = h.QUICK_DIR if args.quick else h.RESULTS_DIR
        paths = [folder / f"{name}.json" for name in args.only]
        chart = plot_results.plot(plot_results.load(paths), folder / "speed.png")
        print(f"chart: {chart}")
    print(f"total {time.perf_counter() - start:.0f} s")
    if status:
        h.warn("float32 embeddings disagree with sentence-transformers")
    return status


if __name__ == "__main__":
    sys.exit(main())

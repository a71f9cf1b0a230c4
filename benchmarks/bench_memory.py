"""Peak memory of encoding many texts: BertTransformer against sentence-transformers.

The target: transforming 200,000 texts grows the process's peak resident
memory by no more than the output array plus 0.5 GB, whatever the texts'
length. Each case runs in a fresh child process (so earlier peaks do not
hide later ones) that loads the model, encodes a few texts (warm-up), then
samples its resident set size (``/proc/self/statm``) every 10 ms while it
encodes all the texts, and reports the peak growth over the size just
before. The peer, ``SentenceTransformer.encode`` with its defaults
(``convert_to_numpy``), encodes the same texts in another child.

Cases (float32, batch size 32):

- ``short``: ``--n-short`` (200,000) distinct short texts, pieces of
  fine-food reviews of 4 to 12 words, ``max_length=32``;
- ``long``: ``--n-long`` (10,000) distinct whole reviews, ``max_length=256``.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_memory.py            # full
    HF_HUB_OFFLINE=1 python benchmarks/bench_memory.py --quick    # smoke run

The full run takes about 10 to 20 minutes on 2 CPU cores (it encodes every
text twice). Results go to ``benchmarks/results/memory.json``. Benchmarks
compare against a peer in the same run and report ratios; they never assert
on time or memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import _harness as h

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--n-short", type=int, default=None)
    parser.add_argument("--n-long", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--child", nargs=3, metavar=("LIB", "CASE", "N"))
    return parser.parse_args(argv)


def texts(case: str, n: int) -> list[str]:
    """``n`` distinct texts of the case, built from the fine-food reviews."""
    import numpy as np

    train, test = h.load_finefood()
    reviews = list(dict.fromkeys(train["review"].tolist() + test["review"].tolist()))
    if case == "long":
        out = [f"{r} (review {i // len(reviews)})" for i, r in enumerate(reviews)]
        while len(out) < n:
            k = len(out)
            out.append(f"{reviews[k % len(reviews)]} (copy {k // len(reviews)})")
        return out[:n]
    words = " ".join(reviews).split()
    rng = np.random.default_rng(0)
    starts = rng.integers(0, len(words) - 12, size=n)
    sizes = rng.integers(4, 13, size=n)
    return [
        f"{' '.join(words[s : s + k])} #{i}"
        for i, (s, k) in enumerate(zip(starts, sizes, strict=True))
    ]


def child(lib: str, case: str, n: int) -> dict:
    """Measure one case in this (child) process; print JSON."""
    import numpy as np

    max_length = 32 if case == "short" else 256
    data = texts(case, n)
    if lib == "ours":
        from sklearn_bert import BertTransformer

        model = BertTransformer(
            max_length=max_length, precision="float32", batch_size=32
        ).fit(data[:8])
        model.transform(data[:64])
        encode = model.transform
    else:
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(h.model_folder(), device="cpu")
        st.max_seq_length = max_length
        st.encode(data[:64])

        def encode(x):
            return st.encode(x, batch_size=32)

    out, before, growth, seconds = h.peak_growth(lambda: encode(data))
    out = np.asarray(out)
    return {
        "library": lib,
        "case": case,
        "n_texts": n,
        "max_length": max_length,
        "seconds": round(seconds, 1),
        "texts_per_s": round(n / seconds, 1),
        "rss_before_gb": round(before / 1e9, 3),
        "peak_growth_gb": round(growth / 1e9, 3),
        "output_gb": round(out.nbytes / 1e9, 3),
        "growth_beyond_output_gb": round((growth - out.nbytes) / 1e9, 3),
    }


def run(args: argparse.Namespace) -> dict:
    sizes = {
        "short": args.n_short or (2_000 if args.quick else 200_000),
        "long": args.n_long or (200 if args.quick else 10_000),
    }
    load_before = h.load_average()
    runs = []
    for case, n in sizes.items():
        for lib in ("sentence-transformers", "ours"):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", lib, case, str(n)],
                capture_output=True,
                text=True,
                check=True,
                cwd=HERE,
            )
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(runs[-1], flush=True)
    result = {
        "benchmark": "memory",
        "settings": {"sizes": sizes, "precision": "float32", "batch_size": 32},
        "machine": {
            **h.environment(),
            "load_average_before": load_before,
            "load_average_after": h.load_average(),
        },
        "runs": runs,
    }
    print(
        h.markdown_table(
            [
                "case",
                "library",
                "texts",
                "output GB",
                "peak growth GB",
                "growth beyond output GB",
                "texts/s",
            ],
            [
                [
                    r["case"],
                    r["library"],
                    r["n_texts"],
                    r["output_gb"],
                    r["peak_growth_gb"],
                    r["growth_beyond_output_gb"],
                    r["texts_per_s"],
                ]
                for r in runs
            ],
            "llrrrrr",
        )
    )
    path = h.result_path("memory", quick=args.quick, output=args.output)
    print(f"written: {h.write_json(result, path)}")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        lib, case, n = args.child
        print(json.dumps(child(lib, case, int(n))))
        return 0
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

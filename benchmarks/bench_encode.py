"""Encoding speed: BertTransformer.transform against SentenceTransformer.encode.

Both encode the same fine-food reviews with the same folder of the bundled
model (``sentence-transformers/all-MiniLM-L6-v2``), the same maximum length
(``max_length`` / ``st.max_seq_length``) and batch size 32, on the CPU.
sentence-transformers runs with its defaults (float32; the model's own
mean pooling and normalisation); ``BertTransformer`` uses mean pooling with
``normalize=True``, is fitted first (on the warm-up texts: fit only loads the
model) and ``transform`` is what is timed. Every encoder is warmed up with one
call on 64 other reviews (from the test split) before timing.

Cases: ``max_length`` 128 and 256, times two inputs: the first 1,000 distinct
training reviews, and 1,000 reviews of which 30 % repeat others (700 distinct).
Timings are interleaved (each repeat times every encoder in turn).

For each of our configurations (``--ours``, default ``float32,bfloat16``)
the script reports texts/s (median of the repeats), the ratio to
sentence-transformers (median and best timing), the model FLOP utilisation
(see ``_harness.py``), and how close its embeddings are to OUR float32
embeddings of the same case: mean and min cosine, and the share of texts
whose nearest neighbour (cosine, itself excluded, among the distinct texts)
is the same. The same figures are given for sentence-transformers; if its
embeddings and our float32 ones differ (cosine < 0.999 for any text) the
script exits with status 1. When ``--ours`` has no plain ``float32`` item,
a float32 ``BertTransformer`` is run untimed for the reference.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_encode.py            # full
    HF_HUB_OFFLINE=1 python benchmarks/bench_encode.py --quick    # smoke run
    HF_HUB_OFFLINE=1 python benchmarks/bench_encode.py --ours float32,bfloat16,auto

Options: ``--n-texts`` (1000), ``--max-length`` (``128,256``),
``--batch-size`` (32), ``--repeats`` (3), ``--warmup`` (64), ``--ours``,
``--threads``, ``--device`` (cpu, for both), ``--seed``, ``--no-ceilings``,
``--output``. ``--quick``
uses 16 texts, 4 warm-up texts and 1 repeat, and writes to
``benchmarks/results/quick/``. Results are printed as a markdown table and
written to ``benchmarks/results/encode.json``: settings, machine, load
average before and after, FLOP ceilings, every timing, and a ``summary``
list read by ``run_all.py`` and ``plot_results.py``. Benchmarks compare
against a peer in the same run and report ratios; they never assert on time.
"""

from __future__ import annotations

import argparse
import functools
import sys
import warnings
from typing import Any

import _harness as h
import numpy as np

NAME = "encode"
PEER = "sentence-transformers"
COSINE_THRESHOLD = 0.999
DUPLICATE_FRACTION = 0.3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=None, help="texts per input")
    parser.add_argument(
        "--max-length",
        dest="max_lengths",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[128, 256],
        help="comma-separated maximum lengths (default 128,256)",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=None, help="warm-up texts")
    parser.add_argument("--device", default="cpu")
    h.add_common_arguments(parser, ours="float32,bfloat16")
    args = parser.parse_args(argv)
    quick = args.quick
    args.n_texts = args.n_texts or (16 if quick else 1000)
    args.warmup = args.warmup or (4 if quick else 64)
    args.repeats = args.repeats or (1 if quick else 3)
    return args


def load_texts(
    n_texts: int, n_warmup: int, seed: int
) -> tuple[dict[str, list[str]], list[str]]:
    """The timed inputs (distinct, 30 % duplicates) and disjoint warm-up texts."""
    train, test = h.load_finefood()
    distinct = list(dict.fromkeys(train["review"].tolist()))
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
    warmup = [t for t in test["review"].tolist() if t not in seen][:n_warmup]
    inputs = {
        "distinct": unique,
        f"{int(DUPLICATE_FRACTION * 100)}% duplicates": with_dups,
    }
    return inputs, warmup


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def agreement(emb: np.ndarray, ref: np.ndarray) -> dict[str, float | None]:
    """Mean and min cosine of matching rows, and the share of rows whose
    nearest neighbour (cosine, itself excluded) is the same in both."""
    a, b = _unit(emb), _unit(ref)
    cos = (a * b).sum(axis=1)
    same_nn = None
    if len(a) > 1:
        nn = []
        for x in (a, b):
            sim = x @ x.T
            np.fill_diagonal(sim, -np.inf)
            nn.append(sim.argmax(axis=1))
        same_nn = float(np.mean(nn[0] == nn[1]))
    return {
        "mean_cosine": float(cos.mean()),
        "min_cosine": float(cos.min()),
        "same_nearest_neighbour": same_nn,
    }


def time_max_length(
    args: argparse.Namespace,
    folder: str,
    shape: h.EncoderShape,
    ceilings: dict[str, Any],
    inputs: dict[str, list[str]],
    warmup: list[str],
    max_length: int,
    base_params: dict[str, Any],
) -> list[dict[str, Any]]:
    """Time the peer and our configurations on every input at one max_length."""
    from sentence_transformers import SentenceTransformer
    from sklearn.base import clone

    from sklearn_bert import BertTransformer

    st = SentenceTransformer(folder, device=args.device)
    st.max_seq_length = max_length

    def st_encode(texts: list[str]) -> np.ndarray:
        return st.encode(texts, batch_size=args.batch_size, show_progress_bar=False)

    def new_estimator(config: h.OurConfig) -> Any:
        params = {**base_params, **config.params, "max_length": max_length}
        return BertTransformer(folder, **params).fit(warmup)

    configs = {f"ours {c.label}": c for c in args.ours}
    estimators = {name: new_estimator(c) for name, c in configs.items()}
    ref_params = {"precision": "float32"}
    ref_name = next((n for n, c in configs.items() if c.params == ref_params), None)
    reference = (
        estimators[ref_name]
        if ref_name is not None
        else new_estimator(h.OurConfig("float32", ref_params))
    )

    def ours_encode(name: str, texts: list[str]) -> np.ndarray:
        return estimators[name].transform(texts)

    def refit(name: str) -> None:
        # A fresh estimator before each repeat, so that a cache only helps
        # within one transform call, as on first use.
        estimators[name] = clone(estimators[name]).fit(warmup)

    st_encode(warmup)  # warm-up: first-call allocations, thread pools
    for est in estimators.values():
        est.transform(warmup)

    rows = []
    for input_name, texts in inputs.items():
        case = f"max_length {max_length}, {input_name}"
        print(f"{case}: {len(texts)} texts", flush=True)
        contenders = {PEER: functools.partial(st_encode, texts)}
        prepare = {}
        for name, config in configs.items():
            contenders[name] = functools.partial(ours_encode, name, texts)
            if config.params.get("cache"):
                prepare[name] = functools.partial(refit, name)
        timings = h.time_interleaved(
            contenders, args.repeats, prepare=prepare, on_each=h.progress
        )
        position: dict[str, int] = {}
        for i, text in enumerate(texts):
            position.setdefault(text, i)
        first, first_idx = list(position), list(position.values())
        ref_out = (
            timings[ref_name].output
            if ref_name is not None
            else reference.transform(texts)
        )
        ref_emb = ref_out[first_idx]
        st_emb = timings[PEER].output[first_idx]
        flops = h.forward_flops(shape, h.token_lengths(folder, first, max_length))
        peer_t = timings[PEER]
        for name, timing in timings.items():
            config = configs.get(name)
            emb = timing.output[first_idx]
            agree = agreement(emb, ref_emb)
            if config is None:
                precision = "float32"
            else:
                precision = h.effective_precision(estimators[name], config.precision)
            ceiling = h.ceiling_gflops(ceilings, precision)
            rows.append(
                {
                    "max_length": max_length,
                    "input": input_name,
                    "case": case,
                    "n_texts": len(texts),
                    "n_distinct": len(first),
                    "contender": name,
                    "params": None if config is None else config.params,
                    "precision": precision,
                    **timing.summary(),
                    "texts_per_s": len(texts) / timing.median,
                    "best_texts_per_s": len(texts) / timing.min,
                    "ratio_vs_peer": peer_t.median / timing.median,
                    "best_ratio_vs_peer": peer_t.min / timing.min,
                    "useful_gflop": flops / 1e9,
                    "achieved_gflops": flops / timing.median / 1e9,
                    "mfu": h.mfu(flops, timing.median, ceiling),
                    "agreement_vs_our_float32": agree,
                    "min_cosine_vs_peer": float(
                        (_unit(emb) * _unit(st_emb)).sum(axis=1).min()
                    ),
                }
            )
    return rows


def summary_row(row: dict[str, Any]) -> dict[str, Any]:
    agree = row["agreement_vs_our_float32"]
    return h.summary_row(
        benchmark=NAME,
        case=row["case"],
        contender=row["contender"],
        peer=PEER,
        precision=row["precision"],
        throughput=row["texts_per_s"],
        unit="texts/s",
        ratio=row["ratio_vs_peer"],
        mfu_value=row["mfu"],
        quality=f"min cos {agree['min_cosine']:.5f} vs our float32",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark; return the result (also written to JSON)."""
    h.configure(args)
    from sklearn_bert import DEFAULT_MODEL, BertTransformer

    folder = h.model_folder()
    shape = h.EncoderShape.from_folder(folder)
    inputs, warmup = load_texts(args.n_texts, args.warmup, args.seed)
    load_before = h.load_average()
    env = h.environment()
    ceilings = {} if args.no_ceilings else h.ceilings_for(args.quick)
    if ceilings:
        print(
            "FLOP ceilings (GFLOP/s): "
            + ", ".join(
                f"{d} {ceilings[d]['gflops']}" for d in ("float32", "bfloat16")
            ),
            flush=True,
        )

    base_params = h.supported_params(
        BertTransformer,
        {
            "pooling": "mean",
            "normalize": True,
            "batch_size": args.batch_size,
            "device": args.device,
        },
    )
    rows: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        # Reviews longer than max_length are truncated by both libraries alike.
        warnings.filterwarnings("ignore", ".*truncated", UserWarning)
        for max_length in args.max_lengths:
            rows += time_max_length(
                args, folder, shape, ceilings, inputs, warmup, max_length, base_params
            )
    summary = [summary_row(row) for row in rows]

    agree_ok = all(
        r["agreement_vs_our_float32"]["min_cosine"] >= COSINE_THRESHOLD
        for r in rows
        if r["contender"] == PEER
    )
    result = {
        "benchmark": NAME,
        "description": __doc__.split("\n\n")[0],
        "model": DEFAULT_MODEL,
        "peer": PEER,
        "settings": {
            "quick": args.quick,
            "n_texts": args.n_texts,
            "max_lengths": args.max_lengths,
            "repeats": args.repeats,
            "batch_size": args.batch_size,
            "warmup_texts": len(warmup),
            "duplicate_fraction": DUPLICATE_FRACTION,
            "ours": [{"label": c.label, "params": c.params} for c in args.ours],
            "ours_fixed_params": base_params,
            "peer_call": "SentenceTransformer(folder).encode(texts, batch_size=...)"
            " with max_seq_length = max_length, defaults otherwise",
            "device": args.device,
            "seed": args.seed,
            "data": h.FINEFOOD + '["review"]',
        },
        "machine": {
            **env,
            "load_average_before": load_before,
            "load_average_after": h.load_average(),
        },
        "ceilings": ceilings,
        "encoder_shape": shape.to_dict(),
        "flops_formula": h.FLOPS_FORMULA,
        "columns": {
            "texts_per_s": "texts / median seconds",
            "ratio_vs_peer": "peer median seconds / contender median seconds",
            "best_ratio_vs_peer": "the same with the fastest timing of each",
            "mfu": "useful forward FLOPs / median seconds / ceiling of precision",
            "agreement_vs_our_float32": "over the distinct texts: mean and min "
            "cosine with our float32 embeddings, and the share of texts whose "
            "nearest neighbour (cosine, itself excluded) is the same",
            "min_cosine_vs_peer": "min cosine with sentence-transformers",
        },
        "float32_embeddings_agree_with_peer": agree_ok,
        "cosine_threshold": COSINE_THRESHOLD,
        "results": rows,
        "summary": summary,
    }
    path = h.write_json(
        result, h.result_path(NAME, quick=args.quick, output=args.output)
    )
    print(format_table(result))
    print(f"\nwritten to {path}")
    return result


def format_table(result: dict[str, Any]) -> str:
    m, s = result["machine"], result["settings"]
    head = (
        f"Encode: {result['model']}, batch_size={s['batch_size']}, "
        f"median of {s['repeats']}; "
        + h.describe(m, m["load_average_before"], m["load_average_after"])
    )
    rows = []
    for r in result["results"]:
        a = r["agreement_vs_our_float32"]
        rows.append(
            [
                r["max_length"],
                f"{r['input']} ({r['n_texts']}, {r['n_distinct']} distinct)",
                r["contender"],
                r["precision"],
                f"{r['texts_per_s']:.1f}",
                f"{r['ratio_vs_peer']:.2f}x",
                f"{r['best_ratio_vs_peer']:.2f}x",
                h.fmt(None if r["mfu"] is None else 100 * r["mfu"], ".1f", "%"),
                h.fmt(a.get("mean_cosine"), ".5f"),
                h.fmt(a.get("min_cosine"), ".5f"),
                h.fmt(
                    None
                    if a.get("same_nearest_neighbour") is None
                    else 100 * a["same_nearest_neighbour"],
                    ".1f",
                    "%",
                ),
                f"{r['min_cosine_vs_peer']:.5f}",
            ]
        )
    table = h.markdown_table(
        [
            "max_length",
            "input",
            "encoder",
            "precision",
            "texts/s",
            "ratio vs ST",
            "best ratio",
            "MFU",
            "mean cos",
            "min cos",
            "same NN",
            "min cos vs ST",
        ],
        rows,
        "llllrrrrrrrr",
    )
    verdict = "agree" if result["float32_embeddings_agree_with_peer"] else "DISAGREE"
    notes = (
        "texts/s, ratio and MFU: median timing; best ratio: fastest timings. "
        "mean cos, min cos, same NN: against our float32 embeddings of the "
        "same case (distinct texts).\n"
        f"Our float32 embeddings {verdict} with sentence-transformers "
        f"(cosine >= {result['cosine_threshold']})."
    )
    return f"{head}\n\n{table}\n\n{notes}"


def main(argv: list[str] | None = None) -> int:
    result = run(parse_args(argv))
    if not result["float32_embeddings_agree_with_peer"]:
        h.warn(f"float32 embeddings disagree: min cosine < {COSINE_THRESHOLD}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

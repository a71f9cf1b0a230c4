"""Fine-tuning speed: BertClassifier.fit against the Hugging Face Trainer.

Both fine-tune the bundled model (``sentence-transformers/all-MiniLM-L6-v2``,
the same folder) to classify fine-food reviews (``score``: great / other) on
the same training rows, with the same batch size, ``max_length`` and number
of epochs, on the CPU, seeds fixed.

The peer is ``transformers.Trainer`` with its defaults: ``TrainingArguments``
defaults (AdamW, ``lr=5e-5``, linear decay, no warmup, no weight decay,
float32), ``AutoModelForSequenceClassification`` from the folder (pooler and
linear head on the first token), dynamic padding (``DataCollatorWithPadding``)
and texts tokenised with truncation at ``max_length``. It gets only what it
needs to run offline and not write checkpoints: ``report_to="none"``,
``save_strategy="no"``, ``use_cpu=True``, a temporary ``output_dir``; and
``disable_tqdm=True`` with its stdout captured, which only silences the
output. The Trainer needs the ``accelerate`` package.

Ours is ``BertClassifier`` with its own defaults (mean pooling, AdamW,
``lr=5e-5``, 10 % warmup, weight decay 0.01, length-bucketed batches) for
each configuration of ``--ours`` (default ``float32,bfloat16``). Both
training recipes are each library's defaults; they are not identical.

Two settings:

- ``short``: 384 training rows, ``max_length=128``, batch 16, 2 epochs;
- ``long``: ``max_length=256``, 1,000 training rows, 1 epoch, batch 16
  (``--n-train-long``, ``--epochs-long``, ``--max-length-long`` change it).

Each fit is timed from raw texts and labels to a trained model (tokenizer
and model loading, tokenisation and training, as ``BertClassifier.fit``
does), after one untimed warm-up fit per contender on 4 rows (imports,
thread pools). The script reports, per contender: fit seconds (median, min, max of
``--repeats``, interleaved), training samples/s (rows x epochs / fit
seconds), the ratio of samples/s to the Trainer's, the training loop alone
(Trainer's ``train_runtime``; the sum of our epoch durations), the model
FLOP utilisation (training FLOPs = 3 x forward, see ``_harness.py``, over
the measured ceiling of the precision used) and the accuracy on the 1,000
test reviews (``--n-test``) of the last fit (prediction is not timed in
the ratio).

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_finetune_speed.py           # full
    HF_HUB_OFFLINE=1 python benchmarks/bench_finetune_speed.py --quick   # smoke
    HF_HUB_OFFLINE=1 python benchmarks/bench_finetune_speed.py --settings long \\
        --n-train-long 2000 --ours float32,bfloat16,auto

``--quick`` uses 8 training rows, batch 4, 1 epoch and 8 test reviews in
both settings, and writes to ``benchmarks/results/quick/``. Results are
printed as a markdown table and written to
``benchmarks/results/finetune_speed.json`` (settings, machine, load average
before and after, FLOP ceilings, every timing, and a ``summary`` list read by
``run_all.py`` and ``plot_results.py``). Benchmarks compare against a peer in
the same run and report ratios; they never assert on time.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import io
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import _harness as h
import numpy as np

NAME = "finetune_speed"
PEER = "transformers Trainer"


@dataclass(frozen=True)
class Setting:
    name: str
    n_train: int
    max_length: int
    batch_size: int
    epochs: int


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--settings",
        type=lambda s: [x for x in s.split(",") if x],
        default=["short", "long"],
        help="comma-separated: short, long",
    )
    parser.add_argument("--n-train-short", type=int, default=384)
    parser.add_argument("--max-length-short", type=int, default=128)
    parser.add_argument("--epochs-short", type=int, default=2)
    parser.add_argument("--n-train-long", type=int, default=1000)
    parser.add_argument("--max-length-long", type=int, default=256)
    parser.add_argument("--epochs-long", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--n-test", type=int, default=None, help="test reviews scored (1000)"
    )
    h.add_common_arguments(parser, ours="float32,bfloat16")
    args = parser.parse_args(argv)
    unknown = set(args.settings) - {"short", "long"}
    if unknown:
        parser.error(f"unknown --settings {sorted(unknown)}; use short, long")
    args.repeats = args.repeats or 1
    args.n_test = args.n_test or (8 if args.quick else 1000)
    batch = args.batch_size or (4 if args.quick else 16)
    table = {
        "short": Setting(
            "short",
            8 if args.quick else args.n_train_short,
            args.max_length_short,
            batch,
            1 if args.quick else args.epochs_short,
        ),
        "long": Setting(
            "long",
            8 if args.quick else args.n_train_long,
            args.max_length_long,
            batch,
            1 if args.quick else args.epochs_long,
        ),
    }
    args.setting_list = [table[name] for name in args.settings]
    return args


# -- the peer ------------------------------------------------------------------
@dataclass
class TrainerFit:
    trainer: Any
    tokenizer: Any
    loop_seconds: float


def trainer_fit(
    folder: str,
    texts: list[str],
    labels: list[int],
    setting: Setting,
    seed: int,
    n_labels: int,
) -> TrainerFit:
    """Fine-tune with ``transformers.Trainer`` and its defaults."""
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    enc = tokenizer(texts, truncation=True, max_length=setting.max_length)
    rows = [
        {**{key: enc[key][i] for key in enc}, "labels": label}
        for i, label in enumerate(labels)
    ]
    model = AutoModelForSequenceClassification.from_pretrained(
        folder, num_labels=n_labels
    )
    with tempfile.TemporaryDirectory(prefix="bench-trainer-") as output_dir:
        training_args = TrainingArguments(
            output_dir=output_dir,
            per_device_train_batch_size=setting.batch_size,
            num_train_epochs=setting.epochs,
            seed=seed,
            report_to="none",
            save_strategy="no",
            use_cpu=True,
            disable_tqdm=True,
        )
        trainer = Trainer(
            model=model,
            args=training_args,
            train_dataset=rows,
            data_collator=DataCollatorWithPadding(tokenizer),
        )
        with contextlib.redirect_stdout(io.StringIO()):
            output = trainer.train()
    return TrainerFit(trainer, tokenizer, float(output.metrics["train_runtime"]))


def trainer_predict(fit: TrainerFit, texts: list[str], max_length: int) -> np.ndarray:
    enc = fit.tokenizer(texts, truncation=True, max_length=max_length)
    rows = [{key: enc[key][i] for key in enc} for i in range(len(texts))]
    with contextlib.redirect_stdout(io.StringIO()):
        logits = fit.trainer.predict(rows).predictions
    return np.asarray(logits).argmax(axis=1)


# -- ours ----------------------------------------------------------------------
def ours_fit(
    folder: str,
    config: h.OurConfig,
    texts: list[str],
    labels: list[str],
    setting: Setting,
    seed: int,
) -> Any:
    """Fine-tune a ``BertClassifier`` (its defaults, plus ``config.params``)."""
    from sklearn_bert import BertClassifier

    params = h.supported_params(
        BertClassifier,
        {
            "max_length": setting.max_length,
            "batch_size": setting.batch_size,
            "max_epochs": setting.epochs,
            "random_state": seed,
            "device": "cpu",
            "verbose": 0,
        },
    )
    return BertClassifier(folder, **{**params, **config.params}).fit(texts, labels)


def loop_seconds(clf: Any) -> float | None:
    """Sum of the epoch durations in the fit history (None if not found)."""
    history = getattr(clf, "history_", None)
    if history is None:
        history = getattr(getattr(clf, "net_", None), "history", None)
    try:
        return float(sum(history[:, "dur"]))
    except Exception:
        return None


# -- the benchmark -------------------------------------------------------------
def contenders_for(
    args: argparse.Namespace,
    folder: str,
    setting: Setting,
    texts: list[str],
    labels: list[str],
    classes: list[str],
) -> dict[str, Callable[[], Any]]:
    """The peer and our configurations, each a call that fits from scratch."""
    y_int = [classes.index(label) for label in labels]
    contenders: dict[str, Callable[[], Any]] = {
        PEER: functools.partial(
            trainer_fit, folder, texts, y_int, setting, args.seed, len(classes)
        )
    }
    for config in args.ours:
        contenders[f"ours {config.label}"] = functools.partial(
            ours_fit, folder, config, texts, labels, setting, args.seed
        )
    return contenders


def time_setting(
    args: argparse.Namespace,
    folder: str,
    shape: h.EncoderShape,
    ceilings: dict[str, Any],
    setting: Setting,
    X: list[str],
    y: list[str],
    classes: list[str],
    X_test: list[str],
    y_test: np.ndarray,
) -> list[dict[str, Any]]:
    """Time the fits of one setting, then score each contender's last fit."""
    lengths = h.token_lengths(folder, X, setting.max_length)
    train_flops = h.TRAINING_FACTOR * h.forward_flops(shape, lengths) * setting.epochs
    samples = setting.n_train * setting.epochs
    case = (
        f"{setting.name}: {setting.n_train} rows, max_length {setting.max_length}, "
        f"batch {setting.batch_size}, {setting.epochs} epoch(s)"
    )
    print(case, flush=True)
    contenders = contenders_for(args, folder, setting, X, y, classes)
    configs = {f"ours {c.label}": c for c in args.ours}
    timings = h.time_interleaved(contenders, args.repeats, on_each=h.progress)
    peer_t = timings[PEER]
    rows = []
    for name, timing in timings.items():
        fitted, config = timing.output, configs.get(name)
        start = time.perf_counter()
        if config is None:
            index = trainer_predict(fitted, X_test, setting.max_length)
            pred = np.asarray(classes)[index]
            loop_s: float | None = fitted.loop_seconds
            precision = "float32"
        else:
            pred = fitted.predict(X_test)
            loop_s = loop_seconds(fitted)
            precision = h.effective_precision(fitted, config.precision)
        predict_s = time.perf_counter() - start
        ceiling = h.ceiling_gflops(ceilings, precision)
        rows.append(
            {
                "setting": asdict(setting),
                "case": case,
                "contender": name,
                "params": None if config is None else config.params,
                "precision": precision,
                **timing.summary(),
                "samples_per_s": samples / timing.median,
                "best_samples_per_s": samples / timing.min,
                "ratio_vs_peer": peer_t.median / timing.median,
                "best_ratio_vs_peer": peer_t.min / timing.min,
                "last_loop_s": loop_s,
                "loop_samples_per_s": samples / loop_s if loop_s else None,
                "train_gflop": train_flops / 1e9,
                "achieved_gflops": train_flops / timing.median / 1e9,
                "mfu": h.mfu(train_flops, timing.median, ceiling),
                "loop_mfu": h.mfu(train_flops, loop_s, ceiling) if loop_s else None,
                "accuracy": float(np.mean(pred == y_test)),
                "n_test": len(X_test),
                "predict_s": predict_s,
            }
        )
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark; return the result (also written to JSON)."""
    if importlib.util.find_spec("accelerate") is None:
        raise SystemExit(
            "transformers.Trainer needs the accelerate package: pip install accelerate"
        )
    h.configure(args)
    from sklearn_bert import DEFAULT_MODEL

    folder = h.model_folder()
    shape = h.EncoderShape.from_folder(folder)
    train_df, test_df = h.load_finefood()
    if args.n_test < len(test_df):
        test_df = test_df.sample(n=args.n_test, random_state=args.seed)
    X_test, y_test = test_df["review"].tolist(), test_df["score"].to_numpy()
    classes = sorted(train_df["score"].unique())
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

    rows: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*truncated", UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        # Untimed warm-up: one small fit each (imports, thread pools, kernels).
        print("warm-up fits", flush=True)
        warm_rows = train_df.groupby("score").head(2)
        warm = Setting(
            "warm-up",
            len(warm_rows),
            args.setting_list[0].max_length,
            len(warm_rows),
            1,
        )
        warm_X, warm_y = warm_rows["review"].tolist(), warm_rows["score"].tolist()
        for fit in contenders_for(args, folder, warm, warm_X, warm_y, classes).values():
            fit()
        for setting in args.setting_list:
            sample = train_df.sample(n=setting.n_train, random_state=args.seed)
            rows += time_setting(
                args,
                folder,
                shape,
                ceilings,
                setting,
                sample["review"].tolist(),
                sample["score"].tolist(),
                classes,
                X_test,
                y_test,
            )
    summary = [
        h.summary_row(
            benchmark=NAME,
            case=row["setting"]["name"],
            contender=row["contender"],
            peer=PEER,
            precision=row["precision"],
            throughput=row["samples_per_s"],
            unit="samples/s",
            ratio=row["ratio_vs_peer"],
            mfu_value=row["mfu"],
            quality=f"accuracy {row['accuracy']:.3f}",
        )
        for row in rows
    ]

    result = {
        "benchmark": NAME,
        "description": __doc__.split("\n\n")[0],
        "model": DEFAULT_MODEL,
        "peer": PEER,
        "settings": {
            "quick": args.quick,
            "cases": [asdict(s) for s in args.setting_list],
            "repeats": args.repeats,
            "n_test": len(X_test),
            "ours": [{"label": c.label, "params": c.params} for c in args.ours],
            "peer_arguments": "TrainingArguments(output_dir=<temp>, "
            "per_device_train_batch_size, num_train_epochs, seed, "
            "report_to='none', save_strategy='no', use_cpu=True, "
            "disable_tqdm=True); defaults otherwise",
            "training_rows": "train.sample(n=n_train, random_state=seed)",
            "test_rows": "test.sample(n=n_test, random_state=seed) when n_test < 1000",
            "timed": "raw texts to trained model: loading, tokenising, training",
            "device": "cpu",
            "seed": args.seed,
            "data": h.FINEFOOD + ' ["review"], ["score"]',
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
            "samples_per_s": "training rows x epochs / median fit seconds",
            "ratio_vs_peer": "peer median fit seconds / contender median fit seconds",
            "best_ratio_vs_peer": "the same with the fastest fit of each",
            "last_loop_s": "training loop alone, last fit (Trainer train_runtime; "
            "our summed epoch durations)",
            "mfu": "3 x forward FLOPs of the training rows x epochs / median fit "
            "seconds / ceiling of the precision",
            "loop_mfu": "the same over last_loop_s",
            "accuracy": "on the test reviews, last fit",
        },
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
        f"Fine-tuning: {result['model']}, median of {s['repeats']} fit(s); "
        f"{h.describe(m, m['load_average_before'], m['load_average_after'])}"
    )
    rows = [
        [
            r["case"],
            r["contender"],
            r["precision"],
            f"{r['median_s']:.1f}",
            f"{r['samples_per_s']:.2f}",
            f"{r['ratio_vs_peer']:.2f}x",
            h.fmt(r["loop_samples_per_s"]),
            h.fmt(None if r["mfu"] is None else 100 * r["mfu"], ".1f", "%"),
            f"{r['accuracy']:.3f}",
        ]
        for r in result["results"]
    ]
    table = h.markdown_table(
        [
            "setting",
            "contender",
            "precision",
            "fit s",
            "samples/s",
            "ratio vs Trainer",
            "loop samples/s",
            "MFU",
            f"accuracy ({s['n_test']} test)",
        ],
        rows,
        "lllrrrrrr",
    )
    notes = (
        "fit s, samples/s, ratio and MFU: median fit (loading, tokenising and "
        "training); loop samples/s: the training loop alone (last fit)."
    )
    return f"{head}\n\n{table}\n\n{notes}"


def main(argv: list[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

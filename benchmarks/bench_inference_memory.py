"""Peak memory of predicting many inputs: BertTokenClassifier and BertQuestionAnswerer.

The target: predicting 10,000 inputs grows the process's peak resident memory
by no more than the output plus 0.5 GB, however many inputs there are. Each
case runs in a fresh child process (so earlier peaks do not hide later ones)
that fits the estimator for 1 epoch on 8 rows, predicts 64 rows (warm-up),
then samples its resident set size (``/proc/self/statm``) every 10 ms while it
predicts all the inputs, and reports the peak growth over the size just
before. The output's size is measured deeply (arrays, lists, strings, a
DataFrame's values), so "growth beyond output" is what inference held on top
of what it returns.

Cases (``precision="float32"``, the estimators' other defaults):

- ``token:predict`` and ``token:predict_proba``: ``--n`` (10,000) distinct
  sentences of 4 to 16 words (pieces of fine-food reviews), given as token
  lists to ``BertTokenClassifier`` (``max_length`` the model's limit);
- ``qa:predict``: ``--n`` distinct (question, context) rows for
  ``BertQuestionAnswerer(max_length=128, stride=32)``: contexts are pieces of
  fine-food reviews of 8 to 20 words, every 20th one of 150 to 200 words
  (longer than ``max_length``: 2 or 3 windows).

``--model bundled`` (default) runs the bundled
``sentence-transformers/all-MiniLM-L6-v2``; ``--model tiny`` a 2-layer,
64-wide BERT with the bundled model's tokenizer and random weights (written
to a temporary folder with transformers), which measures the same inference
bookkeeping in a fraction of the time. The JSON says which model ran.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_inference_memory.py          # full
    HF_HUB_OFFLINE=1 python benchmarks/bench_inference_memory.py --quick  # smoke run

The resident set also holds what PyTorch, oneDNN and the C allocator keep
(buffers sized by the batches, freed memory not returned to the system): tens
of MB that move between runs. ``--traced`` predicts a second time under
``tracemalloc`` and records the peak of Python and NumPy allocations alone
(``python_heap_peak_gb``, the output included): the bookkeeping of
inference, which is what grows with the number of inputs.

The full run takes about 5 minutes on 2 quiet CPU cores (twice that with
``--traced``). ``--before FILE`` copies the runs of an earlier result file
(for example one written with the previous version of the library) into the
new one as ``before``, with the change of each figure; ``--note`` adds a
sentence saying how it was made. Results go to
``benchmarks/results/inference_memory.json``. Benchmarks never assert on
time or memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import _harness as h

HERE = Path(__file__).resolve().parent
CASES = ("token:predict", "token:predict_proba", "qa:predict")
QA_MAX_LENGTH = 128
QA_STRIDE = 32


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--n", type=int, default=None, help="inputs per case")
    parser.add_argument("--model", choices=("bundled", "tiny"), default="bundled")
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated, from {CASES}"
    )
    parser.add_argument(
        "--traced", action="store_true", help="also the tracemalloc peak"
    )
    parser.add_argument("--before", type=Path, default=None)
    parser.add_argument("--note", default=None, help="stored in the JSON")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--child", nargs=3, metavar=("CASE", "N", "FOLDER"))
    return parser.parse_args(argv)


# -- data --------------------------------------------------------------------
def _words() -> list[str]:
    train, test = h.load_finefood()
    return " ".join(train["review"].tolist() + test["review"].tolist()).split()


def sentences(n: int, seed: int = 0) -> list[list[str]]:
    """``n`` distinct sentences of 4 to 16 words (the last word numbers it)."""
    import numpy as np

    words = _words()
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(words) - 16, size=n)
    sizes = rng.integers(3, 16, size=n)
    return [
        [*words[s : s + k], f"#{i}"]
        for i, (s, k) in enumerate(zip(starts, sizes, strict=True))
    ]


def qa_rows(n: int, seed: int = 0) -> tuple[list[tuple[str, str]], list[str]]:
    """``n`` distinct (question, context) rows and an answer (a context word)
    of each; every 20th context is 150 to 200 words long (several windows of
    ``QA_MAX_LENGTH`` tokens), the others 8 to 20 words."""
    import numpy as np

    words = _words()
    rng = np.random.default_rng(seed)
    rows, answers = [], []
    for i in range(n):
        size = int(rng.integers(150, 201) if i % 20 == 0 else rng.integers(8, 21))
        start = int(rng.integers(0, len(words) - size))
        context = words[start : start + size]
        answers.append(context[int(rng.integers(0, size))])
        rows.append((f"What does review {i} say about the taste?", " ".join(context)))
    return rows, answers


def tiny_model(folder: Path) -> str:
    """A 2-layer, 64-wide random BERT with the bundled model's tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(h.model_folder())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


# -- measuring ---------------------------------------------------------------
def deep_size(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes held by ``obj``: arrays' buffers, containers and their items
    (each object counted once), a DataFrame's values with ``deep=True``."""
    import numpy as np
    import pandas as pd

    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, pd.DataFrame | pd.Series):
        return int(obj.memory_usage(deep=True, index=True).sum())
    if isinstance(obj, np.ndarray):
        size = sys.getsizeof(obj) if obj.base is None else obj.nbytes
        if obj.dtype == object:
            size += sum(deep_size(item, seen) for item in obj.ravel())
        return size
    size = sys.getsizeof(obj)
    if isinstance(obj, list | tuple | set):
        size += sum(deep_size(item, seen) for item in obj)
    elif isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    return size


def child(
    case: str, n: int, model: str, threads: int | None, traced: bool
) -> dict[str, Any]:
    """Measure one case in this (child) process."""
    import gc
    import tracemalloc

    import torch

    if threads:
        torch.set_num_threads(threads)
    task, method = case.split(":")
    settings: dict[str, Any] = {"precision": "float32", "max_epochs": 1}
    if task == "token":
        from sklearn_bert import BertTokenClassifier

        X = sentences(n)
        y = [["B-X" if w[:1].isupper() else "O" for w in s] for s in X[:8]]
        y[0][0] = "B-X"  # two tags at least
        y[0][-1] = "O"
        estimator = BertTokenClassifier(model, random_state=0, **settings)
        estimator.fit(X[:8], y)
    else:
        import pandas as pd

        from sklearn_bert import BertQuestionAnswerer

        rows, answers = qa_rows(n)
        X = pd.DataFrame(rows, columns=["question", "context"])
        settings |= {"max_length": QA_MAX_LENGTH, "stride": QA_STRIDE}
        estimator = BertQuestionAnswerer(model, random_state=0, **settings)
        estimator.fit(X.iloc[:8], answers[:8])
    predict = getattr(estimator, method)
    predict(X[:64])  # warm-up
    out, before, growth, seconds = h.peak_growth(lambda: predict(X))
    output = deep_size(out)
    heap = {}
    if traced:
        del out
        gc.collect()
        tracemalloc.start()
        predict(X)
        heap = {
            "python_heap_peak_gb": round(tracemalloc.get_traced_memory()[1] / 1e9, 4)
        }
        tracemalloc.stop()
    return {
        "case": case,
        "n_inputs": n,
        "settings": {
            k: v for k, v in estimator.get_params().items() if k in {*settings}
        },
        "max_length_": estimator.max_length_,
        "seconds": round(seconds, 1),
        "inputs_per_s": round(n / seconds, 1),
        "rss_before_gb": round(before / 1e9, 3),
        "peak_growth_gb": round(growth / 1e9, 3),
        "output_gb": round(output / 1e9, 4),
        "growth_beyond_output_gb": round((growth - output) / 1e9, 3),
        "within_target": bool(growth <= output + 0.5e9),
        **heap,
    }


# -- driver ------------------------------------------------------------------
def _before(path: Path | None, runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    if path is None:
        return None
    earlier = json.loads(path.read_text())
    earlier_runs = earlier.get("runs", [])
    by_case = {r["case"]: r for r in earlier_runs}
    change = {
        r["case"]: round(r["peak_growth_gb"] - by_case[r["case"]]["peak_growth_gb"], 3)
        for r in runs
        if r["case"] in by_case
    }
    return {
        "file": path.name,
        "model": earlier.get("settings", {}).get("model"),
        "runs": earlier_runs,
        "peak_growth_change_gb": change,
    }


def table(runs: list[dict[str, Any]], before: dict[str, Any] | None) -> str:
    """The runs (and the earlier figures of the same cases) as markdown."""
    earlier = {r["case"]: r for r in before["runs"]} if before else {}
    columns = {
        "output GB": "output_gb",
        "peak growth GB": "peak_growth_gb",
        "beyond output GB": "growth_beyond_output_gb",
        "Python heap peak GB": "python_heap_peak_gb",
    }
    headers, rows = ["case", "inputs"], [[r["case"], r["n_inputs"]] for r in runs]
    for label, key in columns.items():
        for prefix, source in (
            ("", {r["case"]: r for r in runs}),
            ("before: ", earlier),
        ):
            if any(key in r for r in source.values()):
                headers.append(prefix + label)
                for row, r in zip(rows, runs, strict=True):
                    row.append(source.get(r["case"], {}).get(key))
    return h.markdown_table(headers, rows, "l" + "r" * (len(headers) - 1))


def run(args: argparse.Namespace) -> dict[str, Any]:
    n = args.n or (500 if args.quick else 10_000)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(cases) - set(CASES)
    if unknown:
        raise SystemExit(f"unknown cases: {sorted(unknown)}")
    load_before = h.load_average()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.model == "tiny":
            model = tiny_model(Path(tmp) / "tiny-bert")
            described = "tiny random BERT (2 layers, hidden 64) + MiniLM tokenizer"
        else:
            model = h.model_folder()
            described = "sentence-transformers/all-MiniLM-L6-v2 (bundled)"
        for case in cases:
            command = [sys.executable, __file__, "--child", case, str(n), model]
            if args.threads:
                command += ["--threads", str(args.threads)]
            if args.traced:
                command += ["--traced"]
            proc = subprocess.run(
                command, capture_output=True, text=True, check=True, cwd=HERE
            )
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(runs[-1], flush=True)
    result = {
        "benchmark": "inference_memory",
        "settings": {
            "n_inputs": n,
            "model": described,
            "cases": cases,
            "traced": args.traced,
        },
        "target": "peak growth <= output + 0.5 GB",
        "machine": {
            **h.environment(),
            "load_average_before": load_before,
            "load_average_after": h.load_average(),
        },
        "runs": runs,
    }
    if args.note:
        result["note"] = args.note
    before = _before(args.before, runs)
    if before is not None:
        result["before"] = before
    print(table(runs, before))
    path = h.result_path("inference_memory", quick=args.quick, output=args.output)
    print(f"written: {h.write_json(result, path)}")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        case, n, folder = args.child
        print(json.dumps(child(case, int(n), folder, args.threads, args.traced)))
        return 0
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

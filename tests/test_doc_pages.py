"""The Python code blocks of documentation pages run as written.

Like ``tests/test_readme.py`` for the README. The pages load the bundled
model; in the default suite the bundled name points at the tiny test BERT
(the code is the same, only the weights are small), and the ``slow`` tests
run the quick start on the real model.

- ``docs/quickstart.rst`` runs top to bottom in one namespace, in a temporary
  folder holding the ``reviews.csv`` it reads.
- ``docs/user_guide/search.rst`` runs top to bottom too, given the
  ``X_train`` / ``y_train`` / ``X_test`` / ``y_test`` the page says it
  starts from; its ``n_jobs=2`` search runs under joblib's threading backend
  (worker processes would not see the tiny model).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pandas as pd
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
QUICKSTART = DOCS / "quickstart.rst"
SEARCH = DOCS / "user_guide" / "search.rst"


def python_blocks(path: Path) -> list[str]:
    """The ``.. code-block:: python`` blocks of a reST page, dedented."""
    lines = path.read_text().splitlines()
    blocks = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)\.\. code-block:: python\s*$", line)
        if not match:
            continue
        directive = len(match.group(1))
        body = []
        for following in lines[i + 1 :]:
            indent = len(following) - len(following.lstrip())
            if following.strip() and indent <= directive:
                break
            body.append(following)
        blocks.append(textwrap.dedent("\n".join(body)).strip() + "\n")
    return blocks


def reviews(n: int = 48) -> pd.DataFrame:
    """A small review table: text, label, product, price (one price missing)."""
    good = [
        "Great coffee, rich and smooth.",
        "Lovely tea, my new favourite.",
        "Fresh cookies, fast delivery.",
        "Best chocolate in years.",
    ]
    bad = [
        "Stale and bitter, would not buy again.",
        "The box arrived crushed.",
        "Tasted like cardboard.",
        "Cold, weak and overpriced.",
    ]
    rows = []
    for i in range(n):
        great = i % 2 == 0
        texts = good if great else bad
        rows.append(
            {
                "review": f"{texts[i // 2 % len(texts)]} Order {i}.",
                "label": "great" if great else "other",
                "product": ["coffee", "tea", "cookies"][i % 3],
                "price": None if i == 5 else round(4.0 + (i * 1.7) % 9, 2),
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture
def tiny_default_model(monkeypatch, tiny_bert):
    """The bundled model's name resolves to the tiny BERT."""
    from sklearn_bert._io import models

    monkeypatch.setattr(models, "_bundled_path", lambda name: tiny_bert)


def _run_page(path: Path, blocks: list[str], namespace: dict) -> None:
    for i, code in enumerate(blocks):
        exec(compile(code, f"{path.name} (block {i})", "exec"), namespace)


def _quickstart(tmp_path, monkeypatch) -> dict:
    monkeypatch.chdir(tmp_path)
    reviews().to_csv("reviews.csv", index=False)
    namespace = {"__name__": "__quickstart__"}
    _run_page(QUICKSTART, python_blocks(QUICKSTART), namespace)
    assert (tmp_path / "review-model" / "config.json").is_file()
    assert (tmp_path / "review-model.joblib").is_file()
    return namespace


def test_pages_have_code():
    assert len(python_blocks(QUICKSTART)) >= 8
    assert len(python_blocks(SEARCH)) >= 4


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_quickstart_runs(tiny_default_model, tmp_path, monkeypatch, capsys):
    namespace = _quickstart(tmp_path, monkeypatch)
    clf = namespace["clf"]
    # the page prints what "auto" decided for this run ...
    printed = capsys.readouterr().out
    assert f"{clf.max_epochs_} {clf.lr_} {clf.head_lr_} {clf.precision_}" in printed
    # ... and states what it decides for 4,000 reviews: the rule gives that
    import re

    from sklearn_bert._engine.finetune import Prepared

    claim = re.search(
        r"# e\.g\. (\d+) (\S+) (\S+) \w+ \(([\d,]+) reviews", QUICKSTART.read_text()
    )
    epochs, lr, head_lr, n = claim.groups()
    budget = clf._budget(int(n.replace(",", "")), Prepared(None, None, new_head=True))
    assert (budget.max_epochs, budget.lr, budget.head_lr) == (
        int(epochs),
        float(lr),
        float(head_lr),
    )
    # the fused model's tabular columns, as the page's comment says
    said = re.search(
        r"print\(fused\.tabular_columns_\)  # (.*)", QUICKSTART.read_text()
    )
    assert f"{namespace['fused'].tabular_columns_}" == said.group(1)


@pytest.mark.slow
def test_quickstart_runs_on_the_bundled_model(tmp_path, monkeypatch, capsys):
    namespace = _quickstart(tmp_path, monkeypatch)
    test = namespace["test"]
    assert namespace["clf"].score(test["review"], test["label"]) >= 0.75
    assert namespace["fused"].score(namespace["X_test"], test["label"]) >= 0.75


@pytest.fixture
def search_data():
    frame = reviews(48)
    train, test = frame.iloc[:36], frame.iloc[36:]
    return {
        "X_train": train["review"].tolist(),
        "y_train": train["label"].tolist(),
        "X_test": test["review"].tolist(),
        "y_test": test["label"].tolist(),
    }


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_search_page_runs(
    search_data, tiny_default_model, tmp_path, monkeypatch, capsys
):
    import joblib

    from sklearn_bert import clear_cache

    monkeypatch.chdir(tmp_path)  # the folder caches land here
    # "auto" epochs capped at 3 (instead of up to 20 on these few rows): the
    # page's fine-tunings stay fast, and its code is unchanged
    from sklearn_bert._params import AUTO_BUDGET, AutoBudget

    monkeypatch.setitem(AUTO_BUDGET, "sequence", AutoBudget(250, (1, 3), 5e-5))
    namespace = {"__name__": "__search__", **search_data}
    try:
        # n_jobs=2 in threads, so that the workers see the tiny model too
        with joblib.parallel_config(backend="threading"):
            _run_page(SEARCH, python_blocks(SEARCH), namespace)
    finally:
        clear_cache()
    assert (tmp_path / "embedding-cache").is_dir()

"""Every ``save_pretrained`` folder holds a ``README.md`` model card.

The card is read as the Hugging Face hub reads it (``huggingface_hub.ModelCard``):
its header names the library, the pipeline and the base model without a
path of the machine; its body lists the classes, one history row per epoch
and the versions, and holds no training text. A ``README.md`` of the user's
own is kept; a folder with a card still loads the ways ``docs/security.rst``
names.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _precision import assert_agree
from _qa_data import qa_frame
from huggingface_hub import ModelCard

from sklearn_bert import (
    BertClassifier,
    BertMaskedLM,
    BertQuestionAnswerer,
    BertRegressor,
    BertTokenClassifier,
)
from sklearn_bert._engine import model_card

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: In every training text: a card must never contain it.
MARKER = "zqxwvmarker"
FAST = {"max_epochs": 2, "batch_size": 4, "max_length": 32, "random_state": 0}
TEXTS = [f"a good film {MARKER}", f"a bad film {MARKER}", "great story", "awful"] * 3
LABELS = ["pos", "neg", "pos", "neg"] * 3
SENTENCES = [["John", "lives", "in", MARKER], ["Mary", "works", "for", "Acme"]] * 4
TAGS = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O", "O", "B-ORG"]] * 4

#: kind -> (pipeline_tag, what the outputs section lists)
EXPECTED = {
    "classifier": ("text-classification", ["`neg`", "`pos`"]),
    "regressor": ("text-classification", ["## Targets"]),
    "token": ("token-classification", ["`B-LOC`", "`B-ORG`", "`B-PER`", "`O`"]),
    "qa": ("question-answering", ["Answer spans"]),
    "mlm": ("fill-mask", ["vocabulary"]),
}


def _fit(kind: str, model: str):
    if kind == "classifier":
        X = pd.DataFrame({"review": TEXTS})
        return BertClassifier(
            model, early_stopping=True, validation_fraction=0.25, **FAST
        ).fit(X, LABELS)
    if kind == "regressor":  # a model given as an estimator
        mlm = BertMaskedLM(model, max_epochs=1, batch_size=4, max_length=32)
        return BertRegressor(mlm, **FAST).fit(TEXTS, np.arange(len(TEXTS), dtype=float))
    if kind == "token":
        return BertTokenClassifier(model, **{**FAST, "lr": 1e-3}).fit(SENTENCES, TAGS)
    if kind == "qa":
        X, y = qa_frame(2)
        X = X.assign(context=X["context"] + f" {MARKER}")
        return BertQuestionAnswerer(model, **{**FAST, "max_length": 64}).fit(X, y)
    return BertMaskedLM(model, **FAST).fit(TEXTS)


class _Saved(dict):
    """kind -> (fitted estimator, folder it saved), each fitted when first
    asked for."""

    def __init__(self, model: str, root: Path):
        super().__init__()
        self.model, self.root = model, root

    def __missing__(self, kind: str):
        est = _fit(kind, self.model)
        self[kind] = est, est.save_pretrained(self.root / f"saved-{kind}")
        return self[kind]


@pytest.fixture(scope="module")
def saved(tiny_bert, tmp_path_factory):
    return _Saved(tiny_bert, tmp_path_factory.mktemp("cards"))


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_every_saved_folder_has_a_model_card(saved, tiny_bert, kind):
    est, folder = saved[kind]
    card = ModelCard.load(folder / "README.md")
    data = card.data.to_dict()
    pipeline_tag, listed = EXPECTED[kind]
    assert data["library_name"] == "sklearn-bert"
    assert data["pipeline_tag"] == pipeline_tag
    assert data["base_model"] == Path(tiny_bert).name  # the folder's name only
    assert {"sklearn-bert", "scikit-learn", type(est).__name__} <= set(data["tags"])
    text = card.text
    assert f"# {type(est).__name__}:" in text
    for item in listed:
        assert item in text
    for heading in ("## Intended use", "## Limitations", "## How to load"):
        assert heading in text
    # one history row per epoch
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) - 1 == len(est.history_) == est.n_iter_
    versions = {
        "sklearn-bert": __import__("sklearn_bert").__version__,
        "scikit-learn": importlib.metadata.version("scikit-learn"),
        "transformers": importlib.metadata.version("transformers"),
        "torch": torch.__version__,
    }
    for name, version in versions.items():
        assert f"- {name}: {version}" in text


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_a_card_holds_no_training_text_and_no_path(saved, tiny_bert, kind):
    est, folder = saved[kind]
    text = (folder / "README.md").read_text()
    assert MARKER not in text
    for path in (Path(tiny_bert), folder):
        assert str(path.parent) not in text
        assert path.parent.name not in text
    assert folder.name not in text
    assert "/tmp" not in text and str(Path.home()) not in text


def test_the_card_names_columns_settings_and_validation_scores(saved):
    est, folder = saved["classifier"]
    text = (folder / "README.md").read_text()
    assert "- Columns: `review`" in text
    assert "| epoch | train_loss | valid_loss | valid_acc |" in text
    assert "- `pooling`: `mean`" in text
    assert f"- `max_length_`: {est.max_length_}" in text
    assert "- `fusion`:" not in text  # a parameter of text_columns only
    assert "## Calibration" in text
    assert est.n_samples_fit_ == len(TEXTS)
    assert f"- Training rows: {len(TEXTS)} (" in text
    # unnamed columns; a model given as an estimator
    text = (saved["regressor"][1] / "README.md").read_text()
    assert "- Columns: one unnamed text column" in text
    assert "first adapted by a `BertMaskedLM`" in text
    assert "## Calibration" not in text  # no probabilities
    assert "text regression" in text


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_every_card_counts_the_rows_fit_was_given(saved, kind):
    est, folder = saved[kind]
    text = (folder / "README.md").read_text()
    assert est.n_samples_fit_ > 0
    assert f"- Training rows: {est.n_samples_fit_} (" in text


def test_the_calibration_section_follows_temperature(saved):
    est, _ = saved["classifier"]
    before = model_card.model_card(est)
    had = "temperature_" in vars(est)
    old = vars(est).get("temperature_")
    asked = est.get_params().get("calibration", "absent")
    try:
        est.temperature_ = 1.75
        if asked != "absent":
            est.set_params(calibration="temperature")
        text = model_card.model_card(est)
    finally:
        if had:
            est.temperature_ = old
        else:
            del est.temperature_
        if asked != "absent":
            est.set_params(calibration=asked)
    assert "Temperature scaling" in text and "1.75" in text
    if asked in (None, "absent"):
        assert "Not calibrated: the probabilities are the model's softmax" in before


def test_a_fused_model_says_what_sentence_transformers_gives(saved):
    est, _ = saved["classifier"]
    assert "cannot feed" not in model_card.model_card(est)
    est.set_params(text_columns="review")
    try:
        text = model_card.model_card(est)
    finally:
        est.set_params(text_columns=None)
    assert "`encode` returns the fine-tuned text embeddings" in text
    assert "- `fusion`: `concat`" in text


def test_a_users_readme_is_kept_with_a_warning(saved, tmp_path):
    est, _ = saved["token"]
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "README.md").write_text("# My own notes\n")
    with pytest.warns(UserWarning, match="not written by sklearn-bert"):
        est.save_pretrained(folder)
    assert (folder / "README.md").read_text() == "# My own notes\n"
    assert (folder / "config.json").exists()  # the model is saved all the same
    # a card of another library is the user's too
    (folder / "README.md").write_text("---\nlibrary_name: transformers\n---\nx\n")
    with pytest.warns(UserWarning, match="kept"):
        est.save_pretrained(folder)
    assert (folder / "README.md").read_text().endswith("x\n")


def test_a_card_of_this_library_is_replaced(saved, tmp_path):
    est, _ = saved["mlm"]
    folder = tmp_path / "again"
    est.save_pretrained(folder)
    card = folder / "README.md"
    card.write_text(card.read_text().replace("## Limitations", "## Old"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        est.save_pretrained(folder)
    assert "## Limitations" in card.read_text() and "## Old" not in card.read_text()


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
        ("dmis-lab/biobert-base-cased-v1.2", "dmis-lab/biobert-base-cased-v1.2"),
        ("/data/models/my-bert", "my-bert"),
        ("~/my-bert", "my-bert"),
    ],
)
def test_the_base_model_is_a_portable_name(model, name):
    assert model_card.base_model_name(BertClassifier(model)) == name
    wrapped = BertClassifier(BertMaskedLM(model))
    assert model_card.base_model_name(wrapped) == name


def test_only_the_writing_process_writes_the_card(saved, tmp_path, monkeypatch):
    from sklearn_bert._engine import distributed

    est, _ = saved["mlm"]
    monkeypatch.setattr(distributed, "is_writer", lambda _: False)
    model_card.write_model_card(est, tmp_path)
    assert not (tmp_path / "README.md").exists()


def test_folders_with_a_card_load_as_documented(saved):
    from sentence_transformers import SentenceTransformer
    from transformers import (
        AutoModelForMaskedLM,
        AutoModelForQuestionAnswering,
        AutoModelForTokenClassification,
    )

    clf, folder = saved["classifier"]
    X = pd.DataFrame({"review": ["a good film", "awful"]})
    logits = SentenceTransformer(str(folder), device="cpu").encode(list(X["review"]))
    assert_agree(  # binary: the second logit minus the first (float32 there)
        logits[:, 1] - logits[:, 0], clf.decision_function(X), clf.precision_, "float32"
    )
    AutoModelForTokenClassification.from_pretrained(saved["token"][1])
    AutoModelForQuestionAnswering.from_pretrained(saved["qa"][1])
    AutoModelForMaskedLM.from_pretrained(saved["mlm"][1])
    # passed as ``model`` to a new estimator
    again = BertClassifier(str(folder), max_epochs=1, batch_size=4, max_length=32)
    again.fit(X, ["pos", "neg"])
    assert list(again.classes_) == ["neg", "pos"]

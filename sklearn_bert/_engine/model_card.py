"""The model card (``README.md``) that ``save_pretrained`` writes into a
saved model's folder, in the Hugging Face hub's format.

The card is a YAML header (``library_name: sklearn-bert``, ``pipeline_tag``,
``base_model``, ``tags``) followed by Markdown: the estimator and what it
predicts, the base model, the classes (or the regression outputs, tag set,
answer spans, vocabulary), the names of the training columns (never their
contents), the fitted settings, the per-epoch history, calibration, the
versions the model was saved with, how to load the folder, and two sections
for the user to fill. Everything comes from the estimator's parameters and
fitted attributes; the ``model`` parameter appears only as
:func:`~sklearn_bert._io.loading.portable_name` gives it, so no path of the
machine is written.

A ``README.md`` already in the folder is replaced only if this library wrote
it (its header says ``library_name: sklearn-bert``); a card of the user's
own is left as it is, with a warning.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: The file name the Hugging Face hub reads a model card from.
CARD_FILE = "README.md"
#: ``library_name`` of the cards this library writes (and recognises).
LIBRARY_NAME = "sklearn-bert"
#: Where the "How to load" snippets say the folder is.
_FOLDER = "path/to/this/folder"
#: Constructor parameters listed in a card when the estimator has them.
_PARAMS = (
    "pooling",
    "max_length",
    "long_text",
    "stride",
    "batch_size",
    "max_epochs",
    "lr",
    "head_lr",
    "precision",
    "early_stopping",
    "calibration",
    "validation_fraction",
    "freeze_encoder",
    "trainable_layers",
    "text_columns",
    "fusion",
    "mlm_probability",
    "whole_word_masking",
    "max_answer_length",
    "random_state",
)
#: Fitted attributes listed in a card when the estimator has them.
_FITTED = (
    "max_epochs_",
    "n_iter_",
    "best_epoch_",
    "lr_",
    "head_lr_",
    "precision_",
    "max_length_",
)
#: History columns that are bookkeeping, not scores.
_NOT_SCORES = ("valid_loss", "valid_batch_count")
#: Longest list of classes written out in full.
_MAX_CLASSES = 100


@dataclass(frozen=True)
class _Task:
    """What a card says about one estimator class."""

    title: str
    pipeline_tag: str
    #: Markdown lines of the "How to load" section.
    load: tuple[str, ...]
    #: A note under the header of the card, or "".
    note: str = ""


def _sequence_load(name: str, what: str) -> tuple[str, ...]:
    return (
        "With sentence-transformers, which runs the encoder, the pooling and "
        f"the head ({what}; sentence pairs as `(text_a, text_b)` tuples):",
        "",
        "```python",
        "from sentence_transformers import SentenceTransformer",
        "",
        f'outputs = SentenceTransformer("{_FOLDER}").encode(["some text"])',
        "```",
        "",
        "With sklearn-bert, to fine-tune on from the encoder and the head (same "
        "`pooling`; with tabular columns, the same `text_columns` and `fusion`):",
        "",
        "```python",
        f"from sklearn_bert import {name}",
        "",
        f'estimator = {name}(model="{_FOLDER}").fit(X, y)',
        "```",
        "",
        "Do not load the folder with `AutoModelForSequenceClassification`: "
        "its classes cannot express this head and would start from a new one.",
    )


def _hf_load(auto_class: str, then: str = "BertClassifier") -> tuple[str, ...]:
    return (
        "```python",
        f"from transformers import {auto_class}, AutoTokenizer",
        "",
        f'tokenizer = AutoTokenizer.from_pretrained("{_FOLDER}")',
        f'model = {auto_class}.from_pretrained("{_FOLDER}")',
        "```",
        "",
        "The folder can also be passed as `model` to an estimator of "
        f'sklearn-bert, for example `{then}(model="{_FOLDER}")`.',
    )


#: The card of each estimator class, by class name (the engine does not
#: import the estimators); a subclass gets its nearest base's card.
_TASKS = {
    "BertClassifier": _Task(
        "text classification",
        "text-classification",
        _sequence_load("BertClassifier", "one logit per class"),
    ),
    "BertRegressor": _Task(
        "text regression",
        "text-classification",
        _sequence_load("BertRegressor", "the predictions, on the scale of `y`"),
        note=(
            "A regression model: the hub has no pipeline tag for text "
            "regression, so this card uses `text-classification`, as "
            "transformers does for its regression heads "
            '(`problem_type="regression"`).'
        ),
    ),
    "BertTokenClassifier": _Task(
        "token classification",
        "token-classification",
        _hf_load("AutoModelForTokenClassification", "BertTokenClassifier"),
    ),
    "BertQuestionAnswerer": _Task(
        "extractive question answering",
        "question-answering",
        _hf_load("AutoModelForQuestionAnswering", "BertQuestionAnswerer"),
    ),
    "BertMaskedLM": _Task(
        "masked language modelling",
        "fill-mask",
        _hf_load("AutoModelForMaskedLM"),
    ),
}
#: Said in "How to load" of a model fusing text and tabular columns.
_FUSED = (
    "This model also reads tabular columns (`text_columns`), which "
    "sentence-transformers cannot feed: there, `encode` returns the fine-tuned "
    "text embeddings, not the head's outputs."
)
#: The card of an estimator class not in ``_TASKS``.
_ENCODER = _Task("text embeddings", "feature-extraction", _hf_load("AutoModel"))


def write_model_card(estimator: Any, path: Any) -> Path:
    """Write ``estimator``'s model card into the saved folder ``path``.

    Called by every ``save_pretrained`` after the model's files are written,
    in the process that wrote them (:func:`~.distributed.is_writer`). A
    ``README.md`` of the user's own (one without ``library_name:
    sklearn-bert`` in its header) is kept, with a ``UserWarning``.

    Parameters
    ----------
    estimator : estimator
        The fitted estimator that saved the folder.
    path : str or path-like
        The folder ``save_pretrained`` wrote.

    Returns
    -------
    path : pathlib.Path
        The folder.
    """
    from .distributed import is_writer

    path = Path(path)
    if not is_writer(bool(getattr(estimator, "distributed", False))):
        return path
    card = path / CARD_FILE
    if card.exists() and not is_own_card(card.read_text(errors="replace")):
        warnings.warn(
            f"{card} exists and was not written by sklearn-bert: it is kept, and "
            "no model card was written. Remove it, or save into a new folder, "
            "to get the generated card.",
            UserWarning,
            stacklevel=3,
        )
        return path
    card.write_text(model_card(estimator), encoding="utf-8")
    return path


def is_own_card(text: str) -> bool:
    """Whether a ``README.md``'s text is a card written by this library.

    Examples
    --------
    >>> is_own_card("---\\nlibrary_name: sklearn-bert\\n---\\n# A model\\n")
    True
    >>> is_own_card("# My notes on this model\\n")
    False
    """
    header = _header(text)
    return isinstance(header, dict) and header.get("library_name") == LIBRARY_NAME


def _header(text: str) -> Any:
    """The YAML header of a Markdown file (None without one)."""
    import yaml

    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            try:
                return yaml.safe_load("\n".join(lines[1:end]))
            except yaml.YAMLError:
                return None
    return None


def model_card(estimator: Any) -> str:
    """The text of ``estimator``'s model card (see the module docstring)."""
    import yaml

    name = type(estimator).__name__
    task = _task(estimator)
    base = base_model_name(estimator)
    header = {
        "library_name": LIBRARY_NAME,
        "pipeline_tag": task.pipeline_tag,
        "base_model": base,
        "tags": [LIBRARY_NAME, "scikit-learn", name, task.pipeline_tag],
    }
    sections = [
        ["---", yaml.safe_dump(header, sort_keys=False).rstrip(), "---", ""],
        [f"# {name}: {task.title}", ""]
        + ([task.note, ""] if task.note else [])
        + [
            f"A `{name}` of sklearn-bert, trained from `{base}` and saved with "
            "`save_pretrained`.",
        ],
        _base_model(estimator, base),
        _outputs(estimator),
        _training_data(estimator),
        _settings(estimator),
        _history(estimator),
        _calibration(estimator),
        ["## How to load", "", *task.load]
        + (["", _FUSED] if getattr(estimator, "text_columns", None) else []),
        ["## Intended use", "", "_Describe the texts and uses this model is for._"],
        [
            "## Limitations",
            "",
            "_Describe where the model fails, its biases, and the data it was "
            "not evaluated on._",
        ],
        _versions(),
    ]
    return "\n\n".join("\n".join(s).strip("\n") for s in sections if s) + "\n"


def base_model_name(estimator: Any) -> str:
    """The ``model`` an estimator started from, without folders of the
    machine (a model given as an estimator: that estimator's model)."""
    from .._io.loading import portable_name
    from .._io.models import _ALIASES
    from .base import model_name

    name = portable_name(model_name(getattr(estimator, "model", "")))
    return _ALIASES.get(name, name)  # a bundled model by its hub id


def _base_model(estimator: Any, base: str) -> list[str]:
    lines = ["## Base model", "", f"`{base}`"]
    model = getattr(estimator, "model", None)
    if model is not None and not isinstance(model, str | os.PathLike):
        inner = getattr(model, "estimator", model)  # a FrozenEstimator's
        lines[-1] += f", first adapted by a `{type(inner).__name__}`."
    return lines


def _task(estimator: Any) -> _Task:
    for cls in type(estimator).__mro__:
        if cls.__name__ in _TASKS:
            return _TASKS[cls.__name__]
    return _ENCODER


def _outputs(estimator: Any) -> list[str]:
    """The classes, targets, tag set, answer spans or vocabulary."""
    name = _task(estimator).pipeline_tag
    classes = getattr(estimator, "classes_", None)
    if hasattr(estimator, "n_outputs_"):  # a regressor
        n = int(estimator.n_outputs_)
        return [
            "## Targets",
            "",
            f"{n} numeric target{'s' if n > 1 else ''}, predicted on the scale of "
            "the `y` the model was fitted on.",
        ]
    if classes is not None:
        title = "Tag set" if name == "token-classification" else "Classes"
        lines = [f"## {title}", ""]
        if getattr(estimator, "_multilabel_", False):
            lines += ["Multi-label: each class is predicted on its own.", ""]
        shown = list(classes)[:_MAX_CLASSES]
        lines += [f"- {_code(c)}" for c in shown]
        if len(classes) > len(shown):
            lines.append(f"- … and {len(classes) - len(shown)} more")
        return lines
    if name == "question-answering":
        return [
            "## Outputs",
            "",
            "Answer spans: the answer to a question is a span of its context "
            "(or no answer).",
        ]
    tokenizer = getattr(estimator, "tokenizer_", None)
    if name == "fill-mask" and tokenizer is not None:
        return [
            "## Outputs",
            "",
            f"Tokens of the tokenizer's vocabulary ({len(tokenizer)} tokens) for "
            "each masked position.",
        ]
    return []


def _training_data(estimator: Any) -> list[str]:
    """The training columns' names and the number of rows, never data."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        columns = ", ".join(_code(c) for c in names)
    else:
        n = getattr(estimator, "n_features_in_", None)
        columns = {1: "one unnamed text column", 2: "two unnamed text columns"}.get(
            n, "unnamed text columns"
        )
    lines = ["## Training data", "", f"- Columns: {columns}"]
    n_samples = getattr(estimator, "n_samples_fit_", None)
    if n_samples is not None:
        lines.append(f"- Training rows: {int(n_samples)} (as given to `fit`)")
    return lines


def _settings(estimator: Any) -> list[str]:
    """The fitted settings, then the constructor parameters (values that are
    objects, such as a model given as an estimator or callbacks, are left out)."""
    lines = ["## Training settings", "", "Fitted:", ""]
    lines += [
        f"- `{attr}`: {_value(getattr(estimator, attr))}"
        for attr in _FITTED
        if _plain(getattr(estimator, attr, object()))
    ]
    params = estimator.get_params(deep=False)
    if params.get("text_columns") is None:
        params.pop("fusion", None)  # used with text_columns only
    lines += ["", "Parameters:", ""]
    lines += [
        f"- `{key}`: {_value(params[key])}"
        for key in _PARAMS
        if key in params and _plain(params[key])
    ]
    return lines


def _history(estimator: Any) -> list[str]:
    """One table row per epoch: losses and the validation score(s)."""
    rows = [dict(row) for row in getattr(estimator, "history_", None) or ()]
    rows = [row for row in rows if "epoch" in row]
    if not rows:
        return []
    scores = _unique(
        key
        for row in rows
        for key in row
        if key.startswith("valid_")
        and key not in _NOT_SCORES
        and not key.endswith("_best")
    )
    columns = ["epoch", "train_loss"]
    columns += ["valid_loss"] if any("valid_loss" in row for row in rows) else []
    columns += scores
    lines = [
        "## Training history",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---:" for _ in columns) + "|",
    ]
    lines += [
        "| " + " | ".join(_cell(row.get(col)) for col in columns) + " |" for row in rows
    ]
    if len(columns) == 2:
        lines += [
            "",
            "No validation scores (they are recorded with `early_stopping=True`).",
        ]
    return lines


def _calibration(estimator: Any) -> list[str]:
    """The fitted temperature (``calibration="temperature"``), else what the
    probabilities are."""
    if getattr(estimator, "classes_", None) is None:
        return []  # no class probabilities
    temperature = getattr(estimator, "temperature_", None)
    asked = estimator.get_params(deep=False).get("calibration", "temperature")
    if temperature is not None and asked is not None:
        values = np.atleast_1d(np.asarray(temperature, dtype=np.float64))
        shown = ", ".join(f"{t:.4g}" for t in values)
        return [
            "## Calibration",
            "",
            "Temperature scaling: the logits are divided by "
            f"`temperature_` = {shown} (fitted on rows held out of training) "
            "before the "
            + ("sigmoid" if getattr(estimator, "_multilabel_", False) else "softmax")
            + ". The saved head includes this division. A temperature of 1 "
            "changes nothing.",
        ]
    kind = "sigmoid" if getattr(estimator, "_multilabel_", False) else "softmax"
    return [
        "## Calibration",
        "",
        f"Not calibrated: the probabilities are the model's {kind} outputs.",
    ]


def _versions() -> list[str]:
    import sklearn
    import torch

    from .._version import __version__

    return [
        "## Versions",
        "",
        f"- sklearn-bert: {__version__}",
        f"- scikit-learn: {sklearn.__version__}",
        f"- transformers: {_distribution_version('transformers')}",
        f"- torch: {torch.__version__}",
        f"- Python: {platform.python_version()}",
    ]


def _distribution_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _plain(value: Any) -> bool:
    """Whether a value is written in a card (numbers, strings, booleans,
    None and sequences of them; not objects)."""
    scalar = (str, bool, int, float, np.generic, type(None))
    if isinstance(value, list | tuple):
        return all(isinstance(v, scalar) for v in value)
    return isinstance(value, scalar)


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, np.generic):
        value = value.item()
    return _code(value) if isinstance(value, str) else str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return f"{float(value):.4f}"
    return str(value)


def _code(value: Any) -> str:
    """Inline code of one line (a label or column name)."""
    text = " ".join(str(value).split())
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _unique(items: Iterable[str]) -> Sequence[str]:
    return list(dict.fromkeys(items))

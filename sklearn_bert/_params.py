"""Shared parameters: one source for their constraints, defaults and docs.

Every estimator builds its ``_parameter_constraints`` from :data:`CONSTRAINTS`
and writes each shared parameter's description in its docstring exactly as
:data:`DOCS` says (``tests/test_params.py`` checks both, and that docstring
defaults match the signatures), so that a word means the same in every
estimator and docstrings read whole in an IDE.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._io.models import DEFAULT_MODEL
from ._text.pooling import POOLINGS
from ._text.tokenize import LONG_TEXT_OPTIONS

#: Values of ``precision``.
PRECISIONS = ("auto", "float32", "bfloat16", "float16")

#: Values of ``fusion`` (see ``_nn.fusion``).
FUSIONS = ("concat", "gated", "attention")

#: Values of ``combine_texts``.
COMBINE_TEXTS = ("join", "separate")

#: What the learning rate does after the warmup.
LR_SCHEDULES = ("linear", "constant")

#: Values of ``chunk_aggregation`` (see ``_tasks.sequence.chunks``).
CHUNK_AGGREGATIONS = ("mean_logits", "max_logits", "mean_pooled")

#: The parameters of the estimators that predict from the windows of long
#: texts (``long_text="chunk"``).
CHUNKING = ("long_text", "stride", "chunk_aggregation")

#: The parameters of the estimators that fuse text and tabular columns.
FUSION = ("text_columns", "tabular_preprocessor", "fusion", "combine_texts")


#: Constraints of every shared parameter.
CONSTRAINTS: dict[str, list] = {
    # A checkpoint name or folder, or an estimator exporting pretrained
    # weights (a BertMaskedLM): see ``_engine.base.BertBase._load_pretrained``.
    "model": [str, os.PathLike, HasMethods(["fit", "_export_pretrained_files"])],
    "max_length": [Interval(Integral, 4, None, closed="left"), None],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "device": [str],
    "precision": [StrOptions(set(PRECISIONS))],
    "verbose": ["verbose"],
    "pooling": [StrOptions(set(POOLINGS))],
    "long_text": [StrOptions(set(LONG_TEXT_OPTIONS))],
    "stride": [Interval(Integral, 0, None, closed="left")],
    "chunk_aggregation": [StrOptions(set(CHUNK_AGGREGATIONS))],
    "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
    "head_lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "warmup_ratio": [Interval(Real, 0, 1, closed="both")],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
    "gradient_accumulation_steps": [Interval(Integral, 1, None, closed="left")],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "early_stopping": ["boolean"],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "group_by_length": ["boolean"],
    "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    "freeze_encoder": ["boolean"],
    "trainable_layers": [Interval(Integral, 0, None, closed="left"), None],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "class_weight": [dict, StrOptions({"balanced"}), None],
    "calibration": [StrOptions({"temperature"}), None],
    "random_state": ["random_state"],
    "callbacks": [list, None],
    "text_columns": [str, list, None],
    "tabular_preprocessor": [
        StrOptions({"auto", "passthrough"}),
        HasMethods(["fit", "transform"]),
    ],
    "fusion": [StrOptions(set(FUSIONS))],
    "combine_texts": [StrOptions(set(COMBINE_TEXTS))],
    "warm_start": ["boolean"],
    "checkpoint_dir": [str, os.PathLike, None],
    "training_store": ["boolean", str, os.PathLike, None],
    "distributed": ["boolean"],
}

#: The parameters of every estimator.
COMMON = ("model", "max_length", "batch_size", "device", "precision", "verbose")

#: The parameters of every fine-tuning estimator.
TRAINING = (
    "max_epochs",
    "lr",
    "head_lr",
    "weight_decay",
    "warmup_ratio",
    "lr_schedule",
    "gradient_accumulation_steps",
    "validation_fraction",
    "early_stopping",
    "n_iter_no_change",
    "group_by_length",
    "max_grad_norm",
    "freeze_encoder",
    "trainable_layers",
    "dropout",
    "random_state",
    "callbacks",
    "warm_start",
    "checkpoint_dir",
    "training_store",
)

#: Defaults of the shared parameters (an estimator may choose its own for
#: ``max_length``, ``batch_size``, ``long_text`` and ``stride``).
DEFAULTS: dict[str, Any] = {
    "model": DEFAULT_MODEL,
    "batch_size": 16,
    "device": "auto",
    "precision": "auto",
    "verbose": 0,
    "pooling": "mean",
    "chunk_aggregation": "mean_logits",
    "max_epochs": "auto",
    "lr": "auto",
    "head_lr": "auto",
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "lr_schedule": "linear",
    "gradient_accumulation_steps": 1,
    "validation_fraction": 0.1,
    "early_stopping": False,
    "n_iter_no_change": 2,
    "group_by_length": True,
    "max_grad_norm": 1.0,
    "freeze_encoder": False,
    "trainable_layers": None,
    "dropout": 0.1,
    "random_state": None,
    "callbacks": None,
    "text_columns": None,
    "tabular_preprocessor": "auto",
    "fusion": "concat",
    "combine_texts": "join",
    "warm_start": False,
    "checkpoint_dir": None,
    "training_store": None,
    "distributed": False,
}


@dataclass(frozen=True)
class AutoBudget:
    """What ``"auto"`` means for ``max_epochs`` and ``lr`` in one task.

    Attributes
    ----------
    steps : int
        Optimizer steps to aim for (``max_epochs="auto"``).
    epochs : tuple of int
        The range of epochs that may take.
    lr : float
        The encoder's peak learning rate (``lr="auto"``).
    """

    steps: int
    epochs: tuple[int, int]
    lr: float


#: The "auto" training budget of each task (user guide, "Defaults that
#: adapt"), keyed by the estimators' ``_task``:
#:
#: - about 250 optimizer steps in 3 to 20 epochs at 5e-5 for most tasks;
#: - token labelling at 2e-4: on 200 NER sentences, entity F1 0.280 at 5e-5,
#:   0.310 at 1e-4, 0.366 at 2e-4 (benchmarks/results/ner_lr_2e-4.json);
#: - contrastive fine-tuning: each step sees every pair of its batch, so few
#:   steps at a higher rate do what SetFit's many explicit pairs do (on 8
#:   fine-food reviews per class, 10 steps at 1e-4 scored within 2 points of
#:   60 steps at 2e-5 in a sixth of the time:
#:   benchmarks/results/few_shot_contrastive_budget.json).
AUTO_BUDGET: dict[str, AutoBudget] = {
    "sequence": AutoBudget(steps=250, epochs=(3, 20), lr=5e-5),
    "masked-lm": AutoBudget(steps=250, epochs=(3, 20), lr=5e-5),
    "question-answering": AutoBudget(steps=250, epochs=(3, 20), lr=5e-5),
    "token": AutoBudget(steps=250, epochs=(3, 20), lr=2e-4),
    "contrastive": AutoBudget(steps=20, epochs=(1, 10), lr=1e-4),
}

#: With ``head_lr="auto"``: the head's peak learning rate, as a multiple of
#: the encoder's, when the head starts from random weights.
AUTO_HEAD_LR_FACTOR = 20.0

#: Parameters whose default an estimator may choose (with its own reason).
OWN_DEFAULTS = frozenset({"max_length", "batch_size", "long_text", "stride"})

#: The description of each shared parameter, as every docstring writes it
#: (without the ``name : type, default=...`` line).
DOCS: dict[str, str] = {
    "model": """
A local folder, a Hugging Face hub id, the name of a bundled model, or a
:class:`BertMaskedLM` to start from (a fitted one as it is; an unfitted one
is first fitted on the texts passed to ``fit``). The default is bundled with
the install and works offline. A folder written by ``save_pretrained``
continues from its weights.""",
    "max_length": """
Maximum tokens per sequence fed to the encoder (a text, a sentence pair, a
chunk or a window), special tokens included. None uses the model's limit
(at most 512).""",
    "batch_size": """
Sequences per training step and per forward pass at inference. Batches are
formed from sequences of similar length, so padding stays small.""",
    "device": """
``"auto"`` (CUDA, then MPS, then the CPU), ``"cpu"``, ``"cuda"``,
``"cuda:1"``, ... Set another value after ``fit`` to move a fitted model for
inference.""",
    "precision": """
Precision of the forward passes (mixed precision: the weights stay float32
and each pass computes in this type, as PyTorch's autocast does).
``"auto"`` uses ``"bfloat16"`` where the device multiplies bfloat16
natively (CPUs with AMX or AVX512-BF16, GPUs from Ampere on) and
``"float32"`` elsewhere; ``fit`` records its choice in ``precision_``.
``"float16"`` is GPU only (training then scales the loss).
Outputs are float32.""",
    "verbose": """
0 is silent; 1 prints one line per training epoch (losses, validation score,
duration), a progress line at most every 15 s while a training epoch, a
prediction or an encoding runs long, and notes such as newly initialised
weights; 2 shows progress bars instead of those lines and adds transformers'
loading reports.""",
    "pooling": """
How the token vectors of the encoder's last layer become one vector per text
(the vector that is returned, or that a task head reads): ``"mean"`` (their
attention-masked mean), ``"cls"`` (the first token's vector, ``[CLS]`` or
``<s>``) or ``"max"`` (their element-wise maximum).""",
    "long_text": """
What to do with a text longer than ``max_length`` tokens: ``"truncate"``
keeps its start (a ``UserWarning`` says how many texts were cut);
``"chunk"`` reads it whole, as windows of ``max_length`` tokens. A text's
output (its embedding, or its prediction as ``chunk_aggregation`` says)
combines its windows', which overlap by ``stride`` tokens. In ``fit`` each
window is a training sequence carrying its text's target and an equal share
of its weight; masked-LM pretraining, which has no targets, trains on
consecutive windows that do not overlap. For sentence pairs only the second
text is split (the masked LM truncates pairs). Fused input
(``text_columns``) is always truncated.""",
    "stride": """
Tokens shared by consecutive windows (chunks) of an input longer than
``max_length``.""",
    "chunk_aggregation": """
How the windows of a text split by ``long_text="chunk"`` make its
prediction: ``"mean_logits"`` averages the head's outputs over the windows
(the logits, before the softmax or sigmoid; the regressor's values),
``"max_logits"`` takes their element-wise maximum (a class or label that one
window speaks for strongly wins; the largest value), ``"mean_pooled"``
applies the head to the windows' pooled vectors averaged with their token
counts as weights (a short last window counts less). Read at prediction,
so it can be changed after ``fit``: training is the same for every value
(each window learns its text's target), except that early stopping scores
its validation texts with it.""",
    "max_epochs": """
Passes over the training data. ``"auto"`` aims at a fixed number of optimizer
steps, within a range of epochs, so that small data sets get more passes;
``fit`` records its choice in ``max_epochs_``.""",
    "lr": """
Peak learning rate of AdamW for the encoder. ``"auto"`` is decided in
``fit`` per task (see the user guide, "Defaults that adapt") and recorded in
``lr_``.""",
    "head_lr": """
Peak learning rate of the weights that start fresh: the task head and, with
``text_columns``, the tabular layers and the fusion (they follow the same
warmup and decay as ``lr``). ``"auto"`` is 20 times the encoder's for a new
head and the encoder's for a head a checkpoint already trained; the value
used is in ``head_lr_``. None uses ``lr``.""",
    "weight_decay": """
AdamW weight decay (not applied to biases and normalisation weights).""",
    "warmup_ratio": """
Length of the linear warmup of the learning rate: this fraction of the
fit's optimizer steps with ``lr_schedule="linear"``, of the task's
``"auto"`` step budget with ``"constant"`` (so it does not depend on
``max_epochs``).""",
    "lr_schedule": """
After the warmup, ``"linear"`` decays the learning rate to 0 at the end of
training; ``"constant"`` keeps it at its peak. Under ``"constant"`` the first
``k`` epochs do not depend on ``max_epochs``, so a ``training_store`` serves
every ``max_epochs`` of a search from one fit.""",
    "gradient_accumulation_steps": """
Batches whose gradients add up before one optimizer step.""",
    "validation_fraction": """
Share of the training rows held out when ``early_stopping=True``. Classes
are stratified where possible; the windows or chunks of one row stay on one
side.""",
    "early_stopping": """
Hold out ``validation_fraction`` of the rows, score them after each epoch,
stop when the validation loss has not improved for ``n_iter_no_change``
epochs and restore the best epoch's weights.""",
    "n_iter_no_change": """
Patience of early stopping, in epochs.""",
    "group_by_length": """
Form each training batch from rows of similar length (less padding, faster
epochs); batches are drawn afresh every epoch. False draws plain shuffled
batches.""",
    "max_grad_norm": """
Clip the norm of the gradients at this value before each optimizer step;
None does not clip.""",
    "freeze_encoder": """
Train the task head only; the encoder's weights stay as loaded.""",
    "trainable_layers": """
Train only the top ``k`` transformer layers (and the head); None trains all
of them.""",
    "dropout": """
Dropout before the task head's output layer, in training. The encoder's own
dropout stays as its config says.""",
    "random_state": """
Seeds the new head's initialisation, the batches, dropout and the
validation split where there is one: an int gives the same model on every
fit (on the CPU).
The global random generators are left as they were.""",
    "callbacks": """
Extra skorch callbacks, appended to the built-in ones; all their events
fire, ``on_grad_computed`` included.""",
    "text_columns": """
With a DataFrame ``X``: the name (or list of names) of its text columns;
every other column is tabular and goes through ``tabular_preprocessor``
into the network beside the pooled text. None reads ``X`` as texts or
sentence pairs.""",
    "tabular_preprocessor": """
Turns the tabular columns into numbers, fitted in ``fit`` on the training
rows and applied in ``predict`` (stored in ``tabular_preprocessor_``).
``"auto"``: numeric and boolean columns imputed with the median (plus a
missing-value indicator) and standardised; other columns imputed with
``"missing"`` and one-hot encoded (at most 32 categories each, unknown ones
encoded as infrequent or as zeros). ``"passthrough"`` uses numeric columns
as they are; or any scikit-learn transformer returning numbers.""",
    "fusion": """
How the tabular vector joins the pooled text vector: ``"concat"`` (tabular
values through a dense layer, concatenated with the text vector),
``"gated"`` (a learned gate mixes both, feature by feature) or
``"attention"`` (each tabular value becomes a token the text vector attends
to). Used with ``text_columns`` only.""",
    "combine_texts": """
With several ``text_columns``: ``"join"`` encodes them as one sequence
separated by the separator token (one forward pass, the texts attend to each
other, ``max_length`` shared); ``"separate"`` encodes each on its own with
the same encoder (``max_length`` each) and concatenates their pooled
vectors.""",
    "warm_start": """
Continue training instead of starting over: from the checkpoint in
``checkpoint_dir`` if its fit did not finish (to ``max_epochs`` epochs in
all, as if it had never stopped), otherwise from the fitted model
(``max_epochs`` more epochs, with a new learning-rate schedule; the classes
or outputs must stay the same).""",
    "checkpoint_dir": """
Folder where a checkpoint of the training state is written after every epoch
(safetensors and JSON only, nothing that runs code when read); with
``warm_start=True`` an interrupted fit resumes from it. Give every fit its
own folder. None writes no checkpoint.""",
    "training_store": """
Keep the training state at the end of every epoch for later fits with the
same data, seed and settings (a search's clones, a repeated
``cross_val_score``): one that asks for as many epochs or fewer takes the
stored epoch without training; one that asks for more resumes from the last
stored epoch. Under ``lr_schedule="linear"`` only a fit with the same
``max_epochs`` matches. ``True`` keeps it in a temporary folder of this
process (emptied by :func:`clear_cache` and at exit); a folder keeps it on
disk, shared by processes. Needs an integer ``random_state``. The store
holds at most ``SKLEARN_BERT_TRAINING_STORE_GB`` (default 8) gigabytes,
dropping the least recently used fits first (user guide, "Searches that
reuse epochs").""",
    "distributed": """
Spread ``fit`` over the processes of a ``torchrun`` or ``accelerate launch``
job (torch ``DistributedDataParallel``: gloo on the CPU, NCCL on GPUs, one
GPU per process). Every process calls ``fit`` with the same data and trains
on its share of each batch of ``batch_size`` rows, so the effective batch
size stays ``batch_size``; only process 0 prints and writes
(``save_pretrained``). Outside such a job, ``fit`` runs in one process.""",
}


def constraints(*names: str) -> dict[str, list]:
    """The constraints of ``names``, for an estimator's ``_parameter_constraints``."""
    return {name: CONSTRAINTS[name] for name in names}


#: The type of each shared parameter, as docstrings write it before
#: ``, default=...``.
TYPES: dict[str, str] = {
    "model": "str or estimator",
    "max_length": "int or None",
    "batch_size": "int",
    "device": "str",
    "precision": '{"auto", "float32", "bfloat16", "float16"}',
    "verbose": "int",
    "pooling": '{"mean", "cls", "max"}',
    "long_text": '{"truncate", "chunk"}',
    "stride": "int",
    "chunk_aggregation": "str",
    "max_epochs": 'int or "auto"',
    "lr": 'float or "auto"',
    "head_lr": 'float, "auto" or None',
    "weight_decay": "float",
    "warmup_ratio": "float",
    "lr_schedule": '{"linear", "constant"}',
    "gradient_accumulation_steps": "int",
    "validation_fraction": "float",
    "early_stopping": "bool",
    "n_iter_no_change": "int",
    "group_by_length": "bool",
    "max_grad_norm": "float or None",
    "freeze_encoder": "bool",
    "trainable_layers": "int or None",
    "dropout": "float",
    "random_state": "int, RandomState instance or None",
    "callbacks": "list of skorch callbacks or None",
    "text_columns": "str, list of str or None",
    "tabular_preprocessor": '"auto", "passthrough" or transformer',
    "fusion": '{"concat", "gated", "attention"}',
    "combine_texts": '{"join", "separate"}',
    "warm_start": "bool",
    "checkpoint_dir": "str, path-like or None",
    "training_store": "bool, str, path-like or None",
    "distributed": "bool",
}

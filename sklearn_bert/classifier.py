"""BertClassifier and BertRegressor: fine-tuned encoders for texts and pairs."""

from __future__ import annotations

import functools
import os
import warnings
from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from ._base import BertBase
from ._data import check_sample_weight_length
from ._finetune import TRAINING_CONSTRAINTS, BertFineTuneBase
from ._models import DEFAULT_MODEL
from ._pooling import POOLINGS


class _BertSequenceBase(BertFineTuneBase):
    """Shared by the classifier and the regressor: load, tokenize, train, run."""

    _parameter_constraints: dict = {
        **BertBase._parameter_constraints,
        **TRAINING_CONSTRAINTS,
        "pooling": [StrOptions(set(POOLINGS))],
    }
    _hf_task = "sequence"

    # -- building ----------------------------------------------------------
    def _load(self, X: Any, n_outputs: int, label_config: dict[str, Any]):
        """Load tokenizer and model (seeded: a fresh head follows random_state)."""
        import torch

        from ._device import seed_from

        task = "sequence" if self.pooling == "cls" else "base"
        kwargs = {**label_config, "ignore_mismatched_sizes": True}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_from(self.random_state))
            if task == "sequence":
                tokenizer, model = self._load_pretrained(task, X, **kwargs)
            else:
                tokenizer, model = self._load_pretrained(task, X)
        return tokenizer, model

    def _fit_module(
        self,
        X: Any,
        text_input: Any,
        targets: list[Any],
        weights: np.ndarray,
        *,
        n_outputs: int,
        label_config: dict[str, Any],
        criterion: Any,
        scorer: Any,
        score_name: str,
        stratify: np.ndarray | None,
    ) -> None:
        from ._encode import effective_max_length, model_input_names
        from ._models import resolve_model
        from ._sequence import build_module, freeze, read_saved_head
        from ._skorch import FeatureDataset

        tokenizer, model = self._load(X, n_outputs, label_config)
        self.tokenizer_ = tokenizer
        self.max_length_ = effective_max_length(
            tokenizer, model.config, self.max_length
        )
        self._input_names = model_input_names(model)
        features = self._tokenize(text_input)
        dataset = FeatureDataset(features, targets, weights)
        # A folder written by ``save_pretrained`` may hold our pooled head; a
        # ``BertMaskedLM`` source never does.
        source = self.model
        is_name = isinstance(source, str | os.PathLike)
        folder = resolve_model(source).path if is_name else None
        head_state = read_saved_head(folder, self.pooling)

        def build():
            module = build_module(
                (tokenizer, model),
                pooling=self.pooling,
                n_outputs=n_outputs,
                dropout=self.dropout,
                head_state=head_state,
            )
            freeze(module, self.freeze_encoder, self.trainable_layers)
            return module, criterion

        self.net_ = self._train(
            build,
            dataset,
            pad_token_id=_pad_id(tokenizer),
            stratify=stratify,
            scorer=scorer,
            score_name=score_name,
        )

    def _tokenize(self, text_input: Any) -> list[dict[str, list[int]]]:
        from ._encode import tokenize

        tok = tokenize(
            self.tokenizer_,
            text_input,
            max_length=self.max_length_,
            input_names=self._input_names,
        )
        if tok.n_truncated:
            warnings.warn(
                f"{tok.n_truncated} text(s) are longer than max_length="
                f"{self.max_length_} tokens and were truncated; raise max_length "
                "(up to the model's limit) to keep more of each text.",
                UserWarning,
                stacklevel=4,
            )
        return tok.features

    # -- inference ---------------------------------------------------------
    def _raw_outputs(self, X: Any) -> np.ndarray:
        """Head outputs (logits or standardised values), shape (n, n_outputs)."""
        from ._encode import unique_rows
        from ._skorch import FeatureDataset

        check_is_fitted(self, "net_")
        text_input = self._check_text(X, reset=False)
        uniq, inverse = unique_rows(text_input)
        dataset = FeatureDataset(self._tokenize(uniq))
        out = _gather(self._predict_outputs(dataset), len(dataset))
        return out[inverse]

    def _save(self, path: Any, config_updates: dict[str, Any], **fold) -> Any:
        from ._sequence import save_sequence_model

        check_is_fitted(self, "net_")
        return save_sequence_model(
            self.net_.module_,
            self.tokenizer_,
            path,
            config_updates=config_updates,
            pooling=self.pooling,
            verbose=self.verbose,
            **fold,
        )


def _pad_id(tokenizer: Any) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


def _gather(batches: list[tuple[np.ndarray, Any]], n: int) -> np.ndarray:
    """Scatter per-batch outputs back to row order, as float32 (n, k)."""
    out: np.ndarray | None = None
    for idx, values in batches:
        values = values.numpy()
        if out is None:
            out = np.empty((n, values.shape[1]), dtype=np.float32)
        out[idx] = values
    assert out is not None
    return out


def _net_outputs(net: Any, dataset: Any) -> np.ndarray:
    from ._skorch import predict_batches

    return _gather(list(predict_batches(net, dataset, net.batch_size)), len(dataset))


def _valid_accuracy(net: Any, dataset: Any, *, multilabel: bool) -> float:
    """Validation accuracy (subset accuracy for multi-label) of the net."""
    logits = _net_outputs(net, dataset)
    targets = np.asarray(dataset.targets)
    if multilabel:
        return float(np.mean(np.all((logits > 0) == (targets > 0.5), axis=1)))
    return float(np.mean(logits.argmax(axis=1) == targets))


def _valid_r2(net: Any, dataset: Any) -> float:
    """Validation R² (on the standardised targets: the same value)."""
    from sklearn.metrics import r2_score

    return float(r2_score(np.asarray(dataset.targets), _net_outputs(net, dataset)))


_SHARED_PARAMS_DOC = """
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, or a bundled model name. A
        folder written by :meth:`save_pretrained` continues from its weights.
    pooling : {"mean", "cls", "max"}, default="mean"
        What the head reads: the attention-masked mean of the token vectors,
        the family's own sequence-classification head on the first token
        (``AutoModelForSequenceClassification``), or the element-wise
        maximum. See Notes for how :meth:`save_pretrained` output behaves.
    max_length : int or None, default=256
        Maximum tokens per text or pair (longer ones are truncated with a
        ``UserWarning``). None uses the model's limit (at most 512).
    batch_size : int, default=16
        Rows per training step and per inference batch.
    max_epochs : int, default=3
        Passes over the training data.
    lr : float, default=5e-5
        Peak learning rate of AdamW.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and norms).
    warmup_ratio : float, default=0.1
        Fraction of the optimizer steps with a linear warmup; the learning
        rate then decays linearly to 0 at the end of training.
    gradient_accumulation_steps : int, default=1
        Batches whose gradients add up before one optimizer step.
    validation_fraction : float, default=0.1
        Share of the training rows held out when ``early_stopping=True``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when the validation
        loss has not improved for ``n_iter_no_change`` epochs and restore the
        best epoch's weights.
    n_iter_no_change : int, default=2
        Patience of early stopping, in epochs."""

_SHARED_PARAMS_DOC_2 = """
    freeze_encoder : bool, default=False
        Train the head only (the encoder's weights stay as loaded).
    trainable_layers : int or None, default=None
        Train only the top ``k`` transformer layers (and the head); None
        trains all of them.
    dropout : float, default=0.1
        Dropout before the linear head.
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ...
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Autocast precision of forward passes; ``"bfloat16"`` is faster on
        recent CPUs and GPUs.
    random_state : int, RandomState instance or None, default=None
        Seeds the head's initialisation, shuffling, dropout and the
        validation split. A fixed value gives identical predictions on refit
        (on the CPU).
    verbose : int, default=0
        0 is silent; 1 prints one line per epoch (train loss, valid loss,
        validation score, duration); 2 adds progress bars.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks, appended to the built-in ones."""


class BertClassifier(ClassifierMixin, _BertSequenceBase):
    """Fine-tune a BERT-style encoder with a classification head.

    Binary, multi-class and multi-label (a 2-D indicator ``y``) classification
    of texts or sentence pairs (two columns, encoded as
    ``[CLS] a [SEP] b [SEP]``). Labels may be strings, integers or booleans:
    ``classes_`` holds them, ``predict`` returns them, and the columns of
    ``predict_proba`` follow them.

    Parameters
    ----------
    {shared}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in ``LogisticRegression``:
        ``"balanced"`` uses ``n_samples / (n_classes * count(class))``; a dict
        maps labels to weights (missing labels weigh 1). Multiplied into
        ``sample_weight``. Not available for multi-label ``y``.
    threshold : float, default=0.5
        Multi-label only: a label is predicted when its probability is at
        least ``threshold``. Binary and multi-class ``predict`` take the most
        probable class (use ``TunedThresholdClassifierCV`` to tune a binary
        threshold).
    {shared2}

    Attributes
    ----------
    classes_ : ndarray
        The labels (sorted), or ``arange(n_labels)`` for multi-label ``y``.
    net_ : BertNet
        The fitted skorch net; ``net_.module_`` holds the only copy of the
        weights and ``net_.history`` the training history.
    tokenizer_ : transformers.PreTrainedTokenizerFast
        The tokenizer.
    max_length_ : int
        The token limit in use.
    n_features_in_ : int
        1 for single texts, 2 for sentence pairs.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.

    See Also
    --------
    BertRegressor : The same model with a regression head.
    BertTransformer : Frozen (or fine-tuned) embeddings for another estimator.

    Notes
    -----
    Training uses AdamW, a linear warmup and decay computed from the rows
    passed to ``fit``, dynamic padding (each batch padded to its longest
    row) and gradient clipping at 1.0. The defaults (mean pooling, 3 epochs,
    ``lr=5e-5``, batch size 16, ``max_length=256``) were chosen on the
    fine-food reviews benchmark (see the user guide).

    With ``pooling="cls"`` the module is the family's
    ``AutoModelForSequenceClassification`` and a folder written by
    :meth:`save_pretrained` reloads exactly with transformers. With
    ``"mean"`` or ``"max"`` the folder holds the fine-tuned encoder (which
    transformers loads, adding a fresh head of its own) and the linear head
    in ``sklearn_bert_head.safetensors``; a new estimator started from that
    folder with the same pooling restores both.

    Examples
    --------
    >>> from sklearn_bert import BertClassifier
    >>> X = ["a great film", "a dull film", "great acting", "dull plot"]
    >>> y = ["pos", "neg", "pos", "neg"]
    >>> clf = BertClassifier(max_epochs=1, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['neg', 'pos'], dtype='<U3')
    >>> clf.predict_proba(["a great plot"]).shape
    (1, 2)
    """

    _parameter_constraints: dict = {
        **_BertSequenceBase._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "threshold": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        model=DEFAULT_MODEL,
        *,
        pooling="mean",
        max_length=256,
        batch_size=16,
        max_epochs=3,
        lr=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        gradient_accumulation_steps=1,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=2,
        class_weight=None,
        threshold=0.5,
        freeze_encoder=False,
        trainable_layers=None,
        dropout=0.1,
        device="auto",
        precision="float32",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.model = model
        self.pooling = pooling
        self.max_length = max_length
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.threshold = threshold
        self.freeze_encoder = freeze_encoder
        self.trainable_layers = trainable_layers
        self.dropout = dropout
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fine-tune the encoder and the head on labelled texts.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs as two columns.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels of any type, or a 0/1 indicator matrix for multi-label.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights of the loss.

        Returns
        -------
        self : BertClassifier
            The fitted classifier.
        """
        text_input = self._check_text(X, reset=True)
        y, targets, n_outputs, stratify = self._encode_targets(y)
        check_consistent_length(text_input.texts, y)
        weights = check_sample_weight_length(sample_weight, len(text_input))
        weights = weights * self._class_weights(y, stratify)
        from ._sequence import BCEPerRow, CrossEntropyPerRow

        multilabel = self._multilabel
        names = [str(c) for c in self.classes_]
        self._fit_module(
            X,
            text_input,
            targets,
            weights,
            n_outputs=n_outputs,
            label_config={
                "id2label": dict(enumerate(names)),
                "label2id": {n: i for i, n in enumerate(names)},
                "problem_type": self._problem_type(),
            },
            criterion=BCEPerRow() if multilabel else CrossEntropyPerRow(),
            scorer=functools.partial(_valid_accuracy, multilabel=multilabel),
            score_name="valid_acc",
            stratify=stratify,
        )
        return self

    def _encode_targets(self, y):
        import scipy.sparse as sp

        if sp.issparse(y):
            y = y.toarray()
        y_type = type_of_target(y, input_name="y")
        if y_type == "multilabel-indicator":
            Y = np.asarray(y).astype(np.float32)
            self._multilabel = True
            self.classes_ = np.arange(Y.shape[1])
            return Y, list(Y), Y.shape[1], None
        check_classification_targets(y)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(
                f"y must be 1-D labels or a 2-D 0/1 indicator matrix; got {y_type} "
                f"of shape {y.shape}."
            )
        self._multilabel = False
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                "BertClassifier needs at least 2 classes in y; got only "
                f"{self.classes_.tolist()}."
            )
        encoded = encoded.astype(np.int64)
        return y, list(encoded), len(self.classes_), encoded

    def _class_weights(self, y, encoded) -> np.ndarray:
        if self.class_weight is None:
            return np.ones(len(y), dtype=np.float32)
        if self._multilabel:
            raise ValueError(
                "class_weight is not supported for multi-label y; pass "
                "sample_weight instead."
            )
        from sklearn.utils.class_weight import compute_class_weight

        per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        return per_class[encoded].astype(np.float32)

    def _problem_type(self) -> str:
        if self._multilabel:
            return "multi_label_classification"
        return "single_label_classification"

    def decision_function(self, X):
        """Logits of the head.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For binary ``y``, the logit of ``classes_[1]`` minus that of
            ``classes_[0]`` (positive means ``classes_[1]``); otherwise one
            logit per class (or per label).
        """
        logits = self._raw_outputs(X)
        if not self._multilabel and len(self.classes_) == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. Rows sum to 1 (softmax), except for
            multi-label ``y`` where each column is an independent sigmoid.
        """
        logits = self._raw_outputs(X).astype(np.float64)
        if self._multilabel:
            return 1.0 / (1.0 + np.exp(-logits))
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predict labels.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_``, or a 0/1 indicator matrix (probability
            at least ``threshold``) for multi-label ``y``.
        """
        proba = self.predict_proba(X)
        if self._multilabel:
            return (proba >= self.threshold).astype(np.int64)
        return self.classes_[proba.argmax(axis=1)]

    def save_pretrained(self, path):
        """Write a standard Hugging Face folder: config, tokenizer, weights.

        The config carries ``id2label`` / ``label2id`` from ``classes_`` and
        the ``problem_type``. The folder can be passed as ``model`` to a new
        estimator, and loaded with
        ``transformers.AutoModelForSequenceClassification.from_pretrained``
        (exactly for ``pooling="cls"``; see the class Notes otherwise).

        Parameters
        ----------
        path : str or path-like
            Folder to write (created if needed).

        Returns
        -------
        path : pathlib.Path
            The folder written.
        """
        check_is_fitted(self, "net_")
        names = [str(c) for c in self.classes_]
        return self._save(
            path,
            {
                "id2label": dict(enumerate(names)),
                "label2id": {n: i for i, n in enumerate(names)},
                "problem_type": self._problem_type(),
            },
        )


class BertRegressor(RegressorMixin, _BertSequenceBase):
    """Fine-tune a BERT-style encoder with a regression head.

    Predicts one or several numbers per text, or a score per sentence pair
    (two columns, encoded as ``[CLS] a [SEP] b [SEP]``; for example a
    similarity score). Targets are standardised for training and predictions
    mapped back to the original scale.

    Parameters
    ----------
    {shared}
    {shared2}

    Attributes
    ----------
    target_mean_ : ndarray of shape (n_outputs,)
        Mean of each target column in ``fit``.
    target_scale_ : ndarray of shape (n_outputs,)
        Standard deviation of each target column (1 where it is 0).
    n_outputs_ : int
        Number of targets.
    net_ : BertNet
        The fitted skorch net (``net_.history`` is the training history).
    tokenizer_ : transformers.PreTrainedTokenizerFast
        The tokenizer.
    max_length_ : int
        The token limit in use.
    n_features_in_ : int
        1 for single texts, 2 for sentence pairs.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.

    See Also
    --------
    BertClassifier : The same model with a classification head.

    Notes
    -----
    ``score`` is R² (averaged uniformly over outputs). :meth:`save_pretrained`
    folds the target scaling into the output layer, so the saved model
    predicts on the original scale (``problem_type="regression"``).

    Examples
    --------
    >>> from sklearn_bert import BertRegressor
    >>> X = ["a great film", "a dull film", "great acting", "dull plot"]
    >>> reg = BertRegressor(max_epochs=1, random_state=0).fit(X, [5, 1, 4, 2])
    >>> reg.predict(["a great plot"]).shape
    (1,)
    """

    def __init__(
        self,
        model=DEFAULT_MODEL,
        *,
        pooling="mean",
        max_length=256,
        batch_size=16,
        max_epochs=3,
        lr=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        gradient_accumulation_steps=1,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=2,
        freeze_encoder=False,
        trainable_layers=None,
        dropout=0.1,
        device="auto",
        precision="float32",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.model = model
        self.pooling = pooling
        self.max_length = max_length
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.freeze_encoder = freeze_encoder
        self.trainable_layers = trainable_layers
        self.dropout = dropout
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fine-tune the encoder and the head on numeric targets.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs as two columns.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights of the loss.

        Returns
        -------
        self : BertRegressor
            The fitted regressor.
        """
        text_input = self._check_text(X, reset=True)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim not in (1, 2) or not np.all(np.isfinite(y)):
            raise ValueError(
                "y must be a finite numeric array of shape (n_samples,) or "
                f"(n_samples, n_outputs); got shape {y.shape}."
            )
        check_consistent_length(text_input.texts, y)
        self._y_ndim = y.ndim
        Y = y.reshape(len(y), -1)
        self.n_outputs_ = Y.shape[1]
        self.target_mean_ = Y.mean(axis=0)
        scale = Y.std(axis=0)
        self.target_scale_ = np.where(scale > 0, scale, 1.0)
        Z = ((Y - self.target_mean_) / self.target_scale_).astype(np.float32)
        weights = check_sample_weight_length(sample_weight, len(text_input))
        from ._sequence import MSEPerRow

        self._fit_module(
            X,
            text_input,
            list(Z),
            weights,
            n_outputs=self.n_outputs_,
            label_config={
                "num_labels": self.n_outputs_,
                "problem_type": "regression",
            },
            criterion=MSEPerRow(),
            scorer=_valid_r2,
            score_name="valid_r2",
            stratify=None,
        )
        return self

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            On the scale of ``y`` (1-D when ``y`` was 1-D).
        """
        out = self._raw_outputs(X).astype(np.float64)
        pred = out * self.target_scale_ + self.target_mean_
        return pred[:, 0] if self._y_ndim == 1 else pred

    def save_pretrained(self, path):
        """Write a standard Hugging Face folder: config, tokenizer, weights.

        The config has ``problem_type="regression"`` and ``num_labels`` equal
        to ``n_outputs_``; the target scaling is folded into the output
        layer, so transformers' logits are predictions on the original scale.

        Parameters
        ----------
        path : str or path-like
            Folder to write (created if needed).

        Returns
        -------
        path : pathlib.Path
            The folder written.
        """
        check_is_fitted(self, "net_")
        return self._save(
            path,
            {"num_labels": self.n_outputs_, "problem_type": "regression"},
            target_mean=self.target_mean_,
            target_scale=self.target_scale_,
        )


for _cls in (BertClassifier, BertRegressor):
    _cls.__doc__ = _cls.__doc__.replace("    {shared}", _SHARED_PARAMS_DOC.strip("\n"))
    _cls.__doc__ = _cls.__doc__.replace(
        "    {shared2}", _SHARED_PARAMS_DOC_2.strip("\n")
    )

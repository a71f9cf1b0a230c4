"""Few-shot estimators: contrastive fine-tuning, then a scikit-learn head.

:class:`BertContrastiveClassifier` and :class:`BertContrastiveRegressor` are
``make_pipeline(BertTransformer(fine_tune="contrastive"), head)`` with the
conveniences of an estimator: ``classes_``, a default head, one ``fit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ..._engine.base import BertBase
from ..._params import constraints
from ..._typing import Targets, TextData
from ..transformer import BertTransformer

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The encoder settings the few-shot estimators pass to BertTransformer.
_ENCODER = (
    "model",
    "pooling",
    "max_length",
    "batch_size",
    "max_epochs",
    "lr",
    "weight_decay",
    "warmup_ratio",
    "device",
    "precision",
    "random_state",
    "verbose",
)


class _ContrastiveBase(BertBase):
    """Fit: contrastive encoder on (X, y), then the head on its embeddings."""

    _parameter_constraints: dict = {
        **BertBase._parameter_constraints,
        **constraints(
            "pooling",
            "max_epochs",
            "lr",
            "weight_decay",
            "warmup_ratio",
            "random_state",
        ),
        "head": [HasMethods(["fit", "predict"]), None],
    }

    def _fit(self, X: Any, y: Any) -> None:
        from ..._engine.stopping import RECORD

        text_input = self._check_text(X, reset=True)
        settings = {name: getattr(self, name) for name in _ENCODER}
        encoder = BertTransformer(**settings, fine_tune="contrastive")
        encoder.fit(X, self._encoder_targets(y))
        head = clone(self.head) if self.head is not None else self._default_head(y)
        head.fit(encoder.transform(X), y)
        fitted = {
            **self._input_attributes(text_input.n_columns, text_input.columns),
            "encoder_": encoder,
            "head_": head,
            **{
                name: getattr(encoder, name)
                for name in ("history_", "max_epochs_", "lr_", *RECORD)
            },
            **self._head_attributes(head),
        }
        self._set_fitted(fitted)

    def _trained_model(self) -> Any:
        if "encoder_" not in self.__dict__:
            return super()._trained_model()
        return self.encoder_.model_

    def _default_head(self, y: Any):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def _encoder_targets(self, y: Any) -> Any:
        """The targets the pairs are built from."""
        return y

    def _head_attributes(self, head: Any) -> dict[str, Any]:
        return {}

    def transform(self, X: TextData) -> np.ndarray | pd.DataFrame | Any:
        """The contrastively fine-tuned embeddings the head reads.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features), float32
            A DataFrame under ``sklearn.set_config(transform_output="pandas")``
            (the encoder's ``transform`` follows the global output setting).
        """
        check_is_fitted(self, "head_")
        self._check_text(X, reset=False)
        return self.encoder_.transform(X)

    def predict(self, X: TextData) -> np.ndarray:
        """Predict with the head on the fine-tuned embeddings.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        y_pred : ndarray
            The head's predictions.
        """
        embeddings = self.transform(X)
        return self.head_.predict(embeddings)


class BertContrastiveClassifier(ClassifierMixin, _ContrastiveBase):
    """Few-shot text classification: contrastive fine-tuning, then a head.

    The SetFit recipe as a scikit-learn estimator. ``fit`` first fine-tunes
    the encoder so that texts of the same class get similar pooled vectors
    and texts of different classes dissimilar ones (pairs of rows built from
    the labels, a cosine-similarity loss), then fits a scikit-learn
    classifier (``head``, ``LogisticRegression`` by default) on the adapted
    embeddings. Meant for 8 to 64 labelled examples per class, where it
    beats fine-tuning a classification head. Labels may be strings, integers
    or booleans, or a 0/1 indicator matrix (multi-label: pairs are as
    similar as their label sets, the default head is one-vs-rest).

    Parameters
    ----------
    model : str or estimator, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, the name of a bundled model, or
        a :class:`BertMaskedLM` to start from (a fitted one as it is; an
        unfitted one is first fitted on the texts passed to ``fit``). The
        default is bundled with the install and works offline. A folder written
        by ``save_pretrained`` continues from its weights.
    head : classifier or None, default=None
        The scikit-learn classifier fitted on the embeddings (cloned).
        None uses ``LogisticRegression(max_iter=1000)`` (one-vs-rest for
        multi-label ``y``).
    pooling : {"mean", "cls", "max"}, default="mean"
        How the token vectors of the encoder's last layer become one vector per
        text (the vector that is returned, or that a task head reads):
        ``"mean"`` (their attention-masked mean), ``"cls"`` (the first token's
        vector, ``[CLS]`` or ``<s>``) or ``"max"`` (their element-wise
        maximum).
    max_length : int or None, default=256
        Maximum tokens per sequence fed to the encoder (a text, a sentence
        pair, a chunk or a window), special tokens included. None uses the
        model's limit (at most 512).
    batch_size : int, default=16
        Sequences per training step and per forward pass at inference. Batches
        are formed from sequences of similar length, so padding stays small.
    max_epochs : int or "auto", default="auto"
        Passes over the training data. ``"auto"`` aims at a fixed number of
        optimizer steps, within a range of epochs, so that small data sets get
        more passes; ``fit`` records its choice in ``max_epochs_``.
    lr : float or "auto", default="auto"
        Peak learning rate of AdamW for the encoder. ``"auto"`` is decided in
        ``fit`` per task (see the user guide, "Defaults that adapt") and
        recorded in ``lr_``.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and normalisation weights).
    warmup_ratio : float, default=0.1
        Length of the linear warmup of the learning rate: this fraction of the
        fit's optimizer steps with ``lr_schedule="linear"``, of the task's
        ``"auto"`` step budget with ``"constant"`` (so it does not depend on
        ``max_epochs``).
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then the CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ... Set another value after ``fit`` to move a fitted
        model for inference.
    precision : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Precision of the forward passes (mixed precision: the weights stay
        float32 and each pass computes in this type, as PyTorch's autocast
        does). ``"auto"`` uses ``"bfloat16"`` where the device multiplies
        bfloat16 natively (CPUs with AMX or AVX512-BF16, GPUs from Ampere on)
        and ``"float32"`` elsewhere; ``fit`` records its choice in
        ``precision_``. ``"float16"`` is GPU only (training then scales the
        loss). Outputs are float32.
    random_state : int, RandomState instance or None, default=None
        Seeds the new head's initialisation, the batches, dropout and the
        validation split where there is one: an int gives the same model on
        every fit (on the CPU). The global random generators are left as they
        were.
    verbose : int, default=0
        0 is silent; 1 prints one line per training epoch (losses, validation
        score, duration), a progress line at most every 15 s while a training
        epoch, a prediction or an encoding runs long, and notes such as newly
        initialised weights; 2 shows progress bars instead of those lines and
        adds transformers' loading reports.

    Attributes
    ----------
    classes_ : ndarray
        The labels (from the head).
    encoder_ : BertTransformer
        The contrastively fine-tuned encoder.
    model_ : transformers.PreTrainedModel
        Its Hugging Face model (``encoder_.model_``).
    head_ : classifier
        The fitted head.
    history_ : skorch.history.History
        The contrastive training history.
    n_iter_, loss_curve_, validation_loss_curve_, validation_scores_, best_epoch_
        The record of the contrastive training epochs, as
        :class:`BertClassifier` describes them (no validation score).
    max_epochs_ : int
        The epochs contrastive training ran (``"auto"`` decided).
    lr_ : float
        The encoder's peak learning rate.
    n_features_in_ : int
        1 for single texts, 2 for sentence pairs.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.

    See Also
    --------
    BertTransformer : ``fine_tune="contrastive"`` is the encoder step alone.
    BertClassifier : Fine-tunes a classification head (better with hundreds
        of labelled rows and more).
    BertContrastiveRegressor : The same recipe for numeric targets.

    Notes
    -----
    Pairs are formed within each batch: a batch of ``b`` texts gives
    ``b (b - 1) / 2`` pairs for ``b`` forward passes (SetFit builds explicit
    pairs, two forward passes each). Similar and dissimilar pairs weigh half
    each. ``max_epochs="auto"`` aims at a fixed number of optimizer steps
    (see the user guide, "Few-shot classification").

    Examples
    --------
    >>> from sklearn_bert import BertContrastiveClassifier
    >>> X = ["great food", "awful service", "lovely staff", "cold soup"] * 4
    >>> y = ["good", "bad", "good", "bad"] * 4
    >>> clf = BertContrastiveClassifier(max_epochs=1, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['bad', 'good'], dtype='<U4')
    >>> clf.predict_proba(["tasty food"]).shape
    (1, 2)
    """

    def __init__(
        self,
        model="sentence-transformers/all-MiniLM-L6-v2",
        *,
        head=None,
        pooling="mean",
        max_length=256,
        batch_size=16,
        max_epochs="auto",
        lr="auto",
        weight_decay=0.01,
        warmup_ratio=0.1,
        device="auto",
        precision="auto",
        random_state=None,
        verbose=0,
    ):
        self.model = model
        self.head = head
        self.pooling = pooling
        self.max_length = max_length
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: TextData, y: Targets) -> Self:
        """Fine-tune the encoder contrastively on ``y``, then fit the head.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs as two columns.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels of any type, or a 0/1 indicator matrix for multi-label.

        Returns
        -------
        self : BertContrastiveClassifier
            The fitted classifier.
        """
        return self._fit_atomically(X, y)

    def _trained_model(self) -> Any:
        if "encoder_" not in self.__dict__:
            return super()._trained_model()
        return self.encoder_.model_

    def _default_head(self, y: Any):
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.utils.multiclass import type_of_target

        head = LogisticRegression(max_iter=1000)
        if type_of_target(y, input_name="y") == "multilabel-indicator":
            return OneVsRestClassifier(head)
        return head

    def _head_attributes(self, head: Any) -> dict[str, Any]:
        return {"classes_": head.classes_}

    def predict_proba(self, X: TextData) -> np.ndarray:
        """Class probabilities from the head.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        embeddings = self.transform(X)
        return self.head_.predict_proba(embeddings)

    def decision_function(self, X: TextData) -> np.ndarray:
        """The head's decision function on the fine-tuned embeddings.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As the head returns them.
        """
        embeddings = self.transform(X)
        return self.head_.decision_function(embeddings)


class BertContrastiveRegressor(RegressorMixin, _ContrastiveBase):
    """Few-shot text regression: contrastive fine-tuning, then a head.

    As :class:`BertContrastiveClassifier`, for numeric targets: pairs of
    rows are as similar as their targets are close (one minus their distance
    after scaling the targets to [0, 1]), and the head is a scikit-learn
    regressor (``Ridge`` by default).

    Parameters
    ----------
    model : str or estimator, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, the name of a bundled model, or
        a :class:`BertMaskedLM` to start from (a fitted one as it is; an
        unfitted one is first fitted on the texts passed to ``fit``). The
        default is bundled with the install and works offline. A folder written
        by ``save_pretrained`` continues from its weights.
    head : regressor or None, default=None
        The scikit-learn regressor fitted on the embeddings (cloned). None
        uses ``Ridge()``.
    pooling : {"mean", "cls", "max"}, default="mean"
        How the token vectors of the encoder's last layer become one vector per
        text (the vector that is returned, or that a task head reads):
        ``"mean"`` (their attention-masked mean), ``"cls"`` (the first token's
        vector, ``[CLS]`` or ``<s>``) or ``"max"`` (their element-wise
        maximum).
    max_length : int or None, default=256
        Maximum tokens per sequence fed to the encoder (a text, a sentence
        pair, a chunk or a window), special tokens included. None uses the
        model's limit (at most 512).
    batch_size : int, default=16
        Sequences per training step and per forward pass at inference. Batches
        are formed from sequences of similar length, so padding stays small.
    max_epochs : int or "auto", default="auto"
        Passes over the training data. ``"auto"`` aims at a fixed number of
        optimizer steps, within a range of epochs, so that small data sets get
        more passes; ``fit`` records its choice in ``max_epochs_``.
    lr : float or "auto", default="auto"
        Peak learning rate of AdamW for the encoder. ``"auto"`` is decided in
        ``fit`` per task (see the user guide, "Defaults that adapt") and
        recorded in ``lr_``.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and normalisation weights).
    warmup_ratio : float, default=0.1
        Length of the linear warmup of the learning rate: this fraction of the
        fit's optimizer steps with ``lr_schedule="linear"``, of the task's
        ``"auto"`` step budget with ``"constant"`` (so it does not depend on
        ``max_epochs``).
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then the CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ... Set another value after ``fit`` to move a fitted
        model for inference.
    precision : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Precision of the forward passes (mixed precision: the weights stay
        float32 and each pass computes in this type, as PyTorch's autocast
        does). ``"auto"`` uses ``"bfloat16"`` where the device multiplies
        bfloat16 natively (CPUs with AMX or AVX512-BF16, GPUs from Ampere on)
        and ``"float32"`` elsewhere; ``fit`` records its choice in
        ``precision_``. ``"float16"`` is GPU only (training then scales the
        loss). Outputs are float32.
    random_state : int, RandomState instance or None, default=None
        Seeds the new head's initialisation, the batches, dropout and the
        validation split where there is one: an int gives the same model on
        every fit (on the CPU). The global random generators are left as they
        were.
    verbose : int, default=0
        0 is silent; 1 prints one line per training epoch (losses, validation
        score, duration), a progress line at most every 15 s while a training
        epoch, a prediction or an encoding runs long, and notes such as newly
        initialised weights; 2 shows progress bars instead of those lines and
        adds transformers' loading reports.

    Attributes
    ----------
    encoder_ : BertTransformer
        The contrastively fine-tuned encoder.
    model_ : transformers.PreTrainedModel
        Its Hugging Face model (``encoder_.model_``).
    head_ : regressor
        The fitted head.
    history_ : skorch.history.History
        The contrastive training history.
    n_iter_, loss_curve_, validation_loss_curve_, validation_scores_, best_epoch_
        The record of the contrastive training epochs, as
        :class:`BertClassifier` describes them (no validation score).
    max_epochs_ : int
        The epochs contrastive training ran (``"auto"`` decided).
    lr_ : float
        The encoder's peak learning rate.
    n_features_in_ : int
        1 for single texts, 2 for sentence pairs.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.

    See Also
    --------
    BertContrastiveClassifier : The same recipe for class labels.
    BertRegressor : Fine-tunes a regression head.

    Examples
    --------
    >>> from sklearn_bert import BertContrastiveRegressor
    >>> X = ["great food", "awful service", "fine staff", "cold soup"] * 4
    >>> y = [5.0, 1.0, 3.5, 2.0] * 4
    >>> reg = BertContrastiveRegressor(max_epochs=1, random_state=0).fit(X, y)
    >>> reg.predict(["tasty food"]).shape
    (1,)
    """

    def __init__(
        self,
        model="sentence-transformers/all-MiniLM-L6-v2",
        *,
        head=None,
        pooling="mean",
        max_length=256,
        batch_size=16,
        max_epochs="auto",
        lr="auto",
        weight_decay=0.01,
        warmup_ratio=0.1,
        device="auto",
        precision="auto",
        random_state=None,
        verbose=0,
    ):
        self.model = model
        self.head = head
        self.pooling = pooling
        self.max_length = max_length
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: TextData, y: Targets) -> Self:
        """Fine-tune the encoder contrastively on ``y``, then fit the head.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs as two columns.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets.

        Returns
        -------
        self : BertContrastiveRegressor
            The fitted regressor.
        """
        return self._fit_atomically(X, y)

    def _encoder_targets(self, y: Any) -> np.ndarray:
        """Targets scaled to [0, 1]: pairs are as similar as they are close."""
        from ..sequence.targets import standardize

        values = standardize(y, len(y))[0]
        low, high = values.min(axis=0), values.max(axis=0)
        scaled = (values - low) / np.where(high > low, high - low, 1.0)
        return scaled if scaled.shape[1] > 1 else scaled[:, 0]

    def _trained_model(self) -> Any:
        if "encoder_" not in self.__dict__:
            return super()._trained_model()
        return self.encoder_.model_

    def _default_head(self, y: Any):
        from sklearn.linear_model import Ridge

        return Ridge()

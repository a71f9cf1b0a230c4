"""BertTransformer: text to contextual embeddings, as a scikit-learn transformer."""

from __future__ import annotations

import os
from collections.abc import Sequence
from numbers import Integral
from os import PathLike
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._engine.base import BertBase, EmbeddingMixin
from .._engine.cache import cached_rows, open_cache
from .._params import constraints
from .._text.tokenize import unique_rows
from .._typing import OptionalTargets, SampleWeight, TextData

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The training parameters BertTransformer passes on when it fine-tunes.
_FINE_TUNING = (
    "max_epochs",
    "lr",
    "weight_decay",
    "warmup_ratio",
    "validation_fraction",
    "early_stopping",
    "n_iter_no_change",
    "random_state",
)


class BertTransformer(EmbeddingMixin, TransformerMixin, BertBase):
    """Contextual sentence embeddings from a BERT-style encoder.

    A drop-in text featurizer: each text (or sentence pair) becomes one
    fixed-size vector, pooled from the encoder's last hidden states. Use it
    like ``TfidfVectorizer`` in a ``Pipeline`` or ``ColumnTransformer``.

    Parameters
    ----------
    model : str or estimator, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, the name of a bundled model, or
        a :class:`BertMaskedLM` to start from (a fitted one as it is; an
        unfitted one is first fitted on the texts passed to ``fit``). The
        default is bundled with the install and works offline. A folder written
        by ``save_pretrained`` continues from its weights.
    pooling : {"mean", "cls", "max"}, default="mean"
        How the token vectors of the encoder's last layer become one vector per
        text (the vector that is returned, or that a task head reads):
        ``"mean"`` (their attention-masked mean), ``"cls"`` (the first token's
        vector, ``[CLS]`` or ``<s>``) or ``"max"`` (their element-wise
        maximum).
    max_length : int or None, default=None
        Maximum tokens per sequence fed to the encoder (a text, a sentence
        pair, a chunk or a window), special tokens included. None uses the
        model's limit (at most 512).
    long_text : {"truncate", "chunk"}, default="truncate"
        What to do with a text longer than ``max_length`` tokens:
        ``"truncate"`` keeps its start (a ``UserWarning`` says how many texts
        were cut); ``"chunk"`` reads it whole, as windows of ``max_length``
        tokens. A text's output (its embedding, or its prediction as
        ``chunk_aggregation`` says) combines its windows', which overlap by
        ``stride`` tokens. In ``fit`` each window is a training sequence
        carrying its text's target and an equal share of its weight; masked-LM
        pretraining, which has no targets, trains on consecutive windows that
        do not overlap. For sentence pairs only the second text is split (the
        masked LM truncates pairs). Fused input (``text_columns``) is always
        truncated.
    stride : int, default=32
        Tokens shared by consecutive windows (chunks) of an input longer than
        ``max_length``.
    normalize : bool, default=False
        Scale each embedding to unit L2 norm (cosine similarity becomes a dot
        product).
    n_components : int, float or None, default=None
        Reduce the embeddings to this many columns with a PCA fitted in
        ``fit`` (on the training texts' embeddings), so that a tree model
        beside other columns is not swamped by hundreds of embedding
        columns; a float in (0, 1) keeps the components explaining that
        share of the variance. Output columns are then named
        ``<column>_pc0``, ``<column>_pc1``, ... None keeps every dimension.
    batch_size : int, default=32
        Sequences per training step and per forward pass at inference. Batches
        are formed from sequences of similar length, so padding stays small.
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
    verbose : int, default=0
        0 is silent; 1 prints one line per training epoch (losses, validation
        score, duration), a progress line at most every 15 s while a training
        epoch, a prediction or an encoding runs long, and notes such as newly
        initialised weights; 2 shows progress bars instead of those lines and
        adds transformers' loading reports.
    fine_tune : bool or "contrastive", default=False
        When True, ``fit(X, y)`` first fine-tunes the encoder on ``y`` with a
        :class:`BertClassifier` (class labels) or :class:`BertRegressor`
        (numeric targets), as ``sklearn.utils.multiclass.type_of_target``
        tells, with the same ``pooling``, ``max_length``, ``long_text`` and
        ``stride`` that ``transform`` uses (with ``long_text="chunk"`` it
        trains on the windows of long texts); ``transform`` then returns the
        adapted embeddings. ``"contrastive"`` fine-tunes the pooled vectors
        themselves on pairs of rows built from ``y`` (same class: similar,
        different classes: dissimilar; label sets: their Jaccard similarity;
        numbers: one minus their scaled distance), the SetFit recipe, so that
        a scikit-learn model trained on the embeddings separates the classes
        with few labels (see :class:`BertContrastiveClassifier`). Off by
        default: ``fit`` then only loads the model and ignores ``y``.
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
    validation_fraction : float, default=0.1
        Share of the training rows held out when ``early_stopping=True``.
        Classes are stratified where possible; the windows or chunks of one row
        stay on one side.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, score them after each
        epoch, stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs and restore the best epoch's weights.
    n_iter_no_change : int, default=2
        Patience of early stopping, in epochs.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes when fine-tuning on class labels, as in
        :class:`BertClassifier`.
    random_state : int, RandomState instance or None, default=None
        Seeds the new head's initialisation, the batches, dropout and the
        validation split where there is one: an int gives the same model on
        every fit (on the CPU). The global random generators are left as they
        were.
    cache : bool, str, path-like or None, default=None
        Keep embeddings to skip encoding a text twice: ``True`` in this
        process's memory (shared by every estimator, so by the clones of a
        grid search), a folder path on disk (shared by processes; created if
        needed). The cache is keyed by the model's weights and every setting
        that changes a vector (``pooling``, ``max_length``, ``long_text``,
        ``stride``, ``normalize``, ``precision``), so a changed setting never
        returns stale vectors. With a cache, frozen checkpoints are also
        loaded once per process and shared by the estimators that use them.
        :func:`sklearn_bert.clear_cache` empties the in-memory cache.

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The loaded (or fine-tuned) encoder, in evaluation mode.
    tokenizer_ : transformers.PreTrainedTokenizerFast
        Its fast tokenizer.
    max_length_ : int
        The token limit in use.
    precision_ : str
        The precision ``fit`` computed in (``precision`` with ``"auto"``
        resolved for the device).
    n_features_in_ : int
        1 for single texts, 2 for sentence pairs.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.
    n_features_out_ : int
        Embedding size (the encoder's hidden size, or the number of PCA
        components with ``n_components``).
    pca_ : sklearn.decomposition.PCA
        The PCA reducing the embeddings; only with ``n_components``.
    history_ : skorch.history.History
        The fine-tuning history (epochs, losses); only after a fit with
        ``fine_tune`` set.
    n_iter_, loss_curve_, validation_loss_curve_, validation_scores_, best_epoch_
        The record of the fine-tuning epochs, as :class:`BertClassifier`
        describes them; only after a fit with ``fine_tune`` set.
    max_epochs_ : int
        The epochs fine-tuning trained for; only after a fit with
        ``fine_tune`` set.
    lr_ : float
        The encoder's peak learning rate in fine-tuning; only after a fit
        with ``fine_tune`` set.

    See Also
    --------
    BertClassifier : Fine-tunes the encoder on labels.

    Notes
    -----
    Encoding sorts texts by token length, pads each batch to its longest
    member, runs without gradients, restores the input order, and encodes each
    distinct text once. ``fit`` only loads the model: it does not train,
    unless ``fine_tune=True``. Fine-tuning trains a linear head on the pooled
    vector, keeps the adapted encoder and drops the head; ``sample_weight``
    (routed to ``fit`` as in any estimator) weights its rows. Its other
    training settings are :class:`BertClassifier`'s defaults (batches grouped
    by length, gradient clipping at 1.0, dropout 0.1 before the head, the
    whole encoder trained); fine-tune a :class:`BertClassifier` directly to
    change them.

    Examples
    --------
    >>> from sklearn_bert import BertTransformer
    >>> emb = BertTransformer().fit_transform(["a good film", "a dull film"])
    >>> emb.shape
    (2, 384)

    Fine-tuned on labels first (opt-in):

    >>> ft = BertTransformer(fine_tune=True, max_epochs=1, random_state=0)
    >>> ft.fit_transform(["a good film", "a dull film"], ["pos", "neg"]).shape
    (2, 384)
    """

    _parameter_constraints: dict = {
        **BertBase._parameter_constraints,
        **constraints("pooling", "long_text", "stride", "class_weight"),
        **constraints(*_FINE_TUNING),
        "normalize": ["boolean"],
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            None,
        ],
        "fine_tune": ["boolean", StrOptions({"contrastive"})],
        "cache": ["boolean", str, PathLike, None],
    }

    def __init__(
        self,
        model="sentence-transformers/all-MiniLM-L6-v2",
        *,
        pooling="mean",
        max_length=None,
        long_text="truncate",
        stride=32,
        normalize=False,
        n_components=None,
        batch_size=32,
        device="auto",
        precision="auto",
        verbose=0,
        fine_tune=False,
        max_epochs="auto",
        lr="auto",
        weight_decay=0.01,
        warmup_ratio=0.1,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=2,
        class_weight=None,
        random_state=None,
        cache=None,
    ):
        self.model = model
        self.pooling = pooling
        self.max_length = max_length
        self.long_text = long_text
        self.stride = stride
        self.normalize = normalize
        self.n_components = n_components
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.fine_tune = fine_tune
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.random_state = random_state
        self.cache = cache

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: TextData,
        y: OptionalTargets = None,
        sample_weight: SampleWeight = None,
    ) -> Self:
        """Load the encoder (fine-tuning it on ``y`` if ``fine_tune=True``).

        Parameters
        ----------
        X : list, ndarray, Series, DataFrame or Dask collection
            Texts, or sentence pairs as two columns. Of a Dask collection only
            the columns are read, unless fine-tuning needs the rows (then it
            is computed).
        y : array-like or None, default=None
            Labels or numeric targets to fine-tune on when
            ``fine_tune=True`` (required then); ignored otherwise.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of fine-tuning; ignored without ``fine_tune``.

        Returns
        -------
        self : BertTransformer
            The fitted transformer.
        """
        return self._fit_atomically(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(
        self,
        X: TextData,
        y: OptionalTargets = None,
        sample_weight: SampleWeight = None,
    ) -> np.ndarray | pd.DataFrame | Any:
        """Fit, then encode ``X`` (once, also with ``n_components``; lazily
        for a Dask collection, as ``transform``).

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs as two columns.
        y : array-like or None, default=None
            As in :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``n_features_out_``), float32
            A DataFrame with ``set_output(transform="pandas")``; for a Dask
            input, a lazy Dask array (or Dask DataFrame), as ``transform``.
        """
        out: list = []
        self._fit_atomically(X, y, sample_weight, out)
        return out[0]

    def _fit_arguments(self, X, y=None, sample_weight=None, out=None):
        """``out`` (from ``fit_transform``) receives the training embeddings."""
        from .._engine.dask import input_template, is_dask_collection

        if (
            is_dask_collection(X)
            and not self.fine_tune
            and self.n_components is None
            and out is None
            and isinstance(self.model, str | os.PathLike)
        ):
            # Loading needs no rows: only the columns of a Dask input.
            return (input_template(X), None, None, out), {}
        args, kwargs = super()._fit_arguments(X, y, sample_weight)
        return (*args, out), kwargs

    def _fit(self, X, y, sample_weight, out: list | None = None) -> None:
        from .._engine.device import resolve_precision
        from .._text.tokenize import effective_max_length

        text_input = self._check_text(X, reset=True)
        # an unavailable device or cache folder fails here, not later
        device = self._resolved_device()
        open_cache(self.cache)
        fitted = self._input_attributes(text_input.n_columns, text_input.columns)
        if self.fine_tune:
            estimator = self._fine_tuned(X, y, sample_weight)
            tokenizer = estimator.tokenizer_
            model = estimator.net_.module_.hf_model
            from .._engine.stopping import RECORD

            for name in ("history_", "max_epochs_", "lr_", *RECORD):
                fitted[name] = getattr(estimator, name)
        elif self.cache not in (None, False) and isinstance(self.model, str | PathLike):
            # Frozen weights: the clones of a search share one loaded copy,
            # and the cache space is named after the checkpoint's files.
            from .._engine.cache import shared_frozen_model, weights_digest
            from .._io.loading import model_folder

            folder = model_folder(self.model, verbose=self.verbose)
            tokenizer, model = shared_frozen_model(
                folder, lambda: self._load_pretrained("base", X)
            )
            fitted["_weights_digest_"] = weights_digest(model, folder)
        else:
            tokenizer, model = self._load_pretrained("base", X)
        model.eval()
        fitted.update(
            tokenizer_=tokenizer,
            model_=model,
            max_length_=effective_max_length(tokenizer, model.config, self.max_length),
            n_features_out_=int(model.config.hidden_size),
            precision_=resolve_precision(self.precision, device),
        )
        self._set_fitted(fitted)
        if self.n_components is not None or out is not None:
            embeddings = self._embed_rows(text_input)
            if self.n_components is not None:
                embeddings = self._fit_pca(embeddings)
            if out is not None:
                out.append(embeddings)

    def _fit_pca(self, embeddings):
        """Fit ``pca_`` on the training embeddings; return them reduced."""
        from sklearn.decomposition import PCA

        pca = PCA(self.n_components, svd_solver="covariance_eigh")
        reduced = pca.fit_transform(embeddings).astype(np.float32)
        self._set_fitted({"pca_": pca, "n_features_out_": int(pca.n_components_)})
        return reduced

    def _fine_tuned(self, X, y, sample_weight):
        """A classifier or regressor fine-tuned on ``y`` with this one's settings."""
        from sklearn.utils.multiclass import type_of_target

        from .sequence.classifier import BertClassifier
        from .sequence.regressor import BertRegressor

        if y is None:
            raise ValueError(
                f"fine_tune={self.fine_tune!r} needs targets: call fit(X, y), or "
                "set fine_tune=False for frozen embeddings."
            )
        shared = ("model", "pooling", "max_length", "batch_size", "device", "verbose")
        settings = {
            name: getattr(self, name) for name in (*shared, "precision", *_FINE_TUNING)
        }
        if self.fine_tune == "contrastive":
            from .contrastive.trainer import ContrastiveTrainer

            if self.class_weight is not None:
                raise ValueError(
                    "class_weight does not apply to fine_tune='contrastive' (similar "
                    "and dissimilar pairs are balanced); remove class_weight."
                )
            trainer = ContrastiveTrainer(**settings)
            return trainer.fit(X, y, sample_weight=sample_weight)
        # the classifier and the regressor see long texts as transform does
        settings.update(long_text=self.long_text, stride=self.stride)
        target_type = type_of_target(y, input_name="y")
        regression = target_type in ("continuous", "continuous-multioutput")
        if regression:
            if self.class_weight is not None:
                raise ValueError(
                    "class_weight applies to class labels, but y holds continuous "
                    "targets; remove class_weight."
                )
            estimator = BertRegressor(**settings)
        else:
            estimator = BertClassifier(**settings, class_weight=self.class_weight)
        return estimator.fit(X, y, sample_weight=sample_weight)

    def transform(self, X: TextData) -> np.ndarray | pd.DataFrame | Any:
        """Encode texts into embeddings.

        Parameters
        ----------
        X : list, ndarray, Series, DataFrame or Dask collection
            Texts, or sentence pairs (as in ``fit``). A Dask Series, DataFrame
            or Array is encoded lazily, partition by partition, on the
            workers of the current Dask scheduler.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``n_features_out_``), float32
            A DataFrame with ``set_output(transform="pandas")``; for a Dask
            input, a lazy Dask array (or Dask DataFrame).
        """
        check_is_fitted(self, "model_")
        text_input = self._check_text(X, reset=False)
        embeddings = self._embed_rows(text_input)
        pca = getattr(self, "pca_", None)
        if pca is not None:
            embeddings = pca.transform(embeddings).astype(np.float32)
        return embeddings

    def _embed_rows(self, text_input):
        """Embeddings of checked rows, through the cache when one is set."""
        cache = open_cache(self.cache)
        if cache is None:
            return self._embed(
                text_input,
                self.model_,
                self.model_,
                long_text=self.long_text,
                normalize=self.normalize,
            )
        uniq, inverse = unique_rows(text_input)

        def embed_missing(missing: list[int]) -> np.ndarray:
            return self._embed(
                uniq.take(missing),
                self.model_,
                self.model_,
                long_text=self.long_text,
                normalize=self.normalize,
            )

        return cached_rows(cache, self._cache_space(), uniq.rows(), embed_missing)[
            inverse
        ]

    def get_feature_names_out(
        self, input_features: Sequence[str] | None = None
    ) -> np.ndarray:
        """Output column names: ``<input column>_<i>`` (``_pc<i>`` with
        ``n_components``), or ``berttransformer_<i>`` without column names.

        Parameters
        ----------
        input_features : array-like of str or None
            Input column names; defaults to ``feature_names_in_`` when set.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        names = super().get_feature_names_out(input_features)
        if getattr(self, "pca_", None) is None:
            return names
        return np.asarray(
            [f"{n.rpartition('_')[0]}_pc{i}" for i, n in enumerate(names)],
            dtype=object,
        )

    def _cache_space(self) -> str:
        """Everything that decides a vector besides its text (see ``cache``)."""
        from .._engine.cache import space_key, weights_digest
        from .._engine.device import resolve_precision

        digest = getattr(self, "_weights_digest_", None) or weights_digest(self.model_)
        return space_key(
            weights=digest,
            columns=self.n_features_in_,
            pooling=self.pooling,
            max_length=self.max_length_,
            long_text=self.long_text,
            stride=self.stride,
            normalize=self.normalize,
            precision=resolve_precision(self.precision, self._resolved_device()),
        )

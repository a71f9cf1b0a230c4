"""BertClassifier: a fine-tuned encoder with a classification head."""

from __future__ import annotations

from numbers import Real
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..._engine.calibration import TemperatureScaling
from ..._engine.dask import is_dask_collection
from ..._engine.finetune import Prepared
from ..._engine.inference import softmax
from ..._params import constraints
from ..._typing import PathLike, SampleWeight, Targets, TextData
from .common import SequenceBase
from .targets import encode_labels, label_config


class BertClassifier(ClassifierMixin, TemperatureScaling, SequenceBase):
    """Fine-tune a BERT-style encoder with a classification head.

    Binary, multi-class and multi-label (a 2-D indicator ``y``) classification
    of texts or sentence pairs (two columns, encoded as
    ``[CLS] a [SEP] b [SEP]``). Labels may be strings, integers or booleans:
    ``classes_`` holds them, ``predict`` returns them, and the columns of
    ``predict_proba`` follow them.

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
    max_length : int or None, default=256
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
    chunk_aggregation : str, default="mean_logits"
        How the windows of a text split by ``long_text="chunk"`` make its
        prediction: ``"mean_logits"`` averages the head's outputs over the
        windows (the logits, before the softmax or sigmoid; the regressor's
        values), ``"max_logits"`` takes their element-wise maximum (a class or
        label that one window speaks for strongly wins; the largest value),
        ``"mean_pooled"`` applies the head to the windows' pooled vectors
        averaged with their token counts as weights (a short last window counts
        less). Read at prediction, so it can be changed after ``fit``: training
        is the same for every value (each window learns its text's target),
        except that early stopping scores its validation texts with it.
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
    head_lr : float, "auto" or None, default="auto"
        Peak learning rate of the weights that start fresh: the task head and,
        with ``text_columns``, the tabular layers and the fusion (they follow
        the same warmup and decay as ``lr``). ``"auto"`` is 20 times the
        encoder's for a new head and the encoder's for a head a checkpoint
        already trained; the value used is in ``head_lr_``. None uses ``lr``.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and normalisation weights).
    warmup_ratio : float, default=0.1
        Length of the linear warmup of the learning rate: this fraction of the
        fit's optimizer steps with ``lr_schedule="linear"``, of the task's
        ``"auto"`` step budget with ``"constant"`` (so it does not depend on
        ``max_epochs``).
    lr_schedule : {"linear", "constant"}, default="linear"
        After the warmup, ``"linear"`` decays the learning rate to 0 at the end
        of training; ``"constant"`` keeps it at its peak. Under ``"constant"``
        the first ``k`` epochs do not depend on ``max_epochs``, so a
        ``training_store`` serves every ``max_epochs`` of a search from one
        fit.
    gradient_accumulation_steps : int, default=1
        Batches whose gradients add up before one optimizer step.
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
    group_by_length : bool, default=True
        Form each training batch from rows of similar length (less padding,
        faster epochs); batches are drawn afresh every epoch. False draws plain
        shuffled batches.
    max_grad_norm : float or None, default=1.0
        Clip the norm of the gradients at this value before each optimizer
        step; None does not clip.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, as in ``LogisticRegression``: ``"balanced"``
        uses ``n_samples / (n_classes * count(class))``; a dict maps labels to
        weights (missing labels weigh 1). Multiplied into ``sample_weight``
        (a weight means repetition). Not available for multi-label ``y``.
    threshold : float, default=0.5
        Multi-label only: a label is predicted when its probability is at
        least ``threshold``. Binary and multi-class ``predict`` take the most
        probable class (use ``TunedThresholdClassifierCV`` to tune a binary
        threshold).
    calibration : {"temperature"} or None, default=None
        ``"temperature"`` divides the logits by one temperature (one per
        label for multi-label ``y``), fitted after training to minimise the
        log loss of rows held out of training: the early-stopping split with
        ``early_stopping=True``, otherwise ``validation_fraction`` of the rows
        (stratified), which then do not train. It softens the overconfident
        probabilities of a model fine-tuned for many epochs on few rows and
        changes no prediction. The targets of the fit are smoothed by
        Laplace's rule (``1/(n + 2)`` for ``n`` held-out rows), so held-out
        rows that are all predicted right do not make the model ever surer.
        With fewer than 10 held-out rows no temperature is fitted. The value
        is ``temperature_``; ``save_pretrained`` folds it into the saved
        head. None keeps the softmax of the raw logits.
    freeze_encoder : bool, default=False
        Train the task head only; the encoder's weights stay as loaded.
    trainable_layers : int or None, default=None
        Train only the top ``k`` transformer layers (and the head); None trains
        all of them.
    dropout : float, default=0.1
        Dropout before the task head's output layer, in training. The encoder's
        own dropout stays as its config says.
    text_columns : str, list of str or None, default=None
        With a DataFrame ``X``: the name (or list of names) of its text
        columns; every other column is tabular and goes through
        ``tabular_preprocessor`` into the network beside the pooled text. None
        reads ``X`` as texts or sentence pairs.
    tabular_preprocessor : "auto", "passthrough" or transformer, default="auto"
        Turns the tabular columns into numbers, fitted in ``fit`` on the
        training rows and applied in ``predict`` (stored in
        ``tabular_preprocessor_``). ``"auto"``: numeric and boolean columns
        imputed with the median (plus a missing-value indicator) and
        standardised; other columns imputed with ``"missing"`` and one-hot
        encoded (at most 32 categories each, unknown ones encoded as infrequent
        or as zeros). ``"passthrough"`` uses numeric columns as they are; or
        any scikit-learn transformer returning numbers.
    fusion : {"concat", "gated", "attention"}, default="concat"
        How the tabular vector joins the pooled text vector: ``"concat"``
        (tabular values through a dense layer, concatenated with the text
        vector), ``"gated"`` (a learned gate mixes both, feature by feature) or
        ``"attention"`` (each tabular value becomes a token the text vector
        attends to). Used with ``text_columns`` only.
    combine_texts : {"join", "separate"}, default="join"
        With several ``text_columns``: ``"join"`` encodes them as one sequence
        separated by the separator token (one forward pass, the texts attend to
        each other, ``max_length`` shared); ``"separate"`` encodes each on its
        own with the same encoder (``max_length`` each) and concatenates their
        pooled vectors.
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
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks, appended to the built-in ones; all their events
        fire, ``on_grad_computed`` included.
    warm_start : bool, default=False
        Continue training instead of starting over: from the checkpoint in
        ``checkpoint_dir`` if its fit did not finish (to ``max_epochs`` epochs
        in all, as if it had never stopped), otherwise from the fitted model
        (``max_epochs`` more epochs, with a new learning-rate schedule; the
        classes or outputs must stay the same).
    checkpoint_dir : str, path-like or None, default=None
        Folder where a checkpoint of the training state is written after every
        epoch (safetensors and JSON only, nothing that runs code when read);
        with ``warm_start=True`` an interrupted fit resumes from it. Give every
        fit its own folder. None writes no checkpoint.
    training_store : bool, str, path-like or None, default=None
        Keep the training state at the end of every epoch for later fits with
        the same data, seed and settings (a search's clones, a repeated
        ``cross_val_score``): one that asks for as many epochs or fewer takes
        the stored epoch without training; one that asks for more resumes from
        the last stored epoch. Under ``lr_schedule="linear"`` only a fit with
        the same ``max_epochs`` matches. ``True`` keeps it in a temporary
        folder of this process (emptied by :func:`clear_cache` and at exit); a
        folder keeps it on disk, shared by processes. Needs an integer
        ``random_state``. The store holds at most
        ``SKLEARN_BERT_TRAINING_STORE_GB`` (default 8) gigabytes, dropping the
        least recently used fits first (user guide, "Searches that reuse
        epochs").
    distributed : bool, default=False
        Spread ``fit`` over the processes of a ``torchrun`` or ``accelerate
        launch`` job (torch ``DistributedDataParallel``: gloo on the CPU, NCCL
        on GPUs, one GPU per process). Every process calls ``fit`` with the
        same data and trains on its share of each batch of ``batch_size`` rows,
        so the effective batch size stays ``batch_size``; only process 0 prints
        and writes (``save_pretrained``). Outside such a job, ``fit`` runs in
        one process.

    Attributes
    ----------
    classes_ : ndarray
        The labels (sorted), or ``arange(n_labels)`` for multi-label ``y``.
    model_ : transformers.PreTrainedModel
        The fine-tuned encoder (the Hugging Face model inside ``net_``, not
        a copy).
    net_ : BertNet
        The fitted skorch net; ``net_.module_`` holds the only copy of the
        weights (the encoder ``model_`` and the head).
    history_ : skorch.history.History
        The training history (``net_.history``): per epoch ``train_loss``,
        and with early stopping ``valid_loss`` and ``valid_acc``.
    n_iter_ : int
        Epochs trained.
    loss_curve_ : ndarray of shape (n_epochs,)
        The training loss of each epoch.
    validation_loss_curve_, validation_scores_ : ndarray of shape (n_epochs,) or None
        With ``early_stopping=True``, the validation loss and the validation
        accuracy (``valid_acc``) of
        each epoch; None otherwise.
    best_epoch_ : int
        The epoch whose weights the model holds: with early stopping the one
        of the lowest validation loss, else the last.
    tokenizer_ : transformers.PreTrainedTokenizerFast
        The tokenizer.
    n_samples_fit_ : int
        The rows ``fit`` was given (rows held out for early stopping or
        calibration included).
    max_length_ : int
        The token limit in use.
    precision_ : str
        The precision ``fit`` computed in (``precision`` with ``"auto"``
        resolved for the device).
    max_epochs_ : int
        The epochs ``fit`` trained for (``max_epochs`` with ``"auto"``
        decided).
    lr_ : float
        The encoder's peak learning rate ``fit`` used.
    head_lr_ : float
        The peak learning rate ``fit`` used for the new weights (the head and,
        with ``text_columns``, the tabular layers and the fusion).
    temperature_ : float or ndarray of shape (n_labels,)
        The divisor of the logits (``calibration``): 1.0 when no temperature
        was fitted; one per label for multi-label ``y``.
    n_features_in_ : int
        1 for single texts, 2 for sentence pairs; with ``text_columns``, the
        number of columns of ``X`` (text and tabular).
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame (with
        ``text_columns``: every column, text and tabular).
    text_columns_ : list of str
        The text columns; only with ``text_columns``.
    tabular_columns_ : list of str
        The other columns, in the order the preprocessor reads them; only
        with ``text_columns``.
    tabular_preprocessor_ : transformer or None
        The fitted tabular preprocessor (None for ``"passthrough"`` or
        without tabular columns); only with ``text_columns``.
    tabular_feature_names_ : ndarray of str
        Names of the values the preprocessor makes of the tabular columns
        (the network's tabular input); only with ``text_columns``.

    See Also
    --------
    BertRegressor : The same model with a regression head.
    BertTransformer : Frozen (or fine-tuned) embeddings for another estimator.

    Notes
    -----
    The model is the encoder, the pooling of ``pooling`` (the same vector
    :class:`BertTransformer` returns), dropout and one linear layer. Training
    uses AdamW, a linear warmup and decay computed from the rows passed to
    ``fit``, batches of rows of similar length drawn afresh each epoch, each
    padded to its longest row, and gradient clipping. The number of epochs
    and the learning rates adapt to the data in ``fit`` (``"auto"``: about
    250 optimizer steps, 3 to 20 epochs; ``lr=5e-5``; a new head at 20 times
    that), see the user guide, "Defaults that adapt"; the values used are in
    ``max_epochs_``, ``lr_`` and ``head_lr_``.

    :meth:`save_pretrained` writes the fine-tuned encoder as a standard
    Hugging Face folder and the linear head in
    ``sklearn_bert_head.safetensors``; a new estimator started from that
    folder with the same pooling restores both.

    With ``text_columns``, ``X`` is a DataFrame: the named columns are texts
    (joined with the separator token, or encoded one by one with
    ``combine_texts="separate"``) and every other column goes through
    ``tabular_preprocessor``; the tabular vector joins the pooled text vector
    as ``fusion`` says, before the output layer, and the encoder, the tabular
    layers and the head train together. At ``predict``, columns are matched
    by name. :meth:`save_pretrained` then also writes the fitted preprocessor
    (``sklearn_bert_tabular.skops``). See the user guide, "Text plus tabular
    columns".

    With ``long_text="chunk"``, training is per window: each window of a
    long text learns the text's label on its own (the loss is not computed on
    the aggregate), with the text's weight divided by its number of windows;
    ``max_epochs="auto"`` counts windows. The windows are aggregated at
    prediction and in the early-stopping score only. See the user guide,
    "Long documents".

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

    Text beside tabular columns, fine-tuned together:

    >>> import pandas as pd
    >>> df = pd.DataFrame({"review": X, "price": [3.5, 12.0, 4.0, None],
    ...                    "shop": ["north", "south", "north", "east"]})
    >>> fused = BertClassifier(text_columns="review", max_epochs=1,
    ...                        random_state=0).fit(df, y)
    >>> fused.tabular_columns_
    ['price', 'shop']
    >>> fused.predict(df[["shop", "price", "review"]]).shape
    (4,)

    Long texts split into overlapping windows, their logits averaged:

    >>> long_X = [" ".join([text] * 20) for text in X]
    >>> chunked = BertClassifier(max_length=32, long_text="chunk", stride=8,
    ...                          max_epochs=1, random_state=0).fit(long_X, y)
    >>> chunked.predict_proba(long_X).sum(axis=1).round(6)
    array([1., 1., 1., 1.])
    """

    _parameter_constraints: dict = {
        **SequenceBase._parameter_constraints,
        **constraints("class_weight", "calibration"),
        "threshold": [Interval(Real, 0, 1, closed="both")],
    }
    _score_name = "valid_acc"
    _warm_start_keys = ("n_features_in_", "classes_", "_multilabel_")

    def __init__(
        self,
        model="sentence-transformers/all-MiniLM-L6-v2",
        *,
        pooling="mean",
        max_length=256,
        long_text="truncate",
        stride=32,
        chunk_aggregation="mean_logits",
        batch_size=16,
        max_epochs="auto",
        lr="auto",
        head_lr="auto",
        weight_decay=0.01,
        warmup_ratio=0.1,
        lr_schedule="linear",
        gradient_accumulation_steps=1,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=2,
        group_by_length=True,
        max_grad_norm=1.0,
        class_weight=None,
        threshold=0.5,
        calibration=None,
        freeze_encoder=False,
        trainable_layers=None,
        dropout=0.1,
        text_columns=None,
        tabular_preprocessor="auto",
        fusion="concat",
        combine_texts="join",
        device="auto",
        precision="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        warm_start=False,
        checkpoint_dir=None,
        training_store=None,
        distributed=False,
    ):
        self.model = model
        self.pooling = pooling
        self.max_length = max_length
        self.long_text = long_text
        self.stride = stride
        self.chunk_aggregation = chunk_aggregation
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.head_lr = head_lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.lr_schedule = lr_schedule
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.group_by_length = group_by_length
        self.max_grad_norm = max_grad_norm
        self.class_weight = class_weight
        self.threshold = threshold
        self.calibration = calibration
        self.freeze_encoder = freeze_encoder
        self.trainable_layers = trainable_layers
        self.dropout = dropout
        self.text_columns = text_columns
        self.tabular_preprocessor = tabular_preprocessor
        self.fusion = fusion
        self.combine_texts = combine_texts
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.training_store = training_store
        self.distributed = distributed

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: TextData, y: Targets, sample_weight: SampleWeight = None) -> Self:
        """Fine-tune the encoder and the head on labelled texts.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs as two columns.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels of any type, or a 0/1 indicator matrix for multi-label.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights: a row of weight 2 counts like two copies.

        Returns
        -------
        self : BertClassifier
            The fitted classifier.
        """
        return self._fit_atomically(X, y, sample_weight)

    def _prepare(self, X, y, sample_weight) -> Prepared:
        rows, fitted, adaptation = self._prepare_rows(X)
        labels = encode_labels(y, len(rows), self.class_weight, sample_weight)
        return Prepared(
            adaptation,
            rows,
            targets=labels.targets,
            weights=labels.weights,
            stratify=labels.stratify,
            load_kwargs={},
            fitted={
                **fitted,
                "classes_": labels.classes,
                "_multilabel_": labels.multilabel,
            },
        )

    def _n_outputs(self, prepared: Prepared) -> int:
        return len(prepared.fitted["classes_"])

    def _criterion(self, prepared: Prepared):
        from ..._nn.losses import BCEPerRow, CrossEntropyPerRow

        return BCEPerRow() if prepared.fitted["_multilabel_"] else CrossEntropyPerRow()

    def _score_outputs(self, logits, targets) -> float:
        """Accuracy (of whole label sets for multi-label ``y``)."""
        if logits.shape[1] > 1 and targets.ndim == 2:  # multi-label
            return float(np.mean(np.all((logits > 0) == (targets > 0.5), axis=1)))
        return float(np.mean(logits.argmax(axis=1) == targets))

    def decision_function(self, X: TextData) -> np.ndarray | Any:
        """Logits of the head.

        Parameters
        ----------
        X : list, ndarray, Series, DataFrame or Dask collection
            Texts, or sentence pairs (as in ``fit``). A Dask collection gives
            a lazy Dask array, computed partition by partition.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For binary ``y``, the logit of ``classes_[1]`` minus that of
            ``classes_[0]`` (positive means ``classes_[1]``); otherwise one
            logit per class (or per label).
        """
        check_is_fitted(self, "net_")
        binary = not self._multilabel_ and len(self.classes_) == 2
        if is_dask_collection(X):
            width = None if binary else len(self.classes_)
            return self._lazy("decision_function", X, width=width, dtype=np.float32)
        logits = self._calibrated(self._outputs(X))
        if binary:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X: TextData) -> np.ndarray | Any:
        """Class probabilities.

        Parameters
        ----------
        X : list, ndarray, Series, DataFrame or Dask collection
            Texts, or sentence pairs (as in ``fit``). A Dask collection gives
            a lazy Dask array, computed partition by partition.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. Rows sum to 1 (softmax), except for
            multi-label ``y`` where each column is an independent sigmoid.
        """
        check_is_fitted(self, "net_")
        if is_dask_collection(X):
            width = len(self.classes_)
            return self._lazy("predict_proba", X, width=width, dtype=np.float64)
        return self._proba(X)

    def _proba(self, X):
        """``predict_proba`` of a fitted estimator on in-memory rows."""
        logits = self._calibrated(self._outputs(X).astype(np.float64))
        if self._multilabel_:
            return 1.0 / (1.0 + np.exp(-logits))
        return softmax(logits)

    def predict(self, X: TextData) -> np.ndarray | Any:
        """Predict labels.

        Parameters
        ----------
        X : list, ndarray, Series, DataFrame or Dask collection
            Texts, or sentence pairs (as in ``fit``). A Dask collection gives
            a lazy Dask array, computed partition by partition.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_``, or a 0/1 indicator matrix (probability
            at least ``threshold``) for multi-label ``y``.
        """
        check_is_fitted(self, "net_")
        if is_dask_collection(X):
            if self._multilabel_:
                return self._lazy("predict", X, width=len(self.classes_), dtype="i8")
            return self._lazy("predict", X, width=None, dtype=self.classes_.dtype)
        proba = self._proba(X)
        if self._multilabel_:
            return (proba >= self.threshold).astype(np.int64)
        return self.classes_[proba.argmax(axis=1)]

    def save_pretrained(self, path: PathLike) -> Path:
        """Write the fine-tuned model as a Hugging Face folder plus its head.

        The config carries ``id2label`` / ``label2id`` from ``classes_`` and
        the ``problem_type``. The folder can be passed as ``model`` to a new
        estimator (with the same pooling, the head is restored too).

        Parameters
        ----------
        path : str or path-like
            Folder to write (created if needed).

        Returns
        -------
        path : pathlib.Path
            The folder written. It also holds a ``README.md`` model card in
            the Hugging Face hub's format; a ``README.md`` that sklearn-bert
            did not write is kept, with a warning.
        """
        from ..._engine.model_card import write_model_card

        check_is_fitted(self, "net_")
        path = self._save(
            path,
            label_config(self.classes_, self._multilabel_),
            output_scale=np.full(
                len(self.classes_), 1.0 / np.asarray(self.temperature_, np.float32)
            ),
        )
        return write_model_card(self, path)

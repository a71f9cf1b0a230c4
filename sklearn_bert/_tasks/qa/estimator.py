"""BertQuestionAnswerer: extractive question answering as a scikit-learn estimator."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..._engine.finetune import FineTuneBase, Prepared, TrainingData
from ..._params import constraints
from ..._typing import QAData, SampleWeight, Targets

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
from ..token_level import TokenLevelMixin
from .answers import answer_offsets, sliced
from .squad import squad_f1


class BertQuestionAnswerer(TokenLevelMixin, FineTuneBase):
    """Extractive question answering: find the answer span in a context.

    Each row is a (question, context) pair; the answer is a piece of the
    context. ``fit`` fine-tunes the encoder with a start/end span head (a
    Hugging Face ``AutoModelForQuestionAnswering``); ``predict`` returns the
    answer strings, ``predict_spans`` also their character offsets and a
    score, and ``score`` the SQuAD F1.

    Parameters
    ----------
    model : str or estimator, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, the name of a bundled model, or
        a :class:`BertMaskedLM` to start from (a fitted one as it is; an
        unfitted one is first fitted on the texts passed to ``fit``). The
        default is bundled with the install and works offline. A folder written
        by ``save_pretrained`` continues from its weights.
    max_length : int or None, default=384
        Maximum tokens per sequence fed to the encoder (a text, a sentence
        pair, a chunk or a window), special tokens included. None uses the
        model's limit (at most 512).
    stride : int, default=128
        Tokens shared by consecutive windows (chunks) of an input longer than
        ``max_length``.
    max_answer_length : int, default=30
        Longest answer, in tokens, considered at prediction.
    null_score_threshold : float or None, default=None
        None always returns the best non-empty span. A number enables "no
        answer": ``predict`` returns ``""`` for a row whose "no answer" score
        (the start + end logits of the ``[CLS]`` token) beats its best span's
        score by more than this threshold (0 is the usual start; tune it on
        held-out data). Train with empty answers (``""``) for the model to
        learn when to abstain.
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
    freeze_encoder : bool, default=False
        Train the task head only; the encoder's weights stay as loaded.
    trainable_layers : int or None, default=None
        Train only the top ``k`` transformer layers (and the head); None trains
        all of them.
    dropout : float, default=0.1
        Dropout before the task head's output layer, in training. The encoder's
        own dropout stays as its config says.
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

    Attributes
    ----------
    net_ : BertNet
        The fitted skorch net; ``net_.module_.hf_model`` is the Hugging Face
        question-answering model.
    history_ : skorch.history.History
        The training history (``net_.history``), with ``valid_f1`` (SQuAD
        F1 of the held-out questions) under early stopping.
    n_iter_ : int
        Epochs trained.
    loss_curve_ : ndarray of shape (n_epochs,)
        The training loss of each epoch.
    validation_loss_curve_, validation_scores_ : ndarray of shape (n_epochs,) or None
        With ``early_stopping=True``, the validation loss and the validation
        SQuAD F1 (``valid_f1``) of
        each epoch; None otherwise.
    best_epoch_ : int
        The epoch whose weights the model holds: with early stopping the one
        of the lowest validation loss, else the last.
    tokenizer_ : transformers.PreTrainedTokenizerFast
        The fast tokenizer.
    n_samples_fit_ : int
        The rows ``fit`` was given (rows held out for early stopping or
        calibration included).
    max_length_ : int
        The window length in use (``max_length`` capped by the model).
    precision_ : str
        The precision ``fit`` computed in (``precision`` with ``"auto"``
        resolved for the device).
    max_epochs_ : int
        The epochs ``fit`` trained for (``max_epochs`` with ``"auto"``
        decided).
    lr_ : float
        The encoder's peak learning rate ``fit`` used.
    head_lr_ : float
        The head's peak learning rate ``fit`` used.
    n_windows_ : int
        Number of training windows (at least one per question).
    n_features_in_ : int
        Always 2 (question, context).
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.

    See Also
    --------
    sklearn_bert.metrics.squad_f1 : The metric of :meth:`score`.
    sklearn_bert.metrics.exact_match_scorer : The stricter metric, as a scorer.
    BertTransformer : Embeddings without fine-tuning.

    Notes
    -----
    *Answers in ``y``*: answer texts, or character offsets. A text must occur
    in its context (case-sensitive); when it occurs several times, the
    **first** occurrence is the one trained on. Offsets are ``(start, end)``
    pairs with ``end`` exclusive (``context[start:end]`` is the answer): an
    ``(n, 2)`` integer array, a list of pairs, or a DataFrame with columns
    ``answer_start`` and ``answer_end`` (or ``answer_start`` and ``text``,
    SQuAD's own fields). ``""`` (or the offsets ``(-1, -1)``) marks a question
    without an answer in its context (SQuAD 2.0).

    *Long contexts*: a row becomes windows ``[CLS] question [SEP] part of the
    context [SEP]`` of ``max_length`` tokens, consecutive parts sharing
    ``stride`` tokens (at most half of a window's context part; questions
    longer than half a window are cut, with a warning). In training, a window
    that does not hold the whole answer is labelled "no answer" (start = end =
    ``[CLS]``); all such windows are kept, as in Hugging Face's reference SQuAD
    script: they teach the model to score spans low where the answer is absent,
    which is what makes spans of different windows comparable. At prediction,
    the span with the highest start + end logit over all windows of the row
    wins (start <= end, at most ``max_answer_length`` tokens, context tokens
    only, found with the tokenizer's ``sequence_ids``). The answer is sliced
    from the original context with the tokens' character offsets and stripped
    of surrounding whitespace.

    *Weights*: ``sample_weight`` weights every window of a question.

    *Dropout*: the span layer of most families has no dropout of its own;
    ``dropout`` is applied to its input in training, as in the other
    estimators.

    No package ships SQuAD-style data offline; the tests and the example build
    small templated English QA sets themselves.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_bert import BertQuestionAnswerer
    >>> X = pd.DataFrame({
    ...     "question": ["Who founded Acme?", "When was Acme founded?"],
    ...     "context": ["Acme was founded by Ada Byron in 1901."] * 2,
    ... })
    >>> y = ["Ada Byron", "1901"]
    >>> qa = BertQuestionAnswerer(max_epochs=1, random_state=0).fit(X, y)
    >>> qa.predict(X).shape
    (2,)
    >>> spans = qa.predict_spans(X)
    >>> list(spans.columns)
    ['answer', 'start', 'end', 'score']
    """

    _parameter_constraints: dict = {
        **FineTuneBase._parameter_constraints,
        **constraints("stride"),
        "max_answer_length": [Interval(Integral, 1, None, closed="left")],
        "null_score_threshold": [Real, None],
    }
    _hf_task = "qa"
    _task = "question-answering"

    def __init__(
        self,
        model="sentence-transformers/all-MiniLM-L6-v2",
        *,
        max_length=384,
        stride=128,
        max_answer_length=30,
        null_score_threshold=None,
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
        freeze_encoder=False,
        trainable_layers=None,
        dropout=0.1,
        device="auto",
        precision="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        warm_start=False,
        checkpoint_dir=None,
        training_store=None,
    ):
        self.model = model
        self.max_length = max_length
        self.stride = stride
        self.max_answer_length = max_answer_length
        self.null_score_threshold = null_score_threshold
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
        self.freeze_encoder = freeze_encoder
        self.trainable_layers = trainable_layers
        self.dropout = dropout
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.training_store = training_store

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = False  # rows are (question, context)
        tags.target_tags.required = True
        return tags

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: QAData, y: Targets, sample_weight: SampleWeight = None) -> Self:
        """Fine-tune the encoder and span head on (question, context) rows.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, 2)
            Questions in the first column, contexts in the second.
        y : sequence of str, array-like of shape (n_samples, 2) or DataFrame
            The answers: texts occurring in the contexts (first occurrence
            used), or character offsets ``(start, end)``, end exclusive (see
            Notes). ``""`` marks a question without answer.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each question (applied to all of its windows).

        Returns
        -------
        self : BertQuestionAnswerer
            The fitted estimator.
        """
        return self._fit_atomically(X, y, sample_weight)

    def _prepare(self, X, y, sample_weight) -> Prepared:
        from ..._text.inputs import check_sample_weight_length

        rows = self._check_rows(X, reset=True)
        starts, ends = answer_offsets(y, rows.pairs, rows.index)
        return Prepared(
            X,
            (rows.texts, rows.pairs),
            targets=(starts, ends),
            weights=check_sample_weight_length(sample_weight, len(rows)),
            fitted=self._input_attributes(2, rows.columns),
        )

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        from ..._engine.data import FeatureDataset
        from .spans import window_targets

        questions, contexts = prepared.rows
        starts, ends = prepared.targets
        windows = self._windows(tokenizer, model, questions, contexts, max_length)
        targets = window_targets(windows, starts, ends)
        dataset = FeatureDataset(
            windows.features, list(targets), prepared.weights[windows.owners]
        )
        gold = sliced(contexts, starts, ends)

        def valid_score(outputs: list[np.ndarray], valid: Any) -> float:
            held_out = windows.subset(valid.ids)
            spans = self._decode(held_out, outputs, contexts)
            rows = [r for r, span in enumerate(spans) if span is not None]
            return squad_f1([gold[r] for r in rows], [spans[r].answer for r in rows])

        return TrainingData(
            dataset,
            groups=windows.owners,
            scorer=valid_score,
            score_name="valid_f1",
            fitted={"n_windows_": len(windows)},
        )

    def _module(self, model: Any, prepared: Prepared):
        from ..._nn.heads import SpanModule
        from ..._nn.losses import SpanLoss

        return SpanModule(model, self.dropout), SpanLoss()

    # -- predict -------------------------------------------------------------
    def predict(self, X: QAData) -> np.ndarray:
        """Answer each question from its context.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, 2)
            (question, context) rows.

        Returns
        -------
        answers : ndarray of shape (n_samples,), dtype object
            Answer strings, pieces of the contexts (``""`` for "no answer"
            when ``null_score_threshold`` is set).

        See Also
        --------
        predict_spans : Also the answers' offsets and scores.
        """
        spans = self._outputs(X)[0]
        answers = np.empty(len(spans), dtype=object)
        answers[:] = [s.answer for s in spans]
        return answers

    def predict_spans(self, X: QAData) -> pd.DataFrame:
        """Return the answers with their character offsets and a score.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, 2)
            (question, context) rows.

        Returns
        -------
        spans : pandas.DataFrame
            Columns ``answer`` (str), ``start`` and ``end`` (``context[start:
            end] == answer``; -1 for "no answer") and ``score`` (the model's
            probability of this answer among all candidate spans and "no
            answer" candidates of the row's windows). The index is ``X``'s
            for pandas input.

        See Also
        --------
        predict : The answer strings only.
        """
        import pandas as pd

        spans, index = self._outputs(X)
        return pd.DataFrame(
            {
                "answer": pd.Series([s.answer for s in spans], dtype=object),
                "start": np.asarray([s.start for s in spans], dtype=np.int64),
                "end": np.asarray([s.end for s in spans], dtype=np.int64),
                "score": np.asarray([s.score for s in spans], dtype=np.float64),
            }
        ).set_axis(index if index is not None else pd.RangeIndex(len(spans)))

    def score(self, X: QAData, y: Targets, sample_weight: SampleWeight = None) -> float:
        """Mean SQuAD token F1 of the predicted answers.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, 2)
            (question, context) rows.
        y : sequence, array-like of shape (n_samples, 2) or DataFrame
            True answers in any form ``fit`` accepts; texts need not occur in
            the context here, and a row may hold a list of acceptable answers.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the mean.

        Returns
        -------
        f1 : float
            In [0, 1]; see :func:`sklearn_bert.metrics.squad_f1`.

        See Also
        --------
        sklearn_bert.metrics.exact_match_scorer : The exact-match rate, as a
            scorer.
        """
        from .scorers import squad_f1_scorer

        return squad_f1_scorer(self, X, y, sample_weight=sample_weight)

    # -- helpers -------------------------------------------------------------
    def _check_rows(self, X: Any, *, reset: bool) -> Any:
        """``X`` as a ``TextInput`` of (question, context) pairs."""
        text_input = self._check_text(X, reset=reset)
        if text_input.pairs is None:
            raise ValueError(
                f"{type(self).__name__} needs (question, context) rows: a "
                "two-column DataFrame or an (n, 2) array, questions first; got "
                "a single column of texts."
            )
        return text_input

    def _windows(self, tokenizer, model, questions, contexts, max_length, *, warn=True):
        from ..._text.tokenize import model_input_names
        from .spans import make_windows

        windows = make_windows(
            tokenizer,
            questions,
            contexts,
            max_length=max_length,
            stride=self.stride,
            input_names=model_input_names(model),
        )
        if warn:
            _warn_questions_truncated(windows.n_questions_truncated, max_length)
        return windows

    def _outputs(self, X: Any) -> tuple[list, Any]:
        """The best span of each row (rows run a part of them at a time; only
        the spans are kept) and ``X``'s index."""
        check_is_fitted(self, "net_")
        rows = self._check_rows(X, reset=False)
        model = self.net_.module_.hf_model
        n_truncated = 0

        def tokenize(part: range) -> Any:
            nonlocal n_truncated
            questions = rows.texts[part.start : part.stop]
            contexts = rows.pairs[part.start : part.stop]
            windows = self._windows(
                self.tokenizer_,
                model,
                questions,
                contexts,
                self.max_length_,
                warn=False,
            )
            n_truncated += windows.n_questions_truncated
            return windows

        def reduce(part: range, windows: Any, logits: list[np.ndarray]):
            return self._decode(windows, logits, rows.pairs[part.start : part.stop])

        spans = self._by_parts(len(rows), tokenize, reduce)
        _warn_questions_truncated(n_truncated, self.max_length_)
        return spans, rows.index

    def _decode(self, windows: Any, outputs: list[np.ndarray], contexts: list):
        """The best span of each row from its windows' (padded) logits."""
        from .spans import decode_spans

        logits = [
            out[: len(feature["input_ids"])]
            for out, feature in zip(outputs, windows.features, strict=True)
        ]
        return decode_spans(
            windows,
            logits,
            contexts,
            max_answer_length=self.max_answer_length,
            null_score_threshold=self.null_score_threshold,
        )


def _warn_questions_truncated(n_truncated: int, max_length: int) -> None:
    from ..._text.tokenize import user_stacklevel

    if n_truncated:
        warnings.warn(
            f"{n_truncated} question(s) are longer than half of max_length="
            f"{max_length} tokens and were truncated; raise max_length to keep "
            "them whole.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )

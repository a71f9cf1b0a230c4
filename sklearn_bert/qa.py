"""BertQuestionAnswerer: extractive question answering as a scikit-learn estimator.

Also the SQuAD metrics (:func:`squad_f1`, :func:`exact_match`) and scorers
for model selection (:func:`squad_f1_scorer`, :func:`exact_match_scorer`).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._answers import answer_offsets, answer_texts, sliced
from ._base import BertBase
from ._data import check_sample_weight_length, check_text_input
from ._finetune import TRAINING_CONSTRAINTS, BertFineTuneBase
from ._models import DEFAULT_MODEL
from ._squad import exact_match, normalize_answer, squad_f1

__all__ = [
    "BertQuestionAnswerer",
    "exact_match",
    "exact_match_scorer",
    "normalize_answer",
    "squad_f1",
    "squad_f1_scorer",
]


class BertQuestionAnswerer(BertFineTuneBase):
    """Extractive question answering: find the answer span in a context.

    Each row is a (question, context) pair; the answer is a piece of the
    context. ``fit`` fine-tunes the encoder with a start/end span head (a
    Hugging Face ``AutoModelForQuestionAnswering``); ``predict`` returns the
    answer strings, ``predict_spans`` also their character offsets and a
    score, and ``score`` the SQuAD F1.

    Parameters
    ----------
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, or a bundled model name. A
        folder written by :meth:`save_pretrained` (or any checkpoint with a
        question-answering head) starts from its trained head.
    max_length : int, default=384
        Tokens per window (question, context part and special tokens). None
        uses the model's limit (at most 512).
    doc_stride : int, default=128
        Context tokens shared by consecutive windows of a long context (see
        Notes). Lowered to half a window's context part when larger.
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
        Windows per batch, in training and at prediction.
    max_epochs : int, default=3
        Passes over the training windows.
    lr : float, default=5e-5
        Peak learning rate of AdamW.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and norms).
    warmup_ratio : float, default=0.1
        Fraction of the optimizer steps with a linear warmup, followed by a
        linear decay to 0.
    gradient_accumulation_steps : int, default=1
        Batches whose gradients add up before one optimizer step.
    validation_fraction : float, default=0.1
        Fraction of the *questions* held out for early stopping (all windows
        of a question stay on the same side). Only used when
        ``early_stopping=True``.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs, and restore the best weights. The
        validation SQuAD F1 is recorded as ``valid_f1`` in
        ``net_.history``.
    n_iter_no_change : int, default=2
        Patience of early stopping, in epochs.
    freeze_encoder : bool, default=False
        Train only the span head.
    trainable_layers : int or None, default=None
        Train only the top ``trainable_layers`` transformer layers (and the
        head). None trains everything.
    dropout : float, default=0.1
        Probability of every dropout layer of the model during training.
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ...
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Autocast precision of forward passes (``"float16"`` is GPU only).
    random_state : int, RandomState instance or None, default=None
        Seeds the head's initialisation, the shuffling, dropout and the
        validation split. Fixed, refitting on the CPU gives the same model.
    verbose : int, default=0
        0 is silent, 1 prints an epoch table, 2 adds progress bars.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks for the skorch net (for example a checkpoint).

    Attributes
    ----------
    net_ : BertNet
        The fitted skorch net; ``net_.module_.model`` is the Hugging Face
        question-answering model and ``net_.history`` the training history.
    tokenizer_ : transformers.PreTrainedTokenizerFast
        The fast tokenizer.
    max_length_ : int
        The window length in use (``max_length`` capped by the model).
    n_windows_ : int
        Number of training windows (at least one per question).
    n_features_in_ : int
        Always 2 (question, context).
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.

    See Also
    --------
    squad_f1 : The metric of :meth:`score`.
    exact_match : The stricter metric, also as ``exact_match_scorer``.
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

    *Long contexts*: a row becomes windows ``[CLS] question [SEP] part of
    the context [SEP]`` of ``max_length`` tokens, consecutive parts sharing
    ``doc_stride`` tokens (questions longer than half a window are cut, with
    a warning). In training, a window that does not hold the whole answer is
    labelled "no answer" (start = end = ``[CLS]``); all such windows are kept,
    as in Hugging Face's reference SQuAD script: they teach the model to
    score spans low where the answer is absent, which is what makes spans of
    different windows comparable. At prediction, the span with the highest
    start + end logit over all windows of the row wins (start <= end, at most
    ``max_answer_length`` tokens, context tokens only, found with the
    tokenizer's ``sequence_ids``). The answer is sliced from the original
    context with the tokens' character offsets and stripped of surrounding
    whitespace.

    *Weights*: ``sample_weight`` weights every window of a question.

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

    _hf_task = "qa"

    _parameter_constraints: dict = {
        **BertBase._parameter_constraints,
        **TRAINING_CONSTRAINTS,
        "doc_stride": [Interval(Integral, 0, None, closed="left")],
        "max_answer_length": [Interval(Integral, 1, None, closed="left")],
        "null_score_threshold": [Real, None],
    }

    def __init__(
        self,
        model=DEFAULT_MODEL,
        *,
        max_length=384,
        doc_stride=128,
        max_answer_length=30,
        null_score_threshold=None,
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
        self.max_length = max_length
        self.doc_stride = doc_stride
        self.max_answer_length = max_answer_length
        self.null_score_threshold = null_score_threshold
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
        tags.input_tags.one_d_array = False  # rows are (question, context)
        tags.target_tags.required = True
        return tags

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
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
        import torch

        from ._device import seed_from
        from ._encode import effective_max_length, model_input_names
        from ._skorch import FeatureDataset
        from ._spans import make_windows, window_targets

        questions, contexts, index = self._check_rows(X, reset=True)
        starts, ends = answer_offsets(y, contexts, index)
        weights = check_sample_weight_length(sample_weight, len(contexts))
        # The new span head is initialised at load time: seed it.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_from(self.random_state))
            tokenizer, model = self._load_pretrained("qa", X)
        self.max_length_ = effective_max_length(
            tokenizer, model.config, self.max_length
        )
        windows = make_windows(
            tokenizer,
            questions,
            contexts,
            max_length=self.max_length_,
            doc_stride=self.doc_stride,
            input_names=model_input_names(model),
        )
        _warn_questions_truncated(windows.n_questions_truncated, self.max_length_)
        targets = window_targets(windows, starts, ends)
        # A third target column numbers the windows, for the validation score.
        numbered = np.column_stack([targets, np.arange(len(windows))])
        dataset = FeatureDataset(
            windows.features, list(numbered), weights[windows.owners]
        )
        gold = sliced(contexts, starts, ends)
        scorer = _ValidF1(self, windows, contexts, gold)

        def build():
            from ._qa_module import QAModule, SpanLoss, set_dropout
            from ._skorch import freeze_layers

            set_dropout(model, self.dropout)
            freeze_layers(model.base_model, self.freeze_encoder, self.trainable_layers)
            return QAModule(model), SpanLoss()

        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        net = self._train(
            build,
            dataset,
            pad_token_id=pad_id,
            groups=windows.owners,
            scorer=scorer,
            score_name="valid_f1",
        )
        scorer.release()  # keeps the training data out of pickles
        self.net_ = net
        self.tokenizer_ = tokenizer
        self.n_windows_ = len(windows)
        return self

    # -- predict -------------------------------------------------------------
    def predict(self, X):
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
        spans = self._predict_spans(X)[0]
        answers = np.empty(len(spans), dtype=object)
        answers[:] = [s.answer for s in spans]
        return answers

    def predict_spans(self, X):
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

        spans, index = self._predict_spans(X)
        return pd.DataFrame(
            {
                "answer": pd.Series([s.answer for s in spans], dtype=object),
                "start": np.asarray([s.start for s in spans], dtype=np.int64),
                "end": np.asarray([s.end for s in spans], dtype=np.int64),
                "score": np.asarray([s.score for s in spans], dtype=np.float64),
            }
        ).set_axis(index if index is not None else pd.RangeIndex(len(spans)))

    def score(self, X, y, sample_weight=None):
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
            In [0, 1]; see :func:`squad_f1`.

        See Also
        --------
        exact_match_scorer : The exact-match rate, as a scorer.
        """
        return squad_f1_scorer(self, X, y, sample_weight=sample_weight)

    def save_pretrained(self, path):
        """Write the fine-tuned model as a standard Hugging Face folder.

        The folder (config, tokenizer, ``model.safetensors``) loads with
        ``AutoModelForQuestionAnswering.from_pretrained(path)``, and as
        ``BertQuestionAnswerer(model=path)``.

        Parameters
        ----------
        path : str or path-like
            Output folder, created if needed.

        Returns
        -------
        self : BertQuestionAnswerer
            The estimator, unchanged.
        """
        from ._hf import save_pretrained

        check_is_fitted(self, "net_")
        save_pretrained(
            self.net_.module_.model, self.tokenizer_, path, verbose=self.verbose
        )
        return self

    # -- helpers -------------------------------------------------------------
    def _check_rows(self, X: Any, *, reset: bool) -> tuple[list, list, Any]:
        text_input = self._check_text(X, reset=reset)
        if text_input.pairs is None:
            raise ValueError(
                f"{type(self).__name__} needs (question, context) rows: a "
                "two-column DataFrame or an (n, 2) array, questions first; got "
                "a single column of texts."
            )
        return text_input.texts, text_input.pairs, text_input.index

    def _predict_spans(self, X: Any) -> tuple[list, Any]:
        from ._encode import model_input_names
        from ._skorch import FeatureDataset
        from ._spans import make_windows

        check_is_fitted(self, "net_")
        questions, contexts, index = self._check_rows(X, reset=False)
        windows = make_windows(
            self.tokenizer_,
            questions,
            contexts,
            max_length=self.max_length_,
            doc_stride=self.doc_stride,
            input_names=model_input_names(self.net_.module_.model),
        )
        _warn_questions_truncated(windows.n_questions_truncated, self.max_length_)
        spans = self._decode(windows, FeatureDataset(windows.features), contexts)
        return spans, index

    def _decode(self, windows: Any, dataset: Any, contexts: list, net: Any = None):
        """Run the net on ``dataset`` (the features of ``windows``) and decode."""
        from ._skorch import predict_batches
        from ._spans import decode_spans

        if net is None:
            outputs = self._predict_outputs(dataset)
        else:
            outputs = predict_batches(net, dataset, self.batch_size)
        return decode_spans(
            windows,
            _window_logits(outputs, dataset),
            contexts,
            max_answer_length=self.max_answer_length,
            null_score_threshold=self.null_score_threshold,
        )


class _ValidF1:
    """Validation SQuAD F1 of the questions whose windows were held out.

    The third target column of a validation window is its window number.
    """

    def __init__(self, estimator: Any, windows: Any, contexts: list, gold: list):
        self.estimator = estimator
        self.windows = windows
        self.contexts = contexts
        self.gold = gold

    def release(self) -> None:
        self.estimator = self.windows = self.contexts = self.gold = None

    def __call__(self, net: Any, valid: Any) -> float:
        ids = np.asarray([t[2] for t in valid.targets], dtype=np.int64)
        spans = self.estimator._decode(
            self.windows.subset(ids), valid, self.contexts, net=net
        )
        rows = [r for r, span in enumerate(spans) if span is not None]
        return squad_f1([self.gold[r] for r in rows], [spans[r].answer for r in rows])


def _window_logits(outputs: Any, dataset: Any) -> list[np.ndarray]:
    """Per-window ``(n_tokens, 2)`` logits, unpadded, in dataset order."""
    logits: list[Any] = [None] * len(dataset)
    for idx, out in outputs:
        for k, i in enumerate(idx):
            n_tokens = len(dataset.features[i]["input_ids"])
            logits[i] = out[k, :n_tokens].numpy()
    return logits


def _warn_questions_truncated(n_truncated: int, max_length: int) -> None:
    if n_truncated:
        warnings.warn(
            f"{n_truncated} question(s) are longer than half of max_length="
            f"{max_length} tokens and were truncated; raise max_length to keep "
            "them whole.",
            UserWarning,
            stacklevel=3,
        )


# -- scorers -------------------------------------------------------------------
def _scorer(metric):
    def scorer(estimator: BaseEstimator, X: Any, y: Any, sample_weight=None):
        text_input = check_text_input(X)
        if text_input.pairs is None:
            raise ValueError(
                "Question answering needs (question, context) rows: a two-column "
                "DataFrame or an (n, 2) array; got a single column of texts."
            )
        gold = answer_texts(y, text_input.pairs, text_input.index)
        return metric(gold, estimator.predict(X), sample_weight=sample_weight)

    return scorer


def squad_f1_scorer(estimator, X, y, sample_weight=None):
    """Scorer (``scoring=`` callable) giving the SQuAD F1 of a question answerer.

    Unlike ``make_scorer(squad_f1)``, it also accepts answers given as
    character offsets (it reads the contexts from ``X``).

    Parameters
    ----------
    estimator : BertQuestionAnswerer
        A fitted question answerer (or a pipeline ending in one).
    X : DataFrame or ndarray of shape (n_samples, 2)
        (question, context) rows.
    y : sequence, array-like of shape (n_samples, 2) or DataFrame
        True answers, in any form :meth:`BertQuestionAnswerer.fit` accepts.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    f1 : float
        The metric on the estimator's predictions, in [0, 1].

    See Also
    --------
    exact_match_scorer : Exact match as a scorer.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_bert import BertQuestionAnswerer
    >>> from sklearn_bert.qa import exact_match_scorer, squad_f1_scorer
    >>> scoring = {"f1": squad_f1_scorer, "em": exact_match_scorer}
    >>> search = GridSearchCV(
    ...     BertQuestionAnswerer(), {"lr": [3e-5, 1e-4]}, scoring=scoring, refit="f1"
    ... )
    """
    return _scorer(squad_f1)(estimator, X, y, sample_weight=sample_weight)


def exact_match_scorer(estimator, X, y, sample_weight=None):
    """Scorer (``scoring=`` callable) giving the exact match of a question answerer.

    Parameters
    ----------
    estimator : BertQuestionAnswerer
        A fitted question answerer.
    X : DataFrame or ndarray of shape (n_samples, 2)
        (question, context) rows.
    y : sequence, array-like of shape (n_samples, 2) or DataFrame
        True answers, in any form :meth:`BertQuestionAnswerer.fit` accepts.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    exact_match : float
        The metric on the estimator's predictions, in [0, 1].

    See Also
    --------
    squad_f1_scorer : SQuAD F1 as a scorer.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_bert import BertQuestionAnswerer
    >>> from sklearn_bert.qa import exact_match_scorer
    >>> search = GridSearchCV(
    ...     BertQuestionAnswerer(), {"lr": [3e-5, 1e-4]}, scoring=exact_match_scorer
    ... )
    """
    return _scorer(exact_match)(estimator, X, y, sample_weight=sample_weight)

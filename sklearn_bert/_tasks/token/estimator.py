"""BertTokenClassifier: one tag per token (named entities, parts of speech)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ..._engine.calibration import TemperatureScaling
from ..._engine.finetune import FineTuneBase, Prepared, TrainingData
from ..._engine.inference import softmax
from ..._params import constraints
from ..._typing import SampleWeight, Targets, TokenData
from ..token_level import TokenLevelMixin
from .scoring import SCORINGS, resolve_scoring, tag_score
from .words import (
    WordInput,
    check_tag_input,
    check_word_input,
    prepare_word_tokenizer,
    tokenize_windows,
)


class BertTokenClassifier(TokenLevelMixin, TemperatureScaling, FineTuneBase):
    """Fine-tune a BERT-style encoder to tag every token (NER, POS tagging).

    ``X`` holds sentences as lists of tokens (words), or as strings split on
    whitespace; ``y`` holds one tag per token, for example IOB2 entity tags
    (``"B-PER"``, ``"I-PER"``, ``"O"``) or part-of-speech tags. ``predict``
    returns exactly one tag per input token, for sentences of any length.

    Parameters
    ----------
    model : str or estimator, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, the name of a bundled model, or
        a :class:`BertMaskedLM` to start from (a fitted one as it is; an
        unfitted one is first fitted on the texts passed to ``fit``). The
        default is bundled with the install and works offline. A folder written
        by ``save_pretrained`` continues from its weights.
    max_length : int or None, default=None
        Maximum tokens per sequence fed to the encoder (a text, a sentence
        pair, a chunk or a window), special tokens included. None uses the
        model's limit (at most 512).
    stride : int, default=64
        Tokens shared by consecutive windows (chunks) of an input longer than
        ``max_length``.
    scoring : {"auto", "entity_f1", "accuracy"}, default="auto"
        What :meth:`score` returns: ``"entity_f1"`` is the entity-level
        micro F1 of ``seqeval`` (entities from IOB-style tags),
        ``"accuracy"`` the share of tokens tagged correctly. ``"auto"`` uses
        ``"entity_f1"`` when the fitted tags are an entity scheme (``"O"``
        and tags starting with ``B-``, ``I-``, ``E-`` or ``S-``) and
        ``"accuracy"`` otherwise (for example for POS tags).
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
        Weights of the tags in the token loss: ``"balanced"`` uses
        ``n_tokens / (n_tags * count(tag))``; a dict maps tags to weights
        (missing tags weigh 1). Useful when ``"O"`` dominates.
    calibration : {"temperature"} or None, default=None
        ``"temperature"`` divides the tag logits by one temperature, fitted
        after training to minimise the log loss of the words of sentences
        held out of training: the early-stopping split with
        ``early_stopping=True``, otherwise ``validation_fraction`` of the
        sentences, which then do not train. It softens overconfident tag
        probabilities and changes no prediction. The targets of the fit are
        smoothed by Laplace's rule (``1/(n + 2)`` for ``n`` held-out words).
        With fewer than 10 held-out words no temperature is fitted. The
        value is ``temperature_``; ``save_pretrained`` folds it into the
        saved classification layer. None keeps the softmax of the raw logits.
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
    classes_ : ndarray
        The tags seen in ``fit``, sorted; the columns of
        :meth:`predict_proba` follow them.
    net_ : BertNet
        The fitted skorch net; ``net_.module_.hf_model`` is the Hugging Face
        ``AutoModelForTokenClassification`` model.
    history_ : skorch.history.History
        The training history (``net_.history``), with ``valid_f1`` or
        ``valid_acc`` under early stopping.
    n_iter_ : int
        Epochs trained.
    temperature_ : float
        The divisor of the tag logits (``calibration``): 1.0 when no
        temperature was fitted.
    loss_curve_ : ndarray of shape (n_epochs,)
        The training loss of each epoch.
    validation_loss_curve_, validation_scores_ : ndarray of shape (n_epochs,) or None
        With ``early_stopping=True``, the validation loss and the validation
        score (``valid_f1`` or ``valid_acc``) of
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
        The token limit per window in use.
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
    n_features_in_ : int
        Always 1 (one column of sentences).
    feature_names_in_ : ndarray of str
        The column name, when ``X`` was a named Series or a DataFrame.

    See Also
    --------
    BertClassifier : One label per text instead of one per token.

    Notes
    -----
    **Alignment.** Words are tokenized with the fast tokenizer
    (``is_split_into_words=True``) and matched to their sub-words with
    ``word_ids()``. The first sub-word of a word carries its tag; the other
    sub-words are ignored by the loss, and a word's prediction is read at its
    first sub-word. Byte-level BPE tokenizers (RoBERTa, ModernBERT) are set
    to add the leading-space marker to every word, as in running text. A
    word that tokenizes to nothing (an empty string, a lone control or
    zero-width character) is given the tokenizer's unknown token, so it gets
    a position and a prediction of its own.

    **Long sentences.** A sentence whose sub-words do not fit in
    ``max_length`` is split into windows of whole words that do, each
    window sharing about ``stride`` tokens with the previous one. Each word
    is trained on and predicted from the one window where it is most central
    (the most context on its poorer side); logits are not averaged. A single
    word longer than a whole window keeps only its first sub-words.

    **Loss.** Each window's loss is the mean cross-entropy of the words it
    owns (each multiplied by its tag's ``class_weight``); windows are
    weighted by ``sample_weight`` divided by the number of windows of their
    sentence, so that every sentence counts once. Empty sentences are
    skipped in training and get ``[]`` from :meth:`predict`. The validation
    score of early stopping is computed per sentence, from the words each
    window owns.

    Examples
    --------
    >>> from sklearn_bert import BertTokenClassifier
    >>> X = [["John", "lives", "in", "Paris"], ["Mary", "works", "at", "Acme"]]
    >>> y = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O", "O", "B-ORG"]]
    >>> tagger = BertTokenClassifier(max_epochs=1, random_state=0).fit(X, y)
    >>> tagger.classes_
    array(['B-LOC', 'B-ORG', 'B-PER', 'O'], dtype='<U5')
    >>> [len(tags) for tags in tagger.predict(["Anna visits Rome", []])]
    [3, 0]
    """

    _parameter_constraints: dict = {
        **FineTuneBase._parameter_constraints,
        **constraints("stride", "class_weight", "calibration"),
        "scoring": [StrOptions(set(SCORINGS))],
    }
    _hf_task = "token"
    #: A few held-out sentences hold tens of words (``calibration``).
    _min_held_out = 2
    #: ``lr="auto"`` for tagging (a per-task default): on 200 sentences of the
    #: Japanese NER corpus entity F1 rose from 0.280 at 5e-5 to 0.310 at 1e-4
    #: and 0.366 at 2e-4 (see the user guide, "Defaults that adapt").
    _task = "token"

    def __init__(
        self,
        model="sentence-transformers/all-MiniLM-L6-v2",
        *,
        max_length=None,
        stride=64,
        scoring="auto",
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
        calibration=None,
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
        self.scoring = scoring
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
        self.calibration = calibration
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
        tags.target_tags.required = True
        tags.target_tags.single_output = False
        return tags

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: TokenData, y: Targets, sample_weight: SampleWeight = None) -> Self:
        """Fine-tune the encoder and the classification layer on tagged sentences.

        Parameters
        ----------
        X : list, ndarray, Series or one-column DataFrame
            One sentence per row: a list of token strings, or a string split
            on whitespace. Empty sentences are allowed (and skipped).
        y : list, ndarray or Series
            One list of tags per sentence, with exactly one tag per token
            (strings such as IOB2 tags, or integers). A string row is split
            on whitespace.
        sample_weight : array-like of shape (n_sentences,), default=None
            Per-sentence weights: a sentence of weight 2 counts like two
            copies.

        Returns
        -------
        self : BertTokenClassifier
            The fitted tagger.
        """
        return self._fit_atomically(X, y, sample_weight)

    def _prepare(self, X, y, sample_weight) -> Prepared:
        from ..._text.inputs import check_sample_weight_length

        word_input = check_word_input(X)
        tags = check_tag_input(y, word_input)
        weights = check_sample_weight_length(sample_weight, len(word_input))
        flat = [t for row in tags for t in row]
        if not flat:
            raise ValueError("y holds no tags: every sentence in X is empty.")
        classes = np.unique(np.asarray(flat))
        if len(classes) < 2:
            raise ValueError(
                "BertTokenClassifier needs at least 2 distinct tags in y; got only "
                f"{classes.tolist()}."
            )
        position = {tag: i for i, tag in enumerate(classes.tolist())}
        labels = [
            np.asarray([position[t] for t in row], dtype=np.int64) for row in tags
        ]
        names = [str(c) for c in classes]
        return Prepared(
            X,
            word_input,
            targets=labels,
            weights=weights,
            load_kwargs={
                "num_labels": len(names),
                "id2label": dict(enumerate(names)),
                "label2id": {n: i for i, n in enumerate(names)},
                "ignore_mismatched_sizes": True,
            },
            fitted={
                **self._input_attributes(1, word_input.columns),
                "classes_": classes,
            },
        )

    _warm_start_keys = ("classes_",)

    def _load(self, prepared: Prepared):
        tokenizer, model = super()._load(prepared)
        prepare_word_tokenizer(tokenizer)
        return tokenizer, model

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        from ..._engine.data import FeatureDataset
        from ..._nn.losses import IGNORE_INDEX

        word_input, labels = prepared.rows, prepared.targets
        windows = self._windows(tokenizer, model, word_input.sentences, max_length)
        per_sentence = np.bincount(windows.sentence, minlength=len(word_input))
        weights = prepared.weights[windows.sentence] / per_sentence[windows.sentence]
        weights[[len(w) == 0 for w in windows.words]] = 0.0
        dataset = FeatureDataset(
            windows.features, windows.targets(labels, IGNORE_INDEX), weights
        )
        classes = prepared.fitted["classes_"]
        scoring = resolve_scoring(self.scoring, classes.tolist())

        def valid_score(outputs: list[np.ndarray], valid: Any) -> float:
            rows = valid.ids
            logits = _word_logits(windows.subset(rows), outputs, labels)
            sentences = np.unique(windows.sentence[rows])
            y_true = [classes[labels[s]].tolist() for s in sentences]
            y_pred = [classes[logits[s].argmax(axis=1)].tolist() for s in sentences]
            return tag_score(y_true, y_pred, scoring)

        def row_outputs(outputs: list[np.ndarray], valid: Any):
            """The held-out words' logits and tags (one row per word)."""
            rows = valid.ids
            logits = _word_logits(windows.subset(rows), outputs, labels)
            sentences = np.unique(windows.sentence[rows])
            return (
                np.concatenate([logits[s] for s in sentences]),
                np.concatenate([np.asarray(labels[s]) for s in sentences]),
            )

        return TrainingData(
            dataset,
            groups=windows.sentence,
            scorer=valid_score,
            row_outputs=row_outputs,
            score_name="valid_f1" if scoring == "entity_f1" else "valid_acc",
        )

    def _module(self, model: Any, prepared: Prepared):
        from ..._nn.heads import TokenModule
        from ..._nn.losses import TokenLoss

        tag_weights = None
        if self.class_weight is not None:
            from sklearn.utils.class_weight import compute_class_weight

            classes = prepared.fitted["classes_"]
            flat = np.concatenate(prepared.targets)
            tag_weights = compute_class_weight(
                self.class_weight, classes=classes, y=classes[flat]
            ).tolist()
        return TokenModule(model, self.dropout), TokenLoss(tag_weights)

    def _windows(self, tokenizer, model, sentences, max_length):
        from ..._text.tokenize import model_input_names

        return tokenize_windows(
            tokenizer,
            sentences,
            max_length=max_length,
            stride=self.stride,
            with_token_type_ids="token_type_ids" in model_input_names(model)
            and "token_type_ids" in tokenizer.model_input_names,
        )

    # -- inference ------------------------------------------------------------
    def _check_words(self, X: Any) -> WordInput:
        import pandas as pd

        check_is_fitted(self, "net_")
        self._check_inference_params()
        word_input = check_word_input(X)
        self._check_column_names(
            word_input.columns if isinstance(X, pd.DataFrame) else None
        )
        return word_input

    def _outputs(
        self, sentences: list[list[str]], reduce: Callable[[np.ndarray], Any]
    ) -> list[Any]:
        """``reduce`` of every sentence's word logits (an ``(n_words,
        n_classes)`` array), in input order. Distinct sentences are run once,
        a part of them at a time; only the reduced outputs are kept."""
        position: dict[tuple[str, ...], int] = {}
        inverse = [position.setdefault(tuple(s), len(position)) for s in sentences]
        unique = [list(s) for s in position]
        model, n_classes = self.net_.module_.hf_model, len(self.classes_)

        def tokenize(part: range) -> Any:
            return self._windows(
                self.tokenizer_, model, unique[part.start : part.stop], self.max_length_
            )

        def reduce_part(part: range, windows: Any, logits: list[np.ndarray]):
            rows = unique[part.start : part.stop]
            return [reduce(z) for z in _word_logits(windows, logits, rows, n_classes)]

        outputs = self._by_parts(len(unique), tokenize, reduce_part)
        # A repeated sentence gets a copy of its own.
        seen: set[int] = set()
        out = []
        for i in inverse:
            out.append(outputs[i].copy() if i in seen else outputs[i])
            seen.add(i)
        return out

    def _held_out_outputs(self, valid: Any) -> list[np.ndarray]:
        from ..._engine.inference import ragged

        return ragged(self._run(valid.features), valid.features)

    def _model_to_save(self) -> Any:
        """The Hugging Face model, its classification layer divided by
        ``temperature_`` (a copy when there is one to fold in)."""
        import copy

        import torch

        model = self.net_.module_.hf_model
        if self.temperature_ == 1.0:
            return model
        model = copy.deepcopy(model)
        layer = model.classifier
        with torch.no_grad():
            layer.weight.div_(self.temperature_)
            layer.bias.div_(self.temperature_)
        return model

    def predict_proba(self, X: TokenData) -> list[np.ndarray]:
        """Tag probabilities of every token.

        Parameters
        ----------
        X : list, ndarray, Series or one-column DataFrame
            Sentences, as in ``fit``.

        Returns
        -------
        proba : list of ndarray
            One array of shape ``(n_tokens, n_classes)`` per sentence; columns
            follow ``classes_`` and rows sum to 1.
        """
        return self._outputs(
            self._check_words(X).sentences, lambda z: softmax(self._calibrated(z))
        )

    def predict(self, X: TokenData) -> list[list[Any]]:
        """Predict one tag per token.

        Parameters
        ----------
        X : list, ndarray, Series or one-column DataFrame
            Sentences, as in ``fit``.

        Returns
        -------
        tags : list of list
            One list per sentence, with exactly one tag (from ``classes_``)
            per input token; ``[]`` for an empty sentence.
        """
        sentences = self._check_words(X).sentences
        classes = self.classes_
        return self._outputs(
            sentences, lambda logits: classes[logits.argmax(axis=1)].tolist()
        )

    def score(self, X: TokenData, y: Targets) -> float:
        """Entity-level micro F1 (or token accuracy) on tagged sentences.

        Parameters
        ----------
        X : list, ndarray, Series or one-column DataFrame
            Sentences, as in ``fit``.
        y : list, ndarray or Series
            The true tags, one list per sentence.

        Returns
        -------
        score : float
            As chosen by ``scoring``: ``seqeval``'s entity-level micro F1
            (default mode, as the CoNLL evaluation script) or the share of
            tokens tagged correctly.
        """
        word_input = self._check_words(X)
        y_true = check_tag_input(y, word_input)
        y_pred = self.predict(word_input.sentences)
        return tag_score(
            y_true, y_pred, resolve_scoring(self.scoring, self.classes_.tolist())
        )

    def __setstate__(self, state):
        super().__setstate__(state)
        if getattr(self, "tokenizer_", None) is not None:
            prepare_word_tokenizer(self.tokenizer_)


def _word_logits(
    windows: Any,
    outputs: list[np.ndarray],
    sentences: list[Any],
    n_classes: int | None = None,
) -> list[np.ndarray]:
    """Per-sentence word logits from per-window token logits.

    Each word's logits are read at its first sub-word in the window that owns
    it. ``sentences`` gives each sentence's number of words (their lengths).
    """
    if n_classes is None:
        n_classes = outputs[0].shape[-1] if outputs else 0
    logits = [np.zeros((len(s), n_classes), dtype=np.float32) for s in sentences]
    for w, window_logits in enumerate(outputs):
        s = windows.sentence[w]
        logits[s][windows.words[w]] = window_logits[windows.positions[w]]
    return logits

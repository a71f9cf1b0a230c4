"""BertTokenClassifier: one tag per token (named entities, parts of speech)."""

from __future__ import annotations

import functools
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BertBase
from ._data import check_sample_weight_length
from ._finetune import TRAINING_CONSTRAINTS, BertFineTuneBase
from ._models import DEFAULT_MODEL
from ._words import (
    WordInput,
    check_tag_input,
    check_word_input,
    encode_windows,
    looks_like_iob,
    prepare_word_tokenizer,
)

#: Values of the ``scoring`` parameter.
SCORINGS = ("auto", "entity_f1", "accuracy")


class BertTokenClassifier(BertFineTuneBase):
    """Fine-tune a BERT-style encoder to tag every token (NER, POS tagging).

    ``X`` holds sentences as lists of tokens (words), or as strings split on
    whitespace; ``y`` holds one tag per token, for example IOB2 entity tags
    (``"B-PER"``, ``"I-PER"``, ``"O"``) or part-of-speech tags. ``predict``
    returns exactly one tag per input token, for sentences of any length.

    Parameters
    ----------
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, or a bundled model name. A
        folder written by :meth:`save_pretrained` continues from its weights
        (and its classification layer, when it has as many tags).
    max_length : int or None, default=None
        Maximum tokens (sub-words plus special tokens) per window. None uses
        the model's limit (at most 512). Longer sentences are split into
        overlapping windows of whole words, never truncated (see Notes).
    stride : int, default=64
        Sub-word tokens of context shared by consecutive windows of a long
        sentence (rounded down to whole words, at most half a window).
    scoring : {"auto", "entity_f1", "accuracy"}, default="auto"
        What :meth:`score` returns: ``"entity_f1"`` is the entity-level
        micro F1 of ``seqeval`` (entities from IOB-style tags),
        ``"accuracy"`` the share of tokens tagged correctly. ``"auto"`` uses
        ``"entity_f1"`` when the fitted tags are an entity scheme (``"O"``
        and tags starting with ``B-``, ``I-``, ``E-`` or ``S-``) and
        ``"accuracy"`` otherwise (for example for POS tags).
    batch_size : int, default=16
        Windows per training step and per inference batch.
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
        Share of the training sentences held out when ``early_stopping=True``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the sentences, stop when the
        validation loss has not improved for ``n_iter_no_change`` epochs and
        restore the best epoch's weights. The validation score (as chosen by
        ``scoring``) is recorded in ``net_.history`` as ``valid_f1`` or
        ``valid_acc``.
    n_iter_no_change : int, default=2
        Patience of early stopping, in epochs.
    class_weight : dict, "balanced" or None, default=None
        Weights of the tags in the token loss: ``"balanced"`` uses
        ``n_tokens / (n_tags * count(tag))``; a dict maps tags to weights
        (missing tags weigh 1). Useful when ``"O"`` dominates.
    freeze_encoder : bool, default=False
        Train the classification layer only.
    trainable_layers : int or None, default=None
        Train only the top ``k`` transformer layers (and the classification
        layer); None trains all of them.
    dropout : float, default=0.1
        Dropout before the classification layer.
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ...
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Autocast precision of forward passes; ``"bfloat16"`` is faster on
        recent CPUs and GPUs.
    random_state : int, RandomState instance or None, default=None
        Seeds the classification layer's initialisation, shuffling, dropout
        and the validation split. A fixed value gives identical predictions
        on refit (on the CPU).
    verbose : int, default=0
        0 is silent; 1 prints one line per epoch (train loss, valid loss,
        validation score, duration); 2 adds progress bars.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks, appended to the built-in ones.

    Attributes
    ----------
    classes_ : ndarray
        The tags seen in ``fit``, sorted; the columns of
        :meth:`predict_proba` follow them.
    net_ : BertNet
        The fitted skorch net; ``net_.module_.model`` is the Hugging Face
        ``AutoModelForTokenClassification`` model and ``net_.history`` the
        training history.
    tokenizer_ : transformers.PreTrainedTokenizerFast
        The tokenizer.
    max_length_ : int
        The token limit per window in use.
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
    owns; windows are weighted by ``sample_weight`` divided by the number of
    windows of their sentence, so that every sentence counts once. Empty
    sentences are skipped in training and get ``[]`` from :meth:`predict`.

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
        **BertBase._parameter_constraints,
        **TRAINING_CONSTRAINTS,
        "stride": [Interval(Integral, 0, None, closed="left")],
        "scoring": [StrOptions(set(SCORINGS))],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _hf_task = "token"

    def __init__(
        self,
        model=DEFAULT_MODEL,
        *,
        max_length=None,
        stride=64,
        scoring="auto",
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
        self.stride = stride
        self.scoring = scoring
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
        tags.target_tags.required = True
        tags.target_tags.single_output = False
        return tags

    # -- input ---------------------------------------------------------------
    def _check_words(self, X: Any, *, reset: bool) -> WordInput:
        """Validate sentences; on ``reset`` record ``n_features_in_`` and name."""
        word_input = check_word_input(X)
        if reset:
            self.n_features_in_ = 1
            if word_input.columns is not None:
                self.feature_names_in_ = np.asarray(word_input.columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        return word_input

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
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
            Per-sentence weights of the loss.

        Returns
        -------
        self : BertTokenClassifier
            The fitted tagger.
        """
        word_input = self._check_words(X, reset=True)
        tags = check_tag_input(y, word_input)
        weights = check_sample_weight_length(sample_weight, len(word_input))
        flat = [t for row in tags for t in row]
        if not flat:
            raise ValueError("y holds no tags: every sentence in X is empty.")
        self.classes_ = np.unique(np.asarray(flat))
        if len(self.classes_) < 2:
            raise ValueError(
                "BertTokenClassifier needs at least 2 distinct tags in y; got only "
                f"{self.classes_.tolist()}."
            )
        position = {tag: i for i, tag in enumerate(self.classes_.tolist())}
        labels = [
            np.asarray([position[t] for t in row], dtype=np.int64) for row in tags
        ]
        self._fit_windows(word_input, labels, weights, self._tag_weights(flat))
        return self

    def _tag_weights(self, flat: list[Any]) -> np.ndarray | None:
        if self.class_weight is None:
            return None
        from sklearn.utils.class_weight import compute_class_weight

        return compute_class_weight(
            self.class_weight, classes=self.classes_, y=np.asarray(flat)
        ).astype(np.float32)

    def _load(self, sentences: list[list[str]]):
        """Tokenizer and token classification model (a new layer is seeded)."""
        import torch

        from ._device import seed_from

        names = [str(c) for c in self.classes_]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_from(self.random_state))
            tokenizer, model = self._load_pretrained(
                "token",
                sentences,
                num_labels=len(names),
                id2label=dict(enumerate(names)),
                label2id={n: i for i, n in enumerate(names)},
                ignore_mismatched_sizes=True,
            )
        prepare_word_tokenizer(tokenizer)
        return tokenizer, model

    def _fit_windows(
        self,
        word_input: WordInput,
        labels: list[np.ndarray],
        weights: np.ndarray,
        tag_weights: np.ndarray | None,
    ) -> None:
        import torch

        from ._encode import effective_max_length, model_input_names
        from ._sequence import freeze, set_head_dropout
        from ._skorch import IGNORE_INDEX, FeatureDataset
        from ._token_modules import TokenLogits, TokenLoss

        tokenizer, model = self._load(word_input.sentences)
        self.tokenizer_ = tokenizer
        self.max_length_ = effective_max_length(
            tokenizer, model.config, self.max_length
        )
        self._input_names = model_input_names(model)
        windows = self._encode(word_input.sentences)
        if not windows.features:
            raise ValueError("X holds no tokens: every sentence is empty.")
        per_sentence = np.bincount(windows.sentence, minlength=len(word_input))
        row_weights = weights[windows.sentence] / per_sentence[windows.sentence]
        row_weights[[len(w) == 0 for w in windows.words]] = 0.0
        dataset = FeatureDataset(
            windows.features, windows.targets(labels, IGNORE_INDEX), row_weights
        )
        class_weight = None if tag_weights is None else torch.as_tensor(tag_weights)

        def build():
            module = TokenLogits(model, self._input_names)
            set_head_dropout(module, self.dropout)
            freeze(module, self.freeze_encoder, self.trainable_layers)
            return module, TokenLoss(class_weight)

        scoring = self._scoring()
        self.net_ = self._train(
            build,
            dataset,
            pad_token_id=_pad_id(tokenizer),
            scorer=functools.partial(
                _valid_score, classes=self.classes_, scoring=scoring
            ),
            score_name="valid_f1" if scoring == "entity_f1" else "valid_acc",
            groups=windows.sentence,
        )

    def _encode(self, sentences: list[list[str]]):
        return encode_windows(
            self.tokenizer_,
            sentences,
            max_length=self.max_length_,
            stride=self.stride,
            with_token_type_ids="token_type_ids" in self._input_names
            and "token_type_ids" in self.tokenizer_.model_input_names,
        )

    def _scoring(self) -> str:
        if self.scoring != "auto":
            return self.scoring
        return "entity_f1" if looks_like_iob(self.classes_.tolist()) else "accuracy"

    # -- inference ------------------------------------------------------------
    def _word_logits(self, X: Any) -> list[np.ndarray]:
        """Logits of every word, one ``(n_words, n_classes)`` array per sentence."""
        from ._skorch import FeatureDataset

        check_is_fitted(self, "net_")
        sentences = self._check_words(X, reset=False).sentences
        position: dict[tuple[str, ...], int] = {}
        inverse = [position.setdefault(tuple(s), len(position)) for s in sentences]
        unique = [list(s) for s in position]
        n_classes = len(self.classes_)
        logits = [np.zeros((len(s), n_classes), dtype=np.float32) for s in unique]
        windows = self._encode(unique)
        if windows.features:
            outputs = self._predict_outputs(FeatureDataset(windows.features))
            for idx, batch in outputs:
                batch = batch.numpy()
                for row, w in enumerate(idx):
                    s = windows.sentence[w]
                    logits[s][windows.words[w]] = batch[row, windows.positions[w]]
        return [logits[i] for i in inverse]

    def predict_proba(self, X):
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
        out = []
        for logits in self._word_logits(X):
            z = logits.astype(np.float64)
            z -= z.max(axis=1, keepdims=True) if len(z) else 0.0
            p = np.exp(z)
            out.append(p / p.sum(axis=1, keepdims=True))
        return out

    def predict(self, X):
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
        return [
            self.classes_[logits.argmax(axis=1)].tolist()
            for logits in self._word_logits(X)
        ]

    def score(self, X, y):
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
        check_is_fitted(self, "net_")
        word_input = self._check_words(X, reset=False)
        y_true = check_tag_input(y, word_input)
        y_pred = self.predict(word_input.sentences)
        return tag_score(y_true, y_pred, self._scoring())

    def save_pretrained(self, path):
        """Write a standard Hugging Face folder: config, tokenizer, weights.

        The config carries ``id2label`` / ``label2id`` from ``classes_``; the
        folder loads with
        ``transformers.AutoModelForTokenClassification.from_pretrained`` and
        can be passed as ``model`` to a new estimator.

        Parameters
        ----------
        path : str or path-like
            Folder to write (created if needed).

        Returns
        -------
        path : pathlib.Path
            The folder written.
        """
        from ._hf import save_pretrained

        check_is_fitted(self, "net_")
        return save_pretrained(
            self.net_.module_.model, self.tokenizer_, path, verbose=self.verbose
        )

    def __setstate__(self, state):
        super().__setstate__(state)
        if getattr(self, "tokenizer_", None) is not None:
            prepare_word_tokenizer(self.tokenizer_)


def _pad_id(tokenizer: Any) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


def tag_score(y_true: list[list[Any]], y_pred: list[list[Any]], scoring: str) -> float:
    """Entity-level micro F1 (seqeval) or token accuracy of tag sequences.

    Token accuracy is 0.0 when there are no tokens at all.
    """
    if scoring == "entity_f1":
        from seqeval.metrics import f1_score

        true = [[str(t) for t in row] for row in y_true]
        pred = [[str(t) for t in row] for row in y_pred]
        return float(f1_score(true, pred))
    n = sum(len(row) for row in y_true)
    if n == 0:
        return 0.0
    hits = sum(
        a == b
        for row_true, row_pred in zip(y_true, y_pred, strict=True)
        for a, b in zip(row_true, row_pred, strict=True)
    )
    return hits / n


def _valid_score(net: Any, dataset: Any, *, classes: np.ndarray, scoring: str) -> float:
    """The ``scoring`` of the net on validation windows (owned words only)."""
    from ._skorch import IGNORE_INDEX, predict_batches

    y_true: list[list[Any]] = [[] for _ in range(len(dataset))]
    y_pred: list[list[Any]] = [[] for _ in range(len(dataset))]
    for idx, logits in predict_batches(net, dataset, net.batch_size):
        logits = logits.numpy()
        for row, i in enumerate(idx):
            target = np.asarray(dataset.targets[i])
            pos = np.flatnonzero(target != IGNORE_INDEX)
            y_true[i] = classes[target[pos]].tolist()
            y_pred[i] = classes[logits[row, pos].argmax(axis=1)].tolist()
    return tag_score(y_true, y_pred, scoring)

"""BertTransformer: text to contextual embeddings, as a scikit-learn transformer."""

from __future__ import annotations

from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from ._base import EMBEDDING_CONSTRAINTS, BertBase, EmbeddingNamesMixin
from ._encode import effective_max_length, embed, model_input_names
from ._finetune import TRAINING_CONSTRAINTS
from ._models import DEFAULT_MODEL


class BertTransformer(EmbeddingNamesMixin, TransformerMixin, BertBase):
    """Contextual sentence embeddings from a BERT-style encoder.

    A drop-in text featurizer: each text (or sentence pair) becomes one
    fixed-size vector, pooled from the encoder's last hidden states. Use it
    like ``TfidfVectorizer`` in a ``Pipeline`` or ``ColumnTransformer``.

    Parameters
    ----------
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, or a bundled model name. The
        default is bundled with the install and works offline.
    pooling : {"mean", "cls", "max"}, default="mean"
        How token vectors become one vector: the attention-masked mean, the
        first (``[CLS]``) token, or the element-wise maximum.
    max_length : int, default=None
        Maximum tokens per text (including special tokens). None uses the
        model's limit (at most 512).
    long_text : {"truncate", "chunk"}, default="truncate"
        What to do with texts longer than ``max_length``: cut them (a
        ``UserWarning`` says how many were cut), or split them into
        overlapping chunks of ``max_length`` tokens and pool the chunk
        embeddings (token-weighted mean, or maximum for ``pooling="max"``).
        For sentence pairs only the second text is chunked.
    stride : int, default=32
        Number of tokens shared by consecutive chunks when
        ``long_text="chunk"``.
    normalize : bool, default=False
        Scale each embedding to unit L2 norm (cosine similarity becomes a dot
        product).
    batch_size : int, default=32
        Texts per forward pass. Batches are formed from texts of similar
        length, so padding stays small.
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``...
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Autocast precision of the forward pass. ``"bfloat16"`` is faster on
        recent CPUs and GPUs; ``"float16"`` is GPU only. Output is always
        float32.
    verbose : int, default=0
        0 is silent; 1 or more shows a progress bar while encoding (and
        prints the epoch table when fine-tuning); 2 or more also lets
        transformers report on loading.
    fine_tune : bool, default=False
        When True, ``fit(X, y)`` first fine-tunes the encoder on ``y`` with a
        :class:`BertClassifier` (class labels) or :class:`BertRegressor`
        (numeric targets), as told by ``sklearn.utils.multiclass.
        type_of_target``, and ``transform`` returns the adapted embeddings.
        Off by default: ``fit`` then only loads the model and ignores ``y``.
    max_epochs : int, default=3
        Fine-tuning epochs (only with ``fine_tune=True``).
    lr : float, default=5e-5
        Fine-tuning peak learning rate (only with ``fine_tune=True``).
    weight_decay : float, default=0.01
        Fine-tuning AdamW weight decay (only with ``fine_tune=True``).
    warmup_ratio : float, default=0.1
        Fraction of fine-tuning steps with a linear warmup (only with
        ``fine_tune=True``).
    random_state : int, RandomState instance or None, default=None
        Seeds fine-tuning (only with ``fine_tune=True``).

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The loaded encoder, in evaluation mode.
    tokenizer_ : transformers.PreTrainedTokenizerFast
        Its fast tokenizer.
    max_length_ : int
        The token limit in use.
    n_features_in_ : int
        1 for single texts, 2 for sentence pairs.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.
    n_features_out_ : int
        Embedding size (the encoder's hidden size).
    history_ : skorch.History
        The fine-tuning history (epochs, losses); only after a fit with
        ``fine_tune=True``.

    See Also
    --------
    BertClassifier : Fine-tunes the encoder on labels.

    Notes
    -----
    Encoding sorts texts by token length, pads each batch to its longest
    member, runs without gradients, restores the input order, and encodes each
    distinct text once. ``fit`` only loads the model: it does not train,
    unless ``fine_tune=True`` and ``y`` is given. Fine-tuning trains a
    classification or regression head on the pooled output (``pooling``)
    with ``max_length`` tokens (256 when None) and ``batch_size`` rows per
    step, keeps the adapted encoder and drops the head.

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
        **EMBEDDING_CONSTRAINTS,
        "normalize": ["boolean"],
        "fine_tune": ["boolean"],
        **{
            k: TRAINING_CONSTRAINTS[k]
            for k in ("max_epochs", "lr", "weight_decay", "warmup_ratio")
        },
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        model=DEFAULT_MODEL,
        *,
        pooling="mean",
        max_length=None,
        long_text="truncate",
        stride=32,
        normalize=False,
        batch_size=32,
        device="auto",
        precision="float32",
        verbose=0,
        fine_tune=False,
        max_epochs=3,
        lr=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        random_state=None,
    ):
        self.model = model
        self.pooling = pooling
        self.max_length = max_length
        self.long_text = long_text
        self.stride = stride
        self.normalize = normalize
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.fine_tune = fine_tune
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the encoder (fine-tuning it on ``y`` if ``fine_tune=True``).

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs as two columns.
        y : array-like or None, default=None
            Labels or numeric targets to fine-tune on when
            ``fine_tune=True`` (required then); ignored otherwise.

        Returns
        -------
        self : BertTransformer
            The fitted transformer.
        """
        self._check_text(X, reset=True)
        self._resolved_device()  # an unavailable device fails here, not later
        if hasattr(self, "history_"):
            del self.history_
        if self.fine_tune:
            self.tokenizer_, self.model_ = self._fine_tuned_encoder(X, y)
        else:
            self.tokenizer_, self.model_ = self._load_pretrained("base", X)
        self.model_.eval()
        self.max_length_ = effective_max_length(
            self.tokenizer_, self.model_.config, self.max_length
        )
        self.n_features_out_ = int(self.model_.config.hidden_size)
        return self

    def _fine_tuned_encoder(self, X, y):
        """Fine-tune a classifier or regressor on ``y``; return its encoder."""
        from sklearn.utils.multiclass import type_of_target

        from .classifier import BertClassifier, BertRegressor

        if y is None:
            raise ValueError(
                "fine_tune=True needs targets: call fit(X, y), or set "
                "fine_tune=False for frozen embeddings."
            )
        target_type = type_of_target(y, input_name="y")
        regression = target_type in ("continuous", "continuous-multioutput")
        estimator_class = BertRegressor if regression else BertClassifier
        estimator = estimator_class(
            self.model,
            pooling=self.pooling,
            max_length=256 if self.max_length is None else self.max_length,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            lr=self.lr,
            weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio,
            device=self.device,
            precision=self.precision,
            random_state=self.random_state,
            verbose=self.verbose,
        ).fit(X, y)
        self.history_ = estimator.net_.history
        encoder = estimator.net_.module_.encoder
        for p in encoder.parameters():
            p.requires_grad_(True)
        return estimator.tokenizer_, encoder

    def transform(self, X):
        """Encode texts into embeddings.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``n_features_out_``), float32
        """
        check_is_fitted(self, "model_")
        text_input = self._check_text(X, reset=False)
        device = self._move_to_device(self.model_)
        return embed(
            lambda batch: self.model_(**batch).last_hidden_state,
            self.tokenizer_,
            text_input,
            max_length=self.max_length_,
            pooling=self.pooling,
            batch_size=self.batch_size,
            device=device,
            precision=self.precision,
            long_text=self.long_text,
            stride=self.stride,
            normalize=self.normalize,
            input_names=model_input_names(self.model_),
            progress=self.verbose >= 1,
        )

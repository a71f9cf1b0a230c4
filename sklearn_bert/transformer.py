"""BertTransformer: text to contextual embeddings, as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._base import EMBEDDING_CONSTRAINTS, BertBase
from ._encode import effective_max_length, embed, model_input_names
from ._models import DEFAULT_MODEL


class BertTransformer(TransformerMixin, BertBase):
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
        0 is silent; 1 or more shows a progress bar while encoding and lets
        transformers report on loading.

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

    See Also
    --------
    BertClassifier : Fine-tunes the encoder on labels.

    Notes
    -----
    Encoding sorts texts by token length, pads each batch to its longest
    member, runs without gradients, restores the input order, and encodes each
    distinct text once. ``fit`` only loads the model: it does not train.

    Examples
    --------
    >>> from sklearn_bert import BertTransformer
    >>> emb = BertTransformer().fit_transform(["a good film", "a dull film"])
    >>> emb.shape
    (2, 384)
    """

    _parameter_constraints: dict = {
        **BertBase._parameter_constraints,
        **EMBEDDING_CONSTRAINTS,
        "normalize": ["boolean"],
        "stride": [Interval(Integral, 0, None, closed="left")],
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the encoder and record the input's shape.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs as two columns. Only validated here.
        y : None
            Ignored.

        Returns
        -------
        self : BertTransformer
            The fitted transformer.
        """
        self._check_text(X, reset=True)
        self.tokenizer_, self.model_ = self._load_pretrained("base", X)
        self.model_.eval()
        self.max_length_ = effective_max_length(
            self.tokenizer_, self.model_.config, self.max_length
        )
        self.n_features_out_ = int(self.model_.config.hidden_size)
        return self

    def transform(self, X):
        """Encode texts into embeddings.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs (as in ``fit``).

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features_out_), float32
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

    def get_feature_names_out(self, input_features=None):
        """Output column names: ``<input column>_<i>`` or ``berttransformer_<i>``.

        Parameters
        ----------
        input_features : array-like of str or None
            Input column names; defaults to ``feature_names_in_`` when set.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self, "n_features_out_")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is not None and len(input_features) > 0:
            prefix = "__".join(str(f) for f in input_features)
        else:
            prefix = type(self).__name__.lower()
        return np.asarray(
            [f"{prefix}_{i}" for i in range(self.n_features_out_)], dtype=object
        )

"""BertMaskedLM: masked-language-model domain adaptation as an estimator."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._base import EMBEDDING_CONSTRAINTS, BertBase, EmbeddingNamesMixin
from ._data import check_text_input
from ._device import release_memory, seed_from
from ._encode import (
    effective_max_length,
    embed,
    length_sorted_batches,
    model_input_names,
    pad_batch,
    warn_truncated,
)
from ._finetune import TRAINING_CONSTRAINTS, TRAINING_DEFAULTS, BertFineTuneBase
from ._models import DEFAULT_MODEL

_UNUSED_TRAINING = {"dropout", "class_weight"}

#: The literal mask placeholder accepted by ``fill_mask`` for every family.
MASK_PLACEHOLDER = "[MASK]"


class BertMaskedLM(EmbeddingNamesMixin, TransformerMixin, BertFineTuneBase):
    """Masked-language-model training of a BERT-style encoder on your texts.

    Domain-adaptive pretraining: ``fit`` continues the masked-LM objective of
    BERT on unlabelled texts, so the encoder learns the vocabulary and style
    of your domain before a task is fine-tuned on few labels. Pass the
    estimator (fitted or not) as the ``model`` of any other estimator of the
    library to start from the adapted weights: an unfitted one is fitted on
    the training texts of each fit, so one ``GridSearchCV`` can compare
    "fine-tune" with "adapt on the domain, then fine-tune" without leaking
    across folds.

    Parameters
    ----------
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, a bundled model name, or
        another (fitted or unfitted) ``BertMaskedLM`` to continue from. A
        checkpoint without a masked-LM head (such as the default) gets a new
        head whose output layer is tied to the word embeddings.
    mlm_probability : float, default=0.15
        Share of the tokens chosen for prediction in each text (at least one
        per text). Of the chosen tokens 80 % become the mask token, 10 % a
        random token, 10 % stay unchanged. Special tokens and padding are
        never chosen.
    whole_word_masking : bool, default=False
        Choose whole words (all their sub-tokens together) instead of single
        tokens, each with probability ``mlm_probability``.
    pooling : {"mean", "cls", "max"}, default="mean"
        Pooling of ``transform``'s embeddings.
    max_length : int, default=None
        Maximum tokens per sequence (including special tokens). None uses the
        model's limit (at most 512).
    long_text : {"chunk", "truncate"}, default="chunk"
        Single texts longer than ``max_length``: ``"chunk"`` cuts them into
        consecutive pieces of ``max_length`` tokens that are all trained on
        and scored (nothing is lost; in ``transform`` the chunks overlap by
        ``stride`` tokens and their embeddings are pooled); ``"truncate"``
        keeps the start (a ``UserWarning`` says how many were cut). Sentence
        pairs are always truncated, longest text first.
    stride : int, default=32
        Tokens shared by consecutive chunks in ``transform``.
    batch_size : int, default=16
        Sequences per training step and per forward pass.
    max_epochs : int, default=3
        Passes over the texts; each draws new masks.
    lr : float, default=5e-5
        Peak learning rate of AdamW.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and normalisation weights).
    warmup_ratio : float, default=0.1
        Share of the optimizer steps with a linear warmup; linear decay to 0
        follows.
    gradient_accumulation_steps : int, default=1
        Batches whose gradients add up before one optimizer step.
    validation_fraction : float, default=0.1
        Share of the sequences held out for early stopping.
    early_stopping : bool, default=False
        Stop when the held-out masked-token loss (fixed masks) has not
        improved for ``n_iter_no_change`` epochs, and keep the best weights.
    n_iter_no_change : int, default=2
        Patience of early stopping, in epochs.
    freeze_encoder : bool, default=False
        Train only the prediction head (with tied word embeddings these stay
        frozen too).
    trainable_layers : int, default=None
        Train only the top ``trainable_layers`` transformer layers (and the
        head); None trains all.
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ...
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Autocast precision of forward passes.
    random_state : int, RandomState instance or None, default=None
        Seeds the new head, the masks, the batch order and dropout: an int
        gives the same model on every fit (on the CPU).
    verbose : int, default=0
        0 is silent; 1 prints an epoch table and warns when the checkpoint
        has no masked-LM head; 2 adds progress bars.
    callbacks : list of skorch callbacks, default=None
        Extra callbacks of the skorch training loop.

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The adapted masked-LM model (``AutoModelForMaskedLM``), in
        evaluation mode.
    tokenizer_ : transformers.PreTrainedTokenizerFast
        Its fast tokenizer.
    mlm_head_initialized_ : bool
        True when the checkpoint had no masked-LM head and a new one was
        initialised.
    history_ : skorch.history.History
        Training history (``train_loss``: mean masked-token cross-entropy,
        and ``valid_loss`` with early stopping).
    max_length_ : int
        The token limit in use.
    n_features_in_ : int
        1 for single texts, 2 for sentence pairs.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.
    n_features_out_ : int
        Embedding size of ``transform``.

    See Also
    --------
    BertTransformer : Embeddings from a pretrained (or adapted) encoder.

    Notes
    -----
    Masks are drawn in the batch collate function, so each epoch sees new
    masks (dynamic masking, as in RoBERTa). ``score`` uses a fixed recipe
    instead (15 % of tokens, token-level, a fixed seed): each text's masks
    depend only on its tokens, so scores are comparable across models of
    the same tokenizer, calls and batch sizes, whatever ``mlm_probability``
    and ``whole_word_masking`` are.

    When the checkpoint has weights that the masked-LM model has no place
    for, such as BERT's pooler, they are kept and written back by
    ``save_pretrained``, so that ``AutoModel`` (and the other estimators)
    load the adapted model without newly initialised weights.

    Examples
    --------
    >>> from sklearn_bert import BertMaskedLM
    >>> texts = ["the soup was cold", "great coffee, fast delivery"] * 4
    >>> mlm = BertMaskedLM(max_epochs=1, random_state=0).fit(texts)
    >>> mlm.score(texts) < 0
    True
    >>> mlm.transform(texts).shape
    (8, 384)
    >>> len(mlm.fill_mask(["the [MASK] was cold"], top_k=3)[0][0])
    3
    """

    _parameter_constraints: dict = {
        **BertBase._parameter_constraints,
        **{k: v for k, v in TRAINING_CONSTRAINTS.items() if k not in _UNUSED_TRAINING},
        **EMBEDDING_CONSTRAINTS,
        "mlm_probability": [Interval(Real, 0, 1, closed="neither")],
        "whole_word_masking": ["boolean"],
    }

    def __init__(
        self,
        model=DEFAULT_MODEL,
        *,
        mlm_probability=0.15,
        whole_word_masking=False,
        pooling="mean",
        max_length=None,
        long_text="chunk",
        stride=32,
        batch_size=16,
        max_epochs=TRAINING_DEFAULTS["max_epochs"],
        lr=TRAINING_DEFAULTS["lr"],
        weight_decay=TRAINING_DEFAULTS["weight_decay"],
        warmup_ratio=TRAINING_DEFAULTS["warmup_ratio"],
        gradient_accumulation_steps=TRAINING_DEFAULTS["gradient_accumulation_steps"],
        validation_fraction=TRAINING_DEFAULTS["validation_fraction"],
        early_stopping=TRAINING_DEFAULTS["early_stopping"],
        n_iter_no_change=TRAINING_DEFAULTS["n_iter_no_change"],
        freeze_encoder=TRAINING_DEFAULTS["freeze_encoder"],
        trainable_layers=TRAINING_DEFAULTS["trainable_layers"],
        device="auto",
        precision="float32",
        random_state=TRAINING_DEFAULTS["random_state"],
        verbose=0,
        callbacks=TRAINING_DEFAULTS["callbacks"],
    ):
        self.model = model
        self.mlm_probability = mlm_probability
        self.whole_word_masking = whole_word_masking
        self.pooling = pooling
        self.max_length = max_length
        self.long_text = long_text
        self.stride = stride
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
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    _hf_task = "mlm"

    # -- fit ---------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Continue masked-LM training on unlabelled texts.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts, or sentence pairs as two columns.
        y : None
            Ignored.

        Returns
        -------
        self : BertMaskedLM
            The fitted estimator.
        """
        from ._masking import MaskedLMLoss, MaskedLMModule, MaskingCollate
        from ._skorch import FeatureDataset, freeze_layers

        seed = seed_from(self.random_state)
        text_input = self._start(X, seed)
        features = self._features(text_input)
        model = self.model_
        freeze_layers(model.base_model, self.freeze_encoder, self.trainable_layers)
        collates = [
            MaskingCollate(**self._masking(), seed=seed, fixed=False),
            MaskingCollate(**self._masking(score=True), seed=seed, fixed=True),
        ]
        net = self._train(
            lambda: (MaskedLMModule(model), MaskedLMLoss()),
            FeatureDataset(features),
            pad_token_id=self._pad_token_id(),
            collate=collates[0],
            valid_collate=collates[1],
        )
        for p in model.parameters():
            p.requires_grad_(True)
        model.eval()
        self.history_ = net.history
        return self

    def _load_start(self, X: Any, seed: int | None = None) -> BertMaskedLM:
        """Set the estimator to the starting point of ``fit`` without training.

        The checkpoint, with the same seeded new head as ``fit`` when it has
        none: ``score`` then measures the model before adaptation. ``seed``
        defaults to the one ``fit`` derives from ``random_state``.
        """
        self._start(X, seed_from(self.random_state) if seed is None else seed)
        return self

    def _start(self, X: Any, seed: int):
        """Validate ``X``, load tokenizer and model; return the text input."""
        import torch

        text_input = self._check_text(X, reset=True)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            tokenizer, model, info = self._load_pretrained(
                "mlm", X, output_loading_info=True
            )
        if tokenizer.mask_token_id is None:
            raise ValueError(
                f"The tokenizer of model={self._name()!r} has no mask token; "
                "masked-LM training needs one."
            )
        prefix = model.base_model_prefix
        head = sorted(
            k for k in info.get("missing_keys", ()) if not k.startswith(prefix + ".")
        )
        self.mlm_head_initialized_ = bool(head)
        if head and self.verbose >= 1:
            tied = _is_tied(model)
            warnings.warn(
                f"model={self._name()!r} has no masked-LM head: {', '.join(head)} "
                "were newly initialised"
                + (
                    ", with the output layer tied to the word embeddings"
                    if tied
                    else ""
                )
                + ". Scores and fill_mask reflect an untrained head until fit "
                "has trained it.",
                UserWarning,
                stacklevel=3,
            )
        self._carried_weights = _carried(info.get("unexpected_tensors", {}), prefix)
        model.eval()
        self.tokenizer_ = tokenizer
        self.model_ = model
        self.max_length_ = effective_max_length(
            tokenizer, model.config, self.max_length
        )
        self.n_features_out_ = int(model.config.hidden_size)
        return text_input

    def _name(self) -> str:
        from ._base import model_name

        return model_name(self.model)

    def _pad_token_id(self) -> int:
        pad = self.tokenizer_.pad_token_id
        return 0 if pad is None else int(pad)

    def _masking(self, *, score: bool = False) -> dict[str, Any]:
        from ._masking import SCORE_MLM_PROBABILITY, random_token_ids

        return {
            "pad_token_id": self._pad_token_id(),
            "mask_token_id": int(self.tokenizer_.mask_token_id),
            "random_token_ids": random_token_ids(self.tokenizer_, self.model_),
            "mlm_probability": SCORE_MLM_PROBABILITY if score else self.mlm_probability,
            "whole_word": False if score else self.whole_word_masking,
        }

    def _features(self, text_input) -> list[dict[str, list[int]]]:
        from ._masking import tokenize_for_mlm

        features, n_truncated = tokenize_for_mlm(
            self.tokenizer_,
            text_input,
            max_length=self.max_length_,
            long_text=self.long_text,
            input_names=model_input_names(self.model_),
        )
        warn_truncated(n_truncated, self.max_length_)
        return features

    # -- evaluation --------------------------------------------------------
    def score(self, X, y=None):
        """Negative mean masked-token cross-entropy on held-out texts.

        Higher is better (scikit-learn's convention); ``exp(-score)`` is the
        masked-token perplexity. The masks follow a fixed recipe (15 % of the
        tokens, 80/10/10, a fixed seed, each text's masks depending only on
        its tokens), so scores compare across models, calls and batch sizes.

        Parameters
        ----------
        X : list, ndarray, Series or DataFrame
            Texts (or sentence pairs, as in ``fit``).
        y : None
            Ignored.

        Returns
        -------
        score : float
            Minus the mean cross-entropy (in nats) over all masked tokens.
        """
        from ._masking import SCORE_SEED, MaskingCollate, masked_token_loss

        check_is_fitted(self, "model_")
        text_input = self._check_text(X, reset=False)
        features = self._features(text_input)
        device = self._move_to_device(self.model_)
        total, count = masked_token_loss(
            self.model_,
            features,
            MaskingCollate(**self._masking(score=True), seed=SCORE_SEED, fixed=True),
            batch_size=self.batch_size,
            device=device,
            precision=self.precision,
        )
        release_memory(device)
        if count == 0:
            raise ValueError(
                "X has no token that can be masked (only special tokens); "
                "score needs texts with words."
            )
        return -total / count

    def fill_mask(self, texts, top_k=5):
        """Most likely tokens at each mask position.

        Parameters
        ----------
        texts : list, ndarray or Series of str
            Texts holding one or more mask tokens. The literal ``"[MASK]"``
            works for every model family (it becomes the tokenizer's mask
            token, such as ``"<mask>"``).
        top_k : int, default=5
            Candidates per mask position.

        Returns
        -------
        predictions : list of list of list of (str, float)
            For each text, for each mask position (left to right), the
            ``top_k`` ``(token, probability)`` pairs, most likely first.
            Tokens are decoded (word-piece markers such as ``##`` kept).
        """
        import torch

        from ._device import autocast
        from ._masking import encode_masked_texts, masked_logits

        check_is_fitted(self, "model_")
        if not isinstance(top_k, Integral) or isinstance(top_k, bool) or top_k < 1:
            raise ValueError(f"top_k must be a positive integer, got {top_k!r}.")
        text_input = check_text_input(texts, allow_pairs=False)
        tokenizer = self.tokenizer_
        features = encode_masked_texts(
            tokenizer,
            text_input.texts,
            placeholder=MASK_PLACEHOLDER,
            max_length=self.max_length_,
            input_names=model_input_names(self.model_),
        )
        mask_id = tokenizer.mask_token_id
        top_k = min(int(top_k), int(self.model_.config.vocab_size))
        device = self._move_to_device(self.model_)
        out: list[Any] = [None] * len(features)
        lengths = np.array([len(f["input_ids"]) for f in features])
        with torch.inference_mode():
            for idx in length_sorted_batches(lengths, self.batch_size):
                batch = pad_batch([features[i] for i in idx], self._pad_token_id())
                batch = {k: v.to(device) for k, v in batch.items()}
                mlm_mask = batch["input_ids"] == mask_id
                with autocast(device, self.precision):
                    logits = masked_logits(self.model_, batch, mlm_mask)
                probs = logits.float().softmax(-1)
                values, indices = probs.topk(top_k, dim=-1)
                values, indices = values.cpu().tolist(), indices.cpu().tolist()
                counts = mlm_mask.sum(1).cpu().tolist()
                start = 0
                for row, n in zip(idx, counts, strict=True):
                    out[row] = [
                        [
                            (tokenizer.decode([t]).strip(), float(p))
                            for t, p in zip(indices[j], values[j], strict=True)
                        ]
                        for j in range(start, start + n)
                    ]
                    start += n
        release_memory(device)
        return out

    def transform(self, X):
        """Pooled embeddings from the adapted encoder.

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
        encoder = self.model_.base_model
        device = self._move_to_device(self.model_)
        self.model_.eval()
        return embed(
            lambda batch: encoder(**batch)[0],
            self.tokenizer_,
            text_input,
            max_length=self.max_length_,
            pooling=self.pooling,
            batch_size=self.batch_size,
            device=device,
            precision=self.precision,
            # pairs are truncated as in fit (chunks split the second text only)
            long_text=self.long_text if text_input.pairs is None else "truncate",
            stride=self.stride,
            input_names=model_input_names(encoder),
            progress=self.verbose >= 2,
        )

    # -- export ------------------------------------------------------------
    def save_pretrained(self, path):
        """Write the adapted model as a standard Hugging Face folder.

        ``AutoModelForMaskedLM.from_pretrained(path)`` loads it with its head,
        ``AutoModel`` (or any task auto class) loads the encoder; so does any
        estimator of this library with ``model=path``.

        Parameters
        ----------
        path : str or path-like
            Folder to write (created if needed).

        Returns
        -------
        path : pathlib.Path
            The folder written.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for rel, data in self._export_pretrained_files().items():
            target = path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return path

    def _export_pretrained_files(self) -> dict[str, bytes]:
        """The adapted model as an in-memory Hugging Face folder.

        The protocol through which other estimators start from this one (see
        ``BertBase._load_pretrained``).
        """
        from ._hf import dump_pretrained

        check_is_fitted(self, "model_")
        files = dump_pretrained(self.model_, self.tokenizer_)
        return _add_tensors(files, getattr(self, "_carried_weights", {}))


def _is_tied(model: Any) -> bool:
    out = model.get_output_embeddings()
    return out is not None and out.weight is model.get_input_embeddings().weight


def _carried(tensors: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Checkpoint weights to keep although the masked-LM model has no place for
    them: the base model's pooler, named as in a masked-LM checkpoint."""
    carried = {}
    for key, tensor in tensors.items():
        local = key[len(prefix) + 1 :] if key.startswith(prefix + ".") else key
        if local.startswith("pooler."):
            carried[f"{prefix}.{local}"] = tensor.detach().cpu().contiguous()
    return carried


def _add_tensors(files: dict[str, bytes], tensors: dict[str, Any]) -> dict[str, bytes]:
    """Add ``tensors`` to the safetensors weights of an in-memory folder."""
    if not tensors:
        return files
    import json

    from safetensors.torch import load, save

    files = dict(files)
    if "model.safetensors" in files:
        weights = load(files["model.safetensors"])
        weights.update({k: v for k, v in tensors.items() if k not in weights})
        files["model.safetensors"] = save(weights, metadata={"format": "pt"})
        return files
    index_name = "model.safetensors.index.json"
    if index_name in files:
        index = json.loads(files[index_name])
        shard = "model-carried.safetensors"
        new = {k: v for k, v in tensors.items() if k not in index["weight_map"]}
        if new:
            files[shard] = save(new, metadata={"format": "pt"})
            index["weight_map"].update(dict.fromkeys(new, shard))
            files[index_name] = json.dumps(index, indent=2).encode()
    return files

"""BertMaskedLM: masked-language-model domain adaptation as an estimator."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..._engine.base import EmbeddingMixin
from ..._engine.finetune import FineTuneBase, Prepared, TrainingData
from ..._params import constraints
from ..._typing import OptionalTargets, PathLike, TextData

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: The literal mask placeholder accepted by ``fill_mask`` for every family.
_MASK_PLACEHOLDER = "[MASK]"


class BertMaskedLM(EmbeddingMixin, TransformerMixin, FineTuneBase):
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
    model : str or estimator, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder, a Hugging Face hub id, the name of a bundled model, or
        a :class:`BertMaskedLM` to start from (a fitted one as it is; an
        unfitted one is first fitted on the texts passed to ``fit``). The
        default is bundled with the install and works offline. A folder written
        by ``save_pretrained`` continues from its weights.
    mlm_probability : float, default=0.15
        Share of the tokens chosen for prediction in each text (at least one
        per text). Of the chosen tokens 80 % become the mask token, 10 % a
        random token, 10 % stay unchanged. Special tokens and padding are
        never chosen.
    whole_word_masking : bool, default=False
        Choose whole words (all their sub-tokens together) instead of single
        tokens, each with probability ``mlm_probability``.
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
    long_text : {"truncate", "chunk"}, default="chunk"
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
        and ``valid_loss``, on fixed masks, with early stopping).
    n_iter_ : int
        Epochs trained.
    loss_curve_ : ndarray of shape (n_epochs,)
        The training loss of each epoch.
    validation_loss_curve_, validation_scores_ : ndarray of shape (n_epochs,) or None
        With ``early_stopping=True``, the validation loss and (no task score:
        ``validation_scores_`` is None) of
        each epoch; None otherwise.
    best_epoch_ : int
        The epoch whose weights the model holds: with early stopping the one
        of the lowest validation loss, else the last.
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
        The head's peak learning rate ``fit`` used.
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
    masks (dynamic masking, as in RoBERTa). ``max_epochs=0`` loads the
    checkpoint (with its new head when it has none) without training, to
    score the starting point. With early stopping, the chunks
    of one long text stay on one side of the validation split. The
    prediction head has no dropout of its own (there is no ``dropout``
    parameter). ``score`` uses a fixed recipe
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
        **{
            k: v
            for k, v in FineTuneBase._parameter_constraints.items()
            if k != "dropout"
        },
        **constraints("pooling", "long_text", "stride"),
        "max_epochs": [
            Interval(Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "mlm_probability": [Interval(Real, 0, 1, closed="neither")],
        "whole_word_masking": ["boolean"],
    }
    _hf_task = "mlm"
    _task = "masked-lm"

    def __init__(
        self,
        model="sentence-transformers/all-MiniLM-L6-v2",
        *,
        mlm_probability=0.15,
        whole_word_masking=False,
        pooling="mean",
        max_length=None,
        long_text="chunk",
        stride=32,
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
        self.mlm_probability = mlm_probability
        self.whole_word_masking = whole_word_masking
        self.pooling = pooling
        self.max_length = max_length
        self.long_text = long_text
        self.stride = stride
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
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.training_store = training_store

    # -- fit ---------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: TextData, y: OptionalTargets = None) -> Self:
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
        return self._fit_atomically(X)

    def _prepare(self, X, y, sample_weight) -> Prepared:
        text_input = self._check_text(X, reset=True)
        return Prepared(
            X,
            text_input,
            load_kwargs={"output_loading_info": True},
            fitted=self._input_attributes(text_input.n_columns, text_input.columns),
        )

    def _load(self, prepared: Prepared):
        """The checkpoint's masked-LM model; a missing head is new (and noted),
        and weights it has no place for (a pooler) are carried along."""
        from ..._engine.base import model_name
        from ..._engine.finetune import head_keys

        tokenizer, model, info = self._load_pretrained(
            self._hf_task, prepared.X, **prepared.load_kwargs
        )
        name = model_name(self.model)
        if tokenizer.mask_token_id is None:
            raise ValueError(
                f"The tokenizer of model={name!r} has no mask token; masked-LM "
                "training needs one."
            )
        prefix = model.base_model_prefix
        head = head_keys(model, info)
        prepared.new_head = bool(head)
        if head and self.verbose >= 1:
            from ..._text.tokenize import user_stacklevel

            tied = ", with the output layer tied to the word embeddings"
            warnings.warn(
                f"model={name!r} has no masked-LM head: {', '.join(head)} were "
                f"newly initialised{tied if _is_tied(model) else ''}. Scores and "
                "fill_mask reflect an untrained head until fit has trained it.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        prepared.fitted["mlm_head_initialized_"] = bool(head)
        prepared.fitted["_carried_weights_"] = _carried(
            info.get("unexpected_tensors", {}), prefix
        )
        return tokenizer, model

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        from ..._engine.data import FeatureDataset
        from .masking import MaskingCollate

        features, owners = self._features(tokenizer, model, prepared.rows, max_length)
        seed = prepared.seed
        return TrainingData(
            FeatureDataset(features),
            groups=owners,
            collate=MaskingCollate(
                **_masking(self, tokenizer, model), seed=seed, fixed=False
            ),
            valid_collate=MaskingCollate(
                **_masking(self, tokenizer, model, score=True), seed=seed, fixed=True
            ),
            fitted={"n_features_out_": int(model.config.hidden_size)},
        )

    def _module(self, model: Any, prepared: Prepared):
        from ..._nn.heads import MaskedLMModule
        from ..._nn.losses import MaskedLMLoss

        return MaskedLMModule(model), MaskedLMLoss()

    def _previous_module(self, previous: dict) -> Any:
        import copy

        from ..._nn.heads import MaskedLMModule

        return MaskedLMModule(copy.deepcopy(previous["model_"]))

    def _fitted_model(self, net: Any) -> dict[str, Any]:
        model = net.module_.hf_model
        model.eval()
        return {"model_": model, "history_": net.history}

    def _features(self, tokenizer, model, text_input, max_length):
        from ..._text.tokenize import model_input_names, warn_truncated
        from .masking import tokenize_for_mlm

        features, owners, n_truncated = tokenize_for_mlm(
            tokenizer,
            text_input,
            max_length=max_length,
            long_text=self.long_text,
            input_names=model_input_names(model),
        )
        warn_truncated(n_truncated, max_length, can_chunk=text_input.pairs is None)
        return features, owners

    # -- evaluation --------------------------------------------------------
    def score(self, X: TextData, y: OptionalTargets = None) -> float:
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
        import torch

        from ..._nn.heads import masked_logits
        from .masking import SCORE_SEED, MaskingCollate

        check_is_fitted(self, "model_")
        text_input = self._check_text(X, reset=False)
        features, _ = self._features(
            self.tokenizer_, self.model_, text_input, self.max_length_
        )
        collate = MaskingCollate(
            **_masking(self, self.tokenizer_, self.model_, score=True),
            seed=SCORE_SEED,
            fixed=True,
        )
        model = self.model_

        def loss_sum(batch):
            mlm_mask = batch.pop("mlm_mask")
            labels = batch.pop("labels")
            logits = masked_logits(model, batch, mlm_mask).float()
            target = labels[labels >= 0]
            total = torch.nn.functional.cross_entropy(logits, target, reduction="sum")
            return torch.stack([total, torch.tensor(float(target.numel()))])

        totals = sum(
            out
            for _, out in self._run_model(
                self.model_, features, forward=loss_sum, collate=collate.batch
            )
        )
        total, count = float(totals[0]), int(totals[1])
        if count == 0:
            raise ValueError(
                "X has no token that can be masked (only special tokens); "
                "score needs texts with words."
            )
        return -total / count

    def fill_mask(
        self, texts: Sequence[str] | np.ndarray | pd.Series, top_k: int = 5
    ) -> list[list[list[tuple[str, float]]]]:
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
        from ..._nn.heads import masked_logits
        from ..._text.inputs import check_text_input
        from ..._text.tokenize import model_input_names, pad_token_id
        from .masking import tokenize_masked_texts

        check_is_fitted(self, "model_")
        self._check_inference_params()
        if not isinstance(top_k, Integral) or isinstance(top_k, bool) or top_k < 1:
            raise ValueError(f"top_k must be a positive integer, got {top_k!r}.")
        text_input = check_text_input(texts, allow_pairs=False)
        tokenizer = self.tokenizer_
        features = tokenize_masked_texts(
            tokenizer,
            text_input.texts,
            placeholder=_MASK_PLACEHOLDER,
            max_length=self.max_length_,
            input_names=model_input_names(self.model_),
        )
        mask_id = tokenizer.mask_token_id
        top_k = min(int(top_k), int(self.model_.config.vocab_size))
        model = self.model_

        def top_tokens(batch):
            mlm_mask = batch["input_ids"] == mask_id
            probs = masked_logits(model, batch, mlm_mask).float().softmax(-1)
            values, indices = probs.topk(top_k, dim=-1)
            return values, indices, mlm_mask.sum(1)

        from ..._text.batching import pad_batch

        pad = pad_token_id(tokenizer)
        out: list[Any] = [None] * len(features)
        batches = self._run_model(
            self.model_,
            features,
            forward=top_tokens,
            collate=lambda rows: pad_batch(rows, pad),
        )
        for idx, (values, indices, counts) in batches:
            values, indices = values.tolist(), indices.tolist()
            start = 0
            for row, n in zip(idx, counts.tolist(), strict=True):
                out[row] = [
                    [
                        (tokenizer.decode([t]).strip(), float(p))
                        for t, p in zip(indices[j], values[j], strict=True)
                    ]
                    for j in range(start, start + n)
                ]
                start += n
        return out

    def transform(self, X: TextData) -> np.ndarray | pd.DataFrame | Any:
        """Pooled embeddings from the adapted encoder.

        Parameters
        ----------
        X : list, ndarray, Series, DataFrame or Dask collection
            Texts, or sentence pairs (as in ``fit``). A Dask collection is
            encoded lazily, partition by partition.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``n_features_out_``), float32
            A DataFrame with ``set_output(transform="pandas")``; for a Dask
            input, a lazy Dask array (or Dask DataFrame).
        """
        check_is_fitted(self, "model_")
        text_input = self._check_text(X, reset=False)
        return self._embed(
            text_input,
            self.model_,
            self.model_.base_model,
            # pairs are truncated as in fit (chunks split the second text only)
            long_text="truncate" if text_input.pairs is not None else self.long_text,
        )

    # -- export ------------------------------------------------------------
    def save_pretrained(self, path: PathLike) -> Path:
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
            The folder written. It also holds a ``README.md`` model card in
            the Hugging Face hub's format; a ``README.md`` that sklearn-bert
            did not write is kept, with a warning.
        """
        from ..._engine.model_card import write_model_card
        from ..._io.loading import write_files

        path = write_files(self._export_pretrained_files(), path)
        return write_model_card(self, path)

    def _export_pretrained_files(self) -> dict[str, bytes]:
        """The adapted model as an in-memory Hugging Face folder.

        The protocol through which other estimators start from this one (see
        ``BertBase._load_pretrained``).
        """
        from ..._io.loading import dump_pretrained

        check_is_fitted(self, "model_")
        files = dump_pretrained(self.model_, self.tokenizer_)
        return _add_tensors(files, self._carried_weights_)

    # -- pickling ----------------------------------------------------------
    # The carried weights (a pooler) are tensors: stored as safetensors bytes
    # so the state stays plain data (see ``BertBase.__getstate__``).
    def __getstate__(self):
        state = super().__getstate__()
        carried = state.get("_carried_weights_")
        if carried:
            from safetensors.torch import save

            state["_carried_weights_"] = save(
                {k: v.contiguous() for k, v in carried.items()}
            )
        return state

    def _restore(self, state: dict) -> None:
        carried = state.get("_carried_weights_")
        if isinstance(carried, bytes):
            from safetensors.torch import load

            state["_carried_weights_"] = load(carried)
        super()._restore(state)


def _masking(
    estimator: BertMaskedLM, tokenizer: Any, model: Any, *, score: bool = False
) -> dict[str, Any]:
    """The masking settings of training (or of ``score``'s fixed recipe)."""
    from ..._text.tokenize import pad_token_id
    from .masking import SCORE_MLM_PROBABILITY, random_token_ids

    return {
        "pad_token_id": pad_token_id(tokenizer),
        "mask_token_id": int(tokenizer.mask_token_id),
        "random_token_ids": random_token_ids(tokenizer, model),
        "mlm_probability": (
            SCORE_MLM_PROBABILITY if score else estimator.mlm_probability
        ),
        "whole_word": False if score else estimator.whole_word_masking,
    }


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

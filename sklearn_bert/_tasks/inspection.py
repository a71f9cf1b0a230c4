"""Word attributions of the fine-tuned estimators (as :mod:`sklearn.inspection`
holds model inspection tools).

:func:`explain` says how much each word of a text moved one output of a
fitted :class:`~sklearn_bert.BertClassifier`, :class:`~sklearn_bert.BertRegressor`,
:class:`~sklearn_bert.BertContrastiveClassifier` or
:class:`~sklearn_bert.BertContrastiveRegressor`, and returns one
:class:`Explanation` per text; :func:`explanations_html` renders several of
them as one HTML fragment.

How it works: a forward hook on the encoder's word-embedding layer replaces
its output by a copy that gradients flow to (scaled towards the baseline for
Integrated Gradients); the special tokens (``[CLS]``, ``[SEP]``, padding)
keep their embeddings. The score of a sub-word token is the dot product of
its embedding's difference from the baseline (the padding token's
embedding; the mask token's where that one is zero) with the averaged
gradient; the score of a word is the sum of its tokens' scores. Attributions
run in float32 on the CPU whatever the estimator's ``precision_`` and
``device``; the module is put back where and as it was afterwards.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Explanation", "explain", "explanations_html"]

#: Values of ``method``.
METHODS = ("integrated_gradients", "gradient_x_input")


@dataclass(frozen=True)
class Explanation:
    """The word attributions of one text (what :func:`explain` returns).

    Attributes
    ----------
    text : str or tuple of str
        The text explained; a tuple for a sentence pair or several text
        columns (``text_columns``), in their order.
    words : list of str
        The words of the text(s) as the tokenizer splits them before sub-word
        tokenization (at whitespace and punctuation for BERT), in order.
    scores : ndarray of shape (n_words,), float64
        Each word's attribution (the sum of its sub-word tokens'): positive
        where the word raises the explained output. Words beyond
        ``max_length`` that truncation dropped score 0.
    target : object
        The class (or label) explained, or the output index of a regressor.
    prediction : object
        The estimator's prediction for the text: its class (its label set,
        as a 0/1 array, for multi-label), or its value.
    probability : float or None
        The probability of ``target`` (None for a regressor).
    output : float
        The explained output at the text: the log-probability of ``target``
        (single-label classifier), the log-odds of the label (multi-label) or
        the predicted value (regressor).
    baseline_output : float
        The same output with every word's embedding set to the baseline's
        (the padding token's embedding, or the mask token's where the
        padding embedding is zero): the baseline of Integrated Gradients,
        whose scores sum to about ``output - baseline_output``.
    method : str
        ``"integrated_gradients"`` or ``"gradient_x_input"``.
    spans : ndarray of shape (n_words, 2), int
        Start and end of each word in its text (characters).
    segments : ndarray of shape (n_words,), int
        The text each word belongs to (index into ``text`` when it is a
        tuple; 0 otherwise).

    Examples
    --------
    :func:`explain` makes them; one by hand:

    >>> import numpy as np
    >>> from sklearn_bert.inspection import Explanation
    >>> exp = Explanation("good food!", ["good", "food", "!"],
    ...                   np.array([0.8, 0.1, -0.05]), target="great",
    ...                   prediction="great", probability=0.9, output=-0.105,
    ...                   baseline_output=-0.95, method="integrated_gradients",
    ...                   spans=np.array([[0, 4], [5, 9], [9, 10]]),
    ...                   segments=np.zeros(3, dtype=int))
    >>> exp.words[int(np.argmax(exp.scores))]
    'good'
    >>> exp.to_html().startswith("<div")
    True
    """

    text: str | tuple[str, ...]
    words: list[str]
    scores: np.ndarray
    target: Any
    prediction: Any
    probability: float | None
    output: float
    baseline_output: float
    method: str
    spans: np.ndarray = field(repr=False)
    segments: np.ndarray = field(repr=False)

    def __repr__(self) -> str:
        top = np.argsort(-np.abs(self.scores))[:3]
        words = ", ".join(f"{self.words[i]!r}: {self.scores[i]:+.3g}" for i in top)
        return (
            f"Explanation(target={self.target!r}, prediction={self.prediction!r}, "
            f"n_words={len(self.words)}, top={{{words}}})"
        )

    def to_html(self) -> str:
        """The text with each word's background coloured by its score.

        Red marks words that raise the explained output, blue words that
        lower it; the strongest word of the text has the fullest colour. The
        text is HTML-escaped; hovering a word shows its score.

        Returns
        -------
        str
            An HTML fragment (one ``<div>``).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_bert.inspection import Explanation
        >>> exp = Explanation("a <b>", ["a", "<", "b", ">"], np.array([1., 0, -1, 0]),
        ...                   target=1, prediction=1, probability=0.9, output=-0.1,
        ...                   baseline_output=-0.2, method="gradient_x_input",
        ...                   spans=np.array([[0, 1], [2, 3], [3, 4], [4, 5]]),
        ...                   segments=np.zeros(4, dtype=int))
        >>> "&lt;" in exp.to_html() and "<b>" not in exp.to_html()
        True
        """
        texts = self.text if isinstance(self.text, tuple) else (self.text,)
        peak = float(np.max(np.abs(self.scores))) if len(self.scores) else 0.0
        parts = []
        for j, text in enumerate(texts):
            pieces, at = [], 0
            for i in np.flatnonzero(self.segments == j):
                start, end = (int(v) for v in self.spans[i])
                pieces.append(html.escape(text[at:start]))
                pieces.append(_word_html(text[start:end], self.scores[i], peak))
                at = end
            pieces.append(html.escape(text[at:]))
            parts.append("".join(pieces))
        head = html.escape(
            f"target={self.target!r} prediction={self.prediction!r}"
            + (
                ""
                if self.probability is None
                else f" probability={self.probability:.3f}"
            )
            + f" ({self.method})"
        )
        body = ' <span style="color:#888">|</span> '.join(parts)
        return (
            '<div style="line-height:1.9;font-family:sans-serif">'
            f'<div style="color:#555;font-size:smaller">{head}</div>{body}</div>'
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def _word_html(word: str, score: float, peak: float) -> str:
    strength = 0.0 if peak == 0 else min(1.0, abs(float(score)) / peak)
    rgb = "220,40,40" if score > 0 else "40,90,220"
    return (
        f'<span title="{float(score):+.4g}" style="background:rgba({rgb},'
        f'{0.8 * strength:.3f});border-radius:3px;padding:0 1px">'
        f"{html.escape(word)}</span>"
    )


def explanations_html(explanations: Sequence[Explanation]) -> str:
    """Several explanations as one HTML fragment, one text per line.

    Parameters
    ----------
    explanations : sequence of Explanation
        What :func:`explain` returns.

    Returns
    -------
    str
        The :meth:`Explanation.to_html` fragments, one after the other
        (``IPython.display.HTML`` shows them in a notebook).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bert.inspection import Explanation, explanations_html
    >>> exp = Explanation("good food", ["good", "food"], np.array([0.5, -0.1]),
    ...                   target=0, prediction=4.2, probability=None,
    ...                   output=4.2, baseline_output=3.8,
    ...                   method="gradient_x_input",
    ...                   spans=np.array([[0, 4], [5, 9]]),
    ...                   segments=np.zeros(2, dtype=int))
    >>> page = explanations_html([exp, exp])
    >>> page.count("<span title=")
    4
    """
    return "\n".join(e.to_html() for e in explanations)


# -- what an estimator computes, as a differentiable function ----------------


@dataclass
class _Model:
    """The pieces of a fitted estimator the attributions need."""

    module: Any  # the torch module whose device and mode are restored
    hf_model: Any  # the encoder (its word embeddings are hooked)
    forward: Any  # padded batch -> (batch, n_outputs) float32 outputs
    tokenizer: Any
    kind: str  # "logprob", "logit" or "value"
    n_outputs: int
    scale: np.ndarray | None = None  # regressor: value = out * scale + mean
    mean: np.ndarray | None = None
    aggregation: str = "mean_logits"


def _fitted_model(estimator: Any) -> _Model:
    import torch
    from sklearn.exceptions import NotFittedError

    from .contrastive.estimators import (
        BertContrastiveClassifier,
        BertContrastiveRegressor,
    )
    from .sequence.classifier import BertClassifier
    from .sequence.regressor import BertRegressor

    if isinstance(estimator, BertClassifier | BertRegressor):
        if "net_" not in estimator.__dict__:
            raise NotFittedError(
                f"This {type(estimator).__name__} instance is not fitted yet. Call "
                "'fit' before explaining its predictions."
            )
        module = estimator.net_.module_
        # a classifier's logits as predict_proba reads them (``calibration``)
        temperature = np.asarray(estimator.__dict__.get("temperature_", 1.0))

        def forward(batch):
            out = module(**batch)
            return out / torch.as_tensor(temperature, dtype=out.dtype)

        if isinstance(estimator, BertClassifier):
            kind = "logit" if estimator._multilabel_ else "logprob"
            return _Model(
                module,
                module.hf_model,
                forward,
                estimator.tokenizer_,
                kind,
                module.n_outputs,
                aggregation=estimator.chunk_aggregation,
            )
        return _Model(
            module,
            module.hf_model,
            forward,
            estimator.tokenizer_,
            "value",
            module.n_outputs,
            scale=np.atleast_1d(np.asarray(estimator.target_scale_, np.float64)),
            mean=np.atleast_1d(np.asarray(estimator.target_mean_, np.float64)),
            aggregation=estimator.chunk_aggregation,
        )
    if isinstance(estimator, BertContrastiveClassifier | BertContrastiveRegressor):
        if "head_" not in estimator.__dict__:
            raise NotFittedError(
                f"This {type(estimator).__name__} instance is not fitted yet. Call "
                "'fit' before explaining its predictions."
            )
        return _contrastive_model(estimator)
    raise TypeError(
        "explain supports a fitted BertClassifier, BertRegressor, "
        "BertContrastiveClassifier or BertContrastiveRegressor (not in a "
        f"Pipeline: pass the estimator itself), got {type(estimator).__name__}."
    )


def _linear_head(head: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """``(W, b, kind)`` of a contrastive estimator's head: outputs ``W v + b``
    of the pooled vector ``v``, read as ``kind``."""
    from sklearn.base import is_classifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    def unsupported() -> TypeError:
        return TypeError(
            "explain supports contrastive estimators whose head is linear in "
            "the embeddings: a LogisticRegression (or a OneVsRestClassifier of "
            "them, multi-label) for the classifier, a linear regressor with "
            f"coef_ and intercept_ (Ridge, ...) for the regressor; got "
            f"{type(head).__name__}."
        )

    if isinstance(head, OneVsRestClassifier):
        if not head.multilabel_ or not all(
            isinstance(e, LogisticRegression) and hasattr(e, "coef_")
            for e in head.estimators_
        ):
            raise unsupported()
        W = np.vstack([e.coef_ for e in head.estimators_])
        b = np.concatenate([np.atleast_1d(e.intercept_) for e in head.estimators_])
        return W, b, "logit"
    if is_classifier(head):
        if not isinstance(head, LogisticRegression):
            raise unsupported()
        W, b = head.coef_, np.atleast_1d(head.intercept_)
        if W.shape[0] == 1:  # binary: the decision is the log-odds of classes_[1]
            W = np.vstack([np.zeros_like(W), W])
            b = np.array([0.0, b[0]])
        return W, b, "logprob"
    if not (hasattr(head, "coef_") and hasattr(head, "intercept_")):
        raise unsupported()
    W = np.atleast_2d(head.coef_)
    b = np.broadcast_to(np.atleast_1d(head.intercept_), (W.shape[0],))
    return W, np.array(b, dtype=np.float64), "value"


def _contrastive_model(estimator: Any) -> _Model:
    import torch

    from .._text.pooling import pool

    W, b, kind = _linear_head(estimator.head_)
    encoder = estimator.encoder_
    if getattr(encoder, "pca_", None) is not None or getattr(
        encoder, "normalize", False
    ):
        raise TypeError(
            "explain does not support a contrastive encoder with n_components or "
            "normalize=True."
        )
    hf = encoder.model_
    weight = torch.as_tensor(W, dtype=torch.float32)
    bias = torch.as_tensor(b, dtype=torch.float32)
    pooling = encoder.pooling

    def forward(batch):
        inputs = {k: v for k, v in batch.items() if k != "tabular"}
        hidden = hf(**inputs).last_hidden_state
        return pool(hidden, batch["attention_mask"], pooling) @ weight.T + bias

    return _Model(hf, hf, forward, encoder.tokenizer_, kind, W.shape[0])


def _objective(model: _Model, z: Any, target: Any) -> Any:
    """The explained output of each row of outputs ``z`` (a torch tensor of
    shape (rows, n_outputs)) for its target index (a long tensor)."""
    import torch

    picked = z.gather(1, target[:, None])[:, 0]
    if model.kind == "logprob":
        return picked - torch.logsumexp(z, dim=1)
    if model.kind == "value" and model.scale is not None:
        scale = torch.as_tensor(model.scale, dtype=z.dtype)[target]
        mean = torch.as_tensor(model.mean, dtype=z.dtype)[target]
        return picked * scale + mean
    return picked


def _objective_grad(model: _Model, z: np.ndarray, target: np.ndarray) -> tuple:
    """The explained output of rows of outputs ``z`` and its gradient."""
    import torch

    zt = torch.as_tensor(z, dtype=torch.float64).requires_grad_(True)
    f = _objective(model, zt, torch.as_tensor(target, dtype=torch.long))
    (grad,) = torch.autograd.grad(f.sum(), zt)
    return f.detach().numpy(), grad.numpy()


# -- texts as words and as the model's sequences -----------------------------


@dataclass
class _Row:
    """One text row: its texts, words, and its model sequences (windows)."""

    texts: tuple[str, ...]
    words: list[str]
    spans: list[tuple[int, int]]
    segments: list[int]
    #: Per sequence: the feature dict the estimator runs, and for each
    #: encoder call of it (one, or one per text with combine_texts="separate")
    #: the word index of every token (-1: a special token, kept fixed).
    sequences: list[tuple[dict[str, Any], list[np.ndarray]]] = field(
        default_factory=list
    )


def _word_spans(tokenizer: Any, texts: list[str]) -> list[list[tuple[int, int]]]:
    """The (start, end) of each word of each text: the tokenizer's
    pre-tokenized words (``word_ids``), each spanning its tokens' offsets."""
    from .._text.tokenize import call_tokenizer

    if not texts:
        return []
    enc = call_tokenizer(
        tokenizer, texts, add_special_tokens=False, return_offsets_mapping=True
    )
    out = []
    for i in range(len(texts)):
        spans: dict[int, list[int]] = {}
        for word, (start, end) in zip(
            enc.word_ids(i), enc["offset_mapping"][i], strict=True
        ):
            if word is None or end <= start:
                continue
            span = spans.setdefault(word, [start, end])
            span[0], span[1] = min(span[0], start), max(span[1], end)
        merged: list[list[int]] = []
        text = texts[i]
        for start, end in sorted(spans.values()):
            while start < end and text[start].isspace():  # a word-start marker
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end <= start:
                continue
            if merged and start < merged[-1][1]:  # overlapping pieces: one word
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        out.append([(s, e) for s, e in merged])
    return out


def _char_words(n_chars: int, spans: list[tuple[int, int]], first: int) -> np.ndarray:
    """For each character of a text, its word's index (``first`` + position
    among ``spans``), -1 between words."""
    lookup = np.full(n_chars + 1, -1, dtype=np.int64)
    for k, (start, end) in enumerate(spans):
        lookup[start:end] = first + k
    return lookup


def _token_words(enc: Any, i: int, lookups: list[np.ndarray], special: set[int]):
    """The word index of each token of sequence ``i`` of a tokenizer output
    (by the text its offsets point into, ``sequence_ids``); -1 for special
    tokens."""
    ids = enc["input_ids"][i]
    seq = enc.sequence_ids(i)
    words = np.full(len(ids), -1, dtype=np.int64)
    for t, ((start, end), s) in enumerate(
        zip(enc["offset_mapping"][i], seq, strict=True)
    ):
        if s is None or ids[t] in special or end <= start:
            continue
        lookup = lookups[s]
        hit = lookup[start:end]
        hit = hit[hit >= 0]
        if len(hit):
            words[t] = hit[0]
    return words


def _text_rows(estimator: Any, model: _Model, X: Any) -> list[_Row]:
    """Texts or sentence pairs: their words, and their sequences exactly as
    the estimator tokenizes them (truncated or in windows)."""
    from .._text.tokenize import call_tokenizer, model_input_names, tokenize

    text_input = estimator._check_text(X, reset=False)
    tokenizer = model.tokenizer
    long_text = getattr(estimator, "long_text", "truncate")
    stride = getattr(estimator, "stride", 0)
    if "encoder_" in estimator.__dict__:
        max_length = estimator.encoder_.max_length_
        long_text, stride = estimator.encoder_.long_text, estimator.encoder_.stride
    else:
        max_length = estimator.max_length_
    names = model_input_names(model.hf_model)
    tok = tokenize(
        tokenizer,
        text_input,
        max_length=max_length,
        long_text=long_text,
        stride=stride,
        input_names=names,
    )
    pairs = text_input.pairs
    chunk = long_text == "chunk"
    if chunk:
        stride = min(stride, max(0, max_length // 2 - 2))
        if pairs is not None:
            from .._text.tokenize import _pair_stride

            stride = _pair_stride(tokenizer, text_input.texts, max_length, stride)
    enc = call_tokenizer(
        tokenizer,
        text_input.texts,
        pairs,
        truncation=("only_second" if pairs is not None else True)
        if chunk
        else "longest_first",
        max_length=max_length,
        stride=stride if chunk else 0,
        return_overflowing_tokens=chunk,
        return_offsets_mapping=True,
    )
    firsts = _word_spans(tokenizer, text_input.texts)
    seconds = _word_spans(tokenizer, pairs) if pairs is not None else None
    special = set(tokenizer.all_special_ids)
    rows = []
    for r, text in enumerate(text_input.texts):
        texts = (text,) if pairs is None else (text, pairs[r])
        all_spans = [firsts[r]] + ([] if seconds is None else [seconds[r]])
        row = _Row(texts, [], [], [])
        lookups = []
        for j, (t, spans) in enumerate(zip(texts, all_spans, strict=True)):
            lookups.append(_char_words(len(t), spans, len(row.words)))
            row.words += [t[s:e] for s, e in spans]
            row.spans += spans
            row.segments += [j] * len(spans)
        rows.append((row, lookups))
    out = [row for row, _ in rows]
    for i, owner in enumerate(tok.owners):
        features = tok.features[i]
        if list(enc["input_ids"][i]) != list(features["input_ids"]):
            raise RuntimeError(  # pragma: no cover - a tokenizer that changed
                "The tokens of a text differ between two tokenizations."
            )
        row, lookups = rows[owner]
        row.sequences.append((features, [_token_words(enc, i, lookups, special)]))
    return out


def _fused_rows(estimator: Any, model: _Model, X: Any) -> list[_Row]:
    """``text_columns`` rows: their texts' words, and one sequence per row as
    the estimator builds it (texts joined or encoded one by one, tabular
    values held as they are)."""
    from .._text.tokenize import call_tokenizer
    from .sequence.rows import input_kind

    kind = input_kind(estimator, fitting=False)
    rows_in = kind.check(X)
    tok = kind.tokenize(model.tokenizer, model.hf_model, rows_in, estimator.max_length_)
    tokenizer = model.tokenizer
    special = set(tokenizer.all_special_ids)
    columns = [list(map(str, texts)) for texts in rows_in.texts]
    spans = [_word_spans(tokenizer, texts) for texts in columns]
    separate = model.module.n_texts > 1
    sep = f" {tokenizer.sep_token or ''} "
    n = len(tok.features)
    rows = []
    for r in range(n):
        texts = tuple(col[r] for col in columns)
        row = _Row(texts, [], [], [])
        lookups = []
        for j, t in enumerate(texts):
            lookups.append(_char_words(len(t), spans[j][r], len(row.words)))
            row.words += [t[s:e] for s, e in spans[j][r]]
            row.spans += spans[j][r]
            row.segments += [j] * len(spans[j][r])
        rows.append((row, lookups))
    kwargs = {
        "truncation": "longest_first",
        "max_length": estimator.max_length_,
        "return_offsets_mapping": True,
    }
    if separate:
        encs = [call_tokenizer(tokenizer, col, **kwargs) for col in columns]
    else:
        first, *rest = columns
        joined = [sep.join(t) for t in zip(*rest, strict=True)] or None
        encs = [call_tokenizer(tokenizer, first, joined, **kwargs)]
    for r, (row, lookups) in enumerate(rows):
        maps = []
        if separate:
            for j, enc in enumerate(encs):
                maps.append(_token_words(enc, r, [lookups[j]], special))
        else:
            # the second sequence is the other texts joined by " [SEP] "
            second = []
            for j in range(1, len(lookups)):
                if j > 1:
                    second.append(np.full(len(sep), -1, dtype=np.int64))
                second.append(lookups[j][:-1])
            joined_lookup = (
                np.concatenate([*second, [-1]]) if second else np.array([-1])
            )
            maps.append(_token_words(encs[0], r, [lookups[0], joined_lookup], special))
        row.sequences.append((tok.features[r], maps))
    return [row for row, _ in rows]


# -- the attributions ----------------------------------------------------------


class _EmbeddingHook:
    """Replaces the word embeddings of each encoder call of a forward pass by
    ``baseline + alpha * (embedding - baseline)`` (the baseline: the padding
    token's embedding; special tokens as they are) that gradients flow to,
    and keeps them."""

    def __init__(self, special_ids: list[int], baseline: Any):
        import torch

        self.special = torch.as_tensor(sorted(set(special_ids)), dtype=torch.long)
        self.baseline = baseline  # (dim,) tensor
        self.alpha: Any = None  # (batch,) tensor
        self.calls: list[tuple[Any, Any]] = []  # (scaled, embedding)

    def __call__(self, module: Any, args: Any, output: Any) -> Any:
        import torch

        ids = args[0] if args else None
        emb = output.detach()
        keep = (
            torch.zeros(emb.shape[:2], dtype=torch.bool)
            if ids is None
            else torch.isin(ids, self.special)
        )
        base = self.baseline.to(emb.dtype)
        alpha = self.alpha.to(emb.dtype)[:, None, None]
        diff = (emb - base).masked_fill(keep[..., None], 0.0)
        scaled = (emb - diff) + alpha * diff
        scaled.requires_grad_(True)
        # the difference from the baseline, zero at the fixed special tokens
        self.calls.append((scaled, diff))
        return scaled


def _baseline(model: _Model) -> Any:
    """The baseline word embedding: the padding token's, or the mask token's
    where the padding embedding is zero (models that initialise it so and
    never train it: without absolute position embeddings, a zero word
    embedding would leave the first layer norm nothing to normalise)."""
    import torch

    weight = model.hf_model.get_input_embeddings().weight.detach()
    tokenizer = model.tokenizer
    for token_id in (tokenizer.pad_token_id, tokenizer.mask_token_id):
        if token_id is not None and bool(weight[token_id].abs().sum() > 0):
            return weight[token_id].float().clone()
    return torch.zeros(weight.shape[1])


def _alphas(method: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Points and weights of the path integral (Gauss-Legendre on [0, 1])."""
    if method == "gradient_x_input":
        return np.ones(1), np.ones(1)
    x, w = np.polynomial.legendre.leggauss(n_steps)
    return (x + 1.0) / 2.0, w / 2.0


def _run(model, jobs, features, batch_size, hook, *, grads=None, vectors=None):
    """Run ``jobs`` (sequence, alpha, weight) through the model in
    length-sorted batches of ``batch_size``.

    Without ``grads``: returns the outputs of each job (no gradient). With
    ``grads`` (one list of per-call token arrays per sequence): adds each
    job's weighted token attributions of the objective, whose gradient with
    respect to the outputs is ``vectors[job]``, or computed from the job's own
    outputs by ``vectors`` when it is callable.
    """
    import torch

    from .._text.batching import pad_batch, row_length
    from .._text.tokenize import pad_token_id

    pad = pad_token_id(model.tokenizer)
    lengths = np.array([row_length(features[s]) for s, _, _ in jobs])
    order = np.argsort(-lengths, kind="stable")
    outputs = np.empty((len(jobs), model.n_outputs), dtype=np.float64)
    for start in range(0, len(jobs), batch_size):
        idx = order[start : start + batch_size]
        batch = pad_batch([features[jobs[k][0]] for k in idx], pad)
        hook.alpha = torch.as_tensor([jobs[k][1] for k in idx], dtype=torch.float32)
        hook.calls = []
        if grads is None:
            with torch.no_grad():
                outputs[idx] = model.forward(batch).double().numpy()
            continue
        with torch.enable_grad():
            out = model.forward(batch)
            if callable(vectors):
                v = vectors(out.detach().double().numpy(), idx)
            else:
                v = vectors[idx]
            scaled = [s for s, _ in hook.calls]
            got = torch.autograd.grad(
                out, scaled, grad_outputs=torch.as_tensor(v, dtype=out.dtype)
            )
        for c, ((_, diff), grad) in enumerate(zip(hook.calls, got, strict=True)):
            tokens = (grad * diff).sum(-1).double().numpy()
            mask = batch["attention_mask" if c == 0 else f"attention_mask.{c}"]
            for b, k in enumerate(idx):
                seq, _, weight = jobs[k]
                n = int(mask[b].sum())
                grads[seq][c][:n] += weight * tokens[b, :n]
        outputs[idx] = out.detach().double().numpy()
    return outputs


def _row_weights(model: _Model, outs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The weight of each window's outputs in its row's (``chunk_aggregation``),
    per output: ``(n_windows, n_outputs)``."""
    n = len(outs)
    if model.aggregation == "max_logits":
        w = np.zeros_like(outs)
        w[np.argmax(outs, axis=0), np.arange(outs.shape[1])] = 1.0
        return w
    if model.aggregation == "mean_pooled":
        share = lengths / lengths.sum()
    else:
        share = np.full(n, 1.0 / n)
    return np.repeat(share[:, None], outs.shape[1], axis=1)


def _attribute(model, rows, z, targets, method, n_steps, batch_size, special):
    """Token attributions of every sequence, and each row's output at the
    text (its outputs ``z``) and at the baseline."""
    features, owners, lengths = [], [], []
    for r, row in enumerate(rows):
        for feats, _ in row.sequences:
            features.append(feats)
            owners.append(r)
            lengths.append(len(feats["input_ids"]))
    owners = np.asarray(owners)
    lengths = np.asarray(lengths, dtype=np.float64)
    n_seq = len(features)
    alphas, weights = _alphas(method, n_steps)
    embeddings = model.hf_model.get_input_embeddings()
    hook = _EmbeddingHook(special, _baseline(model))
    handle = embeddings.register_forward_hook(hook)
    try:
        # outputs at the text and at the baseline (and, for rows of several
        # windows, at every point of the path: their gradient vectors)
        windowed = np.bincount(owners, minlength=len(rows)) > 1
        # sequences of one layout (length, special tokens, other features)
        # share their baseline: it is run once
        first, of = _baseline_layouts(features, special)
        ends = [(s, 0.0, 0.0) for s in first]
        path = [
            (s, float(a), float(w))
            for a, w in zip(alphas, weights, strict=True)
            for s in range(n_seq)
            if windowed[owners[s]]
        ]
        out = _run(model, ends + path, features, batch_size, hook)
        base = _aggregate(model, out[of], owners, lengths, len(rows))
        at_base = _objective_grad(model, base, targets)[0]
        at_text = _objective_grad(model, z, targets)[0]
        vectors = np.zeros((len(path), model.n_outputs))
        for a in range(len(alphas)):
            idx = [k for k, (_, al, _) in enumerate(path) if al == float(alphas[a])]
            if not idx:
                continue
            seqs = np.array([path[k][0] for k in idx])
            outs = out[len(ends) + np.asarray(idx)]
            for r in np.unique(owners[seqs]):
                mine = owners[seqs] == r
                w = _row_weights(model, outs[mine], lengths[seqs[mine]])
                z = (w * outs[mine]).sum(0, keepdims=True)
                _, g = _objective_grad(model, z, targets[[r]])
                vectors[np.asarray(idx)[mine]] = w * g
        # the attributions: single-window rows take the gradient of their own
        # outputs; windowed rows the vectors above
        grads = [
            [np.zeros(row_length_of(features[s], c)) for c in range(n_calls(rows, s))]
            for s in range(n_seq)
        ]
        plain = [
            (s, float(a), float(w))
            for a, w in zip(alphas, weights, strict=True)
            for s in range(n_seq)
            if not windowed[owners[s]]
        ]
        if plain:
            seq_of = np.array([s for s, _, _ in plain])

            def own(z, idx):
                return _objective_grad(model, z, targets[owners[seq_of[idx]]])[1]

            _run(model, plain, features, batch_size, hook, grads=grads, vectors=own)
        if path:
            _run(model, path, features, batch_size, hook, grads=grads, vectors=vectors)
    finally:
        handle.remove()
    return grads, at_text, at_base


def _baseline_layouts(
    features: list[dict[str, Any]], special: list[int]
) -> tuple[list[int], np.ndarray]:
    """The first sequence of each baseline layout, and each sequence's layout.

    At the baseline every word embedding is the same, so two sequences whose
    features are equal once their non-special token ids are masked (same
    length, special tokens, segments and tabular values) have one baseline
    output."""
    from .._text.batching import TEXT_SEP

    special_ids = np.asarray(sorted(set(special)))
    seen: dict[tuple, int] = {}
    first: list[int] = []
    of = np.empty(len(features), dtype=np.int64)
    for s, feats in enumerate(features):
        key = []
        for name in sorted(feats):
            value = np.asarray(feats[name])
            if name.partition(TEXT_SEP)[0] == "input_ids":
                value = np.where(np.isin(value, special_ids), value, -1)
            key.append((name, value.dtype.str, value.shape, value.tobytes()))
        layout = seen.setdefault(tuple(key), len(first))
        if layout == len(first):
            first.append(s)
        of[s] = layout
    return first, of


def _aggregate(model, outs, owners, lengths, n_rows):
    from .sequence.chunks import aggregate_windows

    return aggregate_windows(outs, owners, lengths, n_rows, model.aggregation).astype(
        np.float64
    )


def n_calls(rows: list[_Row], s: int) -> int:  # the sequence's encoder calls
    k = 0
    for row in rows:
        for _, maps in row.sequences:
            if k == s:
                return len(maps)
            k += 1
    raise IndexError(s)  # pragma: no cover


def row_length_of(features: dict[str, Any], c: int) -> int:
    return len(features["input_ids" if c == 0 else f"input_ids.{c}"])


def _targets(estimator: Any, model: _Model, z: np.ndarray, target: Any):
    """The output index explained for each row, and how to name it."""
    n = len(z)
    if model.kind == "value":
        if target is None:
            if model.n_outputs > 1:
                raise ValueError(
                    f"The regressor has {model.n_outputs} outputs: pass target= the "
                    "index of the output to explain."
                )
            target = 0
        if not isinstance(target, int | np.integer) or not (
            0 <= target < model.n_outputs
        ):
            raise ValueError(
                f"target must be an output index in [0, {model.n_outputs}), got "
                f"{target!r}."
            )
        return np.full(n, int(target)), [int(target)] * n
    classes = list(estimator.classes_)
    if target is None:
        idx = np.argmax(z, axis=1)
    else:
        matches = [i for i, c in enumerate(classes) if _same(c, target)]
        if not matches:
            raise ValueError(
                f"target {target!r} is not one of the classes {classes!r}."
            )
        idx = np.full(n, matches[0])
    return idx, [_plain(classes[i]) for i in idx]


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python one (labels read as users wrote them)."""
    return value.item() if isinstance(value, np.generic) else value


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # an array compared with a label
        return False


def explain(
    estimator: Any,
    X: Any,
    *,
    target: Any = None,
    method: str = "integrated_gradients",
    n_steps: int = 3,
    batch_size: int | None = None,
) -> list[Explanation]:
    """Word attributions of a fitted estimator's outputs on texts.

    Each word's score says how much it moved the explained output: the
    log-probability of a class (single-label classifier), the log-odds of a
    label (multi-label), or the predicted value (regressor). Integrated
    Gradients (Sundararajan et al., 2017) integrates the gradient with
    respect to the input word embeddings along the straight path from a
    baseline where every word's embedding is the padding token's (the mask
    token's where the padding embedding is zero; special tokens, positions
    and segments unchanged) to the text, times the embeddings' difference
    from the baseline; the scores of a text then sum to its output minus the
    baseline's (up to the error of ``n_steps`` Gauss-Legendre points).
    ``"gradient_x_input"`` multiplies the gradient at the text by that
    difference (one forward and backward pass per text).
    A word's score is the sum of its sub-word tokens' scores.

    Parameters
    ----------
    estimator : BertClassifier, BertRegressor, BertContrastiveClassifier or \
            BertContrastiveRegressor
        A fitted estimator. With ``text_columns``, the words of the text
        columns are explained and the tabular values are held as they are.
        With ``long_text="chunk"``, every window of a text is run and each
        window's attributions count as much as its outputs count in the
        text's (``chunk_aggregation``), so a word in two windows gets both
        shares. Contrastive estimators need a linear head: their default
        ``LogisticRegression`` (``OneVsRestClassifier`` of them for
        multi-label) or ``Ridge``, or another linear regressor.
    X : list, ndarray, Series or DataFrame
        Texts, sentence pairs (both texts' words are explained) or, with
        ``text_columns``, a DataFrame, as in ``predict``.
    target : object or None, default=None
        The class or label to explain (one of ``classes_``), or the index
        of a regressor's output. None explains each text's predicted class
        (for multi-label, its most probable label), or the regressor's only
        output.
    method : {"integrated_gradients", "gradient_x_input"}, \
            default="integrated_gradients"
        ``"integrated_gradients"`` deletes, in the deletion test of the
        user guide, words that matter more to the prediction than gradient x
        input does, at ``n_steps`` times its cost.
    n_steps : int, default=3
        Points of the path integral of Integrated Gradients (each a forward
        and a backward pass over the text); unused by ``"gradient_x_input"``.
        Chosen by measurement (user guide, "Explanations"): 3 points find
        words nearly as decisive as 8 at under half the cost; raise it when
        the scores must add up closely to ``output - baseline_output``.
    batch_size : int or None, default=None
        Sequences per forward pass (each point of the path counts as one).
        None uses the estimator's ``batch_size``.

    Returns
    -------
    list of Explanation
        One per row of ``X``, in order.

    Notes
    -----
    Attributions run on the CPU in float32, whatever the estimator's
    ``device`` and ``precision_``, so they may differ slightly from
    ``predict_proba`` computed in bfloat16; the module is put back on its
    device and in its training mode afterwards.

    Examples
    --------
    >>> from sklearn_bert import BertClassifier
    >>> from sklearn_bert.inspection import explain
    >>> X = ["good food", "bad food", "great staff", "awful staff"]
    >>> clf = BertClassifier(max_epochs=1, random_state=0).fit(X, [1, 0, 1, 0])
    >>> exp = explain(clf, ["the food was good"], n_steps=8)[0]
    >>> exp.words
    ['the', 'food', 'was', 'good']
    >>> bool(abs(exp.scores.sum() - (exp.output - exp.baseline_output)) < 0.05)
    True
    >>> exp0 = explain(clf, ["the food was good"], target=0,
    ...                method="gradient_x_input")[0]
    >>> exp0.target, exp0.method
    (0, 'gradient_x_input')
    """
    import torch

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    if not isinstance(n_steps, int | np.integer) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}.")
    model = _fitted_model(estimator)
    if batch_size is None:
        batch_size = int(getattr(estimator, "batch_size", 16))
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if "text_columns_" in estimator.__dict__:
        rows = _fused_rows(estimator, model, X)
    else:
        rows = _text_rows(estimator, model, X)
    if not rows:
        return []
    special = list(model.tokenizer.all_special_ids)
    module = model.module
    params = next(module.parameters())
    device, dtype, training = params.device, params.dtype, module.training
    module.to(device="cpu")
    if dtype != torch.float32:
        module.to(dtype=torch.float32)
    module.eval()
    try:
        # the outputs at the texts decide the default targets
        features = [f for row in rows for f, _ in row.sequences]
        owners = np.repeat(np.arange(len(rows)), [len(row.sequences) for row in rows])
        lengths = np.array([len(f["input_ids"]) for f in features], np.float64)
        hook = _EmbeddingHook(special, _baseline(model))
        handle = model.hf_model.get_input_embeddings().register_forward_hook(hook)
        try:
            jobs = [(s, 1.0, 1.0) for s in range(len(features))]
            outs = _run(model, jobs, features, int(batch_size), hook)
        finally:
            handle.remove()
        z = _aggregate(model, outs, owners, lengths, len(rows))
        idx, names = _targets(estimator, model, z, target)
        grads, at_text, at_base = _attribute(
            model, rows, z, idx, method, int(n_steps), int(batch_size), special
        )
    finally:
        module.to(device=device)
        if dtype != torch.float32:
            module.to(dtype=dtype)
        module.train(training)
    return _explanations(
        estimator, model, rows, grads, z, idx, names, method, at_text, at_base
    )


def _explanations(
    estimator, model, rows, grads, z, idx, names, method, at_text, at_base
):
    out = []
    s = 0
    for r, row in enumerate(rows):
        scores = np.zeros(len(row.words))
        for _, maps in row.sequences:
            for c, words in enumerate(maps):
                hit = words >= 0
                np.add.at(scores, words[hit], grads[s][c][: len(words)][hit])
            s += 1
        if model.kind == "value":
            prediction: Any = (
                float(z[r, idx[r]] * model.scale[idx[r]] + model.mean[idx[r]])
                if model.scale is not None
                else float(z[r, idx[r]])
            )
            probability = None
        elif model.kind == "logit":
            threshold = getattr(estimator, "threshold", 0.5)
            labels = (1.0 / (1.0 + np.exp(-z[r])) >= threshold).astype(int)
            prediction = labels
            probability = float(1.0 / (1.0 + np.exp(-z[r, idx[r]])))
        else:
            p = np.exp(z[r] - z[r].max())
            p /= p.sum()
            prediction = _plain(list(estimator.classes_)[int(np.argmax(z[r]))])
            probability = float(p[idx[r]])
        out.append(
            Explanation(
                text=row.texts[0] if len(row.texts) == 1 else row.texts,
                words=row.words,
                scores=scores,
                target=names[r],
                prediction=prediction,
                probability=probability,
                output=float(at_text[r]),
                baseline_output=float(at_base[r]),
                method=method,
                spans=np.asarray(row.spans, dtype=np.int64).reshape(-1, 2),
                segments=np.asarray(row.segments, dtype=np.int64),
            )
        )
    return out

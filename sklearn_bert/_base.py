"""Shared estimator base: parameters, input checks, lazy loading, pickling."""

from __future__ import annotations

import os
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._data import TextInput, check_text_input
from ._device import PRECISIONS, resolve_device
from ._encode import LONG_TEXT_OPTIONS
from ._pooling import POOLINGS

#: Constraints shared by every estimator of the library.
COMMON_CONSTRAINTS: dict[str, list] = {
    # A checkpoint name or folder, or an estimator exporting pretrained
    # weights (a BertMaskedLM): see ``BertBase._load_pretrained``.
    "model": [str, os.PathLike, HasMethods(["fit", "_export_pretrained_files"])],
    "max_length": [Interval(Integral, 4, None, closed="left"), None],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "device": [str],
    "precision": [StrOptions(set(PRECISIONS))],
    "verbose": ["verbose"],
}

#: Constraints of the embedding options (pooling and long-text handling).
EMBEDDING_CONSTRAINTS: dict[str, list] = {
    "pooling": [StrOptions(set(POOLINGS))],
    "long_text": [StrOptions(set(LONG_TEXT_OPTIONS))],
    "stride": [Interval(Integral, 0, None, closed="left")],
}


class BertBase(BaseEstimator):
    """Base of every estimator: text input checks, loading, device, pickling.

    Subclasses keep their tokenizer in ``tokenizer_`` and a plain Hugging Face
    model in ``model_`` (or a skorch net in ``net_``); pickles store the first
    two as a portable Hugging Face folder in memory (safetensors, CPU, no
    absolute paths) instead of raw Python objects.
    """

    _parameter_constraints: dict = dict(COMMON_CONSTRAINTS)

    #: The Hugging Face auto class family used to reload ``model_``.
    _hf_task = "base"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        return tags

    # -- input -------------------------------------------------------------
    def _check_text(
        self, X: Any, *, reset: bool, allow_pairs: bool = True
    ) -> TextInput:
        """Validate ``X``; on ``reset`` record ``n_features_in_`` and names."""
        text_input = check_text_input(X, allow_pairs=allow_pairs)
        n_columns = text_input.n_columns
        if reset:
            self.n_features_in_ = n_columns
            if text_input.columns is not None and len(text_input.columns) == (
                n_columns
            ):
                self.feature_names_in_ = np.asarray(text_input.columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif n_columns != self.n_features_in_:
            kind = "sentence pairs" if self.n_features_in_ == 2 else "single texts"
            raise ValueError(
                f"{type(self).__name__} was fitted on {kind} "
                f"({self.n_features_in_} column(s)) but got {n_columns} column(s)."
            )
        return text_input

    # -- model and device --------------------------------------------------
    def _load_pretrained(self, task: str = "base", X: Any = None, **kwargs):
        """Load ``(tokenizer, model)`` for ``task`` from the ``model`` parameter.

        Every estimator loads through here, so that every kind of ``model``
        value is understood in one place: a folder, hub id or bundled name, or
        an estimator exporting pretrained weights (a ``BertMaskedLM``). An
        unfitted such estimator is cloned and fitted on the texts of ``X``
        first (domain adaptation on the training data only, so no leakage
        across cross-validation folds); a fitted one, or one wrapped in
        ``sklearn.frozen.FrozenEstimator``, is used as it is. Keyword
        arguments go to ``from_pretrained`` (``output_loading_info=True``
        returns a third value, see ``_hf.load_folder``).
        """
        from ._hf import load_dumped, load_pretrained

        source = self.model
        if isinstance(source, str | os.PathLike):
            return load_pretrained(source, task, verbose=self.verbose, **kwargs)
        files = _pretrained_files(source, X)
        return load_dumped(
            files, task, name=model_name(source), verbose=self.verbose, **kwargs
        )

    def _resolved_device(self):
        return resolve_device(self.device)

    def _move_to_device(self, module):
        device = self._resolved_device()
        if next(module.parameters()).device != device:
            module.to(device)
        return device

    # -- pickling ----------------------------------------------------------
    # ``tokenizer_`` and ``model_`` (a Hugging Face model) are stored as an
    # in-memory Hugging Face folder: safetensors on the CPU, no absolute
    # paths, loadable on a machine without the GPU they were trained on.
    # Other fitted parts (a skorch ``net_``) pickle as they are.
    def __getstate__(self):
        # A copy: on Python 3.11+ ``object.__getstate__`` returns the live
        # ``__dict__``, and popping from it would strip the fitted estimator.
        state = dict(super().__getstate__())
        tokenizer = state.pop("tokenizer_", None)
        model = state.pop("model_", None)
        if tokenizer is not None or model is not None:
            from ._hf import dump_pretrained

            state["_pretrained_files"] = (
                model is not None,
                dump_pretrained(model, tokenizer),
            )
        return state

    def __setstate__(self, state):
        files = state.pop("_pretrained_files", None)
        super().__setstate__(state)
        if files is not None:
            from ._hf import load_dumped, portable_name

            has_model, blob = files
            tokenizer, model = load_dumped(blob, self._hf_task if has_model else None)
            # Loaded from a temporary folder that is gone now: name them after
            # ``model`` again, as ``load_pretrained`` does.
            name = portable_name(model_name(getattr(self, "model", "")))
            tokenizer.name_or_path = name
            self.tokenizer_ = tokenizer
            if model is not None:
                model.config._name_or_path = name
                model.eval()
                self.model_ = model


def model_name(model: Any) -> str:
    """The checkpoint name behind a ``model`` value.

    A string or path is its own name; an estimator passed as ``model`` (a
    ``BertMaskedLM``, possibly frozen) is followed to its own ``model``.
    """
    for _ in range(16):  # nested estimators, never a cycle in practice
        if isinstance(model, str | os.PathLike):
            return os.fspath(model)
        inner = getattr(model, "model", None)
        if inner is None:
            break
        model = inner
    return str(model)


def _pretrained_files(source: Any, X: Any) -> dict[str, bytes]:
    """The in-memory Hugging Face folder exported by ``source``.

    An unfitted ``source`` is cloned and fitted on the texts of ``X`` first.
    """
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    try:
        check_is_fitted(source)
    except NotFittedError:
        if X is None:
            raise ValueError(
                f"model={type(source).__name__}(...) is not fitted and no training "
                "texts were given to adapt it on; fit it first or pass it to an "
                "estimator's fit."
            ) from None
        source = clone(source)
        # The caller's fit skips nested validation: validate the source here.
        source._validate_params()
        source.fit(_adaptation_texts(X))
    return source._export_pretrained_files()


def _adaptation_texts(X: Any) -> list[str]:
    """Texts for domain adaptation: each text, both texts of sentence pairs,
    and rows of tokens (token classification) joined with spaces."""
    if (
        isinstance(X, list | tuple)
        and len(X)
        and all(isinstance(row, list | tuple) for row in X)
    ):
        return [" ".join(str(token) for token in row) for row in X]
    text_input = check_text_input(X, allow_pairs=True)
    return text_input.texts + (text_input.pairs or [])


class EmbeddingNamesMixin:
    """``get_feature_names_out`` for estimators that output embeddings.

    Needs ``n_features_out_`` (and uses ``feature_names_in_`` when set).
    """

    def get_feature_names_out(self, input_features=None):
        """Output column names: ``<input column>_<i>``, or ``<class name>_<i>``.

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

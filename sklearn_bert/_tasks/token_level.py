"""What the token classifier and the question answerer share: per-token
outputs of windows reduced to per-row results a part of rows at a time, and
the model saved as a plain Hugging Face task folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._typing import PathLike


class TokenLevelMixin:
    """Inference and export of an estimator whose module returns one output
    per token (``FineTuneBase`` subclasses: ``BertTokenClassifier``,
    ``BertQuestionAnswerer``).

    A row becomes one window or more, so the logits of a run are ragged;
    rows are tokenized, run and reduced to their outputs (tags, spans) a
    bounded number at a time (``_engine.inference.by_parts``).
    """

    def _by_parts(
        self,
        n_rows: int,
        tokenize: Callable[[range], Any],
        reduce: Callable[[range, Any, list[np.ndarray]], Sequence[Any]],
    ) -> list[Any]:
        """One output per row: ``tokenize(part)`` gives the windows of a part
        of rows, ``reduce(part, windows, logits)`` their rows' outputs from
        the windows' logits (one ``(n_tokens, ...)`` array per window). The
        public method that asks has checked that the estimator is fitted."""
        from .._engine.inference import by_parts

        return by_parts(n_rows, self.max_length_, tokenize, self._run, reduce)

    def _model_to_save(self) -> Any:
        """The Hugging Face model ``save_pretrained`` writes."""
        return self.net_.module_.hf_model

    def save_pretrained(self, path: PathLike) -> Path:
        """Write the fine-tuned model as a standard Hugging Face folder.

        The folder (config, tokenizer, ``model.safetensors``) loads with the
        task's ``transformers`` class,
        ``AutoModelForTokenClassification.from_pretrained(path)`` or
        ``AutoModelForQuestionAnswering.from_pretrained(path)``, and can be
        passed as ``model`` to a new estimator. A token classifier's config
        carries ``id2label`` / ``label2id`` from ``classes_``.

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
        from .._engine.model_card import write_model_card
        from .._io.loading import save_pretrained

        check_is_fitted(self, "net_")
        path = save_pretrained(
            self._model_to_save(), self.tokenizer_, path, verbose=self.verbose
        )
        return write_model_card(self, path)

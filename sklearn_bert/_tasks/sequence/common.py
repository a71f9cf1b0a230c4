"""What the classifier and the regressor share: tokenized texts or pairs (or,
with ``text_columns``, text columns beside tabular ones), long texts truncated
or split into windows, an encoder with a pooled head (or a fusion module),
inference and export."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..._engine.finetune import FineTuneBase, Prepared, TrainingData
from ..._params import CHUNKING, FUSION, constraints
from .rows import input_kind


class SequenceBase(FineTuneBase):
    """The classifier's and the regressor's shared steps (see ``FineTuneBase``).

    What depends on the kind of input (texts or sentence pairs; with
    ``text_columns``, a DataFrame's text and tabular columns) is in one
    strategy per kind (:mod:`.rows`), so that this class holds no branch on
    it. With ``long_text="chunk"`` a text row is one sequence or more (its
    windows, see :mod:`.chunks`).
    """

    _parameter_constraints: dict = {
        **FineTuneBase._parameter_constraints,
        **constraints("pooling", "distributed", *CHUNKING, *FUSION),
    }
    _hf_task = "base"
    _task = "sequence"

    #: The history key and function of the validation score.
    _score_name = "valid_score"

    # -- the steps of fit (see FineTuneBase), by the kind of input ------------
    def _prepare_rows(self, X: Any) -> tuple[Any, dict[str, Any], Any]:
        """``fit``'s rows, the fitted attributes that follow from them, and
        what a ``BertMaskedLM`` ``model`` adapts on."""
        kind = input_kind(self, fitting=True)
        rows, fitted = kind.check_fit(X)
        return rows, fitted, kind.adaptation_texts(X, rows)

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        from ..._text.tokenize import warn_truncated

        kind = input_kind(self, fitting=True)
        tok = kind.tokenize(tokenizer, model, prepared.rows, max_length)
        warn_truncated(tok.n_truncated, max_length, can_chunk=kind.can_chunk)
        return kind.training_data(prepared, tok)

    def _module(self, model: Any, prepared: Prepared):
        module = input_kind(self, fitting=True).module(model, prepared)
        return module, self._criterion(prepared)

    def _world(self):
        """The launched job to train across (``distributed=True`` in a
        ``torchrun`` job), or None."""
        if not self.distributed:
            return None
        from ..._engine.distributed import launched_world

        return launched_world()

    # -- inference ---------------------------------------------------------
    def _outputs(self, X: Any) -> np.ndarray:
        """Head outputs (logits or standardised values), shape (n, n_outputs).

        Distinct rows are tokenized and run a bounded number at a time (see
        ``_engine.inference.streamed``) and written into one array. The
        public method that asks has checked that the estimator is fitted.
        """
        from ..._engine.inference import gather, streamed
        from ..._text.tokenize import warn_truncated
        from .chunks import aggregate_windows

        kind = input_kind(self, fitting=False)
        uniq, inverse = kind.distinct(kind.check(X))
        module = self.net_.module_
        out = np.empty((len(uniq), module.n_outputs), dtype=np.float32)
        n_truncated = 0
        for part in streamed(len(uniq), self.max_length_):
            tok = kind.tokenize(
                self.tokenizer_, module.hf_model, uniq.take(part), self.max_length_
            )
            n_truncated += tok.n_truncated
            outputs = gather(self._run(tok.features), len(tok.features))
            out[part.start : part.stop] = aggregate_windows(
                outputs, tok.owners, tok.lengths(), len(part), self.chunk_aggregation
            )
        warn_truncated(n_truncated, self.max_length_, can_chunk=kind.can_chunk)
        return out if inverse is None or len(uniq) == len(inverse) else out[inverse]

    def _save(self, path: Any, config_updates: dict[str, Any], **fold) -> Any:
        from ..._engine.distributed import is_writer
        from .export import save_sequence_model

        check_is_fitted(self, "net_")
        if not is_writer(
            self.distributed
        ):  # data-parallel: process 0 writes the folder
            from pathlib import Path

            return Path(path)
        return save_sequence_model(
            self.net_.module_,
            self.tokenizer_,
            path,
            config_updates=config_updates,
            max_length=self.max_length_,
            verbose=self.verbose,
            **input_kind(self, fitting=False).save_options(),
            **fold,
        )

    # -- what each task says -----------------------------------------------
    def _n_outputs(self, prepared: Prepared) -> int:
        raise NotImplementedError  # pragma: no cover

    def _criterion(self, prepared: Prepared):
        raise NotImplementedError  # pragma: no cover

    def _score_outputs(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """The validation score of the head's outputs, one row per text."""
        raise NotImplementedError  # pragma: no cover

    def _valid_score(self, outputs: list[np.ndarray], dataset: Any) -> float:
        """The scorer of the early-stopping split (one sequence per row)."""
        return self._score_outputs(np.stack(outputs), np.asarray(dataset.targets))

"""What the classifier and the regressor share: tokenized texts or pairs, an
encoder with a pooled linear head, inference and export."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..._engine.finetune import FineTuneBase, Prepared, TrainingData
from ..._params import constraints


class SequenceBase(FineTuneBase):
    """The classifier's and the regressor's shared steps (see ``FineTuneBase``)."""

    _parameter_constraints: dict = {
        **FineTuneBase._parameter_constraints,
        **constraints("pooling", "distributed"),
    }
    _hf_task = "base"

    #: The history key and function of the validation score.
    _score_name = "valid_score"

    def _tokenize(self, tokenizer: Any, model: Any, text_input: Any, max_length: int):
        """Tokenized rows, and how many were truncated."""
        from ..._text.tokenize import model_input_names, tokenize

        tok = tokenize(
            tokenizer,
            text_input,
            max_length=max_length,
            input_names=model_input_names(model),
        )
        return tok.features, tok.n_truncated

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        from ..._engine.data import FeatureDataset
        from ..._text.tokenize import warn_truncated

        features, n_truncated = self._tokenize(
            tokenizer, model, prepared.rows, max_length
        )
        warn_truncated(n_truncated, max_length, can_chunk=False)
        return TrainingData(
            FeatureDataset(features, prepared.targets, prepared.weights),
            stratify=prepared.stratify,
            scorer=self._valid_score,
            score_name=self._score_name,
        )

    def _module(self, model: Any, prepared: Prepared):
        from ..._nn.heads import PooledHeadModule
        from .export import read_saved_head

        module = PooledHeadModule(
            model,
            n_outputs=self._n_outputs(prepared),
            pooling=self.pooling,
            dropout=self.dropout,
        )
        # A folder written by ``save_pretrained`` may hold our head; a
        # ``BertMaskedLM`` source never does.
        head = read_saved_head(self.model, self.pooling, module.head)
        if head is not None:
            module.head.load_state_dict(head)
        prepared.new_head = head is None
        return module, self._criterion(prepared)

    # -- inference ---------------------------------------------------------
    def _raw_outputs(self, X: Any) -> np.ndarray:
        """Head outputs (logits or standardised values), shape (n, n_outputs).

        Distinct rows are tokenized and run a bounded number at a time (see
        ``_engine.inference.streamed``) and written into one array.
        """
        from ..._engine.inference import gather, streamed
        from ..._text.tokenize import unique_rows, warn_truncated

        check_is_fitted(self, "net_")
        text_input = self._check_text(X, reset=False)
        uniq, inverse = unique_rows(text_input)
        model = self.net_.module_.hf_model
        out = np.empty((len(uniq), self.net_.module_.n_outputs), dtype=np.float32)
        n_truncated = 0
        for part in streamed(len(uniq)):
            features, truncated = self._tokenize(
                self.tokenizer_, model, uniq.take(part), self.max_length_
            )
            n_truncated += truncated
            out[part.start : part.stop] = gather(self._run(features), len(features))
        warn_truncated(n_truncated, self.max_length_, can_chunk=False)
        return out if len(uniq) == len(inverse) else out[inverse]

    def _save(self, path: Any, config_updates: dict[str, Any], **fold) -> Any:
        from ..._engine.distributed import is_writer
        from .export import save_sequence_model

        check_is_fitted(self, "net_")
        if not is_writer(self):  # data-parallel: process 0 writes the folder
            from pathlib import Path

            return Path(path)
        return save_sequence_model(
            self.net_.module_,
            self.tokenizer_,
            path,
            config_updates=config_updates,
            max_length=self.max_length_,
            verbose=self.verbose,
            **fold,
        )

    # -- what each task says -----------------------------------------------
    def _n_outputs(self, prepared: Prepared) -> int:
        raise NotImplementedError  # pragma: no cover

    def _criterion(self, prepared: Prepared):
        raise NotImplementedError  # pragma: no cover

    def _valid_score(self, outputs: list[np.ndarray], dataset: Any) -> float:
        raise NotImplementedError  # pragma: no cover

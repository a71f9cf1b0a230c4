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
from .tabular import FusedRows


class SequenceBase(FineTuneBase):
    """The classifier's and the regressor's shared steps (see ``FineTuneBase``).

    Without ``text_columns`` the rows are texts or sentence pairs
    (``TextInput``) and the module a ``PooledHeadModule``; with it they are a
    DataFrame's text and tabular columns (:class:`~.tabular.FusedRows`) and
    the module a ``FusionModule``. With ``long_text="chunk"`` a row is one
    sequence or more (its windows, see :mod:`.chunks`).
    """

    _parameter_constraints: dict = {
        **FineTuneBase._parameter_constraints,
        **constraints("pooling", "distributed", *CHUNKING, *FUSION),
    }
    _hf_task = "base"
    _task = "sequence"

    #: The history key and function of the validation score.
    _score_name = "valid_score"

    # -- input ---------------------------------------------------------------
    def _fit_rows(self, X: Any) -> tuple[Any, dict[str, Any]]:
        """Check ``fit``'s ``X``: its rows, and the fitted attributes that
        follow from them."""
        if self.text_columns is None:
            text_input = self._check_text(X, reset=True)
            fitted = self._input_attributes(text_input.n_columns, text_input.columns)
            return text_input, fitted
        self._check_not_chunked()
        from .export import saved_fusion
        from .tabular import (
            check_fused_frame,
            feature_names,
            load_preprocessor,
            make_preprocessor,
            tabular_matrix,
            text_column_list,
        )

        text_columns = text_column_list(self.text_columns)
        rows, columns = check_fused_frame(X, text_columns)
        preprocessor, values = None, None
        if rows.tabular is not None:
            saved = saved_fusion(self.model)
            reuse = (
                isinstance(self.tabular_preprocessor, str)
                and self.tabular_preprocessor == "auto"
                and saved is not None
                and saved.preprocessor_file is not None
                and sorted(saved.info["tabular_columns"]) == sorted(rows.tabular)
            )
            if reuse:  # a saved model's preprocessor belongs to its weights
                rows.tabular = rows.tabular[saved.info["tabular_columns"]]
                preprocessor = load_preprocessor(saved.preprocessor_file)
            else:
                preprocessor = make_preprocessor(
                    self.tabular_preprocessor, rows.tabular
                )
            values = tabular_matrix(preprocessor, rows.tabular, fit=not reuse)
        rows.values = values
        tabular_columns = [] if rows.tabular is None else list(rows.tabular)
        fitted = {
            **self._input_attributes(len(columns), columns),
            "text_columns_": text_columns,
            "tabular_columns_": tabular_columns,
            "tabular_preprocessor_": preprocessor,
            "tabular_feature_names_": (
                np.asarray([], dtype=object)
                if values is None
                else feature_names(preprocessor, tabular_columns, values.shape[1])
            ),
        }
        return rows, fitted

    def _predict_rows(self, X: Any) -> Any:
        """Check ``predict``'s ``X`` against what ``fit`` saw."""
        if not self._fused:
            return self._check_text(X, reset=False)
        self._check_inference_params()  # as _check_text does for texts
        self._check_not_chunked()
        from .tabular import check_fused_frame, tabular_matrix

        rows, _ = check_fused_frame(X, self.text_columns_, list(self.feature_names_in_))
        if rows.tabular is not None:
            rows.tabular = rows.tabular[self.tabular_columns_]
            rows.values = tabular_matrix(
                self.tabular_preprocessor_, rows.tabular, fit=False
            )
        return rows

    @property
    def _fused(self) -> bool:
        return "text_columns_" in self.__dict__

    def _check_not_chunked(self) -> None:
        """Fused rows are not split into windows (see ``long_text``)."""
        if self.long_text == "chunk":
            raise ValueError(
                "long_text='chunk' does not apply with text_columns: a row's "
                "texts and tabular values make one sequence, which is truncated "
                "to max_length. Use long_text='truncate' (raise max_length, or "
                "use combine_texts='separate' to give each text column "
                "max_length tokens of its own)."
            )

    @staticmethod
    def _adaptation_input(X: Any, rows: Any) -> Any:
        """What a ``BertMaskedLM`` ``model`` adapts on: the texts."""
        return rows.all_texts() if isinstance(rows, FusedRows) else X

    # -- tokens --------------------------------------------------------------
    def _tokenize(
        self,
        tokenizer: Any,
        model: Any,
        rows: Any,
        max_length: int,
        separate: bool = False,
    ):
        """The rows' sequences (``Tokenized``): one feature dict per row (its
        tokens, of its texts joined or of each text when ``separate``, and its
        tabular values), or with ``long_text="chunk"`` one per window of texts
        and pairs; and how many sequences were truncated."""
        from ..._text.inputs import TextInput
        from ..._text.tokenize import Tokenized, model_input_names, tokenize

        if not isinstance(rows, FusedRows):
            return tokenize(
                tokenizer,
                rows,
                max_length=max_length,
                long_text=self.long_text,
                stride=self.stride,
                input_names=model_input_names(model),
            )

        def run(text_input):
            tok = tokenize(
                tokenizer,
                text_input,
                max_length=max_length,
                input_names=model_input_names(model),
            )
            return tok.features, tok.n_truncated

        if not separate:
            first, *rest = rows.texts
            sep = f" {tokenizer.sep_token or ''} "
            pairs = [sep.join(texts) for texts in zip(*rest, strict=True)] or None
            features, n_truncated = run(TextInput(first, pairs))
        else:  # separate: the j-th text's features are named "input_ids.j", ...
            from ..._text.batching import text_key

            features = [{} for _ in range(len(rows))]
            n_truncated = 0
            for j, texts in enumerate(rows.texts):
                column, truncated = run(TextInput(texts))
                n_truncated += truncated
                for row, feats in zip(features, column, strict=True):
                    row.update({text_key(k, j): v for k, v in feats.items()})
        if rows.values is not None:
            for row, values in zip(features, rows.values, strict=True):
                row["tabular"] = values
        n = len(features)
        return Tokenized(features, np.arange(n, dtype=np.int64), n, n_truncated)

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        from ..._engine.data import FeatureDataset
        from ..._text.tokenize import warn_truncated

        rows = prepared.rows
        fused = isinstance(rows, FusedRows)
        separate = fused and self._separate(len(rows.texts))
        tok = self._tokenize(tokenizer, model, rows, max_length, separate)
        warn_truncated(tok.n_truncated, max_length, can_chunk=not fused)
        if fused or self.long_text != "chunk":
            return TrainingData(
                FeatureDataset(tok.features, prepared.targets, prepared.weights),
                stratify=prepared.stratify,
                scorer=self._valid_score,
                score_name=self._score_name,
            )
        # Windows: each learns its row's target; a row's weight is shared by
        # its windows, which stay on one side of the early-stopping split and
        # are scored together.
        from .chunks import window_weights

        owners = tok.owners
        targets = [prepared.targets[i] for i in owners]
        weights = window_weights(prepared.weights, owners, len(rows))
        stratify = prepared.stratify
        return TrainingData(
            FeatureDataset(tok.features, targets, weights),
            stratify=None if stratify is None else np.asarray(stratify)[owners],
            groups=owners,
            scorer=WindowScorer(self, owners, tok.lengths()),
            score_name=self._score_name,
        )

    # -- the module ----------------------------------------------------------
    def _module(self, model: Any, prepared: Prepared):
        from .export import read_saved_head

        rows = prepared.rows
        if isinstance(rows, FusedRows):
            return self._fusion_module(model, prepared), self._criterion(prepared)
        from ..._nn.heads import PooledHeadModule

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

    def _separate(self, n_texts: int) -> bool:
        """Whether ``fit`` encodes the text columns one by one."""
        return self.combine_texts == "separate" and n_texts > 1

    def _fusion_module(self, model: Any, prepared: Prepared):
        from ..._nn.fusion import FusionModule
        from .export import read_saved_fusion

        rows = prepared.rows
        separate = self._separate(len(rows.texts))
        module = FusionModule(
            model,
            n_outputs=self._n_outputs(prepared),
            pooling=self.pooling,
            dropout=self.dropout,
            n_texts=len(rows.texts) if separate else 1,
            n_tabular=0 if rows.values is None else rows.values.shape[1],
            fusion=self.fusion,
        )
        state = read_saved_fusion(self.model, module, fusion_info(prepared.fitted))
        if state is not None:
            module.load_state_dict(state, strict=False)
        prepared.new_head = state is None
        return module

    # -- inference ---------------------------------------------------------
    def _raw_outputs(self, X: Any) -> np.ndarray:
        """Head outputs (logits or standardised values), shape (n, n_outputs).

        Distinct rows are tokenized and run a bounded number at a time (see
        ``_engine.inference.streamed``) and written into one array.
        """
        from ..._engine.inference import gather, streamed
        from ..._text.tokenize import unique_rows, warn_truncated
        from .chunks import aggregate_windows

        check_is_fitted(self, "net_")
        rows = self._predict_rows(X)
        module = self.net_.module_
        fused = isinstance(rows, FusedRows)
        if fused:  # rows with tabular values rarely repeat
            uniq, inverse = rows, None
        else:
            uniq, inverse = unique_rows(rows)
        out = np.empty((len(uniq), module.n_outputs), dtype=np.float32)
        n_truncated = 0
        for part in streamed(len(uniq), self.max_length_):
            tok = self._tokenize(
                self.tokenizer_,
                module.hf_model,
                uniq.take(part),
                self.max_length_,
                getattr(module, "n_texts", 1) > 1,
            )
            n_truncated += tok.n_truncated
            outputs = gather(self._run(tok.features), len(tok.features))
            out[part.start : part.stop] = aggregate_windows(
                outputs, tok.owners, tok.lengths(), len(part), self.chunk_aggregation
            )
        warn_truncated(n_truncated, self.max_length_, can_chunk=not fused)
        return out if inverse is None or len(uniq) == len(inverse) else out[inverse]

    def _save(self, path: Any, config_updates: dict[str, Any], **fold) -> Any:
        from ..._engine.distributed import is_writer
        from .export import save_sequence_model

        check_is_fitted(self, "net_")
        if not is_writer(self):  # data-parallel: process 0 writes the folder
            from pathlib import Path

            return Path(path)
        fused = fusion_info(self.__dict__) if self._fused else None
        return save_sequence_model(
            self.net_.module_,
            self.tokenizer_,
            path,
            config_updates=config_updates,
            max_length=self.max_length_,
            verbose=self.verbose,
            fusion=fused,
            preprocessor=getattr(self, "tabular_preprocessor_", None),
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


class WindowScorer:
    """The early-stopping score of windows: each validation row's windows
    aggregated as ``chunk_aggregation`` says, then scored as rows."""

    def __init__(self, estimator: SequenceBase, owners: np.ndarray, lengths):
        self.estimator = estimator
        self.owners = owners
        self.lengths = lengths

    def __call__(self, outputs: list[np.ndarray], dataset: Any) -> float:
        from .chunks import aggregate_windows

        owners = self.owners[dataset.ids]
        rows, first, local = np.unique(owners, return_index=True, return_inverse=True)
        aggregated = aggregate_windows(
            np.stack(outputs),
            local,
            self.lengths[dataset.ids],
            len(rows),
            self.estimator.chunk_aggregation,
        )
        targets = np.asarray(dataset.targets)[first]
        return self.estimator._score_outputs(aggregated, targets)


def fusion_info(fitted: dict[str, Any]) -> dict[str, Any]:
    """What a saved fused model records about its columns (see ``export``)."""
    return {
        "text_columns": list(fitted["text_columns_"]),
        "tabular_columns": list(fitted["tabular_columns_"]),
        "tabular_features": [str(n) for n in fitted["tabular_feature_names_"]],
    }

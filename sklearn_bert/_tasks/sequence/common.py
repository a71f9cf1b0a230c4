"""What the classifier and the regressor share: tokenized texts or pairs (or,
with ``text_columns``, text columns beside tabular ones), an encoder with a
pooled head (or a fusion module), inference and export."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..._engine.finetune import FineTuneBase, Prepared, TrainingData
from ..._params import FUSION, constraints
from .tabular import FusedRows


class SequenceBase(FineTuneBase):
    """The classifier's and the regressor's shared steps (see ``FineTuneBase``).

    Without ``text_columns`` the rows are texts or sentence pairs
    (``TextInput``) and the module a ``PooledHeadModule``; with it they are a
    DataFrame's text and tabular columns (:class:`~.tabular.FusedRows`) and
    the module a ``FusionModule``.
    """

    _parameter_constraints: dict = {
        **FineTuneBase._parameter_constraints,
        **constraints("pooling", "distributed", *FUSION),
    }
    _hf_task = "base"

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
        """One feature dict per row (its tokens, of its texts joined or of
        each text when ``separate``, and its tabular values), and how many
        sequences were truncated."""
        from ..._text.inputs import TextInput
        from ..._text.tokenize import model_input_names, tokenize

        def run(text_input):
            tok = tokenize(
                tokenizer,
                text_input,
                max_length=max_length,
                input_names=model_input_names(model),
            )
            return tok.features, tok.n_truncated

        if not isinstance(rows, FusedRows):
            features, n_truncated = run(rows)
        elif not separate:
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
        if isinstance(rows, FusedRows) and rows.values is not None:
            for row, values in zip(features, rows.values, strict=True):
                row["tabular"] = values
        return features, n_truncated

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        from ..._engine.data import FeatureDataset
        from ..._text.tokenize import warn_truncated

        rows = prepared.rows
        separate = isinstance(rows, FusedRows) and self._separate(len(rows.texts))
        features, n_truncated = self._tokenize(
            tokenizer, model, rows, max_length, separate
        )
        warn_truncated(n_truncated, max_length, can_chunk=False)
        return TrainingData(
            FeatureDataset(features, prepared.targets, prepared.weights),
            stratify=prepared.stratify,
            scorer=self._valid_score,
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

        check_is_fitted(self, "net_")
        rows = self._predict_rows(X)
        module = self.net_.module_
        if isinstance(rows, FusedRows):  # rows with tabular values rarely repeat
            uniq, inverse = rows, None
        else:
            uniq, inverse = unique_rows(rows)
        out = np.empty((len(uniq), module.n_outputs), dtype=np.float32)
        n_truncated = 0
        for part in streamed(len(uniq)):
            features, truncated = self._tokenize(
                self.tokenizer_,
                module.hf_model,
                uniq.take(part),
                self.max_length_,
                getattr(module, "n_texts", 1) > 1,
            )
            n_truncated += truncated
            out[part.start : part.stop] = gather(self._run(features), len(features))
        warn_truncated(n_truncated, self.max_length_, can_chunk=False)
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

    def _valid_score(self, outputs: list[np.ndarray], dataset: Any) -> float:
        raise NotImplementedError  # pragma: no cover


def fusion_info(fitted: dict[str, Any]) -> dict[str, Any]:
    """What a saved fused model records about its columns (see ``export``)."""
    return {
        "text_columns": list(fitted["text_columns_"]),
        "tabular_columns": list(fitted["tabular_columns_"]),
        "tabular_features": [str(n) for n in fitted["tabular_feature_names_"]],
    }

"""The two kinds of input of the classifier and the regressor, one strategy
each: everything that depends on whether the rows are texts or a DataFrame
of text and tabular columns.

- :class:`TextRows`: texts or sentence pairs (``TextInput``), truncated or
  split into windows (``long_text``), an encoder with a pooled head
  (``PooledHeadModule``);
- :class:`FusedRows`: with ``text_columns``, a DataFrame's text columns
  (joined into one sequence or encoded one by one, ``combine_texts``) and its
  tabular columns through a fitted preprocessor, a ``FusionModule``.

``SequenceBase`` (``common.py``) asks :func:`input_kind` for the strategy
once per call and holds no branch on the kind of input. Both offer the same
methods: ``check_fit``, ``check``, ``adaptation_texts``, ``tokenize``,
``training_data``, ``module``, ``distinct`` and ``save_options``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._engine.finetune import Prepared, TrainingData
from .tabular import FusedInput


def input_kind(estimator: Any, *, fitting: bool) -> TextRows | FusedRows:
    """The strategy of ``estimator``'s input: in ``fit`` as its parameters
    say (``text_columns``), afterwards as the fitted model is."""
    if fitting:
        if estimator.text_columns is None:
            return TextRows(estimator)
        return FusedRows(estimator, separate=None)
    if "text_columns_" not in estimator.__dict__:
        return TextRows(estimator)
    return FusedRows(estimator, separate=estimator.net_.module_.n_texts > 1)


class TextRows:
    """Texts or sentence pairs (see the module docstring)."""

    #: A text longer than ``max_length`` may be split into windows instead.
    can_chunk = True

    def __init__(self, estimator: Any):
        self.est = estimator

    # -- input -----------------------------------------------------------------
    def check_fit(self, X: Any) -> tuple[Any, dict[str, Any]]:
        """``fit``'s rows, and the fitted attributes that follow from them."""
        text_input = self.est._check_text(X, reset=True)
        fitted = self.est._input_attributes(text_input.n_columns, text_input.columns)
        return text_input, fitted

    def check(self, X: Any) -> Any:
        """``predict``'s rows, checked against what ``fit`` saw."""
        return self.est._check_text(X, reset=False)

    def adaptation_texts(self, X: Any, rows: Any) -> Any:
        """What a ``BertMaskedLM`` ``model`` adapts on."""
        return X

    # -- tokens ----------------------------------------------------------------
    def tokenize(self, tokenizer: Any, model: Any, rows: Any, max_length: int):
        """One feature dict per row, or per window with ``long_text="chunk"``
        (``Tokenized``)."""
        from ..._text.tokenize import model_input_names, tokenize

        return tokenize(
            tokenizer,
            rows,
            max_length=max_length,
            long_text=self.est.long_text,
            stride=self.est.stride,
            input_names=model_input_names(model),
        )

    def training_data(self, prepared: Prepared, tok: Any) -> TrainingData:
        """The training sequences: rows, or windows that learn their row's
        target (a row's weight shared by its windows, which stay on one side
        of the early-stopping split and are scored together)."""
        from ..._engine.data import FeatureDataset
        from .chunks import window_weights

        est = self.est
        if est.long_text != "chunk":
            return plain_training_data(est, prepared, tok)
        owners = tok.owners
        targets = [prepared.targets[i] for i in owners]
        weights = window_weights(prepared.weights, owners, len(prepared.rows))
        stratify = prepared.stratify
        scorer = WindowScorer(est, owners, tok.lengths())
        return TrainingData(
            FeatureDataset(tok.features, targets, weights),
            stratify=None if stratify is None else np.asarray(stratify)[owners],
            groups=owners,
            scorer=scorer,
            score_name=est._score_name,
            row_outputs=scorer.rows,
        )

    # -- the module --------------------------------------------------------------
    def module(self, model: Any, prepared: Prepared):
        """A ``PooledHeadModule``, its head from a saved folder when ``model``
        is one written by ``save_pretrained`` (a ``BertMaskedLM`` never has
        one)."""
        from ..._nn.heads import PooledHeadModule
        from .export import read_saved_head

        est = self.est
        module = PooledHeadModule(
            model,
            n_outputs=est._n_outputs(prepared),
            pooling=est.pooling,
            dropout=est.dropout,
        )
        head = read_saved_head(est.model, est.pooling, module.head)
        if head is not None:
            module.head.load_state_dict(head)
        prepared.new_head = head is None
        return module

    # -- inference ---------------------------------------------------------------
    @staticmethod
    def distinct(rows: Any) -> tuple[Any, np.ndarray | None]:
        """The distinct rows, and where each row's output is among theirs."""
        from ..._text.tokenize import unique_rows

        return unique_rows(rows)

    def save_options(self) -> dict[str, Any]:
        """What ``save_pretrained`` writes besides the model."""
        return {}


class FusedRows:
    """A DataFrame's text and tabular columns (see the module docstring).

    Parameters
    ----------
    estimator : SequenceBase
        The estimator whose parameters and fitted attributes to read.
    separate : bool or None
        Whether the text columns are encoded one by one: None decides it from
        the parameters (in ``fit``); a fitted model says it by its module.
    """

    #: A row's texts and values make one sequence, never split into windows.
    can_chunk = False

    def __init__(self, estimator: Any, *, separate: bool | None):
        self.est = estimator
        self.separate = separate

    def _separate(self, rows: FusedInput) -> bool:
        """Whether the text columns of ``rows`` are encoded one by one."""
        if self.separate is not None:
            return self.separate
        return self.est.combine_texts == "separate" and len(rows.texts) > 1

    def _check_not_chunked(self) -> None:
        if self.est.long_text == "chunk":
            raise ValueError(
                "long_text='chunk' does not apply with text_columns: a row's "
                "texts and tabular values make one sequence, which is truncated "
                "to max_length. Use long_text='truncate' (raise max_length, or "
                "use combine_texts='separate' to give each text column "
                "max_length tokens of its own)."
            )

    # -- input -----------------------------------------------------------------
    def check_fit(self, X: Any) -> tuple[FusedInput, dict[str, Any]]:
        """``fit``'s DataFrame: its text and tabular columns, the fitted
        preprocessor (a saved model's own when ``model`` is a folder of one
        with the same tabular columns) and the fitted attributes."""
        from .export import saved_fusion
        from .tabular import (
            check_fused_frame,
            feature_names,
            load_preprocessor,
            make_preprocessor,
            tabular_matrix,
            text_column_list,
        )

        est = self.est
        self._check_not_chunked()
        text_columns = text_column_list(est.text_columns)
        rows, columns = check_fused_frame(X, text_columns)
        preprocessor, values = None, None
        if rows.tabular is not None:
            saved = saved_fusion(est.model)
            reuse = (
                isinstance(est.tabular_preprocessor, str)
                and est.tabular_preprocessor == "auto"
                and saved is not None
                and saved.preprocessor_file is not None
                and sorted(saved.info["tabular_columns"]) == sorted(rows.tabular)
            )
            if reuse:  # a saved model's preprocessor belongs to its weights
                rows.tabular = rows.tabular[saved.info["tabular_columns"]]
                preprocessor = load_preprocessor(saved.preprocessor_file)
            else:
                preprocessor = make_preprocessor(est.tabular_preprocessor, rows.tabular)
            values = tabular_matrix(preprocessor, rows.tabular, fit=not reuse)
        rows.values = values
        tabular_columns = [] if rows.tabular is None else list(rows.tabular)
        fitted = {
            **est._input_attributes(len(columns), columns),
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

    def check(self, X: Any) -> FusedInput:
        """``predict``'s DataFrame, its columns matched by name to ``fit``'s;
        the parameters are checked again first, as for texts."""
        from .tabular import check_fused_frame, tabular_matrix

        est = self.est
        est._check_inference_params()
        self._check_not_chunked()
        rows, _ = check_fused_frame(X, est.text_columns_, list(est.feature_names_in_))
        if rows.tabular is not None:
            rows.tabular = rows.tabular[est.tabular_columns_]
            rows.values = tabular_matrix(
                est.tabular_preprocessor_, rows.tabular, fit=False
            )
        return rows

    @staticmethod
    def adaptation_texts(X: Any, rows: FusedInput) -> list[str]:
        """What a ``BertMaskedLM`` ``model`` adapts on: every text."""
        return rows.all_texts()

    # -- tokens ----------------------------------------------------------------
    def tokenize(self, tokenizer: Any, model: Any, rows: FusedInput, max_length: int):
        """One feature dict per row: its tokens (of its texts joined, or of
        each text, named ``input_ids.<j>``, ... when ``separate``) and its
        tabular values (``Tokenized``)."""
        from ..._text.inputs import TextInput
        from ..._text.tokenize import Tokenized, model_input_names, tokenize

        def run(text_input):
            tok = tokenize(
                tokenizer,
                text_input,
                max_length=max_length,
                input_names=model_input_names(model),
            )
            return tok.features, tok.n_truncated

        if not self._separate(rows):
            first, *rest = rows.texts
            sep = f" {tokenizer.sep_token or ''} "
            pairs = [sep.join(texts) for texts in zip(*rest, strict=True)] or None
            features, n_truncated = run(TextInput(first, pairs))
        else:
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

    def training_data(self, prepared: Prepared, tok: Any) -> TrainingData:
        """One training sequence per row."""
        return plain_training_data(self.est, prepared, tok)

    # -- the module --------------------------------------------------------------
    def module(self, model: Any, prepared: Prepared):
        """A ``FusionModule``, from a saved fused model's weights when
        ``model`` is a folder of one with the same columns."""
        from ..._nn.fusion import FusionModule
        from .export import read_saved_fusion

        est = self.est
        rows = prepared.rows
        module = FusionModule(
            model,
            n_outputs=est._n_outputs(prepared),
            pooling=est.pooling,
            dropout=est.dropout,
            n_texts=len(rows.texts) if self._separate(rows) else 1,
            n_tabular=0 if rows.values is None else rows.values.shape[1],
            fusion=est.fusion,
        )
        state = read_saved_fusion(est.model, module, fusion_info(prepared.fitted))
        if state is not None:
            module.load_state_dict(state, strict=False)
        prepared.new_head = state is None
        return module

    # -- inference ---------------------------------------------------------------
    @staticmethod
    def distinct(rows: FusedInput) -> tuple[FusedInput, None]:
        """Every row (rows with tabular values rarely repeat)."""
        return rows, None

    def save_options(self) -> dict[str, Any]:
        """The columns and the preprocessor, written beside the model."""
        est = self.est
        return {
            "fusion": fusion_info(est.__dict__),
            "preprocessor": est.tabular_preprocessor_,
        }


def plain_training_data(estimator: Any, prepared: Prepared, tok: Any) -> TrainingData:
    """One training sequence per row, scored as rows."""
    from ..._engine.data import FeatureDataset

    return TrainingData(
        FeatureDataset(tok.features, prepared.targets, prepared.weights),
        stratify=prepared.stratify,
        scorer=estimator._valid_score,
        score_name=estimator._score_name,
    )


class WindowScorer:
    """The early-stopping score of windows: each validation row's windows
    aggregated as ``chunk_aggregation`` says, then scored as rows."""

    def __init__(self, estimator: Any, owners: np.ndarray, lengths):
        self.estimator = estimator
        self.owners = owners
        self.lengths = lengths

    def __call__(self, outputs: list[np.ndarray], dataset: Any) -> float:
        return self.estimator._score_outputs(*self.rows(np.stack(outputs), dataset))

    def rows(self, outputs: np.ndarray, dataset: Any) -> tuple[np.ndarray, np.ndarray]:
        """The windows' ``outputs`` aggregated per row, and the rows' targets."""
        from .chunks import aggregate_windows

        owners = self.owners[dataset.ids]
        rows, first, local = np.unique(owners, return_index=True, return_inverse=True)
        aggregated = aggregate_windows(
            outputs,
            local,
            self.lengths[dataset.ids],
            len(rows),
            self.estimator.chunk_aggregation,
        )
        return aggregated, np.asarray(dataset.targets)[first]


def fusion_info(fitted: dict[str, Any]) -> dict[str, Any]:
    """What a saved fused model records about its columns (see ``export``)."""
    return {
        "text_columns": list(fitted["text_columns_"]),
        "tabular_columns": list(fitted["tabular_columns_"]),
        "tabular_features": [str(n) for n in fitted["tabular_feature_names_"]],
    }

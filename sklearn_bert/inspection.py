"""Why a model predicts what it does: word attributions.

:func:`explain` scores each word of a text by how much it moved the
prediction of a fitted :class:`~sklearn_bert.BertClassifier`,
:class:`~sklearn_bert.BertRegressor` or contrastive estimator (Integrated
Gradients over the input embeddings, or gradient x input), returning one
:class:`Explanation` per text; :meth:`Explanation.to_html` and
:func:`explanations_html` colour the words for a notebook.
"""

from __future__ import annotations

from ._tasks.inspection import Explanation, explain, explanations_html

__all__ = ["Explanation", "explain", "explanations_html"]

# Pickles name the public path, never the private module that defines it.
Explanation.__module__ = __name__

"""Sequence-level tasks: :class:`BertClassifier` and :class:`BertRegressor`."""

"""Token classification: :class:`BertTokenClassifier` and its word helpers."""

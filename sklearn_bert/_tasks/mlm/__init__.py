"""Masked-language-model domain adaptation: :class:`BertMaskedLM` and masking."""

"""Contrastive fine-tuning (the SetFit recipe): the trainer behind
``BertTransformer(fine_tune="contrastive")`` and the few-shot estimators."""

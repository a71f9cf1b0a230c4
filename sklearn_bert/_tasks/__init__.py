"""The estimators, one module (or folder) per task with its helpers beside it.

Private: the public names are re-exported from ``sklearn_bert``.
"""

"""Text handling: input checks, tokenization, padding and pooling.

A leaf of the package: nothing here imports the other subpackages, builds a
torch module or imports transformers.
"""

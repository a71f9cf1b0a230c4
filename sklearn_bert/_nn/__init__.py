"""torch modules: task heads around Hugging Face encoders, losses, freezing.

No skorch and no training loop here; transformers is reached through ``_io``
only (to rebuild a module from its portable export).
"""

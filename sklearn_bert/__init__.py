"""Fine-tunable BERT-style encoders as scikit-learn estimators."""

from ._models import DEFAULT_MODEL, bundled_models
from .transformer import BertTransformer

__version__ = "0.1.0.dev0"

__all__ = [
    "DEFAULT_MODEL",
    "BertTransformer",
    "bundled_models",
    "__version__",
]

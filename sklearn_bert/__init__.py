"""Fine-tunable BERT-style encoders as scikit-learn estimators."""

from ._models import DEFAULT_MODEL, bundled_models
from .classifier import BertClassifier, BertRegressor
from .mlm import BertMaskedLM
from .qa import BertQuestionAnswerer
from .token import BertTokenClassifier
from .transformer import BertTransformer

__version__ = "0.1.0.dev0"

__all__ = [
    "DEFAULT_MODEL",
    "BertClassifier",
    "BertMaskedLM",
    "BertQuestionAnswerer",
    "BertRegressor",
    "BertTokenClassifier",
    "BertTransformer",
    "bundled_models",
    "__version__",
]

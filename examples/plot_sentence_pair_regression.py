"""
Sentence-pair similarity with a regressor
=========================================

:class:`~sklearn_bert.BertRegressor` on two text columns encodes each pair
as ``[CLS] a [SEP] b [SEP]`` and regresses a score: a cross-encoder for
semantic similarity. No package installed here ships human-scored similarity
data (such as STS-B), so this example builds a small set of pairs in the
script, scored from 0 (unrelated) to 5 (same meaning). The numbers only show
the mechanics; use a real scored data set for real work.
"""

# %%
import numpy as np
import pandas as pd

from sklearn_bert import BertRegressor

topics = {
    "food": [
        "The soup was delicious.",
        "This soup tastes great.",
        "I loved the meal.",
        "The dinner was wonderful.",
    ],
    "weather": [
        "It is raining heavily.",
        "The rain is pouring down.",
        "A storm is coming.",
        "The sky is dark and wet.",
    ],
    "travel": [
        "The train was late.",
        "Our train arrived late.",
        "The flight was delayed.",
        "We missed the bus.",
    ],
    "work": [
        "The meeting ran long.",
        "Our meeting took hours.",
        "The report is due today.",
        "I finished the project.",
    ],
}
rows = []
for topic, sentences in topics.items():
    rows.append((sentences[0], sentences[1], 5.0))  # paraphrase
    rows.append((sentences[2], sentences[3], 3.5))  # same topic
    rows.append((sentences[0], sentences[3], 3.0))
    for other, other_sentences in topics.items():
        if other != topic:
            rows.append((sentences[1], other_sentences[2], 0.5))  # unrelated
pairs = pd.DataFrame(rows, columns=["sentence_a", "sentence_b", "score"])
print(f"{len(pairs)} scored pairs")

# %%
# Fit on two columns; the score is on the 0-5 scale of ``y`` (targets are
# standardised internally and mapped back).
rng = np.random.default_rng(0)
test_mask = rng.random(len(pairs)) < 0.25
train, test = pairs[~test_mask], pairs[test_mask]
reg = BertRegressor(max_epochs=8, lr=1e-4, batch_size=8, random_state=0)
reg.fit(train[["sentence_a", "sentence_b"]], train["score"])

# %%
# Predicted similarity for held-out pairs, and R² (``score``).
pred = reg.predict(test[["sentence_a", "sentence_b"]])
print(test.assign(predicted=pred.round(2)).to_string(index=False))
r2 = reg.score(test[["sentence_a", "sentence_b"]], test["score"])
print(f"R² on held-out pairs: {r2:.2f}")

# %%
# Unseen pairs.
new = pd.DataFrame(
    {
        "sentence_a": ["The stew was tasty.", "The stew was tasty."],
        "sentence_b": ["I enjoyed the food.", "The train left early."],
    }
)
print(reg.predict(new).round(2))

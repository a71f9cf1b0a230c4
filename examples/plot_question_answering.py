"""
Extractive question answering on a synthetic company data set
==============================================================

Fine-tune the bundled encoder (``sentence-transformers/all-MiniLM-L6-v2``) to
find answer spans with :class:`~sklearn_bert.BertQuestionAnswerer`, offline,
on the CPU.

No package ships SQuAD-style data, so the script builds its own: short
company profiles written from a few templates, each with three questions
(who founded it, when, where it is based). Companies, people, cities and
years are split between training and test, so every test answer is a name,
city or year the model never saw as an answer in training.
"""

# %%
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import time

import numpy as np
import pandas as pd

from sklearn_bert import BertQuestionAnswerer
from sklearn_bert.metrics import exact_match_scorer, squad_f1_scorer

# %%
# The data: templated profiles, split by entity.
FIRST = """Ada Alan Boris Carla Dmitri Elena Farid Grace Hugo Ines Jonas Keiko
Liam Maya Nadia Omar Petra Quentin Rosa Samir Tara Ugo Vera Walter Xenia Yusuf
Zora Anton Bianca Cyrus Daria Emil Fiona Gustav Hana Ivan Julia Karl Lena Marco
""".split()
LAST = """Novak Fischer Moreau Rossi Silva Tanaka Kowalski Jensen Okafor Haddad
Lindqvist Petrov Duarte Nakamura Schmidt Ferreira Kaplan Varga Mendes Horvat
Bauer Costa Dubois Eriksen Gallo Ivanova Keller Laurent Martins Nilsen
""".split()
CITIES = """Lisbon Oslo Krakow Lyon Turin Porto Bergen Graz Ghent Malmo Brno Leeds
Bilbao Utrecht Tampere Aarhus Seville Dresden Geneva Split Bologna Cork Riga
Tallinn Vilnius Zagreb Sofia Varna Basel Lille
""".split()
STEMS = """Nor Vel Quant Bright Arc Blue Iron Silver Nova Terra Zen Alto Cobalt
Delta Ember Fjord Granite Helix Indigo Jade Kestrel Lumen Mosaic Nimbus Onyx
Pixel Quartz Radiant Sable Tidal Umber Vertex Willow Xeno Yonder Zephyr Amber
Beacon Cedar Dune Echo Flint Glacier Harbor Ion Juniper Kite Lark Maple Nectar
""".split()
SUFFIXES = ["Labs", "Works", "Systems", "Foods", "Energy", "Motors", "Textiles"]
CONTEXTS = [
    "{c} was founded by {f} in {y}. Its head office is in {p}, where most "
    "of its staff work.",
    "In {y}, {f} founded {c}, a company based in {p}. It now sells its "
    "products in many countries.",
    "{c} is based in {p}. The company was started in {y} by {f}, who still "
    "chairs its board.",
    "Founded in {y} by {f}, {c} has grown from a small workshop into a large "
    "firm with its headquarters in {p}.",
]
QUESTIONS = [
    ("Who founded {c}?", "f"),
    ("When was {c} founded?", "y"),
    ("Where is {c} based?", "p"),
]


def split_pool(values, rng, test_share=0.3):
    """Shuffle and split a pool of values into disjoint train/test parts."""
    values = list(rng.permutation(values))
    n_test = int(round(test_share * len(values)))
    return values[n_test:], values[:n_test]


def make_rows(n_companies, pools, rng):
    first, last, cities, years, stems = pools
    rows = []
    for k in range(n_companies):
        fields = {
            "c": f"{stems[k % len(stems)]} {rng.choice(SUFFIXES)}",
            "f": f"{rng.choice(first)} {rng.choice(last)}",
            "y": str(rng.choice(years)),
            "p": str(rng.choice(cities)),
        }
        context = CONTEXTS[rng.integers(len(CONTEXTS))].format(**fields)
        for question, key in QUESTIONS:
            rows.append((question.format(**fields), context, fields[key]))
    return pd.DataFrame(rows, columns=["question", "context", "answer"])


rng = np.random.default_rng(0)
parts = [
    split_pool(pool, rng)
    for pool in (FIRST, LAST, CITIES, np.arange(1850, 2021), STEMS)
]
train = make_rows(100, [p[0] for p in parts], rng)
test = make_rows(40, [p[1] for p in parts], rng)
print(f"{len(train)} training and {len(test)} test questions")
print(train.head(3).to_string())

# Test answers never occur as training answers.
assert not set(test["answer"]) & set(train["answer"])
X_train, y_train = train[["question", "context"]], train["answer"]
X_test, y_test = test[["question", "context"]], test["answer"]

# %%
# Before fine-tuning: the encoder with a fresh, untrained span head. (The
# head only exists after ``fit``: one pass over 8 rows at a negligible
# learning rate creates it without learning anything.)
untrained = BertQuestionAnswerer(max_epochs=1, lr=1e-12, random_state=0)
untrained.fit(X_train[:8], y_train[:8])
before_f1 = squad_f1_scorer(untrained, X_test, y_test)
before_em = exact_match_scorer(untrained, X_test, y_test)
print(f"before fine-tuning: F1 {before_f1:.3f}, exact match {before_em:.3f}")

# %%
# Fine-tune encoder and head on the training questions. Everything but the
# learning rate is the default (3 epochs, batch size 16, 384-token windows).
start = time.perf_counter()
qa = BertQuestionAnswerer(lr=1e-4, random_state=0, verbose=1)
qa.fit(X_train, y_train)
fit_seconds = time.perf_counter() - start
start = time.perf_counter()
after_f1 = qa.score(X_test, y_test)
after_em = exact_match_scorer(qa, X_test, y_test)
predict_seconds = time.perf_counter() - start
print(
    f"after fine-tuning:  F1 {after_f1:.3f}, exact match {after_em:.3f} "
    f"(fit {fit_seconds:.0f} s, predict {predict_seconds:.1f} s)"
)

# %%
# Answers with their character offsets and the model's confidence.
print(qa.predict_spans(X_test[:6]).assign(truth=y_test[:6].to_numpy()).to_string())

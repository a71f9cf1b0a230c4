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

Measured on a two-core machine: SQuAD F1 0.946 (exact match 0.850) on the
120 test questions after 3 epochs on 300, against 0.240 for a word-overlap
baseline and 0.146 for the untrained span head; the fit took 57 s and the
whole example 63 s in the documentation's gallery build (two AMD EPYC cores).
"""

# %%
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import re
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_bert import BertQuestionAnswerer
from sklearn_bert.metrics import exact_match, squad_f1

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
# A baseline that reads no training data
# --------------------------------------
# Take the sentence of the context that shares the most words with the
# question and answer with its other words: the classic word-overlap
# heuristic. It finds the right sentence but not the span, so its F1 is low.
# (A rule written for these four templates would of course solve them; the
# point is that the model learns the rule from 300 examples.)


def overlap_answer(question, context):
    """The best-matching sentence of ``context``, less the question's words."""
    words = set(re.findall(r"\w+", question.lower()))
    sentences = re.split(r"(?<=\.)\s+", context)
    best = max(sentences, key=lambda s: len(words & set(re.findall(r"\w+", s.lower()))))
    return " ".join(w for w in re.findall(r"\w+", best) if w.lower() not in words)


baseline = [overlap_answer(q, c) for q, c in X_test.itertuples(index=False)]
print(
    f"word-overlap baseline: F1 {squad_f1(y_test, baseline):.3f}, "
    f"exact match {exact_match(y_test, baseline):.3f}"
)

# %%
# Before fine-tuning: the encoder with a fresh, untrained span head. (The
# head only exists after ``fit``: one pass over 8 rows at a negligible
# learning rate creates it without learning anything.)
untrained = BertQuestionAnswerer(max_epochs=1, lr=1e-12, random_state=0)
untrained.fit(X_train[:8], y_train[:8])
before = untrained.predict(X_test)
print(
    f"before fine-tuning: F1 {squad_f1(y_test, before):.3f}, "
    f"exact match {exact_match(y_test, before):.3f}"
)

# %%
# Fine-tuning
# -----------
# Everything but ``max_epochs`` is the default (learning rate 5e-5 for the
# encoder and 1e-3 for the new span head, batch size 16, 384-token windows,
# of which these short contexts use about 50). ``max_epochs="auto"`` would
# train 14 epochs on 300 questions (it aims at about 250 optimizer steps),
# far more than this regular data needs: 3 epochs (57 optimizer steps) run
# in under a minute.
start = time.perf_counter()
qa = BertQuestionAnswerer(max_epochs=3, random_state=0, verbose=1)
qa.fit(X_train, y_train)
fit_seconds = time.perf_counter() - start
after = qa.predict(X_test)
print(
    f"after fine-tuning:  F1 {squad_f1(y_test, after):.3f}, "
    f"exact match {exact_match(y_test, after):.3f} (fit {fit_seconds:.0f} s)"
)

# %%
# Answers with their character offsets and the model's confidence.
print(qa.predict_spans(X_test[:6]).assign(truth=y_test[:6].to_numpy()).to_string())

# %%
# Scores by kind of question
# --------------------------
# F1 of the three answerers on each kind of question, and the training loss
# of every batch (``history_``): the sum of the cross-entropies of the start
# and end positions.
kind = test["question"].str.split().str[0].to_numpy()  # Who / When / Where
kinds = ["Who", "When", "Where"]
answerers = {
    "word overlap": baseline,
    "untrained head": before,
    "fine-tuned": after,
}
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
width = 0.25
for k, (name, answers) in enumerate(answerers.items()):
    answers = np.asarray(answers, dtype=object)
    f1 = [squad_f1(y_test[kind == q], answers[kind == q]) for q in kinds]
    left.bar(np.arange(3) + (k - 1) * width, f1, width, label=name)
left.set_xticks(np.arange(3), [f"{q}...?" for q in kinds])
left.set_ylabel("SQuAD F1 on the test questions")
left.set_ylim(0, 1.2)
left.legend(loc="upper center", ncols=3, fontsize="small")

batch_losses = [b["train_loss"] for epoch in qa.history_ for b in epoch["batches"]]
right.plot(np.arange(1, len(batch_losses) + 1), batch_losses)
right.set_xlabel("optimizer step")
right.set_ylabel("training loss")
fig.tight_layout()
plt.show()

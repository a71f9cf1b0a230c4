"""Every ``save_pretrained`` folder deploys as the docs say.

Each folder is loaded the way ``docs/security.rst`` ("Deploying a saved
model") tells users to load it, and its outputs are compared with the
estimator's:

- classifier and regressor: ``SentenceTransformer(path).encode`` gives
  ``decision_function`` / ``predict`` for single texts (``test_classifier``)
  and for sentence pairs given as ``(text_a, text_b)`` tuples (here);
- token classifier: ``AutoModelForTokenClassification`` with the word's first
  sub-token logits gives ``predict``;
- question answerer: ``AutoModelForQuestionAnswering`` gives the start and end
  logits the estimator decodes;
- masked LM: ``AutoModelForMaskedLM`` gives the masked-LM logits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from _precision import assert_agree
from _qa_data import qa_frame

from sklearn_bert import (
    BertClassifier,
    BertMaskedLM,
    BertQuestionAnswerer,
    BertRegressor,
    BertTokenClassifier,
)

FAST = {"max_epochs": 1, "batch_size": 4, "max_length": 32, "random_state": 0}
A = ["a good film", "a bad film", "great story", "terrible story"] * 2
B = ["love it", "hate it", "fine", "the price was bad, the staff slow"] * 2
PAIRS = pd.DataFrame({"a": A, "b": B})


@pytest.mark.parametrize("pooling", ["mean", "cls", "max"])
def test_pair_classifier_deploys_with_sentence_transformers(
    tiny_model_dirs, tmp_path, pooling
):
    from sentence_transformers import SentenceTransformer

    family = {"mean": "bert", "cls": "roberta", "max": "deberta-v2"}[pooling]
    clf = BertClassifier(tiny_model_dirs[family], pooling=pooling, **FAST)
    clf.fit(PAIRS, [0, 1, 2, 1] * 2)
    st = SentenceTransformer(str(clf.save_pretrained(tmp_path)), device="cpu")
    logits = st.encode(list(zip(A, B, strict=True)))  # float32
    assert_agree(logits, clf.decision_function(PAIRS), clf.precision_, "float32")


def test_pair_regressor_deploys_with_sentence_transformers(tiny_bert, tmp_path):
    from sentence_transformers import SentenceTransformer

    reg = BertRegressor(tiny_bert, **FAST).fit(PAIRS, np.linspace(0, 5, len(A)))
    st = SentenceTransformer(str(reg.save_pretrained(tmp_path)), device="cpu")
    assert_agree(
        st.encode(list(zip(A, B, strict=True)))[:, 0],
        reg.predict(PAIRS),
        reg.precision_,
        "float32",
    )


SENTENCES = [
    ["John", "lives", "in", "Paris"],
    ["Mary", "works", "for", "Acme", "Corp"],
    ["the", "city", "of", "Rome"],
    ["Anna", "visited", "New", "York"],
]
TAGS = [
    ["B-PER", "O", "O", "B-LOC"],
    ["B-PER", "O", "O", "B-ORG", "I-ORG"],
    ["O", "O", "O", "B-LOC"],
    ["B-PER", "O", "B-LOC", "I-LOC"],
]


def tags_with_transformers(path, sentences):
    """The docs' recipe: a word's tag is read at its first sub-token."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForTokenClassification.from_pretrained(path).eval()
    out = []
    for words in sentences:
        enc = tokenizer(words, is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits[0]
        first = {}
        for position, word in enumerate(enc.word_ids()):
            if word is not None:
                first.setdefault(word, position)
        ids = logits[[first[w] for w in range(len(words))]].argmax(-1).tolist()
        out.append([model.config.id2label[i] for i in ids])
    return out


@pytest.mark.parametrize("family", ["bert", "roberta"])
def test_token_classifier_deploys_with_transformers(tiny_model_dirs, tmp_path, family):
    tagger = BertTokenClassifier(tiny_model_dirs[family], **{**FAST, "lr": 1e-3})
    tagger.fit(SENTENCES * 3, TAGS * 3)
    path = tagger.save_pretrained(tmp_path)
    assert tags_with_transformers(path, SENTENCES) == tagger.predict(SENTENCES)


def test_question_answerer_deploys_with_transformers(tiny_bert, tmp_path):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    X, y = qa_frame(2)
    qa = BertQuestionAnswerer(tiny_bert, **{**FAST, "max_length": 64}).fit(X, y)
    path = qa.save_pretrained(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForQuestionAnswering.from_pretrained(path).eval()
    ours = qa.net_.module_.eval()
    for question, context in X.itertuples(index=False):
        enc = tokenizer(question, context, return_tensors="pt")
        with torch.no_grad():
            out = model(**enc)
            logits = ours(**enc)
        torch.testing.assert_close(out.start_logits, logits[..., 0])
        torch.testing.assert_close(out.end_logits, logits[..., 1])


def test_masked_lm_deploys_with_transformers(tiny_bert, tmp_path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    mlm = BertMaskedLM(tiny_bert, **FAST).fit(A)
    path = mlm.save_pretrained(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForMaskedLM.from_pretrained(path).eval()
    enc = tokenizer(["the [MASK] was good"], return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(model(**enc).logits, mlm.model_(**enc).logits)
    (ours,) = mlm.fill_mask(["the [MASK] was good"], top_k=3)
    mask = enc["input_ids"][0].tolist().index(tokenizer.mask_token_id)
    with torch.no_grad():
        top = model(**enc).logits[0, mask].topk(3).indices.tolist()
    assert [token for token, _ in ours[0]] == [
        tokenizer.decode([t]).strip() for t in top
    ]

"""A small templated English QA set for the tests (no package ships SQuAD data).

Each company gets a context from one of a few templates and three questions
(who founded it, when, where it is based), whose answers are pieces of the
context.
"""

from __future__ import annotations

import pandas as pd

COMPANIES: tuple[tuple[str, str, str, str], ...] = (
    ("Acme", "Ada Byron", "1901", "Boston"),
    ("Globex", "Hank Scorpio", "1962", "Denver"),
    ("Initech", "Bill Lumbergh", "1985", "Austin"),
    ("Umbrella", "Oswell Spencer", "1968", "Raccoon City"),
    ("Hooli", "Gavin Belson", "1999", "Palo Alto"),
    ("Soylent", "Edward Green", "1973", "New York"),
    ("Tyrell", "Eldon Tyrell", "2011", "Los Angeles"),
    ("Wonka", "Willy Wonka", "1964", "Leeds"),
    ("Cyberdyne", "Miles Dyson", "1984", "Sunnyvale"),
    ("Vandelay", "Art Vandelay", "1992", "Chicago"),
    ("Gringotts", "Gringott Goblin", "1474", "London"),
    ("Oscorp", "Norman Osborn", "2002", "Queens"),
    ("Wayne", "Thomas Wayne", "1939", "Gotham"),
    ("Stark", "Howard Stark", "1940", "Malibu"),
    ("Aperture", "Cave Johnson", "1943", "Michigan"),
)

_CONTEXTS = (
    "{c} was founded by {f} in {y}. Its head office is in {p}.",
    "In {y}, {f} founded {c}, a company based in {p}.",
    "{c} is based in {p}. It was founded in {y} by {f}.",
)

_QUESTIONS = (
    ("Who founded {c}?", "f"),
    ("When was {c} founded?", "y"),
    ("Where is {c} based?", "p"),
)


def qa_frame(n_companies: int = len(COMPANIES)) -> tuple[pd.DataFrame, list[str]]:
    """``(X, y)``: question/context rows and answer texts (3 per company)."""
    rows, answers = [], []
    for k, (company, founder, year, place) in enumerate(COMPANIES[:n_companies]):
        fields = {"c": company, "f": founder, "y": year, "p": place}
        context = _CONTEXTS[k % len(_CONTEXTS)].format(**fields)
        for question, key in _QUESTIONS:
            rows.append((question.format(**fields), context))
            answers.append(fields[key])
    return pd.DataFrame(rows, columns=["question", "context"]), answers


_FIRST = "Ada Boris Carla Elena Farid Grace Hugo Ines Jonas Keiko Liam Maya Omar"
_LAST = "Novak Fischer Moreau Rossi Silva Tanaka Jensen Okafor Haddad Petrov Varga"
_CITIES = "Lisbon Oslo Krakow Lyon Turin Porto Bergen Graz Ghent Brno Leeds Riga"
_STEMS = "Nor Vel Quant Arc Iron Nova Terra Zen Alto Cobalt Delta Ember Fjord Helix"


def company_profiles(
    n_companies: int, part: int, seed: int = 0
) -> tuple[pd.DataFrame, list[str]]:
    """More varied profiles than :func:`qa_frame`, from disjoint entity pools.

    ``part`` 0 draws people, cities, years and company names from one half of
    each pool, ``part`` 1 from the other half, so that no answer of one part
    is an answer of the other.
    """
    import numpy as np

    rng = np.random.default_rng(seed + part)
    pools = [words.split()[part::2] for words in (_FIRST, _LAST, _CITIES, _STEMS)] + [
        [str(year) for year in range(1900 + part, 2020, 2)]
    ]
    first, last, cities, stems, years = pools
    rows, answers = [], []
    for k in range(n_companies):
        fields = {
            "c": f"{stems[k % len(stems)]} {rng.choice(['Labs', 'Works', 'Foods'])}",
            "f": f"{rng.choice(first)} {rng.choice(last)}",
            "y": str(rng.choice(years)),
            "p": str(rng.choice(cities)),
        }
        context = _CONTEXTS[rng.integers(len(_CONTEXTS))].format(**fields)
        for question, key in _QUESTIONS:
            rows.append((question.format(**fields), context))
            answers.append(fields[key])
    return pd.DataFrame(rows, columns=["question", "context"]), answers

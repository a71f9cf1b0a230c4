"""Published figures follow their results files, and the docs site builds.

``docs/figures.toml`` lists the measured figures that the documentation
shows (README.md, docs/**/*.rst, CHANGELOG.md, the examples' docstrings),
each with the results file under ``benchmarks/results/`` it comes from, the
key inside that JSON, and how the value is written. A re-run of a benchmark
that changes a figure fails here until the page (and the registry) follow.
The registry's header describes its format; :func:`evaluate` reads its keys.

Also checked: every results file that a page names exists, and
``.readthedocs.yaml`` builds the site with ``docs/conf.py`` and the ``docs``
extra.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "docs" / "figures.toml"
#: Pages that may name results files.
PAGES = [
    ROOT / "README.md",
    ROOT / "CHANGELOG.md",
    *sorted((ROOT / "docs").rglob("*.rst")),
    *sorted((ROOT / "examples").glob("*.py")),
]
RESULTS_NAME = re.compile(r"(?:benchmarks/)?results/[\w./-]*?\.json")

# -- keys: paths into a results file -----------------------------------------


class UnresolvedKey(LookupError):
    """A key of the registry that does not resolve in its results file."""


def _split_top(text: str, sep: str = ",") -> list[str]:
    """``text`` split on ``sep`` outside brackets, parentheses and quotes."""
    parts, depth, quote, start = [], 0, None, 0
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _same(value: Any, literal: str) -> bool:
    """Does a JSON value equal a selector's literal (numbers by value)?"""
    if isinstance(value, bool) or value is None:
        return str(value).lower() == literal.lower()
    if isinstance(value, int | float):
        try:
            return float(literal) == float(value)
        except ValueError:
            return False
    return str(value) == literal


def _matches(item: Any, conditions: list[list[str]]) -> bool:
    """Does a list item hold every ``key=value`` (a key may be a path)?"""
    for key, literal in conditions:
        try:
            value = resolve(item, key)
        except UnresolvedKey:
            return False
        if not _same(value, _unquote(literal)):
            return False
    return True


def _tokens(path: str) -> list[tuple[str, str]]:
    """``a.b[2]["c.d"][k=v]`` -> [("key", "a"), ("key", "b"), ("index", "2"),
    ("key", "c.d"), ("select", "k=v")]."""
    tokens, i = [], 0
    while i < len(path):
        char = path[i]
        if char == ".":
            i += 1
        elif char == "[":
            depth, quote, j = 0, None, i
            while j < len(path):
                if quote:
                    quote = None if path[j] == quote else quote
                elif path[j] in "\"'":
                    quote = path[j]
                elif path[j] == "[":
                    depth += 1
                elif path[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            inner = path[i + 1 : j].strip()
            if re.fullmatch(r"-?\d+", inner):
                tokens.append(("index", inner))
            elif inner[:1] in "\"'":
                tokens.append(("key", _unquote(inner)))
            else:
                tokens.append(("select", inner))
            i = j + 1
        else:
            j = i
            while j < len(path) and path[j] not in ".[":
                j += 1
            tokens.append(("key", path[i:j]))
            i = j
    return tokens


def resolve(data: Any, path: str) -> Any:
    """The value at ``path`` in ``data`` (see the header of figures.toml)."""
    node, walked = data, ""
    for kind, text in _tokens(path):
        if kind == "key":
            if not isinstance(node, dict) or text not in node:
                keys = list(node) if isinstance(node, dict) else type(node).__name__
                raise UnresolvedKey(
                    f"no key {text!r} after {walked or '(top)'}: {keys}"
                )
            node, walked = node[text], f"{walked}.{text}" if walked else text
        elif kind == "index":
            if not isinstance(node, list) or not -len(node) <= int(text) < len(node):
                raise UnresolvedKey(f"no item [{text}] in {walked or '(top)'}")
            node, walked = node[int(text)], f"{walked}[{text}]"
        else:
            conditions = [_split_top(c, "=") for c in _split_top(text)]
            if not isinstance(node, list) or any(len(c) != 2 for c in conditions):
                raise UnresolvedKey(f"cannot select [{text}] in {walked or '(top)'}")
            hits = [item for item in node if _matches(item, conditions)]
            if len(hits) != 1:
                raise UnresolvedKey(
                    f"[{text}] selects {len(hits)} items of {walked or '(top)'}, "
                    "not exactly one"
                )
            node, walked = hits[0], f"{walked}[{text}]"
    return node


FUNCTIONS = {
    "mean": lambda *v: statistics.fmean(v),
    "median": lambda *v: statistics.median(v),
    "sum": lambda *v: sum(v),
    "min": min,
    "max": max,
    "ratio": lambda a, b: a / b,
    "diff": lambda a, b: a - b,
    "neg": lambda a: -a,
    "exp": math.exp,
}


def evaluate(data: Any, key: str) -> Any:
    """A path, or ``func(key, key, ...)`` with a function of FUNCTIONS."""
    match = re.fullmatch(r"(\w+)\((.*)\)", key.strip(), flags=re.S)
    if match and match.group(1) in FUNCTIONS:
        args = [evaluate(data, arg) for arg in _split_top(match.group(2))]
        return FUNCTIONS[match.group(1)](*args)
    if match:
        raise UnresolvedKey(f"unknown function {match.group(1)!r}")
    return resolve(data, key)


def display(value: Any, fmt: str) -> list[str]:
    """``value`` written as the registry's ``format`` says: the ways to write it.

    ``fmt`` is text around one ``{spec}``, where ``spec`` is a Python format
    spec (``.3f``, ``,.0f``, ``d``), optionally followed by ``*N`` or ``/N`` to
    scale the value first: ``{.0f/60} min`` is seconds as whole minutes,
    ``{.1f*100} %`` a fraction as a percentage, ``{.2f}x`` a ratio. A bare
    spec (``.3f``) is ``{.3f}``. A value half-way between two roundings may
    be written either way: as Python writes the float (``0.5625`` as
    ``0.562``) or as the decimal number rounds half up (``0.6755`` as
    ``0.676``); the first is listed first.
    """
    parts = re.fullmatch(r"([^{}]*)\{([^{}]*)\}([^{}]*)", fmt)
    before, spec, after = parts.groups() if parts else ("", fmt, "")
    spec, op, factor = re.fullmatch(r"(.*?)(?:([*/])([\d.e+-]+))?", spec).groups()
    if op == "*":
        value = value * float(factor)
    elif op == "/":
        value = value / float(factor)
    written = [format(value, spec)]
    places = re.fullmatch(r",?\.(\d+)f", spec)
    if places and isinstance(value, int | float):
        exact = Decimal(f"{value:.12g}").quantize(
            Decimal(1).scaleb(-int(places.group(1))), rounding=ROUND_HALF_UP
        )
        written.append(format(exact, spec))
    return [f"{before}{text}{after}" for text in dict.fromkeys(written)]


# -- the registry --------------------------------------------------------------


@cache
def registry() -> list[dict[str, str]]:
    """One dict per figure: page, results, key, format, shown."""
    groups = tomllib.loads(REGISTRY.read_text())["figures"]
    figures = []
    for group in groups:
        for row in group["shown"]:
            shown, key, *fmt = row
            figures.append(
                {
                    "page": group["page"],
                    "results": group["results"],
                    "key": key,
                    "format": fmt[0] if fmt else group.get("format", ""),
                    "shown": shown,
                }
            )
    return figures


@cache
def _json(relative: str) -> Any:
    return json.loads((ROOT / relative).read_text())


@cache
def page_text(relative: str) -> str:
    """The page with every run of white space as one space (lines wrap)."""
    return re.sub(r"\s+", " ", (ROOT / relative).read_text())


def _pages() -> list[str]:
    return sorted({figure["page"] for figure in registry()})


def test_keys_and_formats_read_as_the_registry_says():
    data = {
        "runs": [
            {"method": "a", "size": 50, "acc": 0.5625, "s": {"name": "x"}},
            {"method": "a, b=1", "size": 100, "acc": 0.6755, "s": {"name": "y"}},
        ],
        "startup": {"1 worker": {"s": 1.411}},
    }
    assert evaluate(data, "runs[1].acc") == 0.6755
    assert evaluate(data, "runs[-1].size") == 100
    assert evaluate(data, "runs[method=a,size=50.0].acc") == 0.5625
    assert evaluate(data, 'runs[method="a, b=1"].size') == 100
    assert evaluate(data, "runs[s.name=y].size") == 100
    assert evaluate(data, 'startup["1 worker"].s') == 1.411
    assert evaluate(data, "mean(runs[0].size, runs[1].size)") == 75
    assert evaluate(data, "ratio(runs[1].size, runs[0].size)") == 2
    for missing in ("runs[2].acc", "runs[size=70].acc", "runs[method=a].nope"):
        with pytest.raises(UnresolvedKey):
            evaluate(data, missing)
    assert display(0.8903, ".3f") == ["0.890"]
    assert display(0.5625, ".3f") == ["0.562", "0.563"]
    assert display(0.6755, ".3f") == ["0.675", "0.676"]
    assert display(3213.7, "{,.0f} s") == ["3,214 s"]
    assert display(0.5403, "{.0f*100} % Android") == ["54 % Android"]
    assert display(484.9, "{.0f/60} min") == ["8 min"]


def test_registry_is_well_formed():
    allowed = {"page", "results", "format", "shown", "note"}
    for group in tomllib.loads(REGISTRY.read_text())["figures"]:
        assert set(group) <= allowed, f"{REGISTRY.name}: unknown fields {group}"
        assert (ROOT / group["page"]).is_file(), f"no page {group['page']}"
        assert group["results"].startswith("benchmarks/results/"), group["results"]
        for row in group["shown"]:
            assert 2 <= len(row) <= 3 and all(isinstance(v, str) for v in row), (
                f"{REGISTRY.name}: a row is [shown, key] or [shown, key, format], "
                f"not {row}"
            )
    assert registry(), f"{REGISTRY.name} lists no figures"


def check_figure(figure: dict[str, str]) -> str | None:
    """Why the results file does not give the figure as shown, or None."""
    page, results, key = figure["page"], figure["results"], figure["key"]
    shown = figure["shown"]
    if not (ROOT / results).is_file():
        return (
            f"{page} shows {shown} from {results}, which does not exist: restore "
            f"the file or remove the figure from the page and {REGISTRY.name}"
        )
    try:
        value = evaluate(_json(results), key)
        formatted = display(value, figure["format"])
    except (UnresolvedKey, TypeError, ValueError, statistics.StatisticsError) as error:
        return (
            f"{page} shows {shown} from {results} at {key}, which does not "
            f"resolve ({error}): fix the key in {REGISTRY.name}"
        )
    if shown not in formatted:
        return (
            f"{page} shows {shown} but {results} {key} is {value!r} (formatted "
            f"{' or '.join(formatted)}): update the page and {REGISTRY.name}"
        )
    return None


def check_shown(figure: dict[str, str]) -> str | None:
    """Why the page does not show the figure, or None."""
    page, shown = figure["page"], figure["shown"]
    # A figure stands apart from other digits: 0.81 is not found in 0.812.
    if re.search(rf"(?<![\d.]){re.escape(shown)}(?!\d|\.\d)", page_text(page)):
        return None
    return (
        f"{page} no longer shows {shown} ({figure['results']} {figure['key']}): "
        f"the page changed; update the entry in {REGISTRY.name} or the page"
    )


@pytest.mark.parametrize("page", _pages())
def test_figures_follow_their_results_files(page):
    problems = [check_figure(f) for f in registry() if f["page"] == page]
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", _pages())
def test_pages_show_their_figures(page):
    problems = [check_shown(f) for f in registry() if f["page"] == page]
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "page,results",
    sorted({(f["page"], f["results"]) for f in registry()}),
)
def test_page_names_the_results_file_of_its_figures(page, results):
    named = Path(results).name in page_text(page)
    assert named, (
        f"{page} shows figures of {results} without naming it: add "
        f'"(``{results}``)" next to them'
    )


def test_every_results_file_that_a_page_names_exists():
    missing = []
    for page in PAGES:
        for name in sorted(set(RESULTS_NAME.findall(page.read_text()))):
            path = ROOT / (
                name if name.startswith("benchmarks/") else "benchmarks/" + name
            )
            if not path.is_file():
                missing.append(f"{page.relative_to(ROOT)} names {name}")
    assert not missing, (
        "results files named on pages but absent from benchmarks/results/: "
        + "; ".join(missing)
        + ": restore them or correct the pages"
    )


# -- the documentation host -----------------------------------------------------


def _commands(config: dict) -> list[str]:
    jobs = (config.get("build") or {}).get("jobs") or {}
    commands = list((config.get("build") or {}).get("commands") or [])
    for steps in jobs.values():
        commands += steps if isinstance(steps, list) else list(steps.values())
    return [str(command) for command in commands]


def test_read_the_docs_builds_the_site_with_the_docs_extra():
    text = (ROOT / ".readthedocs.yaml").read_text()
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with transformers
        assert re.search(r"^version:\s*2\s*$", text, flags=re.M), text
        assert re.search(r"^\s+configuration:\s*docs/conf\.py\s*$", text, flags=re.M)
        assert re.search(r"extra_requirements:\s*\n\s*-\s*docs\s*$", text, flags=re.M)
        return
    config = yaml.safe_load(text)
    assert config["version"] == 2
    assert config["sphinx"]["configuration"] == "docs/conf.py"
    assert config["build"]["os"] and config["build"]["tools"]["python"]
    installs = config["python"]["install"]
    assert any(
        entry.get("path") == "." and "docs" in entry.get("extra_requirements", [])
        for entry in installs
    ), f".readthedocs.yaml must install the package with the docs extra: {installs}"
    # The example gallery is shown, not run (docs/conf.py runs it only when
    # SKLEARN_BERT_PLOT_GALLERY is set), so the build loads no model.
    for command in _commands(config):
        assert "PLOT_GALLERY" not in command and "plot_gallery" not in command, (
            f".readthedocs.yaml runs the example gallery: {command}"
        )


def test_documentation_url_is_on_the_read_the_docs_host():
    """pyproject's Documentation URL and the estimators' HTML representation
    links (DOCS_URL) point at the site that .readthedocs.yaml builds."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    base = (ROOT / "sklearn_bert" / "_engine" / "base.py").read_text()
    docs_url = re.search(r'^DOCS_URL = "([^"]+)"', base, flags=re.M).group(1)
    assert re.fullmatch(r"https://[a-z0-9-]+\.readthedocs\.io/en", docs_url), docs_url
    assert pyproject["project"]["urls"]["Documentation"] == f"{docs_url}/stable/"

"""Links from the estimators' HTML representation to the API docs, and the API
docs themselves: every public name has a page, every parameter an entry.

The checks of the built site run when a build is present: ``make docs``
writes it to ``docs/_build/html`` (or point ``SKLEARN_BERT_DOCS_HTML`` at
another build folder); without one, or with one older than the sources,
they are skipped.
"""

from __future__ import annotations

import inspect
import os
import re
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import sklearn_bert
import sklearn_bert.metrics
from sklearn_bert._engine.base import DOCS_URL, docs_version

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(
    os.environ.get("SKLEARN_BERT_DOCS_HTML", ROOT / "docs" / "_build" / "html")
)
ESTIMATORS = [
    obj
    for obj in (getattr(sklearn_bert, name) for name in sklearn_bert.__all__)
    if inspect.isclass(obj)
]
#: Every documented public name, as the API reference spells it.
PUBLIC = [
    f"sklearn_bert.{name}" for name in sklearn_bert.__all__ if name != "__version__"
] + [f"sklearn_bert.metrics.{name}" for name in sklearn_bert.metrics.__all__]


def _doc_link(cls) -> str:
    return f"{DOCS_URL}/{docs_version()}/generated/sklearn_bert.{cls.__name__}.html"


def _parameters(cls) -> list[str]:
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def _built() -> Path:
    inventory = BUILD / "objects.inv"
    if not inventory.is_file():
        pytest.skip(f"no documentation build in {BUILD} (run `make docs`)")
    sources = [*(ROOT / "sklearn_bert").rglob("*.py"), *(ROOT / "docs").glob("*.rst")]
    if max(p.stat().st_mtime for p in sources) > inventory.stat().st_mtime:
        pytest.skip(f"the documentation build in {BUILD} is older than the sources")
    return BUILD


def _inventory(build: Path) -> dict[str, str]:
    """Documented object -> page (relative to the site root), from objects.inv."""
    raw = (build / "objects.inv").read_bytes()
    start = 0
    for _ in range(4):  # four header lines, then zlib
        start = raw.index(b"\n", start) + 1
    pages = {}
    for line in zlib.decompress(raw[start:]).decode().splitlines():
        name, _role, _priority, uri, _title = line.split(" ", 4)
        pages[name] = uri.replace("$", name).split("#")[0]
    return pages


def test_docs_url_is_the_documentation_url_of_the_project():
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    documentation = pyproject["project"]["urls"]["Documentation"]
    assert documentation == f"{DOCS_URL}/stable/"


@pytest.mark.parametrize(
    ("version", "folder"),
    [("0.1.0.dev0", "latest"), ("0.2.0+g1234", "latest"), ("1.3.0", "stable")],
)
def test_a_development_version_links_to_the_latest_docs(version, folder):
    assert docs_version(version) == folder


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_html_repr_links_to_the_api_page_and_each_parameter(cls):
    link = _doc_link(cls)
    estimator = cls()
    assert estimator._get_doc_link() == link
    html = estimator._repr_html_()
    assert f'href="{link}"' in html
    for name in _parameters(cls):  # one link per parameter, into its entry
        assert f'href="{link}#:~:text={quote(name)},-' in html, name


def test_nested_estimators_link_to_their_own_pages():
    from sklearn_bert import BertTransformer

    html = make_pipeline(BertTransformer(), LogisticRegression())._repr_html_()
    assert _doc_link(BertTransformer) in html
    assert "sklearn.linear_model.LogisticRegression.html" in html


def test_a_subclass_outside_the_package_gets_no_link():
    class MyClassifier(sklearn_bert.BertClassifier):
        pass

    assert MyClassifier()._get_doc_link() == ""


def test_api_reference_lists_every_public_name():
    api = (ROOT / "docs" / "api.rst").read_text()
    listed = set(re.findall(r"^   ([A-Za-z_]\w*)$", api, flags=re.M))
    for name in sklearn_bert.__all__:
        if name == "__version__":
            continue
        if name == "DEFAULT_MODEL":
            assert ".. autodata:: DEFAULT_MODEL" in api
        else:
            assert name in listed, f"{name} is missing from docs/api.rst"
    for name in sklearn_bert.metrics.__all__:
        assert name in listed, f"metrics.{name} is missing from docs/api.rst"


# -- the built site -------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_linked_page_exists_and_documents_every_parameter(cls):
    build = _built()
    link = _doc_link(cls)
    page = build / link.removeprefix(f"{DOCS_URL}/{docs_version()}/")
    assert page.is_file(), f"{link} has no page in {build}"
    html = page.read_text()
    for name in _parameters(cls):
        assert f"<dt><strong>{name}</strong>" in html, f"{name} undocumented"


def test_every_public_name_has_an_api_entry():
    build = _built()
    pages = _inventory(build)
    for name in PUBLIC:
        assert name in pages, f"{name} is not in the API reference"
        assert (build / pages[name]).is_file(), f"{pages[name]} is missing"

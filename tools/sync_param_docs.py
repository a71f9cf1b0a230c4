"""Write the shared parameters' docs into the estimators' docstrings.

``sklearn_bert/_params.py`` is the one source of the shared parameters'
types and descriptions; docstrings carry the text in full so that they read
whole in an IDE. After editing ``_params.py`` (or adding a parameter to an
estimator), run::

    python tools/sync_param_docs.py          # rewrite the docstrings
    python tools/sync_param_docs.py --check  # exit 1 if any is out of date

``tests/test_params.py`` runs the check.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sklearn_bert  # noqa: E402
from sklearn_bert import _params  # noqa: E402

_INDENT = " " * 4
_WIDTH = 79  # the docstrings' line length


def format_default(value) -> str:
    """A default as numpydoc writes it: ``"mean"``, ``None``, ``5e-5``."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(value)).replace("e+", "e")
    return repr(value)


def entry(name: str, default) -> list[str]:
    """The docstring lines of a shared parameter (type line and description)."""
    lines = [
        f"{_INDENT}{name} : {_params.TYPES[name]}, default={format_default(default)}"
    ]
    body = " ".join(_params.DOCS[name].split())
    lines += textwrap.wrap(
        body,
        width=_WIDTH,
        initial_indent=_INDENT * 2,
        subsequent_indent=_INDENT * 2,
        break_on_hyphens=False,
    )
    return lines


def estimators() -> list[type]:
    return [
        getattr(sklearn_bert, name)
        for name in sklearn_bert.__all__
        if name.startswith("Bert")
    ]


def synced_docstring(cls: type, doc: str) -> str:
    """``doc`` (the raw class docstring) with the shared entries rewritten."""
    defaults = {
        p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()
    }
    lines = doc.split("\n")
    out: list[str] = []
    i = 0
    in_params = False
    param_line = re.compile(r"^    (\w+) : ")
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped == "Parameters" and lines[i + 1].strip().startswith("---"):
            in_params = True
        elif (
            in_params and i + 1 < len(lines) and lines[i + 1].strip().startswith("---")
        ):
            in_params = False
        match = param_line.match(line) if in_params else None
        if match and match.group(1) in _params.DOCS and match.group(1) in defaults:
            name = match.group(1)
            out.extend(entry(name, defaults[name]))
            i += 1
            while i < len(lines) and (
                lines[i].startswith(_INDENT * 2) or lines[i].strip() == ""
            ):
                if lines[i].strip() == "" and (
                    i + 1 >= len(lines) or not lines[i + 1].startswith(_INDENT * 2)
                ):
                    break
                i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def defining_file(cls: type) -> Path:
    """The file that defines ``cls``: read from its own methods' code, since a
    public class's ``__module__`` names the package, not its private module."""
    for value in vars(cls).values():
        if inspect.isfunction(value):
            return Path(inspect.getsourcefile(value))
    raise ValueError(f"{cls.__name__} defines no function of its own")


def sync(check: bool) -> list[str]:
    """Rewrite (or check) every estimator's docstring; return stale classes."""
    stale = []
    for cls in estimators():
        path = defining_file(cls)
        source = path.read_text()
        tree = ast.parse(source)
        node = next(
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.ClassDef) and n.name == cls.__name__
        )
        doc_node = node.body[0].value
        doc = doc_node.value
        src_lines = source.split("\n")
        start, end = doc_node.lineno - 1, doc_node.end_lineno
        if "\n".join(src_lines[start:end]).strip() != f'"""{doc}"""':
            raise SystemExit(f"{cls.__name__}'s docstring is not a plain literal.")
        new = synced_docstring(cls, doc)
        if new == doc:
            continue
        stale.append(cls.__name__)
        if check:
            continue
        src_lines[start:end] = f'{_INDENT}"""{new}"""'.split("\n")
        path.write_text("\n".join(src_lines))
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check")
    args = parser.parse_args(argv)
    stale = sync(check=args.check)
    if stale and args.check:
        print(
            "Shared parameter docs are out of date in: "
            + ", ".join(stale)
            + ". Run `python tools/sync_param_docs.py`."
        )
        return 1
    if stale:
        print("Rewrote the docstrings of: " + ", ".join(stale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

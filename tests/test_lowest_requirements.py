"""The lowest versions that ``make test-lowest`` tests are the declared floors.

``requirements/lowest.txt`` pins every runtime dependency of pyproject.toml
at exactly the lower bound that pyproject.toml declares for it (other lines
constrain test dependencies only), so a floor cannot be raised or lowered
without the lowest environment following it; the Makefile builds that
environment on the lowest Python that ``requires-python`` allows.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOWEST = ROOT / "requirements" / "lowest.txt"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DEPENDENCIES = [Requirement(spec) for spec in PROJECT["dependencies"]]


def _floor(requirement: Requirement) -> Version:
    floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    assert len(floors) == 1, f"{requirement}: declare exactly one '>=' floor"
    return floors[0]


def _pins() -> dict[str, Requirement]:
    pins = {}
    for line in LOWEST.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name not in pins, f"{name} pinned twice in {LOWEST.name}"
            pins[name] = requirement
    return pins


@pytest.mark.parametrize("requirement", DEPENDENCIES, ids=lambda r: r.name)
def test_each_runtime_dependency_is_pinned_at_its_declared_floor(requirement):
    pin = _pins().get(canonicalize_name(requirement.name))
    assert pin is not None, f"{requirement.name} is not pinned in {LOWEST}"
    specs = list(pin.specifier)
    assert len(specs) == 1 and specs[0].operator == "==", f"{pin}: pin with =="
    assert not pin.marker and not pin.extras, f"{pin}: a plain name==version"
    assert Version(specs[0].version) == _floor(requirement), (
        f"{LOWEST.name} pins {pin}, pyproject.toml declares {requirement}"
    )
    assert requirement.specifier.contains(specs[0].version)


def test_the_lowest_environment_uses_the_lowest_supported_python():
    floor = re.fullmatch(r">=\s*(\d+\.\d+)", PROJECT["requires-python"])
    assert floor, PROJECT["requires-python"]
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^LOWEST_PY \?= (\S+)$", makefile, flags=re.M)
    assert match and match.group(1) == floor.group(1)
    match = re.search(r"^LOWEST_REQS \?= (\S+)$", makefile, flags=re.M)
    assert match and ROOT / match.group(1) == LOWEST

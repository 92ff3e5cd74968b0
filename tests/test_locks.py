"""The lock files scripts/install.sh installs agree with pyproject.toml (offline).

``scripts/lock.sh --check`` (run by .ci/run) asks uv whether each lock is
still what pyproject.toml resolves to, which needs PyPI; this checks without
a network that every dependency pyproject.toml names, with every upper bound,
is pinned in the lock of that install, with a hash, at a version its specifier
allows, and that every runtime dependency has an upper bound.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$", re.M)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / f"{lock}.lock").read_text()
    found = {canonicalize_name(name): version for name, version in _PIN.findall(text)}
    assert found, lock
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    unhashed = [b.split("==")[0] for b in blocks if "==" in b.split("\n")[0] and "--hash=sha256:" not in b]
    assert not unhashed, f"{lock}.lock pins without a hash: {unhashed}"
    return found


def requirements(extra: str | None) -> list[Requirement]:
    names = PROJECT["dependencies"] + (PROJECT["optional-dependencies"][extra] if extra else [])
    return [Requirement(r) for r in names]


@pytest.mark.parametrize("lock, extra", [("base", None), ("local", "local"), ("qdrant", "qdrant"), ("dev", "dev")])
def test_each_lock_pins_every_dependency_at_an_allowed_version(lock, extra):
    pinned = pins(lock)
    for req in requirements(extra):
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not in requirements/{lock}.lock: run scripts/lock.sh"
        assert req.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lock}.lock pins {req.name}=={pinned[name]}, outside {req.specifier}: "
            "run scripts/lock.sh")


def test_every_runtime_dependency_has_an_upper_bound():
    for extra in (None, "local", "qdrant", "dev"):
        for req in requirements(extra):
            assert any(s.operator in ("<", "<=", "==", "~=") for s in req.specifier), (
                f"{req} has no upper bound: add the next major version not tested")

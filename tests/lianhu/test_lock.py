"""`make install` installs from the lock files: every requirement must be pinned there, with hashes."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        names.add(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def _pins(path: Path) -> dict[str, list[str]]:
    pins: dict[str, list[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if match:
            current = match.group(1).lower().replace("_", "-")
            pins[current] = []
        elif current and "--hash=sha256:" in line:
            pins[current].append(line)
    return pins


@pytest.mark.parametrize(("requirements", "lock"), [("requirements.txt", "requirements.lock"),
                                                    ("requirements-dev.txt", "requirements-dev.lock")])
def test_every_requirement_is_pinned_with_hashes(requirements, lock):
    wanted = _names(ROOT / requirements)
    if requirements == "requirements-dev.txt":
        wanted |= _names(ROOT / "requirements.txt")
    pins = _pins(ROOT / lock)
    assert wanted - set(pins) == set(), f"run `make lock`: {lock} lacks these"
    assert [name for name, hashes in pins.items() if not hashes] == []

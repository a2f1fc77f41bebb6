"""The layering rule of docs/design.md ("Architecture: layers"), read from the source.

Every module's imports are parsed (ast: module-level, function-local and TYPE_CHECKING imports alike), so a late
import inside a function does not slip past. The rule:

- framework apps (core, compliance, ui, accounts, audit, ops and the lianhu project package) are what apps stand on;
- the ground app (communities) stands on the framework only: it imports no domain app;
- core, the bottom of the framework, imports neither the ground app nor a domain app;
- exports knows its ledger registry and the writer, not a domain app's models.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FRAMEWORK = ("core", "compliance", "ui", "accounts", "audit", "ops", "lianhu")
GROUND = "communities"
DOMAIN = ("facilities", "staffing", "funding", "approvals", "supervision", "imports", "exports")


def _modules(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def _imported(path: Path) -> list[tuple[str, int]]:
    """(dotted name, line) of every absolute import in the file; ``from a import b`` gives ``a.b`` too, so
    ``from facilities import models`` is seen as ``facilities.models``."""
    names: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.module, node.lineno))
            names.extend((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)
    return names


def _app_of(name: str) -> str:
    return name.split(".", 1)[0]


def _violations(path: Path, forbidden) -> list[str]:
    found = {f"{path.relative_to(ROOT)}:{line} imports {name}" for name, line in _imported(path) if forbidden(name)}
    return sorted(found)


def _cases(app: str) -> list:
    return [pytest.param(p, id=str(p.relative_to(ROOT))) for p in _modules(app)]


@pytest.mark.parametrize("path", _cases(GROUND))
def test_ground_app_imports_no_domain_app(path):
    assert _violations(path, lambda name: _app_of(name) in DOMAIN) == []


@pytest.mark.parametrize("path", _cases("core"))
def test_core_imports_neither_the_ground_app_nor_a_domain_app(path):
    assert _violations(path, lambda name: _app_of(name) in (GROUND, *DOMAIN)) == []


def _domain_models(name: str) -> bool:
    parts = name.split(".")
    return parts[0] in DOMAIN and parts[0] != "exports" and len(parts) > 1 and parts[1] == "models"


@pytest.mark.parametrize("path", _cases("exports"))
def test_exports_reads_no_domain_apps_models(path):
    assert _violations(path, _domain_models) == []


def test_every_installed_app_has_a_layer():
    """A new app of the project gets its place in the rule (framework, ground or domain) when it is added."""
    from django.apps import apps

    local = {config.name.split(".")[0] for config in apps.get_app_configs()} & {p.name for p in ROOT.iterdir()}
    assert local <= {*FRAMEWORK, GROUND, *DOMAIN}


def test_the_parser_sees_late_and_aliased_imports(tmp_path):
    """The check would miss nothing it is meant to see: a function-local import and ``from app import models``."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from facilities import models\n    import staffing.services as s\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert _violations(module, lambda name: _app_of(name) in DOMAIN) == [
            "m.py:2 imports facilities", "m.py:2 imports facilities.models", "m.py:3 imports staffing.services"]
        assert _violations(module, _domain_models) == ["m.py:2 imports facilities.models"]
    finally:
        ROOT = saved

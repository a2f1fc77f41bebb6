"""Ledgers are registered by the apps that own them: exports knows only the registry and the writer."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse

from core.ledgers import LEDGERS, Ledger, LedgerSpec, registry, workbooks
from core.writer import NUMBER, Col

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = {"communities", "facilities", "staffing", "funding", "approvals", "compliance", "supervision",
               "imports", "accounts"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):  # function-local imports too
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_exports_imports_no_domain_app():
    files = [p for p in (ROOT / "exports").rglob("*.py") if "migrations" not in p.parts]
    assert len(files) >= 8
    found = {f"{p.relative_to(ROOT)}: {m}" for p in files for m in _imported_modules(p)
             if m.split(".")[0] in DOMAIN_APPS}
    assert not found, "exports must reach domain apps only through the registry: " + ", ".join(sorted(found))


def test_the_scan_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from staffing.models import Person\n", encoding="utf-8")
    assert _imported_modules(sample) == {"staffing.models"}


def test_each_app_registers_its_ledgers_at_start_up():
    assert list(LEDGERS.items()) == [("communities", "社区台账"), ("facilities", "服务设施台账"),
                                     ("people", "人员台账"), ("funding", "社区经费台账")]
    owners = {key: registry[key].build.__module__ for key in registry}
    assert owners == {"communities": "compliance.ledgers", "facilities": "facilities.ledgers",
                      "people": "staffing.ledgers", "funding": "funding.ledgers"}
    assert registry["people"].may_reveal is not None and registry["facilities"].may_reveal is None
    assert workbooks["compliance"].write.__module__ == "compliance.workbook"


@pytest.mark.django_db
def test_a_newly_registered_ledger_is_offered_and_downloaded_without_touching_exports(client, district,
                                                                                      admin_user):
    def build(user, street=None):
        rows = [["甲", 1], ["=乙", 2]]
        return Ledger("test_things", "测试台账", [Col("名称"), Col("数量", NUMBER)], iter(rows), lambda: len(rows))

    registry.register(LedgerSpec("test_things", "测试台账", build, order=99))
    try:
        client.force_login(admin_user)
        assert "测试台账" in client.get(reverse("imports:index")).content.decode()
        response = client.get(reverse("exports:ledger", args=["test_things"]))
        ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
        assert list(ws.iter_rows(values_only=True)) == [("名称", "数量"), ("甲", 1), ("=乙", 2)]
        assert ws["A3"].data_type == "s"  # the writer's promise holds for any registered ledger
    finally:
        registry.unregister("test_things")
    assert client.get(reverse("exports:ledger", args=["test_things"])).status_code == 404

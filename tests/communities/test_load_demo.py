"""load_demo: the real district structure, plausible figures, idempotent."""

import csv
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.serializers import serialize
from django.db.models import F
from django.utils import timezone
from guardian.models import GroupObjectPermission
from guardian.shortcuts import get_perms

from communities.demo import DATA_FILE
from communities.models import Community, CommunityAdjustment, Compound, SubDistrict

from ..demo_world import restore

pytestmark = pytest.mark.django_db

MODELS = [SubDistrict, Community, Compound, CommunityAdjustment]


def _snapshot():
    tables = {m.__name__: serialize("json", m.objects.order_by("pk")) for m in MODELS}
    history = {m.__name__: m.history.count() for m in MODELS}
    perms = serialize("json", GroupObjectPermission.objects.order_by("pk"))
    return tables, history, perms


@pytest.fixture
def demo(db, structure_demo_rows):
    # What `load_demo --structure-only` wrote, built once per session (tests/demo_world.py).
    restore(structure_demo_rows)


def test_twice_changes_nothing(demo, capsys):
    before = _snapshot()
    call_command("load_demo", "--structure-only")
    assert _snapshot() == before
    out = capsys.readouterr().out
    assert "社区：142 个（新增 0，更新 0，未变 142）" in out


def test_structure_verbatim_from_the_nbs_list(demo):
    with DATA_FILE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert SubDistrict.objects.count() == 9
    assert Community.objects.count() == 142
    stored = dict(Community.objects.values_list("code", "name"))
    assert stored == {r["community_code_12"]: r["community_name_verbatim"] for r in rows}
    streets = dict(SubDistrict.objects.values_list("code", "name"))
    assert streets == {r["street_code_9"]: r["street_name"] for r in rows}
    assert stored["610104008019"] == "西十里铺村社区委会"
    assert stored["610104006001"] == "西关正街居委会"


def test_published_figures_and_district_total(demo):
    first = Community.objects.get(code="610104001001")
    assert (first.name, first.households, first.population) == ("莲湖路第一社区居委会", 1180, 3892)
    assert first.figures_are_sample is False
    assert Community.objects.filter(figures_are_sample=True).count() == 141
    assert Community.objects.filter(population_is_sample=True).count() == 141
    assert sum(Community.objects.values_list("population", flat=True)) == 1_019_102


def test_figures_give_the_rules_something_to_find(demo):
    communities = Community.objects.all()
    assert communities.filter(households__gt=5000).count() == 7
    assert communities.filter(households__lt=1000).count() == 8
    assert communities.filter(population__lt=5000).exists()
    assert communities.filter(population__gt=15000).exists()
    assert communities.filter(east="").exists() or communities.filter(north="").exists()
    assert communities.filter(social_org_count__lt=10).exists()
    assert communities.filter(has_property_committee=False).exists()
    today = timezone.localdate()
    assert not communities.filter(founded_on__gt=today).exists()
    assert not communities.filter(founded_on__isnull=True).exists()

    extreme = communities.exclude(households__range=(1000, 5000))
    planned = extreme.filter(adjustments__isnull=False).distinct()
    assert 0 < planned.count() < extreme.count()
    kinds = set(CommunityAdjustment.objects.values_list("kind", flat=True))
    assert kinds == {"split", "merge", "defer"}
    assert not CommunityAdjustment.objects.filter(kind="defer", reason="").exists()


def test_compounds_cover_the_compound_rules(demo):
    counts = [c.compounds.count() for c in Community.objects.all()]
    assert min(counts) >= 2 and max(counts) <= 6
    assert Compound.objects.filter(code="XQ610104001001-01", community__code="610104001001").exists()
    unassigned = Compound.objects.filter(community__isnull=True)
    assert unassigned.exists() and not unassigned.filter(sub_district__isnull=True).exists()
    assert Compound.objects.filter(
        built_on__gte=date(2011, 2, 1), must_provide_facility=True, facility_provided=False
    ).exists()
    assert Compound.objects.filter(property_service="none").exists()
    disputed = Compound.objects.filter(jurisdiction_unclear=True)
    assert disputed.filter(ruling_on__isnull=False, ruling_authority="district").count() == 1
    assert disputed.filter(ruling_on__isnull=True).count() == 1
    # Assigned compounds lie in their community's 街办, but for the one the old sheets filed elsewhere
    # (措施一's example on the demo: a community with two management subjects).
    stray = Compound.objects.filter(community__isnull=False).exclude(sub_district__code=F("community__sub_district_id"))
    assert stray.count() == 1


def test_clerk_groups_get_their_communities(demo, django_user_model):
    community = Community.objects.get(code="610104009001")
    zaoyuan = SubDistrict.objects.get(code="610104009")
    # Held through the 街办 (communities.selectors): guardian keeps the rights on the 街办, none per community.
    assert set(get_perms(zaoyuan.clerk_group, zaoyuan)) == {"view_subdistrict", "change_subdistrict"}
    assert get_perms(zaoyuan.clerk_group, community) == []
    qingnian = SubDistrict.objects.get(code="610104001")
    clerk, other = (django_user_model.objects.create_user(username=name) for name in ("zy1", "qn1"))
    clerk.groups.add(zaoyuan.clerk_group)
    other.groups.add(qingnian.clerk_group)
    assert clerk.has_perm("communities.change_community", community)
    assert not other.has_perm("communities.view_community", community)


def test_restores_edited_demo_figures(demo):
    Community.objects.filter(code="610104001001").update(households=9)
    call_command("load_demo", "--structure-only", stdout=StringIO())
    assert Community.objects.get(code="610104001001").households == 1180


def test_each_app_registers_its_demo_part_in_the_declared_order():
    # The ground app names none of the apps that stand on it: their demo.py modules register themselves.
    from pathlib import Path

    from communities.demo import demo_parts, register_demo_part

    assert [(part.name, part.order) for part in demo_parts()] == [("facilities", 10), ("funding", 20), ("staffing", 30)]
    ground = "\n".join(p.read_text(encoding="utf-8") for p in Path(DATA_FILE).parents[1].rglob("*.py"))
    for app in ("facilities", "funding", "staffing"):
        assert f"from {app}" not in ground and f"import {app}" not in ground
    with pytest.raises(ValueError, match="both declare order 20"):
        register_demo_part(name="another", order=20)(lambda world: [])

"""Each data error by its stable code, and the database constraints behind them.

The services run ``full_clean()``; the constraint tests write with
``QuerySet.update``/``bulk_create`` to prove the database refuses the row even
when ``clean()`` is bypassed.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from communities import services
from communities.models import (
    AdjustmentKind,
    Community,
    CommunityAdjustment,
    CommunityStatus,
    Compound,
    Scale,
)

from . import builders


def codes(error: ValidationError, field: str) -> list[str]:
    return [e.code for e in error.error_dict.get(field, [])]


def create(street, **fields):
    values = {"code": f"{street.code}001", "name": "测试社区", "sub_district": street, "households": 1000, "population": 3000}
    values.update(fields)
    return services.community_create(**values)


@pytest.mark.parametrize("code", ["61010400100", "6101040010011", "61010400100A", ""])
def test_code_format(streets, code):
    with pytest.raises(ValidationError) as info:
        create(streets["qingnian"], code=code)
    assert "code_format" in codes(info.value, "code")
    assert not Community.objects.exists()


def test_code_prefix_must_be_the_streets_code(streets):
    with pytest.raises(ValidationError) as info:
        create(streets["qingnian"], code="610104009001")  # 枣园's prefix
    assert codes(info.value, "code") == ["code_prefix"]
    assert not Community.objects.exists()


def test_code_taken(streets):
    first = create(streets["qingnian"])
    with pytest.raises(ValidationError) as info:
        create(streets["qingnian"], name="另一个社区")
    assert codes(info.value, "code") == ["code_taken"]
    assert list(Community.objects.values_list("pk", flat=True)) == [first.pk]
    # clean() bypassed: the code's unique constraint refuses the twin.
    with pytest.raises(IntegrityError), transaction.atomic():
        Community.objects.bulk_create([Community(code=first.code, name="另一个社区", sub_district=first.sub_district,
                                                 households=1000, population=3000)])


def test_code_of_a_revoked_community_is_never_reused(streets):
    old = create(streets["qingnian"])
    services.community_revoke(community=old, reason="合并")
    with pytest.raises(ValidationError) as info:
        create(streets["qingnian"], name="新社区")
    assert codes(info.value, "code") == ["code_reused"]
    assert Community.objects.count() == 1


def test_code_given_up_on_a_move_is_never_reused(streets):
    moved = create(streets["qingnian"])
    services.community_update(community=moved, sub_district=streets["zaoyuan"], code="610104009050")
    with pytest.raises(ValidationError) as info:
        create(streets["qingnian"], name="新社区")
    assert codes(info.value, "code") == ["code_reused"]


def test_population_below_households(streets):
    with pytest.raises(ValidationError) as info:
        create(streets["qingnian"], households=1200, population=1199)
    assert codes(info.value, "population") == ["population_below_households"]
    assert not Community.objects.exists()


def test_update_to_population_below_households_changes_nothing(streets):
    c = create(streets["qingnian"])
    with pytest.raises(ValidationError) as info:
        services.community_update(community=Community.objects.get(pk=c.pk), population=10)
    assert codes(info.value, "population") == ["population_below_households"]
    c.refresh_from_db()
    assert c.population == 3000


@pytest.mark.parametrize("field", ["households", "population", "social_org_count"])
def test_negative_counts_refused(streets, field):
    with pytest.raises(ValidationError) as info:
        create(streets["qingnian"], **{field: -1})
    assert "min_value" in codes(info.value, field)
    assert not Community.objects.exists()


def test_negative_compound_households_refused(streets):
    with pytest.raises(ValidationError) as info:
        builders.compound("XQ-1", street=streets["qingnian"], households=-5)
    assert "min_value" in codes(info.value, "households")
    assert not Compound.objects.exists()


@pytest.mark.parametrize("field", ["founded_on", "approved_on", "election_on"])
def test_community_dates_in_future(streets, field):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as info:
        create(streets["qingnian"], **{field: tomorrow})
    assert codes(info.value, field) == ["date_in_future"]
    assert not Community.objects.exists()


def test_revoke_date_in_future(streets):
    c = create(streets["qingnian"])
    with pytest.raises(ValidationError) as info:
        services.community_revoke(community=c, on=timezone.localdate() + timedelta(days=3), reason="测试")
    assert codes(info.value, "revoked_on") == ["date_in_future"]
    assert Community.objects.get(pk=c.pk).status == CommunityStatus.ACTIVE


def test_revoked_status_and_date_go_together(streets):
    c = create(streets["qingnian"])
    c.status = CommunityStatus.REVOKED
    with pytest.raises(ValidationError) as info:
        c.full_clean()
    assert codes(info.value, "revoked_on") == ["revoked_on_required"]
    c.status, c.revoked_on = CommunityStatus.ACTIVE, timezone.localdate()
    with pytest.raises(ValidationError) as info:
        c.full_clean()
    assert codes(info.value, "revoked_on") == ["revoked_on_unexpected"]
    c.status = CommunityStatus.REVOKED
    c.full_clean()


def test_each_constraint_full_clean_leaves_to_clean_is_reported_by_it(streets, django_assert_num_queries):
    """full_clean() sends no query per check constraint: clean() and the field checks report each one, with the
    code CONSTRAINTS_CLEAN_REPORTS names (one row breaking it alone); the database refuses them too (below)."""
    names = {c.name for c in Community._meta.constraints}
    assert names == set(Community.CONSTRAINTS_CLEAN_REPORTS)
    other = create(streets["qingnian"])
    breaking = {
        "community_code_unique": ("code", {"code": other.code}),
        "community_code_12_digits": ("code", {"code": "61010400100X"}),
        "community_code_prefix": ("code", {"code": "610104009002"}),
        "community_population_gte_households": ("population", {"population": 10, "households": 20}),
        "community_revoked_has_date": ("revoked_on", {"status": CommunityStatus.REVOKED}),
        "community_status_valid": ("status", {"status": "merged"}),
    }
    assert set(breaking) == names
    for name, (field, values) in breaking.items():
        row = Community(**{"code": "610104001002", "name": "检查社区", "sub_district": streets["qingnian"],
                           "households": 1000, "population": 3000, **values})
        with pytest.raises(ValidationError) as info:
            row.full_clean()
        assert codes(info.value, field) == [Community.CONSTRAINTS_CLEAN_REPORTS[name]], name
    ok = Community(code="610104001002", name="检查社区", sub_district=streets["qingnian"], households=1000,
                   population=3000)
    with django_assert_num_queries(3):  # the 街办 exists; the code in use, retired (KnownCodes.read); no constraint
        ok.full_clean()


@pytest.mark.parametrize("field", ["built_on", "ruling_on", "unclear_since"])
def test_compound_dates_in_future(streets, field):
    extra = {"ruling_authority": "district"} if field == "ruling_on" else {}
    with pytest.raises(ValidationError) as info:
        builders.compound("XQ-1", street=streets["qingnian"], **{field: timezone.localdate() + timedelta(days=1)}, **extra)
    assert codes(info.value, field) == ["date_in_future"]
    assert not Compound.objects.exists()


def test_ruling_needs_its_authority(streets):
    with pytest.raises(ValidationError) as info:
        builders.compound("XQ-1", street=streets["qingnian"], ruling="划归青年路社区", ruling_on=timezone.localdate())
    assert codes(info.value, "ruling_authority") == ["ruling_authority_required"]


def test_compound_cannot_join_a_revoked_community(streets):
    c = create(streets["qingnian"])
    services.community_revoke(community=c, reason="合并")
    with pytest.raises(ValidationError) as info:
        builders.compound("XQ-1", community=c)
    assert codes(info.value, "community") == ["community_revoked"]


def test_defer_needs_a_reason(streets):
    c = create(streets["qingnian"], households=600, population=1500)
    with pytest.raises(ValidationError) as info:
        services.adjustment_create(community=c, kind=AdjustmentKind.DEFER, reason="  ")
    assert codes(info.value, "reason") == ["defer_reason_required"]
    assert not CommunityAdjustment.objects.exists()


@pytest.mark.parametrize(
    ("households", "scale"),
    [(999, Scale.MICRO), (1000, Scale.MODERATE), (5000, Scale.MODERATE), (5001, Scale.OVERSIZED)],
)
def test_scale_boundaries_agree_in_python_and_sql(streets, households, scale):
    c = create(streets["qingnian"], households=households, population=households * 3)
    assert c.scale == scale
    assert Community.objects.with_scale().get(pk=c.pk).scale_class == scale


# ------------------------------------------------------------ the database itself


def _refused(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_db_refuses_bad_code_format(streets):
    _refused(lambda: Community.objects.bulk_create([Community(code="61010400100X", name="x", sub_district=streets["qingnian"])]))


def test_db_refuses_wrong_prefix(streets):
    _refused(lambda: Community.objects.bulk_create([Community(code="610104009001", name="x", sub_district=streets["qingnian"])]))


def test_db_refuses_duplicate_code(streets):
    create(streets["qingnian"])
    _refused(lambda: Community.objects.bulk_create([Community(code="610104001001", name="x", sub_district=streets["qingnian"])]))


def test_db_refuses_population_below_households(streets):
    c = create(streets["qingnian"])
    _refused(lambda: Community.objects.filter(pk=c.pk).update(population=1, households=2))
    assert Community.objects.get(pk=c.pk).population == 3000


def test_db_refuses_negative_counts(streets):
    c = create(streets["qingnian"])
    _refused(lambda: Community.objects.filter(pk=c.pk).update(households=-1))
    x = builders.compound("XQ-1", street=streets["qingnian"])
    _refused(lambda: Compound.objects.filter(pk=x.pk).update(households=-1))


def test_db_refuses_revoked_without_date(streets):
    c = create(streets["qingnian"])
    _refused(lambda: Community.objects.filter(pk=c.pk).update(status=CommunityStatus.REVOKED))
    _refused(lambda: Community.objects.filter(pk=c.pk).update(revoked_on=timezone.localdate()))


def test_db_refuses_an_unknown_status(streets):
    c = create(streets["qingnian"])
    _refused(lambda: Community.objects.filter(pk=c.pk).update(status="merged"))


def test_db_refuses_defer_without_reason(streets):
    c = create(streets["qingnian"])
    _refused(lambda: CommunityAdjustment.objects.bulk_create([CommunityAdjustment(community=c, kind="defer", reason="")]))


def test_db_refuses_ruling_without_authority(streets):
    x = builders.compound("XQ-1", street=streets["qingnian"])
    _refused(lambda: Compound.objects.filter(pk=x.pk).update(ruling_on=timezone.localdate()))

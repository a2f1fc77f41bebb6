"""Demo facilities: every community's 综合服务设施, most with a 室外活动广场, some embedded services.

Facilities long in use are recorded as they are today (``facility_create`` with
their dates); a handful still in the pipeline move through the lifecycle table
with ``facility_advance``, one step at a time, each step recorded in the name of
the unit 措施七、八 makes responsible. Sizes follow the households: most meet
30㎡/百户 and the 60% activity share, about one in seven falls short; one
facility accepted long ago still waits for its handover (措施八).

Codes are ``SS<社区代码>-NN``; a second run finds them and writes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from accounts.models import Unit
from communities.demo import DemoWorld, register_demo_part
from communities.models import Community
from core.records import clean_new

from .lifecycle import ORDER, STREET, transition_for
from .models import CORE_SERVICES, Acquisition, Facility, FacilityKind, FacilityStatus, ServiceCategory
from .services import facilities_create_bulk, facility_advance, facility_update

SEED = 20242
DEMO_REASON = "演示数据"
# 大兴新区 facilities are accepted by its 管委会 (措施七), elsewhere by 区住建局.
DAXING_STREETS = {"610104009"}  # 枣园街道

EMBEDDED_NAMES = {
    ServiceCategory.ELDERLY: "社区养老服务站",
    ServiceCategory.INFANT: "婴幼儿托育点",
    ServiceCategory.CHILDCARE: "“四点半”儿童托管室",
    ServiceCategory.MEALS: "社区老年助餐点",
    ServiceCategory.HEALTH: "社区健康小屋",
    ServiceCategory.CULTURE: "社区文化活动室",
}
S = FacilityStatus


@dataclass
class FacilitySpec:
    code: str
    community: str
    name: str
    kind: str
    fields: dict
    # Lifecycle steps still to record through the services: (target status, date, note).
    steps: list[tuple[FacilityStatus, date, str]] = field(default_factory=list)


def _d(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("1"), ROUND_HALF_UP)


def _short(name: str) -> str:
    for suffix in ("社区居委会", "居委会", "社区委会", "社区"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def facility_plan(figures: dict[str, dict]) -> list[FacilitySpec]:
    rng = random.Random(SEED)
    codes = sorted(figures)
    newest = max(codes, key=lambda c: figures[c]["founded_on"])
    small_center = set(rng.sample(codes, 21))  # ≈15% below 30㎡/百户
    low_share = set(rng.sample(codes, 14))
    small_plaza = set(rng.sample(codes, 16))
    no_plaza = set(rng.sample(codes, 6))
    specs: list[FacilitySpec] = []

    for code in codes:
        fig = figures[code]
        short = _short(fig["name"])
        required = fig["households"] * 0.3
        building = _d(required * (rng.uniform(0.55, 0.93) if code in small_center else rng.uniform(1.03, 1.45)))
        building = max(building, Decimal(300))
        share = rng.uniform(0.42, 0.57) if code in low_share else rng.uniform(0.62, 0.8)
        accepted = _between(rng, date(2008, 1, 1), date(2022, 12, 31))
        handed = accepted + timedelta(days=rng.randint(10, 75))
        center = {
            "building_area": building, "activity_area": _d(float(building) * share),
            "acquisition": rng.choice([Acquisition.DEVELOPER, Acquisition.NEW, Acquisition.EXPANSION,
                                       Acquisition.TRANSFER, Acquisition.PURCHASE]),
            "residential_utilities": rng.random() > 0.1,
            "status": S.IN_USE, "accepted_on": accepted, "handed_over_on": handed,
        }
        spec = FacilitySpec(f"SS{code}-01", code, f"{short}社区党群服务中心", FacilityKind.CENTER, center)
        if code == newest:
            # The community approved most recently: its centre is still being built.
            spec.fields = {**center, "status": S.PLANNED, "accepted_on": None, "handed_over_on": None}
            spec.steps = [(S.BUILDING, date(2025, 3, 18), "规划许可已核发。")]
        specs.append(spec)

        if code not in no_plaza:
            area = rng.uniform(420, 960) if code in small_plaza else rng.uniform(1000, 3200)
            accepted = _between(rng, date(2010, 1, 1), date(2023, 6, 30))
            specs.append(FacilitySpec(f"SS{code}-02", code, f"{short}社区文体广场", FacilityKind.PLAZA, {
                "site_area": _d(area), "acquisition": rng.choice([Acquisition.DEVELOPER, Acquisition.SHARED]),
                "status": S.IN_USE, "accepted_on": accepted, "handed_over_on": accepted + timedelta(days=30),
            }))

        number = 3
        for category in (*CORE_SERVICES, ServiceCategory.HEALTH, ServiceCategory.CULTURE):
            # Most communities offer all four of 措施十六's services; about a third still lack one.
            chance = 0.95 if category in (ServiceCategory.ELDERLY, ServiceCategory.MEALS) else 0.85
            if category not in CORE_SERVICES:
                chance = 0.5
            if rng.random() >= chance:
                continue
            accepted = _between(rng, date(2016, 1, 1), date(2024, 6, 30))
            building = _d(rng.uniform(80, 450))
            specs.append(FacilitySpec(f"SS{code}-{number:02d}", code, f"{short}{EMBEDDED_NAMES[category]}",
                                      FacilityKind.EMBEDDED, {
                "service_category": category, "building_area": building,
                "activity_area": _d(float(building) * rng.uniform(0.6, 0.85)),
                "acquisition": rng.choice([Acquisition.LEASE, Acquisition.SHARED, Acquisition.EXPANSION]),
                "residential_utilities": True,
                "status": S.IN_USE, "accepted_on": accepted, "handed_over_on": accepted + timedelta(days=20),
            }))
            number += 1

    # 措施十九: some centres stand in one of their compounds and pay its 物业服务收费; two pay above the residential fee.
    fees = random.Random(SEED + 19)
    centres = [sp for sp in specs if sp.kind == FacilityKind.CENTER and sp.code.endswith("-01") and sp.community != newest]
    for i, sp in enumerate(fees.sample(centres, 25)):
        sp.fields = {**sp.fields, "compound_code": f"XQ{sp.community}-01",
                     "property_fee": Decimal("3.50") if i < 2 else Decimal("0.60")}

    # Facilities still in the pipeline, each step recorded by its unit.
    pipeline = rng.sample([c for c in codes if c != newest], 7)
    stages = [
        [],  # 规划
        [(S.BUILDING, date(2025, 5, 12), "规划审批通过。")],
        [(S.BUILDING, date(2025, 4, 2), "规划审批通过。")],
        # Accepted long ago, still not handed over to the 街办 (措施八: violation).
        [(S.BUILDING, date(2024, 11, 6), "规划审批通过。"), (S.ACCEPTED, date(2025, 8, 22), "竣工验收合格。")],
        # The whole way through, recently.
        [(S.BUILDING, date(2024, 9, 3), "规划审批通过。"), (S.ACCEPTED, date(2025, 6, 10), "竣工验收合格。"),
         (S.HANDED_OVER, date(2025, 7, 18), "已移交街办。"), (S.IN_USE, date(2025, 8, 1), "街办已接收，投入使用。")],
        [(S.BUILDING, date(2024, 6, 20), "规划审批通过。"), (S.ACCEPTED, date(2025, 3, 28), "竣工验收合格。"),
         (S.HANDED_OVER, date(2025, 5, 6), "已移交街办。"), (S.IN_USE, date(2025, 5, 20), "街办已接收，投入使用。")],
        [(S.BUILDING, date(2025, 2, 17), "规划审批通过。"), (S.ACCEPTED, date(2025, 11, 3), "竣工验收合格。"),
         (S.HANDED_OVER, date(2025, 12, 15), "已移交街办。")],
    ]
    categories = [ServiceCategory.MEALS, ServiceCategory.INFANT, ServiceCategory.ELDERLY, ServiceCategory.CHILDCARE,
                  ServiceCategory.MEALS, ServiceCategory.ELDERLY, ServiceCategory.INFANT]
    for index, (code, steps, category) in enumerate(zip(pipeline, stages, categories, strict=True)):
        building = _d(rng.uniform(150, 500))
        if index in CENTER_EXTENSIONS:
            # 措施八 is about 综合服务设施: the one planned too small for a community already short of 30㎡/百户
            # (M08.planned_area), and the one accepted long ago and never handed over (M08.handover).
            if index == 0:
                # The largest short community: its standard is well above what it has and plans.
                code = max((c for c in small_center if c not in pipeline and c != newest),
                           key=lambda c: (figures[c]["households"], c))
                building = _d(60)
            specs.append(FacilitySpec(f"SS{code}-90", code, f"{_short(figures[code]['name'])}社区党群服务中心（扩建）",
                                      FacilityKind.CENTER, {
                "building_area": building, "activity_area": _d(float(building) * 0.7),
                "acquisition": Acquisition.EXPANSION, "residential_utilities": True,
                "status": S.PLANNED, "accepted_on": None, "handed_over_on": None,
            }, steps))
            continue
        specs.append(FacilitySpec(f"SS{code}-90", code, f"{_short(figures[code]['name'])}{EMBEDDED_NAMES[category]}（新建）",
                                  FacilityKind.EMBEDDED, {
            "service_category": category, "building_area": building, "activity_area": _d(float(building) * 0.7),
            "acquisition": Acquisition.NEW, "residential_utilities": True,
            "status": S.PLANNED, "accepted_on": None, "handed_over_on": None,
        }, steps))
    return specs


# Which pipeline entries are 综合服务设施 extensions: the first (still 规划) and the fourth (accepted long ago).
CENTER_EXTENSIONS = (0, 3)


def _unit_label(unit: str, community: Community) -> str:
    street = community.sub_district.name
    if unit == STREET:
        return street
    if unit == Unit.CIVIL_AFFAIRS:
        return f"{Unit(unit).label}（会同{street}）"
    return Unit(unit).label


@dataclass
class FacilityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    steps: int = 0

    def lines(self) -> list[str]:
        total = self.created + self.updated + self.unchanged
        return [f"服务设施：{total} 处（新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}）；"
                f"本次记录流程环节 {self.steps} 个"]


@register_demo_part(name="facilities", order=10)
def load_demo_part(world: DemoWorld) -> list[str]:
    return load_facilities(specs=facility_plan(world.figures), communities=world.communities, user=world.user).lines()


def load_facilities(*, specs: list[FacilitySpec], communities: dict[str, Community], user=None) -> FacilityCounts:
    counts = FacilityCounts()
    from communities.models import Compound

    existing = {f.code: f for f in Facility.objects.filter(code__in=[s.code for s in specs])}
    new: list[Facility] = []
    stepping: list[tuple[Facility, Community, FacilitySpec]] = []
    compounds = {c.code: c for c in Compound.objects.filter(
        code__in=[s.fields["compound_code"] for s in specs if "compound_code" in s.fields])}
    for spec in specs:
        community = communities[spec.community]
        if "compound_code" in spec.fields:
            fields = dict(spec.fields)
            compound = compounds.get(fields.pop("compound_code"))
            if compound is None:  # the register lost that compound (communities/demo.py): no fee to compare
                fields.pop("property_fee", None)
            spec = FacilitySpec(spec.code, spec.community, spec.name, spec.kind, {**fields, "compound": compound},
                                spec.steps)
        facility = existing.get(spec.code)
        if facility is None:
            # New facilities are written together below, each checked as facility_create checks it.
            facility = clean_new(Facility(code=spec.code, community=community, name=spec.name, kind=spec.kind,
                                          **spec.fields), given=("community", "compound"))
            new.append(facility)
            counts.created += 1
        else:
            # The lifecycle fields belong to the steps; the rest is restored if edited.
            lifecycle = {"status", "accepted_on", "handed_over_on"}
            wanted = {k: v for k, v in spec.fields.items() if k not in lifecycle or not spec.steps}
            wanted.pop("status", None)
            changed = facility_update(facility=facility, user=user, reason=DEMO_REASON, community=community,
                                      name=spec.name, **wanted)
            if changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
        if spec.steps:
            stepping.append((facility, community, spec))
    facilities_create_bulk(facilities=new, user=user, reason=DEMO_REASON)
    for facility, community, spec in stepping:
        for target, on, note in spec.steps:
            if ORDER.index(S(facility.status)) >= ORDER.index(S(target)):
                continue
            transition = transition_for(facility.status, target)
            assert transition is not None, f"demo step {facility.status} → {target} is not in the lifecycle table"
            # Acceptance in 大兴新区 is the 管委会's; elsewhere the first unit the table names.
            unit = transition.units[0]
            if target == S.ACCEPTED and community.sub_district_id in DAXING_STREETS:
                unit = Unit.DAXING
            facility_advance(facility=facility, to_status=target, user=user, on=on, note=note, check_actor=False,
                             unit_label=_unit_label(unit, community))
            facility.refresh_from_db()
            counts.steps += 1
    return counts

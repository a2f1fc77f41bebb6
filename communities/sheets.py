"""The 社区 and 小区 sheets of the import workbook (docs/design.md, "Import workbook sheets").

Rows are written through the same services as the forms, so the same
``clean()`` refuses the same bad data with the same messages and codes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from core.records import among, apply_changes, concrete_attnames, loaded
from core.sheets import (
    Action,
    Column,
    Issue,
    ParsedRow,
    RowRefused,
    Sheet,
    choice,
    digits,
    instance_factory,
    iso_date,
    non_negative_integer,
    register,
    text,
    yes_no,
)

from .models import (
    Community,
    Compound,
    KnownCodes,
    PartyOrgType,
    PropertyService,
    RetiredCommunityCode,
    SubDistrict,
    community_problems,
    compound_problems,
)
from .services import (
    community_create,
    community_create_bulk,
    community_update,
    community_update_bulk,
    compound_create,
    compound_update,
    compound_write_bulk,
)

COMMUNITY_CODE = digits(12, "社区代码必须是12位数字。")


def _streets(ctx) -> dict[str, SubDistrict]:
    """Every 街办 by its 9-digit code and by its name, read once per import."""
    streets = ctx.cache.get("streets")
    if streets is None:
        streets = {}
        for street in SubDistrict.objects.select_related("clerk_group"):
            streets[street.code] = street
            streets[street.name] = street
        ctx.cache["streets"] = streets
    return streets


def _street(ctx, value: str) -> SubDistrict | None:
    """A 街办 by its name or its 9-digit code."""
    return _streets(ctx).get(value.strip())


_COMMUNITY_COLUMNS = concrete_attnames(Community)


def communities_by_code(ctx, codes: Iterable[str | None] = ()) -> dict[str, Community]:
    """The 社区 an import has met, by code: those of ``codes`` read now (each code once per import, a code of no
    社区 stays absent), those read before, and those the import created. Only the codes a file names, never the
    whole table: a 2,000-row upload into the country's 115,000 社区 read them all (about 2 s) before."""
    communities = ctx.cache.setdefault("communities", {})
    if not codes:
        return communities
    looked = ctx.cache.setdefault("community_codes_read", set())
    missing = sorted({code for code in codes if code and code not in looked and code not in communities})
    if missing:
        looked.update(missing)
        streets = _streets(ctx)
        step = 100_000 if connection.vendor == "postgresql" else 900  # SQLite's cap on a statement's parameters
        for start in range(0, len(missing), step):
            rows = among(Community.objects.all(), "code", missing[start:start + step]).values_list(*_COMMUNITY_COLUMNS)
            # Built from plain rows, each with its 街办 from the import's own list, as select_related would attach
            # it: a 100,000-row 人员 file names some 60,000 社区, and Model.__init__ for each 社区 and its 街办
            # took a sixth of that import's application CPU.
            for community in loaded(Community, rows, _COMMUNITY_COLUMNS):
                street = streets.get(community.sub_district_id)
                if street is not None:
                    community._state.fields_cache["sub_district"] = street
                communities[community.code] = community
    return communities


def _unknown_street(value: str) -> tuple[str, str, str]:
    return ("街道办事处", f"未知的街道办事处“{value}”：请填写街道办事处全称或9位街道代码。", "unknown_sub_district")


@register
class CommunitySheet(Sheet):
    name = "社区"
    key = "社区代码"
    models = (Community,)
    columns = [
        Column("社区代码", "code", COMMUNITY_CODE),
        Column("社区名称", "name", text(60)),
        Column("街道办事处", "sub_district", text(50)),
        Column("户数", "households", non_negative_integer),
        Column("常住人口", "population", non_negative_integer),
        Column("成立日期", "founded_on", iso_date, blank=True),
        Column("批复日期", "approved_on", iso_date, blank=True, optional=True),
        Column("两委选举日期", "election_on", iso_date, blank=True, optional=True),
        Column("党组织类型", "party_org_type", choice(PartyOrgType)),
        Column("东至", "east", text(200), blank=True, empty=""),
        Column("南至", "south", text(200), blank=True, empty=""),
        Column("西至", "west", text(200), blank=True, empty=""),
        Column("北至", "north", text(200), blank=True, empty=""),
        Column("社会组织数", "social_org_count", non_negative_integer),
        Column("环境和物业管理委员会", "has_property_committee", yes_no),
    ]

    def clean_row(self, parsed: ParsedRow, ctx) -> None:
        value = parsed.data.get("sub_district")
        if value is None:
            return
        street = _street(ctx, value)
        if street is None:
            parsed.issues.append(_unknown_street(value))
        else:
            parsed.data["sub_district"] = street

    def apply_row(self, data: dict[str, Any], ctx) -> Action:
        code = data.pop("code")
        ctx.require_street(data["sub_district"].code, "街道办事处")
        # Imported figures come from the 街办, so they are no longer demo samples.
        data["figures_are_sample"] = data["population_is_sample"] = False
        existing = communities_by_code(ctx, [code]).get(code)
        if existing is None:
            # Its 街办's clerks hold it through their rights on the 街办: nothing to grant (communities.selectors).
            community = community_create(user=ctx.user, reason=self.history_reason, code=code, **data)
            communities_by_code(ctx)[community.code] = community
            return Action.CREATED
        ctx.require_street(existing.sub_district_id, "社区代码")
        if existing.is_revoked:
            raise RowRefused("社区代码", f"社区“{existing.name}”已撤销，不能通过导入修改。", "community_revoked")
        # A copy: a refused update leaves its values on the instance, and later rows must see the stored 社区.
        existing = copy.copy(existing)
        changed = community_update(community=existing, user=ctx.user, reason=self.history_reason, **data)
        communities_by_code(ctx)[code] = existing
        return Action.UPDATED if changed else Action.UNCHANGED


    def bulk_apply(self, rows: list[ParsedRow], ctx) -> list[Action | list[Issue] | None]:
        """The rows as apply_row would write them: each row checked by ``community_problems`` (what the form's
        ``clean()`` runs) against every code in use or retired, read once and passed in; written in batches."""
        known = communities_by_code(ctx, [parsed.data["code"] for parsed in rows])
        codes = KnownCodes(taken=known, retired=dict(RetiredCommunityCode.objects.values_list("code", "community_id")))
        today = timezone.localdate()
        make = instance_factory(Community)
        scope = ctx.street_scope
        outcomes: list[Action | list[Issue] | None] = []
        creates: list[Community] = []
        updates: list[Community] = []
        fields: set[str] = set()
        for parsed in rows:
            values = dict(parsed.data)
            code = values["code"]
            street = values.pop("sub_district")
            values["sub_district_id"] = street.code
            values["figures_are_sample"] = values["population_is_sample"] = False
            try:
                if scope is not None:
                    ctx.require_street(street.code, "街道办事处")
                existing = known.get(code)
                if existing is None:
                    errors = community_problems(values, codes=codes, today=today)
                    if errors:
                        raise ValidationError(errors)
                    del values["sub_district_id"]
                    values["sub_district"] = street
                    creates.append(make(values))
                    outcomes.append(Action.CREATED)
                    continue
                if scope is not None:
                    ctx.require_street(existing.sub_district_id, "社区代码")
                if existing.is_revoked:
                    raise RowRefused("社区代码", f"社区“{existing.name}”已撤销，不能通过导入修改。", "community_revoked")
                community = copy.copy(existing)
                changed = apply_changes(community, values)
                if changed:
                    # Same code, other 街办: refused (the code's prefix is the 街办's code).
                    errors = community_problems(vars(community), codes=codes, today=today)
                    if errors:
                        raise ValidationError(errors)
                    if "sub_district_id" in changed:  # unreachable past the prefix check; kept in step with it
                        community.sub_district = street
                    updates.append(community)
                    fields.update("sub_district" if name == "sub_district_id" else name for name in changed)
                outcomes.append(Action.UPDATED if changed else Action.UNCHANGED)
            except RowRefused as refused:
                outcomes.append([(refused.column, refused.message, refused.code)])
            except ValidationError as error:
                outcomes.append(self.validation_issues(error))
        community_create_bulk(communities=creates, user=ctx.user, reason=self.history_reason)
        community_update_bulk(communities=updates, fields=sorted(fields), user=ctx.user, reason=self.history_reason)
        for community in (*creates, *updates):
            known[community.code] = community
        return outcomes


@register
class CompoundSheet(Sheet):
    name = "小区"
    key = "小区编号"
    models = (Compound,)
    depends_on = ("社区",)
    columns = [
        Column("小区编号", "code", text(32)),
        Column("小区名称", "name", text(100)),
        Column("社区代码", "community", COMMUNITY_CODE, blank=True),
        Column("户数", "households", non_negative_integer),
        Column("建成日期", "built_on", iso_date, blank=True),
        Column("应配建社区用房", "must_provide_facility", yes_no),
        Column("已提供社区用房", "facility_provided", yes_no),
        Column("物业服务方式", "property_service", choice(PropertyService)),
        Column("管理主体未明确", "jurisdiction_unclear", yes_no),
        # Not in docs/design.md's list: lets a not-yet-assigned compound name the 街办 it lies in.
        Column("街道办事处", "sub_district", text(50), blank=True, optional=True),
        # Not in the list either (措施十八, issue 15): a 单位自管 compound's 共建共管协议.
        Column("共建共管协议签订日期", "co_management_signed_on", iso_date, blank=True, optional=True),
    ]

    def clean_row(self, parsed: ParsedRow, ctx) -> None:
        value = parsed.data.get("sub_district")
        if value:
            street = _street(ctx, value)
            if street is None:
                parsed.issues.append(_unknown_street(value))
            else:
                parsed.data["sub_district"] = street
        elif "sub_district" in parsed.data:
            del parsed.data["sub_district"]

    def _community(self, code: str | None, ctx) -> Community | None:
        if not code:
            return None
        community = communities_by_code(ctx).get(code) or communities_by_code(ctx, [code]).get(code)
        if community is not None:
            return community
        row = ctx.refused.get("社区", {}).get(code)
        if row is not None:
            raise RowRefused("社区代码", f"社区代码 {code} 在“社区”表第{row}行，该行有错误未能导入。", "community_row_refused")
        raise RowRefused("社区代码", f"社区代码 {code} 不存在：请先建立该社区，或在“社区”表中一并导入。", "unknown_community")

    def bulk_apply(self, rows: list[ParsedRow], ctx) -> list[Action | list[Issue] | None]:
        """The rows as apply_row would write them: the stored compounds of the file's codes read once, each row
        checked by ``compound_problems`` (the form's ``clean()``), then written in batches."""
        stored = {c.code: c for c in among(Compound.objects.select_related("community", "sub_district"), "code",
                                           [row.data["code"] for row in rows])}
        stored_community = {c.pk: c.community_id for c in stored.values()}
        communities_by_code(ctx, [row.data["community"] for row in rows])  # one read for the rows' 社区
        today = timezone.localdate()
        make = instance_factory(Compound)
        scope = ctx.street_scope
        own_street = None
        if scope is not None and len(scope) == 1:
            own_street = SubDistrict.objects.get(code=next(iter(scope)))
        outcomes: list[Action | list[Issue] | None] = []
        creates: list[Compound] = []
        updates: list[Compound] = []
        fields: set[str] = set()
        for parsed in rows:
            data = dict(parsed.data)
            code = data.pop("code")
            try:
                street = self._placed(data, ctx)
                existing = stored.get(code)
                if existing is not None and scope is not None:
                    ctx.require_street(existing.sub_district.code if existing.sub_district else None, "小区编号")
                if street is None and existing is None and own_street is not None:
                    street = own_street  # a clerk's new unassigned compound lies in their own 街办
                if street is not None:
                    if scope is not None:
                        ctx.require_street(street.code, "社区代码" if data["community"] else "街道办事处")
                    data["sub_district"] = street
                elif existing is None:
                    ctx.require_street(None, "街道办事处")
                if existing is None:
                    compound = make({"code": code, **data})
                    changed = None
                else:
                    compound = copy.copy(existing)
                    compound._state = copy.copy(existing._state)
                    compound._state.fields_cache = dict(existing._state.fields_cache)
                    changed = apply_changes(compound, data)
                    if not changed:
                        outcomes.append(Action.UNCHANGED)
                        continue
                # What compound_create/compound_update do before saving.
                if compound.community is not None:
                    compound.sub_district = compound.community.sub_district
                    if changed is not None and "sub_district" not in changed:
                        changed.append("sub_district")
                if compound.jurisdiction_unclear and compound.unclear_since is None:
                    compound.unclear_since = today
                    if changed is not None:
                        changed.append("unclear_since")
                errors = compound_problems(compound, today=today, stored=stored_community)
                if errors:
                    raise ValidationError(errors)
            except RowRefused as refused:
                outcomes.append([(refused.column, refused.message, refused.code)])
            except ValidationError as error:
                outcomes.append(self.validation_issues(error))
            else:
                if changed is None:
                    creates.append(compound)
                    outcomes.append(Action.CREATED)
                else:
                    updates.append(compound)
                    fields.update(changed)
                    outcomes.append(Action.UPDATED)
        compound_write_bulk(creates=creates, updates=updates, fields=sorted(fields), user=ctx.user,
                            reason=self.history_reason)
        return outcomes

    def _placed(self, data: dict[str, Any], ctx):
        """The row's community (put into ``data``) and its 街道办事处: the community's own when one is named;
        a named 街道办事处 that differs from it is refused. The bulk and the single-row paths share this."""
        community = self._community(data.get("community"), ctx)
        data["community"] = community
        street = data.pop("sub_district", None)
        if community is not None:
            if street is not None and street.code != community.sub_district_id:
                raise RowRefused(
                    "街道办事处",
                    f"街道办事处“{street.name}”与所属社区的街道“{community.sub_district.name}”不一致。",
                    "street_mismatch",
                )
            street = community.sub_district
        return street

    def apply_row(self, data: dict[str, Any], ctx) -> Action:
        code = data.pop("code")
        street = self._placed(data, ctx)
        existing = Compound.objects.select_related("community", "sub_district").filter(code=code).first()
        if existing is not None:
            ctx.require_street(existing.sub_district.code if existing.sub_district else None, "小区编号")
        if street is None and existing is None and ctx.street_scope is not None and len(ctx.street_scope) == 1:
            # A clerk's new unassigned compound lies in their own 街办.
            street = SubDistrict.objects.get(code=next(iter(ctx.street_scope)))
        if street is not None:
            ctx.require_street(street.code, "社区代码" if data["community"] else "街道办事处")
            data["sub_district"] = street
        elif existing is None:
            ctx.require_street(None, "街道办事处")
        if existing is None:
            compound_create(user=ctx.user, reason=self.history_reason, code=code, **data)
            return Action.CREATED
        changed = compound_update(compound=existing, user=ctx.user, reason=self.history_reason, **data)
        return Action.UPDATED if changed else Action.UNCHANGED

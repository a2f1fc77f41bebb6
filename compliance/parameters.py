"""Rule parameters: the values in force on a date (the catalogue's defaults overridden by the latest
``RuleParameter`` whose effective date is on or before it), and the services that set a new dated value
(a rule's, the 督导 escalation's, the 整改期限's), each recorded in the security log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import Kind
from audit.services import security_event_record
from core import pagememo

from . import escalation
from .duties import DEADLINE_DEFAULTS, DEADLINE_KEY, DUE_BY_RULE
from .models import RuleParameter
from .rules import Rule, registry


def to_json(default: Any, value: Any) -> Any:
    """Validate ``value`` against the type of the default; return what is stored."""
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            if str(value).strip() in ("是", "true", "True", "1"):
                return True
            if str(value).strip() in ("否", "false", "False", "0"):
                return False
            raise ValueError
        if isinstance(default, int):
            number = Decimal(str(value).strip())
            if number != number.to_integral_value():
                raise ValueError
            return int(number)
        if isinstance(default, float | Decimal):
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise ValueError
            return float(number)
        if isinstance(default, dt.date):
            if isinstance(value, dt.date):
                return value.isoformat()
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        if isinstance(default, str) and len(default) == 5 and default[2] == "-":
            # A month-day such as "12-01".
            text = str(value).strip()
            dt.date.fromisoformat(f"2000-{text}")
            if len(text) != 5:
                raise ValueError
            return text
        return str(value)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise ValidationError(
            f"参数取值“{value}”无效：应为{type_label(default)}。", code="invalid_value"
        ) from exc


def from_json(default: Any, stored: Any) -> Any:
    if isinstance(default, dt.date) and isinstance(stored, str):
        return dt.date.fromisoformat(stored)
    if isinstance(default, Decimal):
        return Decimal(str(stored))
    return stored


# What each rule parameter means, as the catalogue shows it beside the code
# (names are shared: M04.households and M06.adjustment_plan both read min_households).
PARAM_LABELS: dict[str, str] = {
    "ruling_days": "裁定期限（天）",
    "min_households": "户数下限（户）",
    "max_households": "户数上限（户）",
    "min_population": "人口下限（人）",
    "max_population": "人口上限（人）",
    "oversized_to_split": "应拆分的超大型社区（个）",
    "micro_to_merge": "应整合的微型社区（个）",
    "oversized_staff_factor": "超大型社区应配人数系数",
    "oversized_extra_workers": "超大型社区增配工作者（人）",
    "min_activity_share": "居民活动区域最低占比（%）",
    "area_per_100_households": "每百户应配建筑面积（㎡）",
    "new_since": "新建社区起算日期",
    "small_new_households": "小型新建社区户数界限（户）",
    "small_new_min_area": "小型新建社区最低面积（㎡）",
    "min_plaza_area": "室外活动广场最低面积（㎡）",
    "handover_days": "验收后移交期限（天）",
    "debt_since": "历史欠账起算日期",
    "min_party": "党组织班子人数下限（人）",
    "max_party": "党组织班子人数上限（人）",
    "typical_branch": "党支部一般人数（人）",
    "typical_general_branch": "党总支一般人数（人）",
    "typical_party_committee": "党委一般人数（人）",
    "min_committee": "居委会人数下限（人）",
    "max_committee": "居委会人数上限（人）",
    "small_below": "居委会设5人的户数界限（少于，户）",
    "large_above": "居委会设9人的户数界限（多于，户）",
    "expected_small": "小规模社区居委会应设人数（人）",
    "expected_middle": "中等规模社区居委会应设人数（人）",
    "expected_large": "大规模社区居委会应设人数（人）",
    "warning_days": "期限前预警天数（天）",
    "hire_cutoff": "上年度应参训的入职截止（月-日）",
    "target_year": "目标年度",
    "district_per_city": "区级与市级薪酬经费之比（区÷市）",
    "min_cross_share": "交叉任职最低比例（%）",
    "min_fulltime_share": "专职工作者进两委最低比例（%）",
    "max_members": "“两委”人数上限（人）",
    "election_months": "新设社区选举期限（月）",
    "vacancy_days": "空缺补选期限（天）",
    "workers_per_10k": "每万名常住人口配社区工作者（人）",
    "training_due": "年度培训截止（月-日）",
    "assessment_due": "上年度考核截止（月-日）",
    "filing_days": "离职备案期限（天）",
    "decision_days": "考核不称职后作出决定期限（天）",
    "grade_years": "等级自然增长周期（年）",
    "notice_days": "辞职提前申请（天）",
    "monitoring_points": "减负增效监测点目标（个）",
    "typical_cases": "典型案例目标（个）",
    "consultation_cases_per_year": "每年协商案例（个）",
    "min_social_orgs": "社区社会组织下限（个）",
    "tolerance": "允许偏差（%）",
    "city_funds": "市级配套标准（元）",
    "plan_due": "当年配套登记截止（月-日）",
    "payment_due": "当年经费足额拨付截止（月-日）",
    "district_funds": "区级配套标准（元）",
}


def param_label(name: str) -> str:
    return PARAM_LABELS.get(name, name)


def type_label(default: Any) -> str:
    if isinstance(default, bool):
        return "是/否"
    if isinstance(default, int):
        return "整数"
    if isinstance(default, float | Decimal):
        return "数字"
    if isinstance(default, dt.date):
        return "日期（YYYY-MM-DD）"
    if isinstance(default, str) and len(default) == 5 and default[2] == "-":
        return "月-日（MM-DD）"
    return "文字"


_ORDER = ("rule_id", "name", "effective_from", "created_at", "id")


def dated_values(rule_ids: Iterable[str], as_of: dt.date) -> list[tuple[str, str, Any]]:
    """(rule_id, name, value) of the values in force by ``as_of`` for these keys, oldest first per name
    (ordered by rule, name, effective date, creation): the last one of a name is the one in force."""
    wanted = set(rule_ids)
    page = pagememo.memo()
    if page is None:
        return list(RuleParameter.objects.filter(rule_id__in=wanted, effective_from__lte=as_of)
                    .order_by(*_ORDER).values_list("rule_id", "name", "value"))
    # A page asked four times (its three panels and the 规模 label): the whole small table, read once.
    if "rule_parameters" not in page:
        page["rule_parameters"] = list(RuleParameter.objects.order_by(*_ORDER)
                                       .values_list("rule_id", "name", "value", "effective_from"))
    return [(rule_id, name, value) for rule_id, name, value, effective_from in page["rule_parameters"]
            if rule_id in wanted and effective_from <= as_of]


def params_for_rules(rules: Iterable[Rule], as_of: dt.date) -> dict[str, dict[str, Any]]:
    """All rules' parameters in force on ``as_of``, in one query; a shared parameter (catalogue ``shared``)
    takes its source rule's value in force that day."""
    rules = list(rules)
    by_id = {r.id: r for r in rules}
    for rule in rules:
        for source in rule.shared.values():
            if source not in by_id and source in registry:
                by_id[source] = registry.get(source)
    out = {rule_id: dict(r.params) for rule_id, r in by_id.items()}
    for rule_id, name, value in dated_values(out, as_of):
        defaults = by_id[rule_id].params
        if name in defaults:  # a parameter the rule no longer has is ignored
            out[rule_id][name] = from_json(defaults[name], value)
    for rule in rules:
        for name, source in rule.shared.items():
            if source in out and name in out[source]:
                out[rule.id][name] = out[source][name]
    return {rule.id: out[rule.id] for rule in rules}


def params_for(rule: Rule, as_of: dt.date) -> dict[str, Any]:
    return params_for_rules([rule], as_of)[rule.id]


def scale_bounds(as_of: dt.date) -> tuple[int, int]:
    """措施四's 户数 bounds in force on ``as_of`` (M04.households'), which the 规模 label and 措施六 share."""
    values = params_for(registry.get("M04.households"), as_of)
    return int(values["min_households"]), int(values["max_households"])


# -- setting a parameter: a dated value, recorded with who and why --------------------


def rule_parameter_set(*, rule_id: str, name: str, value: Any, effective_from: dt.date, user=None,
                       reason: str) -> RuleParameter:
    """Record a new value in force from ``effective_from``; earlier values stay."""
    if rule_id not in registry:
        raise ValidationError(f"规则 {rule_id} 不存在。", code="unknown_rule")
    rule = registry.get(rule_id)
    if name in rule.shared:
        source = rule.shared[name]
        raise ValidationError(
            f"规则 {rule_id} 的“{param_label(name)}”与规则 {source} 共用同一个数值，请在 {source} 上设置"
            "（一处设置，共用的规则同时生效）。", code="shared_parameter")
    if name not in rule.params:
        known = "、".join(rule.params) or "无"
        raise ValidationError(f"规则 {rule_id} 没有参数“{name}”（可设置的参数：{known}）。", code="unknown_parameter")
    if not (reason or "").strip():
        raise ValidationError("请填写调整参数的理由。", code="reason_required")
    if not isinstance(effective_from, dt.date):
        raise ValidationError("请填写生效日期（YYYY-MM-DD）。", code="effective_from_required")
    stored = to_json(rule.params[name], value)
    return _parameter_record(rule_id=rule_id, name=name, stored=stored, effective_from=effective_from,
                             user=user, reason=reason)


def escalation_parameter_set(*, name: str, value: Any, effective_from: dt.date, user=None,
                             reason: str) -> RuleParameter:
    """A new 提醒/督办/约谈 threshold in force from a date; the old ones stay."""
    if name not in escalation.DEFAULTS:
        raise ValidationError(f"督导升级没有参数“{name}”（可设置的参数：{'、'.join(escalation.DEFAULTS)}）。",
                              code="unknown_parameter")
    if not (reason or "").strip():
        raise ValidationError("请填写调整参数的理由。", code="reason_required")
    if not isinstance(effective_from, dt.date):
        raise ValidationError("请填写生效日期（YYYY-MM-DD）。", code="effective_from_required")
    stored = to_json(escalation.DEFAULTS[name], value)
    if stored < 0:
        raise ValidationError(f"{escalation.PARAM_LABELS[name]}应为不小于 0 的整数。", code="invalid_value")
    # The ladder must keep rising on the day the value takes effect.
    thresholds = {**escalation.params(effective_from), name: stored}
    remind, supervise, interview = (thresholds["remind_overdue_days"], thresholds["supervise_overdue_days"],
                                    thresholds["interview_overdue_days"])
    if not remind < supervise < interview:
        raise ValidationError(
            f"逾期天数须逐级增加：提醒 {remind} 天 < 督办 {supervise} 天 < 约谈 {interview} 天。",
            code="escalation_order")
    return _parameter_record(rule_id=escalation.ESCALATION_KEY, name=name, stored=stored, effective_from=effective_from,
                             user=user, reason=reason)


def deadline_parameter_set(*, name: str, value: Any, effective_from: dt.date, user=None,
                           reason: str) -> RuleParameter:
    """A new 整改期限 (days from first found) in force from a date: by severity (``violation_days``,
    ``warning_days``) or for one rule (its id). Findings first found before keep their deadline."""
    if name not in DEADLINE_DEFAULTS and name not in registry:
        raise ValidationError(f"整改期限没有参数“{name}”（可设置：{'、'.join(DEADLINE_DEFAULTS)} 或规则编号）。",
                              code="unknown_parameter")
    if name in DUE_BY_RULE:
        raise ValidationError(f"规则 {name} 的整改期限由措施条文规定的日期确定，不能按天数设置。",
                              code="deadline_fixed_by_rule")
    if not (reason or "").strip():
        raise ValidationError("请填写调整参数的理由。", code="reason_required")
    if not isinstance(effective_from, dt.date):
        raise ValidationError("请填写生效日期（YYYY-MM-DD）。", code="effective_from_required")
    stored = to_json(30, value)
    if stored <= 0:
        raise ValidationError("整改期限应为正整数（天）。", code="invalid_value")
    return _parameter_record(rule_id=DEADLINE_KEY, name=name, stored=stored, effective_from=effective_from,
                             user=user, reason=reason)


def _parameter_record(*, rule_id: str, name: str, stored: Any, effective_from: dt.date, user, reason: str) -> RuleParameter:
    """One dated value and its audit line, together: the three setters differ only in how they check the value."""
    with transaction.atomic():
        parameter = RuleParameter.objects.create(
            rule_id=rule_id, name=name, value=stored, effective_from=effective_from,
            set_by=user if user is not None and user.is_authenticated else None, reason=reason.strip(),
        )
        _parameter_audit(parameter, user)
        return parameter


def _parameter_audit(parameter: RuleParameter, user) -> None:
    security_event_record(
        kind=Kind.PARAMETER_CHANGE, user=user,
        detail={"rule": parameter.rule_id, "name": parameter.name, "value": parameter.value,
                "effective_from": parameter.effective_from, "reason": parameter.reason},
    )

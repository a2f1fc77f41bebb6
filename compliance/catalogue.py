"""The clause catalogue of ``docs/clauses.md`` kept as data.

Rule ids are a public contract (exports, ``compliance_sweep --json``, users'
spreadsheets), so they live here once and the system checks compare every
registered rule against this list. The 牵头单位/责任单位 are quoted from the end
of each 措施 in 《莲湖区关于进一步加强社区管理的若干措施》.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

CHINESE_NUMERALS = {
    1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十",
    11: "十一", 12: "十二", 13: "十三", 14: "十四", 15: "十五", 16: "十六", 17: "十七", 18: "十八",
    19: "十九", 20: "二十",
}


class Target:
    COMMUNITY = "community"
    COMPOUND = "compound"
    FACILITY = "facility"
    PERSON = "person"
    DISTRICT = "district"

    CHOICES = [
        (COMMUNITY, "社区"),
        (COMPOUND, "小区/院落"),
        (FACILITY, "设施"),
        (PERSON, "人员"),
        (DISTRICT, "全区"),
    ]
    ALL = [c for c, _ in CHOICES]


class Severity:
    VIOLATION = "violation"
    WARNING = "warning"
    NOTICE = "notice"

    CHOICES = [(VIOLATION, "违规"), (WARNING, "预警"), (NOTICE, "提示")]
    ALL = [c for c, _ in CHOICES]
    # Higher wins when two conditions meet (docs/clauses.md).
    RANK = {NOTICE: 1, WARNING: 2, VIOLATION: 3}

    @classmethod
    def label(cls, value: str) -> str:
        return dict(cls.CHOICES).get(value, value)

    @classmethod
    def highest(cls, *values: str) -> str:
        return max(values, key=lambda v: cls.RANK.get(v, 0))


@dataclass(frozen=True)
class Clause:
    number: int
    title: str
    lead_units: tuple[str, ...]
    responsible_units: tuple[str, ...]
    supporting_units: tuple[str, ...] = ()

    @property
    def numeral(self) -> str:
        return CHINESE_NUMERALS[self.number]

    @property
    def lead_text(self) -> str:
        return "、".join(self.lead_units)

    @property
    def responsible_text(self) -> str:
        return "、".join(self.responsible_units)


@dataclass(frozen=True)
class RuleSpec:
    id: str
    clause: int
    target: str
    severity: str
    title: str
    domain: str
    params: dict[str, Any] = field(default_factory=dict)
    # Parameters this rule reads from another rule's dated values: name → that rule's id. One figure, one
    # source: the 1000/5000 户 bounds are M04.households', and moving them moves 措施六 and the 规模 label too.
    shared: dict[str, str] = field(default_factory=dict)

    @property
    def numeral(self) -> str:
        return CHINESE_NUMERALS[self.clause]


_DEPTS_STREETS = ("区级相关部门", "各街办")
_STREETS = ("各街办",)
_MCA = ("区民政局",)

CLAUSES: dict[int, Clause] = {c.number: c for c in [
    Clause(1, "强化社区管理主体责任", _MCA, _DEPTS_STREETS),
    Clause(2, "发挥部门共管共建作用", _MCA, _DEPTS_STREETS),
    Clause(3, "实现社区管理全覆盖", _MCA, ("区住建局", "各街办")),
    Clause(4, "合理划分社区管辖范围", _MCA, _STREETS),
    Clause(5, "规范社区设立流程", _MCA, _DEPTS_STREETS),
    Clause(6, "推进社区优化调整", _MCA, _STREETS),
    Clause(7, "严格落实建设标准", _MCA, ("资源规划莲湖分局", "区住建局等相关部门", "各街办")),
    Clause(8, "建立完善审管机制", _MCA, ("资源规划莲湖分局", "区住建局", "大兴新区管委会", "各街办")),
    Clause(9, "加快补齐设施短板", _MCA,
           ("资源规划莲湖分局", "区住建局", "区财政局", "区城棚改事务中心", "各街办")),
    Clause(10, "严格社区“两委”员额配备标准", _MCA, _STREETS),
    Clause(11, "充实社区工作者力量", _MCA, _STREETS),
    Clause(12, "强化社区工作者培训", _MCA, _STREETS),
    Clause(13, "不断完善职业体系", _MCA, ("区财政局", "区总工会", "各街办")),
    Clause(14, "建立考核评价机制", _MCA, _STREETS),
    Clause(15, "加强入职及退出管理", _MCA, _DEPTS_STREETS),
    Clause(16, "增加社区服务供给", _MCA, _DEPTS_STREETS, supporting_units=("区发改委",)),
    Clause(17, "激发社区自治活力", _MCA, _STREETS),
    Clause(18, "改进物业服务管理", ("区住建局", "区民政局"), _STREETS),
    Clause(19, "强化经费保障", ("区民政局", "区财政局"), ("区发改委", "区市场监管局等相关部门", "各街办")),
    Clause(20, "加强督导考核", _MCA, _DEPTS_STREETS),
]}

C, P, F, D, H = Target.COMMUNITY, Target.COMPOUND, Target.FACILITY, Target.PERSON, Target.DISTRICT
V, W, N = Severity.VIOLATION, Severity.WARNING, Severity.NOTICE

# (id, 措施, target, default severity, title, implementing app, default parameters)
RULES: dict[str, RuleSpec] = {s.id: s for s in [
    RuleSpec("M01.sub_district", 1, C, V, "社区有且只有一个管理主体街办", "communities"),
    RuleSpec("M03.compound_unassigned", 3, P, V, "居住小区（院落）已划入社区", "communities"),
    RuleSpec("M03.compound_register", 3, C, W, "小区/院落登记齐全（户数与社区相符）", "communities",
             {"tolerance": 10}),
    RuleSpec("M03.jurisdiction_dispute", 3, P, W, "管理主体未明确的小区按期裁定", "communities",
             {"ruling_days": 90}),
    RuleSpec("M04.boundaries", 4, C, V, "社区四至清晰", "communities"),
    RuleSpec("M04.households", 4, C, W, "社区户数规模在1000户~5000户之间", "communities",
             {"min_households": 1000, "max_households": 5000}),
    RuleSpec("M04.population", 4, C, W, "社区人口规模在5000人~15000人之间", "communities",
             {"min_population": 5000, "max_population": 15000}),
    RuleSpec("M06.adjustment_plan", 6, C, W, "超大型、微型社区有调整计划", "communities",
             shared={"min_households": "M04.households", "max_households": "M04.households"}),
    RuleSpec("M06.oversized_staffing", 6, C, W, "暂未拆分的超大型社区增加社区工作人员", "staffing",
             {"oversized_staff_factor": 1.0, "oversized_extra_workers": 1},
             shared={"max_households": "M04.households", "workers_per_10k": "M11.worker_ratio"}),
    RuleSpec("M06.district_adjustment", 6, H, N, "全区超大型社区拆分、微型社区整合进度", "communities",
             {"oversized_to_split": 7, "micro_to_merge": 8},
             shared={"min_households": "M04.households", "max_households": "M04.households"}),
    RuleSpec("M07.facility_area", 7, C, V, "社区综合服务设施建筑面积达标", "facilities",
             {"area_per_100_households": 30, "new_since": date(2024, 2, 29), "small_new_households": 2000,
              "small_new_min_area": 600}),
    RuleSpec("M07.outdoor_plaza", 7, C, V, "室外活动广场面积不低于1000平方米", "facilities",
             {"min_plaza_area": 1000}),
    RuleSpec("M07.activity_share", 7, C, V, "居民活动区域面积不低于设施总面积的60%", "facilities",
             {"min_activity_share": 60}),
    RuleSpec("M08.handover", 8, F, W, "验收合格的社区综合服务设施及时移交街办", "facilities",
             {"handover_days": 90}),
    RuleSpec("M08.planned_area", 8, F, V, "规划的社区综合服务设施面积达到建设标准", "facilities",
             shared={"area_per_100_households": "M07.facility_area", "new_since": "M07.facility_area",
                     "small_new_households": "M07.facility_area", "small_new_min_area": "M07.facility_area"}),
    RuleSpec("M09.facility_debt", 9, P, V, "2011年2月以后建成小区的社区用房历史欠账", "communities",
             {"debt_since": date(2011, 2, 1)}),
    RuleSpec("M10.party_size", 10, C, V, "社区党组织班子3~5人", "staffing",
             {"min_party": 3, "max_party": 5, "typical_branch": 3, "typical_general_branch": 5,
              "typical_party_committee": 5}),
    RuleSpec("M10.committee_size", 10, C, V, "社区居委会5~9人", "staffing",
             {"min_committee": 5, "max_committee": 9, "small_below": 2000, "large_above": 4000,
              "expected_small": 5, "expected_middle": 7, "expected_large": 9}),
    RuleSpec("M10.cross_appointment", 10, C, V, "支委、居委交叉任职比例不低于60%", "staffing",
             {"min_cross_share": 60}),
    RuleSpec("M10.fulltime_share", 10, C, V, "社区专职进“两委”比例不低于40%", "staffing",
             {"min_fulltime_share": 40}),
    RuleSpec("M10.total_cap", 10, C, V, "社区“两委”人数不超过11人", "staffing", {"max_members": 11}),
    RuleSpec("M11.worker_ratio", 11, C, V, "每万名常住人口拥有社区工作者18人", "staffing",
             {"workers_per_10k": 18}),
    RuleSpec("M11.election_deadline", 11, C, W, "新设立社区三个月内完成“两委”选举", "approvals",
             {"election_months": 3, "warning_days": 30}),
    RuleSpec("M11.vacancy", 11, C, W, "“两委”空缺及时补选", "staffing", {"vacancy_days": 90}),
    RuleSpec("M12.worker_training", 12, D, W, "社区工作者每年至少参加全员培训1次", "staffing",
             {"training_due": "12-01", "hire_cutoff": "09-30"}),
    RuleSpec("M12.leader_training", 12, D, W, "社区书记、主任每年至少参加专项培训1次", "staffing",
             {"training_due": "12-01", "hire_cutoff": "09-30"}),
    RuleSpec("M13.post_grade", 13, D, V, "社区工作者落实“三岗十八级”", "staffing"),
    RuleSpec("M13.archive", 13, D, W, "社区工作者档案完整", "staffing"),
    RuleSpec("M13.grade_growth", 13, D, W, "考核称职以上的社区工作者等级自然增长", "staffing",
             {"grade_years": 3}),
    RuleSpec("M14.annual_assessment", 14, D, V, "社区工作者上年度考核按时完成", "staffing",
             {"assessment_due": "03-31"}),
    RuleSpec("M14.incompetent_decision", 14, D, W, "考核不称职的及时作出等级调整或续聘解聘决定", "staffing",
             {"decision_days": 60}),
    RuleSpec("M15.resignation_notice", 15, D, V, "辞职提前一周书面申请", "staffing", {"notice_days": 7}),
    RuleSpec("M15.exit_filing", 15, D, W, "辞职、辞退报区民政局备案", "staffing", {"filing_days": 30}),
    RuleSpec("M15.approval_before_filing", 15, D, V, "离职先经街办批准（决定）再报区民政局备案", "staffing"),
    RuleSpec("M16.embedded_services", 16, C, N, "养老、托育、托管、助餐嵌入式服务齐全", "facilities"),
    RuleSpec("M17.social_orgs", 17, C, W, "每个社区不少于10个社区社会组织", "communities",
             {"min_social_orgs": 10, "target_year": 2025}),
    RuleSpec("M17.district_targets", 17, H, N, "全区减负增效监测点、典型案例目标", "communities",
             {"monitoring_points": 12, "typical_cases": 10, "consultation_cases_per_year": 1}),
    RuleSpec("M18.property_service", 18, P, V, "小区物业服务全覆盖", "communities"),
    RuleSpec("M18.property_committee", 18, C, N, "居委会下设环境和物业管理委员会", "communities"),
    RuleSpec("M19.work_funds", 19, C, V, "社区工作经费市级13万元、区级12万元足额保障", "funding",
             {"city_funds": 130000, "district_funds": 120000, "plan_due": "03-31", "payment_due": "06-30"}),
    RuleSpec("M19.task_funds", 19, C, V, "费随事转：交办事项经费随事转到位", "funding"),
    RuleSpec("M19.residential_utilities", 19, F, V, "社区综合服务设施水电气暖执行居民价格", "facilities"),
    RuleSpec("M19.property_fee", 19, F, V, "社区综合服务设施物业收费不高于所在小区住宅标准", "facilities"),
    RuleSpec("M19.salary_share", 19, H, V, "社区工作者薪酬市区两级1∶1承担", "funding",
             {"district_per_city": 1.0, "tolerance": 1}),
]}

del C, P, F, D, H, V, W, N

# Rules of an app that ships rules.py but has not written them yet: reported as
# a warning (compliance.W003) instead of failing startup. Empty it as they land.
PENDING: frozenset[str] = frozenset()


def clause(number: int) -> Clause:
    return CLAUSES[number]


def spec(rule_id: str) -> RuleSpec:
    return RULES[rule_id]


def rules_of_clause(number: int) -> list[RuleSpec]:
    return [s for s in RULES.values() if s.clause == number]

"""What people read instead of rule ids: ``措施四·户数规模``.

The rule id (``M04.households``) is a contract for exports' own column, the JSON
and URLs; every page, message and sheet a person reads shows the name built here,
with the id at most in a tooltip.
"""

from __future__ import annotations

from .catalogue import CHINESE_NUMERALS, RULES

# A few words each, enough to tell two rules of one 措施 apart.
SHORT_NAMES: dict[str, str] = {
    "M01.sub_district": "管理主体",
    "M03.compound_unassigned": "小区划入社区",
    "M03.jurisdiction_dispute": "管辖争议裁定",
    "M04.boundaries": "四至边界",
    "M04.households": "户数规模",
    "M04.population": "人口规模",
    "M06.adjustment_plan": "调整计划",
    "M06.oversized_staffing": "超大型社区增配人员",
    "M06.district_adjustment": "全区拆分整合进度",
    "M07.facility_area": "服务设施面积",
    "M07.outdoor_plaza": "室外活动广场",
    "M07.activity_share": "居民活动区域占比",
    "M08.handover": "设施移交",
    "M09.facility_debt": "社区用房欠账",
    "M10.party_size": "党组织班子人数",
    "M10.committee_size": "居委会人数",
    "M10.cross_appointment": "交叉任职比例",
    "M10.fulltime_share": "专职进两委比例",
    "M10.total_cap": "两委人数上限",
    "M11.worker_ratio": "社区工作者配比",
    "M11.election_deadline": "新设社区选举时限",
    "M11.vacancy": "两委空缺补选",
    "M12.worker_training": "全员培训",
    "M12.leader_training": "书记主任专项培训",
    "M13.post_grade": "三岗十八级",
    "M13.archive": "工作者档案",
    "M13.grade_growth": "等级自然增长",
    "M14.annual_assessment": "年度考核",
    "M15.resignation_notice": "辞职提前申请",
    "M15.exit_filing": "离职备案",
    "M16.embedded_services": "嵌入式服务",
    "M17.social_orgs": "社区社会组织",
    "M17.district_targets": "全区减负增效目标",
    "M18.property_service": "物业服务覆盖",
    "M18.property_committee": "环境和物业管理委员会",
    "M19.work_funds": "社区工作经费",
    "M19.salary_share": "薪酬市区分担",
    "M03.compound_register": "小区登记齐全",
    "M08.planned_area": "规划设施面积",
    "M14.incompetent_decision": "不称职处理决定",
    "M15.approval_before_filing": "先批准后备案",
    "M19.task_funds": "费随事转",
    "M19.residential_utilities": "水电气暖居民价",
    "M19.property_fee": "设施物业收费",
}


def short_name(rule_id: str) -> str:
    spec = RULES.get(rule_id)
    return SHORT_NAMES.get(rule_id) or (spec.title if spec else "")


def rule_name(rule_id: str) -> str:
    """``措施四·户数规模``; an id the catalogue does not know is returned as given."""
    spec = RULES.get(rule_id)
    if spec is None:
        return rule_id
    return f"措施{CHINESE_NUMERALS[spec.clause]}·{short_name(rule_id)}"

"""The policy sub-clause by sub-clause (issue 15): every requirement of the twenty 措施 and of the attachment's
eight steps, quoted from the policy text, with what the system does about it.

A requirement is

- ``checked``: rules judge it (their ids);
- ``recorded``: the system keeps it as a record that a person maintains, but judges nothing (where, and who);
- ``not_checkable``: no record the system could keep would show it, with the reason a reviewer would accept.

The quotes are the policy's own words (``docs/policy/``, also ``compliance/data/``), verbatim, so a reviewer can
find each one; a test holds every quote to the text, and a system check (``compliance.E007``) fails startup
when a requirement has no status, a checked one names no rule or an unknown one, a recorded one does not say
where, a non-checkable one gives no reason, or a catalogue rule belongs to no requirement.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .catalogue import RULES

CHECKED = "checked"
RECORDED = "recorded"
NOT_CHECKABLE = "not_checkable"

STATUS_LABELS = {CHECKED: "规则检查", RECORDED: "系统记录", NOT_CHECKABLE: "不可检查"}

# 附件 (the eight-step 社区设立审批流程) is numbered 21 here so it sorts after 措施二十.
ATTACHMENT = 21


@dataclass(frozen=True)
class Requirement:
    id: str
    clause: int
    quote: str
    status: str
    rules: tuple[str, ...] = ()
    where: str = ""
    reason: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def _c(rid: str, clause: int, quote: str, *rules: str) -> Requirement:
    return Requirement(rid, clause, quote, CHECKED, rules=rules)


def _r(rid: str, clause: int, quote: str, where: str, *rules: str) -> Requirement:
    return Requirement(rid, clause, quote, RECORDED, rules=rules, where=where)


def _n(rid: str, clause: int, quote: str, reason: str) -> Requirement:
    return Requirement(rid, clause, quote, NOT_CHECKABLE, reason=reason)


_MEETINGS = "部门联席会议、工作机制的运行属于机关内部工作，本系统没有它们的数据来源；其结论体现在规则参数调整和督导记录中。"
_QUALITY = "这是对服务内容和工作质量的要求，没有可从台账数据判断的客观标准；由区民政局在督导检查中评价。"

REQUIREMENTS: tuple[Requirement, ...] = (
    # 措施一
    _c("R01.1", 1, "各街办具体承担社区综合管理职责", "M01.sub_district"),
    _r("R01.2", 1, "区民政局认真履职尽责、牵头抓总,主要负责社区管理的统筹协调、组织推进、检查指导、督促考核等工作",
       "问题的整改、督导记录（问题页、督导记录页）、通报与年度考核：区民政局审核员办理"),
    _n("R01.3", 1, "定期召集发改、财政、资源规划、住建等相关部门,研究社区管理工作中的重难点问题", _MEETINGS),
    _n("R01.4", 1, "不断健全完善“社区反映、街道吹哨、部门报到”工作机制", _MEETINGS),
    # 措施二
    _r("R02.1", 2, "区级各相关部门要认真贯彻落实",
       "各部门在本系统中办理的事项（设施规划、建设验收、经费）及其问题的责任单位：部门用户的“待我办理”"),
    _n("R02.2", 2, "形成上下一体联动、部门齐抓共管的社区管理格局", _MEETINGS),
    # 措施三
    _c("R03.1", 3, "严格以行政区划为基础进行社区管理,各街办全面负责行政区划范围内社区管理工作",
       "M01.sub_district"),
    _c("R03.2", 3, "对管理尚未明确或难以明确的区域,由区民政局裁定管理主体", "M03.jurisdiction_dispute"),
    _c("R03.3", 3, "无死角、无盲区", "M03.compound_unassigned", "M03.compound_register"),
    _c("R03.4", 3, "由区民政局报市民政局裁定", "M03.jurisdiction_dispute"),
    # 措施四
    _c("R04.1", 4, "确保四至清晰、管理无死角", "M04.boundaries"),
    _c("R04.2", 4, "社区一般按照1000户~5000户(5000人~15000人)规模设立", "M04.households", "M04.population"),
    _n("R04.3", 4, "以3500户或10000人为宜",
       "“为宜”是设立时的参考值而非标准，1000~5000户之内的任何规模都符合本条；系统在社区页面显示户数和人口供比较。"),
    _n("R04.4", 4, "结合辖区经济社会发展、人口规模、行政区划、管辖面积、路网情况、历史传承以及“15分钟便民服务圈”等因素",
       "划分管辖范围时要考虑的因素，是审查时的判断而非可量化的条件；其结果（四至、规模）由措施四的规则检查。"),
    # 措施五
    _r("R05.1", 5, "设立前相关街办提出设立意见,经社区居民讨论同意后,向区政府提出申请",
       "社区设立审批第1步：街办办事员提交，附居民讨论同意的材料"),
    _r("R05.2", 5, "由区民政局牵头审核资料、实地查看并征求相关部门建议,形成审核意见",
       "社区设立审批第2步：区民政局审核员的意见和附件"),
    _r("R05.3", 5, "经区政府研究同意后,报市民政局征求意见",
       "社区设立审批第3步：区民政局审核员登记区政府研究同意日期（必填，不晚于今天和市民政局意见日期，否则不能办理），"
       "同意文件作为附件上传"),
    _r("R05.4", 5, "经区政府常务会议批准后,报市民政局备案,同步做好阵地建设和“两委”选举工作",
       "社区设立审批第6步（批复日期即选举期限的起点）", "M11.election_deadline"),
    # 措施六
    _c("R06.1", 6, "合理制定超大型社区拆分和微型社区整合工作计划", "M06.adjustment_plan"),
    _c("R06.2", 6, "推进我区符合拆分及整合条件的7个超大型社区、8个微型社区逐步优化调整", "M06.district_adjustment"),
    _c("R06.3", 6, "暂未拆分的超大型社区,通过增加社区工作人员保障管理服务水平", "M06.oversized_staffing"),
    _r("R06.4", 6, "合理拆分超大型社区,就近合并微小型社区",
       "拆分、合并走社区设立审批八步流程，完成时新建、撤销或改隶社区和小区，旧记录保留：区民政局审核员"),
    # 措施七
    _c("R07.1", 7, "每百户居民拥有社区综合服务设施(社区办公和活动用房)建筑面积不低于30平方米", "M07.facility_area"),
    _c("R07.2", 7, "室外活动广场不低于1000平方米", "M07.outdoor_plaza"),
    _c("R07.3", 7, "对2000户以下规模的新建社区要按照社区综合服务设施建筑面积不低于600平方米的标准执行",
       "M07.facility_area"),
    _c("R07.4", 7, "居民活动区域面积不低于社区综合服务设施总面积的60%", "M07.activity_share"),
    _n("R07.5", 7, "落实“三去一改”(去行政化、去办公化、去形式化、改进为民服务水平),推行“一室多用”", _QUALITY),
    # 措施八
    _c("R08.1", 8, "资源规划莲湖分局负责严格按照标准审批社区综合服务设施规划", "M08.planned_area"),
    _r("R08.2", 8, "区住建局、大兴新区管委会负责督促开发建设单位严格按照职责及标准建设并组织验收",
       "设施生命周期的“在建”“验收”两步：区住建局或大兴新区管委会的部门用户登记"),
    _c("R08.3", 8, "区民政局负责联合资源规划、住建、属地街办及时移交社区综合服务设施", "M08.handover"),
    _r("R08.4", 8, "社区综合服务设施由所属街办接收管理",
       "设施的“移交”一步和所属社区（街办）：区民政局审核员与街办办事员"),
    _n("R08.5", 8, "建立由区民政局牵头,资源规划、住建等部门参与的社区综合服务设施联审机制", _MEETINGS),
    # 措施九
    _c("R09.1", 9, "对2011年2月以后规划建成但未按规定提供社区综合服务设施的居住小区", "M09.facility_debt"),
    _c("R09.2", 9, "逐步解决全区社区综合服务设施面积不达标的问题", "M07.facility_area"),
    _n("R09.3", 9, "采取新建、改扩建、市场化购买(租赁)、国资划拨、资源共享等方式",
       "补齐方式由各单位选择，本条不规定哪一种；结果（面积）由措施七的规则检查。"),
    # 措施十
    _c("R10.1", 10, "社区党组织班子成员由3~5人组成,一般情况下,党支部设3人,党总支、党委设5人", "M10.party_size"),
    _c("R10.2", 10, "社区居委会由5~9人组成,一般情况下,2000户以下的社区设5人,2000~4000户的社区设7人,4000户以上的社区设9人",
       "M10.committee_size"),
    _c("R10.3", 10, "支委、居委交叉任职比例不低于60%", "M10.cross_appointment"),
    _c("R10.4", 10, "社区专职进“两委”交叉任职比例不低于40%", "M10.fulltime_share"),
    _c("R10.5", 10, "社区“两委”人数最多不得超过11人", "M10.total_cap"),
    # 措施十一
    _n("R11.1", 11, "按照“五优、五选、十不选”要求,选优配强社区“两委”成员",
       "人选条件由街办和区级部门联审时把关，涉及政治素质等不在台账中的信息，系统不作判断。"),
    _c("R11.2", 11, "新设立社区自文件批复之日起三个月内完成“两委”选举", "M11.election_deadline"),
    _c("R11.3", 11, "社区“两委”成员出现空缺时要及时按程序补选", "M11.vacancy"),
    _c("R11.4", 11, "按照“每万名城镇常住人口拥有社区工作者18人”的要求配备社区工作者", "M11.worker_ratio"),
    _r("R11.5", 11, "通过调配和公开招聘的方式给予补充",
       "社区工作者的入职方式（公开招聘/依法选举）和入职日期：街办办事员在人员页登记", "M13.archive"),
    # 措施十二
    _c("R12.1", 12, "每年至少组织全员培训1次", "M12.worker_training"),
    _c("R12.2", 12, "每年至少组织社区书记、主任专项培训1次", "M12.leader_training"),
    _n("R12.3", 12, "通过上挂、轮岗、交流研讨、导师帮带等形式", "培训形式由组织单位选择，本条不规定次数或标准。"),
    # 措施十三
    _c("R13.1", 13, "落实“三岗十八级”绩效薪酬自然增长机制", "M13.post_grade", "M13.grade_growth"),
    _c("R13.2", 13, "制定社区工作者档案管理办法", "M13.archive"),
    _n("R13.3", 13, "各街办负责积极推荐社区工作者担任“两代表一委员”",
       "推荐结果取决于人大、政协的选举和协商，没有可判断的数量标准。"),
    _n("R13.4", 13, "通过开展体检、慰问等多种形式强化关爱,落实好社区工作者工会福利待遇", _QUALITY),
    # 措施十四
    _c("R14.1", 14, "全面考核思想政治素质、业务能力、工作态度、完成任务和廉洁自律情况", "M14.annual_assessment"),
    _c("R14.2", 14, "作为社区工作者调整等级、续聘解聘、奖励惩戒的重要依据", "M14.incompetent_decision"),
    _n("R14.3", 14, "做好容错纠错工作,不搞“一票否决”", _QUALITY),
    # 措施十五
    _r("R15.1", 15, "采取公开招聘或依法选举社区“两委”成员等方式配备",
       "入职方式（公开招聘/依法选举）：街办办事员在人员页登记", "M13.archive"),
    _n("R15.2", 15, "公开招聘社区工作者采取面向社会公开招聘方式,由市级相关部门统一组织实施",
       "招聘由市级部门组织，不在本区系统中办理；系统只记录结果（入职方式和日期）。"),
    _c("R15.3", 15, "应提前一周书面向所在社区提出辞职申请", "M15.resignation_notice"),
    _c("R15.4", 15, "由社区主要负责人提出意见报街办批准后,报区民政局备案", "M15.exit_filing",
       "M15.approval_before_filing"),
    _c("R15.5", 15, "向区民政局提交罢免或解聘备案报告", "M15.exit_filing"),
    # 措施十六
    _c("R16.1", 16, "规划建设以养老服务、婴幼儿托育、儿童托管、社区助餐服务等为主要功能的社区嵌入式服务设施",
       "M16.embedded_services"),
    _n("R16.2", 16, "为民服务以老有所养、幼有所育、病有所医、弱有所扶为目标", _QUALITY),
    # 措施十七
    _c("R17.1", 17, "力争2025年达到每个社区拥有不少于10个社区社会组织的目标", "M17.social_orgs"),
    _c("R17.2", 17, "全区设立12个社区减负增效工作监测点,创树10个社会组织参与社区治理典型案例", "M17.district_targets"),
    _c("R17.3", 17, "每年征集评选一批议事协商优秀典型案例", "M17.district_targets"),
    _n("R17.4", 17, "推广新时代“枫桥经验”", _QUALITY),
    # 措施十八
    _c("R18.1", 18, "推进小区物业服务全覆盖", "M18.property_service"),
    _c("R18.2", 18, "针对单位自管小区,压紧压实单位主体责任,签订共建共管协议", "M18.property_service"),
    _c("R18.3", 18, "推行在社区居民委员会下设环境和物业管理委员会", "M18.property_committee"),
    _n("R18.4", 18, "探索实践社区和物业服务企业“双向进入、交叉任职”机制", "“探索”没有可判断的标准。"),
    # 措施十九
    _c("R19.1", 19, "社区工作者薪酬待遇经费按照市区两级财政1∶1的比例承担", "M19.salary_share"),
    _c("R19.2", 19, "社区工作经费按照每年每个社区市级以上配套13万元、区级配套12万元的标准足额保障", "M19.work_funds"),
    _c("R19.3", 19, "社区综合服务设施水、电、气、暖价格执行居民生活类价格", "M19.residential_utilities"),
    _c("R19.4", 19, "物业服务收费标准按照不超过本小区住宅类物业服务收费标准执行", "M19.property_fee"),
    _c("R19.5", 19, "按照“费随事转”要求落实相应经费", "M19.task_funds"),
    # 措施二十
    _r("R20.1", 20, "把社区建设工作纳入目标责任考核,全面考核区级相关部门、各街办推进社区建设工作情况",
       "年度目标责任考核（按六个方面计分、排名）：区民政局审核员"),
    _r("R20.2", 20, "通报相关问题", "定期通报（草拟、审核、印发）：区民政局审核员"),
    _r("R20.3", 20, "通过提醒、督办、约谈等形式,督促工作落细落实",
       "问题逾期按天数升级为提醒、督办、约谈，督办单和约谈通知编号印发：区民政局审核员"),
    # 附件：社区设立审批流程
    _r("A1", ATTACHMENT, "属地街办提出意见,经社区居民(村转居的经村民会议)讨论同意后,向区政府提出申请",
       "社区设立审批第1步：街办办事员"),
    _r("A2", ATTACHMENT, "区民政局审核资料、实地查看并征求相关部门意见建议", "社区设立审批第2步：区民政局审核员"),
    _r("A3", ATTACHMENT, "区民政局报市民政局征求意见,市民政局审核资料、实地查看", "社区设立审批第3步：区民政局审核员"),
    _r("A4", ATTACHMENT, "市民政局提出意见并报请市政府审核后,向区民政局反馈意见",
       "社区设立审批第4步：区民政局审核员登记市民政局意见"),
    _r("A5", ATTACHMENT, "区民政局向区政府报告审核意见", "社区设立审批第5步：区民政局审核员"),
    _r("A6", ATTACHMENT, "区政府常务会批准后,报市民政局备案,同步做好阵地建设和“两委”选举工作",
       "社区设立审批第6步：批复日期开始三个月选举期限", "M11.election_deadline"),
    _r("A7", ATTACHMENT, "对社区阵地建设、“两委”选举、为民服务开展情况进行实地初检,由市民政局进行最终检查,达标后列入台账管理",
       "社区设立审批第7步：审核员登记选举、初检、终检日期（依次不早于批复日期、不晚于今天）；社区须无措施四、七、十、"
       "十一规则的违规项才转为“正常”列入台账，未达标的须由审核员写明理由"),
    _r("A8", ATTACHMENT, "区民政局每年底向市民政局专题报告新设立社区情况,由市民政局核发居委会统一社会信用代码证",
       "社区设立审批第8步：登记统一社会信用代码（校验位检查）"),
)

BY_ID: dict[str, Requirement] = {r.id: r for r in REQUIREMENTS}


def of_clause(number: int) -> list[Requirement]:
    return [r for r in REQUIREMENTS if r.clause == number]


def status_counts() -> dict[str, int]:
    counts = Counter(r.status for r in REQUIREMENTS)
    return {status: counts.get(status, 0) for status in STATUS_LABELS}


def requirement_errors(requirements=REQUIREMENTS, rule_ids=None) -> list[tuple[str, str]]:
    """(requirement or rule id, what is wrong) for the system check and its tests."""

    known = set(RULES) if rule_ids is None else set(rule_ids)
    errors: list[tuple[str, str]] = []
    seen: Counter[str] = Counter(r.id for r in requirements)
    for rid, n in seen.items():
        if n > 1:
            errors.append((rid, f"要求编号 {rid} 出现了 {n} 次"))
    for r in requirements:
        if r.status not in STATUS_LABELS:
            errors.append((r.id, "没有状态（规则检查、系统记录或不可检查）"))
        elif r.status == CHECKED and not r.rules:
            errors.append((r.id, "状态为规则检查，但没有列出规则"))
        elif r.status == RECORDED and not r.where.strip():
            errors.append((r.id, "状态为系统记录，但没有写明记录在哪里、由谁维护"))
        elif r.status == NOT_CHECKABLE and not r.reason.strip():
            errors.append((r.id, "状态为不可检查，但没有写明理由"))
        for rule_id in r.rules:
            if rule_id not in known:
                errors.append((r.id, f"列出的规则 {rule_id} 不在规则目录中"))
        if not r.quote.strip():
            errors.append((r.id, "没有引用政策原文"))
    covered = {rule_id for r in requirements for rule_id in r.rules}
    for rule_id in sorted(known - covered):
        errors.append((rule_id, "规则不属于任何一项要求"))
    return errors

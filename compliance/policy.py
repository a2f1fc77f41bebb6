"""The text of the twenty 措施, read from the policy file kept in ``data/``.

Each 措施 is the paragraph that begins with its marker “(一)” … “(二十)”; the
finding page quotes it whole so a clerk reads the clause itself, not our
paraphrase of it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from .catalogue import CHINESE_NUMERALS

POLICY_FILE = Path(__file__).resolve().parent / "data" / "lianhu-2024-community-management-measures.txt"
POLICY_TITLE = "《莲湖区关于进一步加强社区管理的若干措施》（2024年2月29日）"

_NUMBER_OF = {v: k for k, v in CHINESE_NUMERALS.items()}
# The published text uses both half-width and full-width brackets.
_MARKER = re.compile(r"^[(（](?P<n>[一二三四五六七八九十]+)[)）]")


@cache
def clause_texts() -> dict[int, str]:
    texts: dict[int, str] = {}
    for line in POLICY_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        match = _MARKER.match(line)
        if match and match.group("n") in _NUMBER_OF:
            texts.setdefault(_NUMBER_OF[match.group("n")], line)
    return texts


def clause_text(number: int) -> str:
    return clause_texts().get(number, "")


# Why a 措施 has no rule: the catalogue (docs/clauses.md) gives none, and here is the reason.
NO_RULE_REASONS: dict[int, str] = {
    2: "本条要求区级各部门按职责共管共建，是工作机制和责任分工，没有可从台账数据判断的量化标准。"
       "各部门应承担的具体事项已落在其他措施的规则中（如措施七、八、九的设施规划、验收、移交）。",
    5: "本条规定社区设立的审批流程，由“社区设立审批”八步流程本身保证："
       "每一步的经办人、意见和时间都记录在审批单中，不另设合规规则。设立后的选举时限见规则“措施十一·新设社区选举时限”。",
    20: "本条要求建立督导考核机制，对工作推进不力、问题整改不到位的单位通过提醒、督办、约谈督促落实。"
        "系统以“督导升级”实现：问题逾期未整改按天数逐级升级为提醒、督办、约谈，审核员在问题页登记所采取的督导措施；"
        "它作用于其他规则发现的问题，本身不另设规则。",
}

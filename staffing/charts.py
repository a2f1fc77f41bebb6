"""两委 sizes of the user's communities today against the ranges of 措施十 in force (党组织 3–5, 居委会 5–9)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from ui.charts import Chart, band_chart, histogram, mark_value

from .rules import annotate_composition

EDGES = list(range(1, 13))  # one bin per head count, 12 and more together


def liangwei_charts_marking(communities: QuerySet, party_n: int, committee_n: int) -> list[Chart]:
    """The same charts with the bins of one community's 党组织 and 居委会 sizes pointed out (its 两委 page)."""
    party, committee = liangwei_charts(communities)
    return [mark_value(party, EDGES, party_n, "本社区"), mark_value(committee, EDGES, committee_n, "本社区")]


def liangwei_charts(communities: QuerySet) -> list[Chart]:
    """How many communities have each 党组织班子 and 居委会 size; one query each, counted by the rules' own SQL."""
    from compliance.parameters import params_for_rules
    from compliance.rules import registry

    today = timezone.localdate()
    # The ranges in force today (dated parameters a reviewer may change).
    params = params_for_rules([registry.get("M10.party_size"), registry.get("M10.committee_size")], today)
    PARTY_MIN, PARTY_MAX = (int(params["M10.party_size"][k]) for k in ("min_party", "max_party"))
    COMMITTEE_MIN, COMMITTEE_MAX = (
        int(params["M10.committee_size"][k]) for k in ("min_committee", "max_committee"))
    judged = communities.judged()  # type: ignore[attr-defined]
    party = annotate_composition(judged, today, ("party_n",))
    committee = annotate_composition(judged, today, ("committee_n",))
    return [
        band_chart(
            chart_id="chart-party-size", title=f"社区党组织班子人数（措施十：{PARTY_MIN}～{PARTY_MAX}人）",
            x_label="班子人数", edges=EDGES, counts=histogram(party, "party_n", EDGES),
            band=(PARTY_MIN, PARTY_MAX + 1), band_label=f"{PARTY_MIN}～{PARTY_MAX}人的规定范围", unit="人",
            integer=True,
        ),
        band_chart(
            chart_id="chart-committee-size",
            title=f"社区居委会成员人数（措施十：{COMMITTEE_MIN}～{COMMITTEE_MAX}人）",
            x_label="成员人数", edges=EDGES, counts=histogram(committee, "committee_n", EDGES),
            band=(COMMITTEE_MIN, COMMITTEE_MAX + 1), band_label=f"{COMMITTEE_MIN}～{COMMITTEE_MAX}人的规定范围",
            unit="人", integer=True,
        ),
    ]

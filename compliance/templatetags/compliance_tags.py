"""Template helpers of the compliance pages and ``{% community_compliance_panel community %}``."""

from __future__ import annotations

from html import escape as _html_escape

from django import template
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from compliance import catalogue, names
from compliance.models import LIVE_STATUSES, Finding, FindingStatus, SupervisionLevel
from compliance.selectors import community_requirements, findings_for_user
from core.links import link_parts
from lianhu.dates import date as ymd

register = template.Library()

_BADGES = {"violation": "text-bg-danger", "warning": "text-bg-warning", "notice": "text-bg-info"}
_STATUS_BADGES = {"open": "text-bg-danger", "resolved": "text-bg-success", "waived": "text-bg-secondary",
                  "closed": "text-bg-success"}
_LEVEL_BADGES = {"remind": "text-bg-warning", "supervise": "text-bg-danger", "interview": "text-bg-dark"}


@register.filter
def severity_badge(value: str) -> str:
    return _BADGES.get(value, "text-bg-light")


@register.filter
def status_badge(value: str) -> str:
    return _STATUS_BADGES.get(value, "text-bg-light")


@register.filter
def level_badge(value: str) -> str:
    return _LEVEL_BADGES.get(value, "text-bg-light")


@register.filter
def level_label(value: str) -> str:

    return dict(SupervisionLevel.choices).get(value, "")


@register.filter
def severity_label(value: str) -> str:
    return catalogue.Severity.label(value)


@register.filter
def target_label(value: str) -> str:
    return dict(catalogue.Target.CHOICES).get(value, value)


@register.filter
def rule_title(rule_id: str) -> str:
    spec = catalogue.RULES.get(rule_id)
    return spec.title if spec else ""


@register.filter
def rule_name(rule_id: str) -> str:
    """``措施四·户数规模`` for ``M04.households``."""

    return names.rule_name(rule_id)


@register.filter
def rule_label(rule_id: str) -> str:
    """The rule's name with its id in the tooltip (ids are for attributes, names for eyes)."""


    return format_html('<span class="rule-name" title="{}">{}</span>', rule_id, names.rule_name(rule_id))


@register.filter
def numeral(number: int) -> str:
    return catalogue.CHINESE_NUMERALS.get(number, str(number))


@register.filter
def plain(value) -> str:
    """A measured/required JSON value as a clerk reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@register.inclusion_tag("compliance/_community_panel.html", takes_context=True)
def community_compliance_panel(context, community):

    today = timezone.localdate()
    request = context.get("request")
    return community_requirements(community, today, user=getattr(request, "user", None))


@register.inclusion_tag("compliance/_home_summary.html")
def home_findings_summary(user):
    """The home page's card: the user's open findings by severity, each count a link into the list."""


    counts = dict(findings_for_user(user).filter(status=FindingStatus.OPEN).values_list("severity")
                  .annotate(n=Count("id")).order_by())
    return {"rows": [(value, label, counts.get(value, 0)) for value, label in catalogue.Severity.CHOICES],
            "total": sum(counts.values())}


@register.inclusion_tag("compliance/_target_findings.html")
def target_findings_panel(target_type: str, obj):
    """A record page's live findings (the compound page: 划入社区, 管理主体, 物业, 用房欠账)."""

    findings = Finding.objects.filter(target_type=target_type, target_pk=obj.pk, status__in=LIVE_STATUSES)
    return {"findings": list(findings.order_by("clause", "rule_id"))}


def _rule_cell(rule_id: str, cells: dict[str, str]) -> str:
    """A findings row's rule: its name (the id in the tooltip), the link's end, and its title below."""
    cells[rule_id] = cell = (f'{rule_label(rule_id)}</a>'
                             f'<div class="small text-muted">{_html_escape(str(rule_title(rule_id)))}</div></td>')
    return cell


@register.simple_tag
def finding_rows(page) -> SafeString:
    """The 问题清单's rows, written out here rather than by a template loop: 50 rows of twelve cells took the
    template engine ~0.28 ms a row (two {% url %} and a dozen look-ups and filters each), half of the page's CPU
    and the costliest page of the load mix. The cells and their escaping are the template's; the two links are
    reversed once per page."""
    detail, detail_tail = link_parts("compliance:finding_detail")
    community, community_tail = link_parts("communities:community_detail")
    # The labels once: get_FOO_display() builds the field's choices dict again on every call (~40 µs a row).
    severity_labels = dict(Finding._meta.get_field("severity").flatchoices)
    status_labels = dict(Finding._meta.get_field("status").flatchoices)
    # Django's escape() is html.escape() behind a check for lazy text on every call; these are plain strings.
    def escape(value) -> str:
        return _html_escape(str(value))

    # A page's 50 rows name a handful of rules: each rule's cells are built once.
    rule_cells: dict[str, str] = {}
    rows = []
    for f in page:
        place = (f'<a href="{community}{f.community_id}{community_tail}">{escape(f.community.name)}</a>'
                 if f.community_id is not None and f.community is not None else "—")
        street = escape(f.sub_district.name) if f.sub_district is not None else "—"
        level = getattr(f, "escalation", "")
        badge = (f'<span class="badge {_LEVEL_BADGES.get(level, "text-bg-light")}">{escape(level_label(level))}</span>'
                 if level else "")
        rows.append(
            f'<tr data-rule="{escape(f.rule_id)}" data-key="{escape(f.target_key)}">'
            f"<td>{escape(numeral(f.clause))}</td>"
            f'<td><a href="{detail}{f.pk}{detail_tail}">{rule_cells.get(f.rule_id) or _rule_cell(f.rule_id, rule_cells)}'
            f"<td>{escape(f.target_label)}</td><td>{place}</td><td>{street}</td>"
            f'<td><span class="badge {_BADGES.get(f.severity, "text-bg-light")}">'
            f"{escape(severity_labels.get(f.severity, f.severity))}</span></td>"
            f'<td class="text-wrap finding-message">{escape(f.message)}</td>'
            f'<td>{ymd(f.first_seen, "Y-m-d")}</td>'
            f'<td class="finding-due">{ymd(f.due_date, "Y-m-d") or "—"}</td>'
            f'<td class="finding-unit">{escape(f.responsible_name or "—")}</td>'
            f'<td><span class="badge {_STATUS_BADGES.get(f.status, "text-bg-light")}">'
            f"{escape(status_labels.get(f.status, f.status))}</span></td>"
            f"<td>{badge}</td></tr>")
    if not rows:
        rows.append('<tr><td colspan="12" class="text-muted">没有符合条件的问题。</td></tr>')
    return mark_safe("\n".join(rows))  # every value above went through escape()

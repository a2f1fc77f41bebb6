"""What people read, in Chromium (issue 13): the pages at a laptop's and a phone's width, on paper, and the charts.

- the dashboard, a community, the findings list and the 台账 at 1366×768 and 390×844: never wider than the
  screen (wide tables scroll in their own box), each kept as a screenshot in test-artifacts/;
- the 台账 and the 审批表 in print media at the size of their A4 sheet, without menu or buttons;
- the charts on the dashboard and the community list draw what the record holds: each chart's series, read from
  ECharts, equals the table printed beside it.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from .pages import log_in

pytestmark = pytest.mark.browser

HOUSEHOLDS = [500, 900, 1000, 1800, 2600, 3300, 4100, 5000, 5200, 7400, 12000]
# Print media at the size of the paper (96 px per inch): the 台账 goes across A4, the 审批表 down it.
A4_LANDSCAPE = {"width": 1123, "height": 794}
A4_PORTRAIT = {"width": 794, "height": 1123}
SCREENS = {"1366x768": {"width": 1366, "height": 768}, "390x844": {"width": 390, "height": 844}}


@pytest.fixture
def world(streets, clerk_qingnian, reviewer):
    """Communities across the 户数 band in two 街办, two sweeps of them, and a request halfway through."""
    from approvals.services import request_create_new
    from communities.services import community_create
    from compliance.services import sweep_run
    from tests.approvals.conftest import part, submit, walk

    communities = []
    for i, households in enumerate(HOUSEHOLDS):
        street = streets["qingnian" if i % 3 else "zaoyuan"]
        communities.append(community_create(
            code=f"{street.code}{i + 1:03d}", name=f"测试{i + 1}号社区居委会", sub_district=street,
            households=households, population=households * 3 + 200, east="东大街", south="南大街",
            west="西大街", north="北大街",
        ))
    today = timezone.localdate()
    sweep_run(as_of=today - dt.timedelta(days=30))
    sweep_run(as_of=today)
    req = request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设星火社区",
                             part=part("610104001090", "星火社区居民委员会"))
    submit(req, clerk_qingnian)
    walk(req, reviewer, until=4)
    return {"communities": communities, "request": req}


def _width(page) -> tuple[int, int]:
    return page.evaluate("document.documentElement.scrollWidth"), page.viewport_size["width"]


def _fits(page, what: str) -> None:
    scroll, width = _width(page)
    assert scroll <= width, f"{what} is {scroll} px wide at a {width} px viewport"
    # A title squeezed by the toolbar beside it broke one character a line (the 新设社区台账 at 390 px).
    chars = page.evaluate("""() => { const h = document.querySelector('h1');
        return h ? h.getBoundingClientRect().width / parseFloat(getComputedStyle(h).fontSize) : 99; }""")
    assert chars >= 4, f"{what}: the page title is {chars:.1f} characters wide"


@pytest.mark.parametrize("screen", list(SCREENS))
def test_pages_fit_the_screen(live_server, world, reviewer, new_page, screenshot, screen):
    page = new_page()
    page.set_viewport_size(SCREENS[screen])
    log_in(page, live_server.url, reviewer.username)
    community = world["communities"][3]
    pages = {
        "dashboard": reverse("compliance:dashboard"),
        "community": reverse("communities:community_detail", args=[community.pk]),
        "findings": reverse("compliance:finding_list"),
        "ledger": reverse("exports:ledger", args=["communities"]) + "?format=print",
        "approvals-ledger": reverse("approvals:ledger"),
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        _fits(page, f"{name} at {screen}")
        shot = screenshot(page, f"screens-{name}-{screen}")
        assert shot.stat().st_size > 10_000
        if name == "dashboard":
            # The menu folds into its button below 1200 px and unfolds on a laptop's screen.
            assert page.locator(".navbar-toggler").is_visible() == (SCREENS[screen]["width"] < 1200)


def test_ledger_and_approval_form_on_paper(live_server, world, reviewer, new_page, screenshot):
    page = new_page()
    log_in(page, live_server.url, reviewer.username)
    page.emulate_media(media="print")
    for name, path, sheet in (
        ("ledger", reverse("exports:ledger", args=["communities"]) + "?format=print", A4_LANDSCAPE),
        ("approval-form", reverse("approvals:request_print", args=[world["request"].pk]), A4_PORTRAIT),
    ):
        page.set_viewport_size(sheet)
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        _fits(page, f"{name} in print")
        # No buttons on paper; the table's header row repeats on every page.
        assert page.locator(".print-toolbar").is_hidden()
        assert page.evaluate("getComputedStyle(document.querySelector('thead')).display") == "table-header-group"
        screenshot(page, f"print-{name}")
    steps = page.locator("#approval-steps tbody tr")
    assert steps.count() == 8
    # Ordinary pages in print: the red menu and the buttons stay off the paper, the matrix fits the sheet.
    page.set_viewport_size(A4_PORTRAIT)
    for name, path in (("approvals-ledger-page", reverse("approvals:ledger")),
                       ("dashboard", reverse("compliance:dashboard"))):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.locator("nav.site-nav").is_hidden() and page.locator("main .btn").first.is_hidden()
        _fits(page, f"the {name} in print")
        screenshot(page, f"print-{name}")


def _chart_against_table(page, chart_id: str) -> dict:
    page.wait_for_selector(f"#{chart_id}[data-chart-ready]")
    drawn = page.evaluate(
        """id => { const o = echarts.getInstanceByDom(document.getElementById(id)).getOption();
                   return {categories: o.xAxis[0].data, series: o.series.map(s => ({name: s.name, data: s.data}))}; }""",
        chart_id,
    )
    table = page.evaluate(
        """id => { const t = document.querySelector(`table[data-chart-table="${id}"]`);
                   const names = [...t.querySelectorAll('thead th')].slice(1).map(th => th.textContent.trim());
                   const rows = [...t.querySelectorAll('tbody tr')].map(tr => ({
                     category: tr.querySelector('th').childNodes[0].textContent.trim(),
                     values: [...tr.querySelectorAll('td')].map(td => {
                       const text = td.textContent.trim().replace(/,/g, '');
                       return text === '—' ? null : Number(text); })}));
                   return {names, rows}; }""",
        chart_id,
    )
    assert drawn["categories"] == [r["category"] for r in table["rows"]]
    assert [s["name"] for s in drawn["series"]] == table["names"]
    for i, series in enumerate(drawn["series"]):
        assert series["data"] == [r["values"][i] for r in table["rows"]], f"{chart_id}: {series['name']}"
    return drawn


def test_charts_draw_the_record(live_server, world, reviewer, new_page, screenshot):
    from compliance.models import Finding, FindingStatus

    page = new_page()
    log_in(page, live_server.url, reviewer.username)
    page.goto(live_server.url + reverse("compliance:dashboard"))
    streets = _chart_against_table(page, "chart-street-severity")
    assert set(streets["categories"]) >= {"青年路街道", "枣园街道"}
    # The stacked bars hold every community with an open finding, counted once per severity.
    open_findings = Finding.objects.filter(status=FindingStatus.OPEN, community__isnull=False)
    expected = sum(len(set(open_findings.filter(severity=sev).values_list("community", flat=True)))
                   for sev in ("violation", "warning", "notice"))
    assert sum(sum(s["data"][:2]) for s in streets["series"]) >= expected > 0
    trend = _chart_against_table(page, "chart-open-trend")
    assert len(trend["categories"]) == 2 and sum(s["data"][-1] for s in trend["series"]) == Finding.objects.filter(
        status=FindingStatus.OPEN).count()
    screenshot(page, "charts-dashboard")

    page.goto(live_server.url + reverse("communities:community_list"))
    households = _chart_against_table(page, "chart-households")
    from communities.models import Community

    # Every community on the list, the one the request brought (筹建) too.
    assert sum(households["series"][0]["data"]) == Community.objects.count() == len(HOUSEHOLDS) + 1
    labels = dict(zip(households["categories"], households["series"][0]["data"], strict=True))
    assert labels["4,500–5,000"] == 1 and labels["5,001–5,499"] == 1 and labels["≥10,000"] == 1
    _chart_against_table(page, "chart-population")
    page.locator("#chart-households").scroll_into_view_if_needed()
    screenshot(page, "charts-community-list")

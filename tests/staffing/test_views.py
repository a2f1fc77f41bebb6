"""Pages: masked ID numbers, 404 scoping, forms going through the services."""

from datetime import date

import pytest
from django.urls import reverse

from staffing.idnumbers import mask
from staffing.models import Assessment, Body, Employment, ExitProcedure, Seat, TrainingAttendance

from . import builders as b

pytestmark = pytest.mark.django_db


@pytest.fixture
def qn(streets):
    return b.community(streets["qingnian"], "001")


@pytest.fixture
def worker(qn):
    return b.worker(qn, entry_on=date(2020, 1, 1))


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("url_name", ["person_detail", "person_list", "composition"])
def test_clerk_sees_masked_admin_sees_whole(client, qn, worker, clerk_qingnian, admin_user, url_name):
    p = worker.person
    url = {
        "person_detail": reverse("staffing:person_detail", args=[p.public_id]),
        "person_list": reverse("staffing:person_list"),
        "composition": reverse("staffing:composition", args=[qn.pk]),
    }[url_name]
    for user in (clerk_qingnian, admin_user):
        page = login(client, user).get(url).content.decode()
        assert p.id_number not in page  # whole only when an administrator asks (person_reveal)
        assert mask(p.id_number) in page
        assert f"{p.birth_date:%Y-%m-%d}" not in page  # the masked digits are the birth date


def test_admin_reveal_is_posted_and_recorded(client, worker, clerk_qingnian, admin_user):
    from audit.models import Kind, SecurityEvent

    p = worker.person
    url = reverse("staffing:person_reveal", args=[p.public_id])
    assert login(client, admin_user).get(url).status_code == 405
    page = client.post(url).content.decode()
    assert p.id_number in page and f"{p.birth_date:%Y-%m-%d}" in page
    event = SecurityEvent.objects.get(kind=Kind.ID_REVEAL)
    assert event.username == admin_user.username and event.detail["persons"] == [p.public_id]
    assert p.id_number not in str(event.detail)
    assert login(client, clerk_qingnian).post(url).status_code == 403
    assert SecurityEvent.objects.filter(kind=Kind.ID_REVEAL).count() == 1


def test_admin_finds_a_person_by_posted_number(client, worker, admin_user, clerk_qingnian):
    p = worker.person
    response = login(client, admin_user).post(reverse("staffing:person_list"), {"id_number": p.id_number})
    assert response.status_code == 302 and response["Location"] == reverse("staffing:person_detail", args=[p.public_id])
    assert p.id_number not in response["Location"]
    # GET ?q= no longer matches numbers, so nobody puts one in a URL to find a person.
    page = client.get(reverse("staffing:person_list"), {"q": p.id_number}).content.decode()
    assert p.public_id not in page
    assert login(client, clerk_qingnian).post(reverse("staffing:person_list"), {"id_number": p.id_number}).status_code == 403


def test_reviewer_also_sees_masked(client, worker, reviewer):
    page = login(client, reviewer).get(reverse("staffing:person_detail", args=[worker.person.public_id]))
    assert worker.person.id_number not in page.content.decode()


def test_other_street_gets_404(client, qn, worker, clerk_zaoyuan):
    login(client, clerk_zaoyuan)
    assert client.get(reverse("staffing:person_detail", args=[worker.person.public_id])).status_code == 404
    assert client.get(reverse("staffing:composition", args=[qn.pk])).status_code == 404
    assert client.post(reverse("staffing:worker_create", args=[qn.pk]), {}).status_code == 404
    assert client.post(reverse("staffing:employment_edit", args=[worker.pk]), {}).status_code == 404


def test_composition_shows_sizes_and_shares(client, qn, clerk_qingnian):
    people = [b.person() for _ in range(5)]
    for i, p in enumerate(people):
        b.seat(qn, Body.PARTY, "secretary" if i == 0 else "member", who=p)
    for p in people[:3]:
        b.seat(qn, Body.COMMITTEE, "member", who=p)
    b.worker(qn, who=people[0])
    page = login(client, clerk_qingnian).get(reverse("staffing:composition", args=[qn.pk])).content.decode()
    assert 'id="cross-pct">60.0%' in page
    assert 'id="party-n">5' in page
    assert "交叉任职 3 人 ÷ 党组织成员 5 人" in page


def test_community_page_has_the_staffing_panel(client, qn, clerk_qingnian):
    page = login(client, clerk_qingnian).get(reverse("communities:community_detail", args=[qn.pk])).content.decode()
    panel = page.split('id="staffing-panel"')[1]
    assert 'id="workers-n"' in panel and 'id="committee-n"' in panel and "交叉任职比例" in panel
    assert reverse("staffing:composition", args=[qn.pk]) in page


def test_worker_form_refuses_bad_check_digit_without_echo(client, qn, clerk_qingnian):
    good = b.id_number()
    bad = good[:17] + ("1" if good[17] == "0" else "0")
    response = login(client, clerk_qingnian).post(reverse("staffing:worker_create", args=[qn.pk]), {
        "id_number": bad, "name": "王五", "full_time": "on", "post": "other", "grade": "5",
        "entry_on": "2024-01-02", "entry_channel": "recruitment",
    })
    assert response.status_code == 200
    page = response.content.decode()
    assert "校验位不正确" in page and bad not in page
    assert not Employment.objects.exists()


def test_worker_form_creates_and_grade_19_is_refused(client, qn, clerk_qingnian):
    login(client, clerk_qingnian)
    data = {"id_number": b.id_number(), "name": "王五", "full_time": "on", "post": "other", "grade": "19",
            "entry_on": "2024-01-02", "entry_channel": "recruitment"}
    page = client.post(reverse("staffing:worker_create", args=[qn.pk]), data).content.decode()
    assert "1–18" in page
    data["grade"] = "18"
    response = client.post(reverse("staffing:worker_create", args=[qn.pk]), data)
    assert response.status_code == 302
    assert Employment.objects.get().grade == 18


def test_seat_form_refuses_two_communities(client, streets, clerk_qingnian):
    a, c = b.community(streets["qingnian"], "001"), b.community(streets["qingnian"], "002")
    p = b.person()
    b.seat(a, Body.PARTY, "member", who=p, start_on=date(2021, 1, 1))
    login(client, clerk_qingnian)
    response = client.post(reverse("staffing:seat_create", args=[c.pk]), {
        "id_number": p.id_number, "name": p.name, "body": "committee", "role": "member", "start_on": "2024-01-01",
    })
    assert "一人不能同时在两个社区的两委任职" in response.content.decode()
    assert Seat.objects.count() == 1


def test_training_for_many_people_at_once(client, qn, clerk_qingnian):
    workers = [b.worker(qn) for _ in range(3)]
    login(client, clerk_qingnian)
    response = client.post(reverse("staffing:training_create", args=[qn.pk]), {
        "title": "2025年全员培训", "kind": "general", "held_on": "2025-05-01",
        "persons": [w.person.public_id for w in workers[:2]],
    })
    assert response.status_code == 302
    assert TrainingAttendance.objects.filter(event__title="2025年全员培训").count() == 2


def test_assessment_entry_by_year(client, qn, worker, clerk_qingnian):
    login(client, clerk_qingnian)
    url = reverse("staffing:assessment_year", args=[qn.pk, 2024])
    assert worker.person.name in client.get(url).content.decode()
    response = client.post(url, {f"r_{worker.person.public_id}": "excellent"})
    assert response.status_code == 302
    assert Assessment.objects.get(person=worker.person, year=2024).result == "excellent"


def test_exit_procedure_through_the_pages(client, worker, clerk_qingnian):
    login(client, clerk_qingnian)
    client.post(reverse("staffing:exit_start", args=[worker.pk]),
                {"kind": "resignation", "on": "2025-05-01", "leave_on": "2025-05-10", "note": "个人原因"})
    procedure = ExitProcedure.objects.get()
    url = reverse("staffing:exit_advance", args=[procedure.pk])
    # The head's opinion needs its text.
    assert "请填写社区负责人的意见" in client.post(url, {"on": "2025-05-02"}).content.decode()
    client.post(url, {"on": "2025-05-02", "note": "同意"})
    client.post(url, {"on": "2025-05-05"})
    client.post(url, {"on": "2025-05-20"})
    worker.refresh_from_db()
    assert (worker.resignation_submitted_on, worker.approved_on, worker.filed_on) == (
        date(2025, 5, 1), date(2025, 5, 5), date(2025, 5, 20))
    steps = list(procedure.steps.values_list("step", "actor__username"))
    assert steps == [("submitted", "clerk_qn"), ("head_opinion", "clerk_qn"), ("subdistrict_approved", "clerk_qn"),
                     ("filed", "clerk_qn")]


def _export_ids(response):
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_roster_export_masks_unless_admin_asks(client, qn, worker, clerk_qingnian, admin_user):
    url = reverse("staffing:roster_export", args=[qn.pk])
    number = worker.person.id_number
    login(client, clerk_qingnian)
    assert _export_ids(client.get(url + "?reveal=1")) == [mask(number)]
    login(client, admin_user)
    assert _export_ids(client.get(url)) == [mask(number)]
    assert _export_ids(client.get(url + "?reveal=1")) == [number]


def test_department_users_do_not_read_people(client, qn, worker, department_user):
    login(client, department_user)
    assert client.get(reverse("staffing:composition", args=[qn.pk])).status_code == 403
    assert client.get(reverse("staffing:person_detail", args=[worker.person.public_id])).status_code == 404
    listing = client.get(reverse("staffing:person_list")).content.decode()
    assert worker.person.name not in listing
    # Told why the list is empty, not that nobody is recorded; no search box for names it may not read.
    assert "您的角色不查看人员名单" in listing and "尚未登记人员" not in listing
    assert 'name="q"' not in listing
    page = client.get(reverse("communities:community_detail", args=[qn.pk])).content.decode()
    assert 'id="staffing-panel"' not in page

"""People across 街办 (issue 14): a form tells a clerk nothing about another 街办's person, registers nothing,
moves nothing; the import refuses by the same service; a person moves only by a confirmed 人员调动."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from imports.services import workbook_import
from staffing import services
from staffing.models import Employment, Person, PersonTransfer, Seat, TransferStatus, Vacancy

from . import builders as b
from .test_sheets import PERSON_HEADERS, issues, person_row, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def qn(streets):
    return b.community(streets["qingnian"], "001")


@pytest.fixture
def zy(streets):
    return b.community(streets["zaoyuan"], "001", name="枣园西社区")


@pytest.fixture
def others(zy):
    """Another 街办's people: a serving worker, a former worker (left), a 两委 member."""
    serving = b.worker(zy, who=b.person("赵丽华"), entry_on=date(2020, 1, 1)).person
    former = b.worker(zy, who=b.person("钱志远"), entry_on=date(2018, 1, 1), leave_on=date(2022, 6, 30)).person
    member = b.seat(zy, "committee", "member", who=b.person("孙慧敏")).person
    return [serving, former, member]


def snapshot() -> tuple:
    """Everything a refused form must leave as it was."""
    return (
        list(Person.objects.order_by("pk").values_list("pk", "name", "community_id")),
        list(Employment.objects.order_by("pk").values_list("pk", "person_id", "community_id", "leave_on")),
        list(Seat.objects.order_by("pk").values_list("pk", "person_id", "community_id", "end_on")),
        list(Vacancy.objects.order_by("pk").values_list("pk", "filled_on", "filled_by_id")),
        Person.history.count(), Employment.history.count(), Seat.history.count(),
    )


def form_posts(qn, number):
    vacancy = Vacancy.objects.filter(community=qn).first() or services.vacancy_create(
        community=qn, body="committee", role="member", vacated_on=date(2025, 1, 1))
    return [
        (reverse("staffing:worker_create", args=[qn.pk]),
         {"id_number": number, "name": "冒名", "full_time": "on", "entry_on": "2025-01-02"}),
        (reverse("staffing:seat_create", args=[qn.pk]),
         {"id_number": number, "name": "冒名", "body": "committee", "role": "member", "start_on": "2025-01-02"}),
        (reverse("staffing:vacancy_fill", args=[vacancy.pk]),
         {"id_number": number, "name": "冒名", "filled_on": "2025-01-02"}),
    ]


def test_person_forms_tell_nothing_and_change_nothing(client, qn, zy, others, clerk_qingnian):
    client.force_login(clerk_qingnian)
    form_posts(qn, "x")  # the vacancy exists before the snapshot
    before = snapshot()
    for person in others:
        for url, data in form_posts(qn, person.id_number):
            response = client.post(url, data)
            page = response.content.decode()
            assert response.status_code == 200, url  # the form again, with its error
            assert person.name not in page and zy.name not in page and "枣园" not in page, url
            assert person.public_id not in page
            assert "其他街道办事处" in page  # the neutral refusal
    assert snapshot() == before
    assert client.get(reverse("staffing:person_detail", args=[others[1].public_id])).status_code == 404


def test_the_service_refuses_with_one_code(qn, others):
    for person in others:
        with pytest.raises(ValidationError) as refused:
            services.worker_create(id_number=person.id_number, name="冒名", community=qn, entry_on=date(2025, 1, 2))
        assert refused.value.error_dict["id_number"][0].code == "id_held_elsewhere"
        assert person.name not in " ".join(refused.value.messages)


def test_own_streets_person_is_still_found_by_number(client, qn, clerk_qingnian):
    own = b.worker(qn, who=b.person("周梅"), entry_on=date(2019, 1, 1), leave_on=date(2021, 1, 1)).person
    client.force_login(clerk_qingnian)
    url, data = form_posts(qn, own.id_number)[0]
    assert client.post(url, data).status_code == 302
    assert Employment.objects.filter(person=own).count() == 2
    assert Person.objects.get(pk=own.pk).name == "周梅"  # the form's name does not rename a recorded person


def test_the_import_refuses_by_the_same_service(qn, zy, others, clerk_qingnian):
    before = snapshot()
    result = workbook_import(file=xlsx({"人员": [PERSON_HEADERS, *(person_row(p.id_number) for p in others)]}),
                             user=clerk_qingnian)
    assert [(i[2], i[3]) for i in issues(result)] == [("身份证号", "id_held_elsewhere")] * 3
    text = " ".join(i.message for i in result.issues)
    assert all(p.name not in text for p in others) and "枣园" not in text
    assert snapshot() == before


def test_a_confirmed_transfer_lets_the_receiving_street_register(client, qn, zy, others, clerk_qingnian,
                                                                 clerk_zaoyuan):
    former = others[1]
    client.force_login(clerk_qingnian)
    response = client.post(reverse("staffing:transfer_list"),
                           {"to_community": str(qn.pk), "id_number": former.id_number, "note": "调入青年路"})
    assert response.status_code == 302
    transfer = PersonTransfer.objects.get()
    assert (transfer.status, transfer.from_sub_district_id) == (TransferStatus.PENDING, zy.sub_district_id)
    page = client.get(reverse("staffing:transfer_list")).content.decode()
    assert former.name not in page and zy.name not in page
    # Not theirs to confirm, and still refused before the confirmation.
    assert client.post(reverse("staffing:transfer_decide", args=[transfer.pk]), {"action": "confirm"}).status_code == 404
    url, data = form_posts(qn, former.id_number)[0]
    assert "其他街道办事处" in client.post(url, data).content.decode()

    client.force_login(clerk_zaoyuan)
    assert former.name in client.get(reverse("staffing:transfer_list")).content.decode()
    client.post(reverse("staffing:transfer_decide", args=[transfer.pk]), {"action": "refuse"})  # no reason: kept
    assert PersonTransfer.objects.get().status == TransferStatus.PENDING
    client.post(reverse("staffing:transfer_decide", args=[transfer.pk]), {"action": "confirm", "note": "同意"})
    assert PersonTransfer.objects.get().status == TransferStatus.CONFIRMED

    client.force_login(clerk_qingnian)
    assert client.post(url, data).status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED and transfer.history.count() == 3
    assert Person.objects.get(pk=former.pk).community == qn
    assert client.get(reverse("staffing:person_detail", args=[former.public_id])).status_code == 200


def test_transfer_request_says_when_none_is_needed(qn, clerk_qingnian):
    own = b.worker(qn).person
    for number in (own.id_number, b.id_number()):
        with pytest.raises(ValidationError) as refused:
            services.transfer_request(id_number=number, to_community=qn, user=clerk_qingnian)
        assert refused.value.error_dict["id_number"][0].code == "transfer_not_needed"


def test_transfer_pages_read_a_constant_number_of_queries(client, qn, zy, clerk_qingnian, clerk_zaoyuan, reviewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def ask(n):
        for _ in range(n):
            person = b.worker(zy).person
            services.transfer_request(id_number=person.id_number, to_community=qn, user=clerk_qingnian)

    counts = {}
    for user in (clerk_qingnian, clerk_zaoyuan, reviewer):
        counts[user.username] = []
    for n in (1, 4):
        ask(n)
        for user in (clerk_qingnian, clerk_zaoyuan, reviewer):
            client.force_login(user)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse("staffing:transfer_list")).status_code == 200
            counts[user.username].append(len(ctx))
    assert all(a == b_ for a, b_ in counts.values()), counts

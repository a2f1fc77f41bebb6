"""The 审批表 for paper: eight steps, what each recorded, room to sign and seal; scoped like the request page."""

import pytest
from django.urls import reverse

from approvals.services import request_create_new

from .conftest import part, submit, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def req(streets, clerk_qingnian):
    return request_create_new(user=clerk_qingnian, sub_district=streets["qingnian"], title="新设大兴东社区",
                              part=part("610104001050", "大兴东社区居委会"))


def test_form_lists_eight_steps_with_what_was_recorded(client, req, clerk_qingnian, reviewer):
    submit(req, clerk_qingnian)
    walk(req, reviewer, until=4)
    client.force_login(reviewer)
    html = client.get(reverse("approvals:request_print", args=[req.pk])).content.decode()
    steps = html.split('id="approval-steps"')[1].split("</table>")[0]
    assert steps.count("<tr data-step=") == 8
    assert steps.count('class="sign"') == 8 and steps.count("（盖章）") == 8
    assert "居民议事会同意" in steps and "第3步同意" in steps and "莲政字〔2024〕3号" in steps and "2024-03-01" in steps
    step5 = steps.split('data-step="5"')[1].split("</tr>")[0]
    assert "同意" not in step5  # not reached yet: blank for the pen
    assert "大兴东社区居委会" in html and "610104001050" in html


def test_another_streets_clerk_gets_404(client, req, clerk_zaoyuan):
    client.force_login(clerk_zaoyuan)
    assert client.get(reverse("approvals:request_print", args=[req.pk])).status_code == 404


def test_request_page_links_to_the_form(client, req, clerk_qingnian):
    client.force_login(clerk_qingnian)
    html = client.get(reverse("approvals:request_detail", args=[req.pk])).content.decode()
    assert reverse("approvals:request_print", args=[req.pk]) in html

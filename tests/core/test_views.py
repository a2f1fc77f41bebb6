"""core.views.service_form / service_action: the save block every entry page shares.

The pages that use it are tested through their own views (tests/<app>/test_views.py, the permission matrix,
the form fuzzing); here the block itself, with the re-judging report stood in for, so its order and its
refusal path are pinned down."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory

from core import views


class NameForm(forms.Form):
    name = forms.CharField()
    count = forms.IntegerField(required=False)


@pytest.fixture
def report(monkeypatch):
    """Stands in for compliance's capture_changes/report_changes: records what was captured and reported."""
    log: list = []

    @contextmanager
    def capture():
        log.append("capture")
        yield "the save's findings"

    def reported(request, changes):
        log.append(("report", changes))
        from django.contrib import messages

        messages.info(request, "findings")

    monkeypatch.setattr(views, "capture_changes", capture)
    monkeypatch.setattr(views, "report_changes", reported)
    monkeypatch.setattr(views, "render", lambda request, template, context: HttpResponse(f"{template}|{sorted(context)}"))
    return log


def _request(method="get", data=None):
    request = getattr(RequestFactory(), method)("/x/", data or {})
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _call(request, form, save, **kwargs):
    return views.service_form(request, form, save=save, message=kwargs.pop("message", lambda r: f"已保存：{r}"),
                              success_url=kwargs.pop("success_url", lambda r: f"/done/{r}/"),
                              template="t.html", context={"form": form}, **kwargs)


def test_get_shows_the_page_and_saves_nothing(report):
    saved = []
    response = _call(_request(), NameForm(None), saved.append)
    assert response.status_code == 200 and response.content.decode() == "t.html|['form']"
    assert saved == [] and report == []


def test_valid_post_saves_then_message_then_findings_then_redirect(report):
    request = _request("post", {"name": "a", "count": "3"})
    response = _call(request, NameForm(request.POST), lambda data: data["name"] + str(data["count"]))
    assert response.status_code == 302 and response["Location"] == "/done/a3/"
    assert report == ["capture", ("report", "the save's findings")]
    assert [m.message for m in get_messages(request)] == ["已保存：a3", "findings"]


def test_a_refused_save_shows_its_errors_on_the_form_and_reports_nothing(report):
    request = _request("post", {"name": "甲"})
    form = NameForm(request.POST)
    reloaded = []

    def refuse(data):
        raise ValidationError({"name": "重复。", "other": "别处的错误。"})

    response = _call(request, form, refuse, on_error=lambda: reloaded.append(True))
    assert response.status_code == 200
    assert form.errors == {"name": ["重复。"], "__all__": ["别处的错误。"]}
    assert reloaded == [True] and report == ["capture"] and list(get_messages(request)) == []


def test_an_invalid_form_is_not_saved(report):
    request = _request("post", {"count": "x"})
    form = NameForm(request.POST)
    saved = []
    assert _call(request, form, saved.append).status_code == 200
    assert saved == [] and report == [] and set(form.errors) == {"name", "count"}


def test_report_false_neither_captures_nor_reports(report):
    request = _request("post", {"name": "甲"})
    response = _call(request, NameForm(request.POST), lambda data: 1, report=False, message="好。",
                     success_url="/back/")
    assert response["Location"] == "/back/" and report == []
    assert [m.message for m in get_messages(request)] == ["好。"]


def test_submitted_overrides_the_valid_post_test(report):
    request = _request("post", {"name": "甲"})
    saved = []
    form = NameForm(request.POST)
    form.is_valid()
    assert _call(request, form, saved.append, submitted=False).status_code == 200 and saved == []


def test_service_action_turns_a_refusal_into_an_error_message(report):
    request = _request("post")

    def refuse():
        raise ValidationError(["第一。", "第二。"])

    response = views.service_action(request, save=refuse, message="不会出现", next_url="/detail/")
    assert response["Location"] == "/detail/" and report == ["capture"]
    assert [(m.level_tag, m.message) for m in get_messages(request)] == [("error", "第一。；第二。")]

    request = _request("post")
    response = views.service_action(request, save=lambda: "步骤", message=lambda step: f"已办理{step}。",
                                    next_url="/detail/")
    assert [m.message for m in get_messages(request)] == ["已办理步骤。", "findings"]

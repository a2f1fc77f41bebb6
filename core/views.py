"""The one way a page saves a form through a service.

Every entry page did the same steps after ``form.is_valid()``, and wrote them out each time:

1. call the service inside ``compliance.engine.capture_changes()`` (the rules re-judge what the save
   touched, and the block collects the findings it opened or closed);
2. a ``ValidationError`` from the service (raised after the form passed: a race, a check only the
   service can make) goes onto the form beside its field (``core.forms.errors_to_form``) and the page
   is shown again;
3. otherwise a success message, the save's findings (``compliance.feedback.report_changes``) and a
   redirect to where the saved record is shown.

``service_form`` is those steps, once. The view keeps what differs: which record and permission (it
looks them up, so 404/403 come before anything else), the form, the service call, the words of the
message and where it goes next::

    return service_form(
        request, form,
        save=lambda data: services.compound_create(user=request.user, **data),
        message=lambda compound: f"已新建小区：{compound.name}（{compound.code}）。",
        success_url=lambda compound: reverse("communities:compound_detail", args=[compound.pk]),
        template="communities/compound_form.html", context={"form": form, "compound": None},
    )

``service_action`` is the same for a button on a detail page (POST only, no form page to show again):
a refusal becomes an error message and the user goes back to the page either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from compliance.engine import capture_changes
from compliance.feedback import report_changes

from .forms import errors_to_form

T = TypeVar("T")


def _text(value: str | Callable[[Any], str], result: Any) -> str:
    return value(result) if callable(value) else value


def service_form(
    request: HttpRequest,
    form: forms.BaseForm,
    *,
    save: Callable[[dict[str, Any]], T],
    message: str | Callable[[T], str],
    success_url: str | Callable[[T], str],
    template: str,
    context: Mapping[str, Any],
    submitted: bool | None = None,
    on_error: Callable[[], object] | None = None,
    report: bool = True,
) -> HttpResponse:
    """Show ``template`` with ``context``; on a valid POST, ``save(form.cleaned_data)`` and redirect.

    ``submitted`` replaces the usual test (a POST whose form is valid) for a page of several forms;
    ``on_error`` runs before a refusal is shown (e.g. ``refresh_from_db`` when the service changed the
    instance before validating); ``report=False`` for a save whose page never reported findings.
    """
    if submitted is None:
        submitted = request.method == "POST" and form.is_valid()
    if submitted:
        data = form.cleaned_data
        try:
            # The findings are reported after the success message (the order the pages always had); a
            # refused save reports none.
            with capture_changes() if report else nullcontext(None) as changes:
                result = save(data)
        except ValidationError as error:
            if on_error is not None:
                on_error()
            errors_to_form(form, error)
        else:
            messages.success(request, _text(message, result))
            if changes is not None:
                report_changes(request, changes)
            return HttpResponseRedirect(_text(success_url, result))
    return render(request, template, dict(context))


def service_action(
    request: HttpRequest,
    *,
    save: Callable[[], T],
    message: str | Callable[[T], str],
    next_url: str,
    report: bool = True,
) -> HttpResponse:
    """A button's save: the service call, then back to ``next_url`` with what happened as a message
    (a refusal: its messages joined by "；")."""
    try:
        with capture_changes() if report else nullcontext(None) as changes:
            result = save()
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, _text(message, result))
        if changes is not None:
            report_changes(request, changes)
    return HttpResponseRedirect(next_url)


def history_page(request: HttpRequest, obj: Any, *, kind: str, list_url: str, name: str, back_url: str) -> HttpResponse:
    """A record's whole history, newest first, a page at a time: the record's own page shows the latest
    changes only (core.history.RECORD_PAGE_HISTORY). The caller has read ``obj`` through its selector."""
    from ui.listing import paginate

    from .history import HISTORY_LIMIT, history_rows

    total = obj.history.count()
    page = paginate(request, range(total), HISTORY_LIMIT)
    offset = (page.number - 1) * page.paginator.per_page
    return render(request, "core/history_page.html", {
        "kind": kind, "list_url": list_url, "name": name, "back_url": back_url, "page": page, "total": total,
        "history": history_rows(obj, page.paginator.per_page, offset),
    })

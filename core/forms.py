"""The form kit every app's forms use: Bootstrap's classes on every widget, a date picker, and a
service's ValidationError shown on the form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def errors_to_form(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's ValidationError (raised after the form passed, e.g. a race) shown beside its fields;
    errors about fields the form does not have go above it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class FetchedChoiceIterator(forms.models.ModelChoiceIterator):
    """A model choice list read with one ordinary query. Django reads it with ``.iterator()``, which on
    PostgreSQL opens a server-side cursor (DECLARE, FETCH, CLOSE: three round trips, and a WITH HOLD cursor
    outside a transaction) for a list of a few hundred 街办 or 社区 that is rendered whole anyway."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():  # a copy each time: the field's own queryset keeps no rows
            yield self.choice(obj)


def fetch_choices(field: forms.Field) -> None:
    """Give a model choice field (and its widget) the FetchedChoiceIterator."""
    if isinstance(field, forms.ModelChoiceField) and field.iterator is not FetchedChoiceIterator:
        field.iterator = FetchedChoiceIterator
        field.widget.choices = field.choices


class BootstrapMixin:
    """Gives every widget Bootstrap's classes (no inline styles: CSP) and model choices read in one query."""

    def _style_widgets(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            fetch_choices(field)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def _update_errors(self, errors: ValidationError) -> None:
        # The model's clean() repeats checks the form field already made (a blank
        # code is "required" twice, and ModelForm renders both with the field's
        # wording); a field that already failed keeps its first message only.
        if hasattr(errors, "error_dict"):
            already = set(getattr(self, "_errors", None) or ())
            kept = {name: errs for name, errs in errors.error_dict.items() if name not in already}
            if not kept:
                return
            errors = ValidationError(kept)
        super()._update_errors(errors)  # type: ignore[misc]

"""The form kit's model choice lists: one ordinary query, the options as Django renders them."""

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities.models import SubDistrict
from core.forms import BootstrapMixin

pytestmark = pytest.mark.django_db


class StreetForm(BootstrapMixin, forms.Form):
    street = forms.ModelChoiceField(queryset=SubDistrict.objects.order_by("code"), empty_label="全部街道")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_widgets()


class PlainStreetForm(forms.Form):
    street = forms.ModelChoiceField(queryset=SubDistrict.objects.order_by("code"), empty_label="全部街道")


def test_a_choice_list_is_one_plain_query_with_the_same_options(streets):
    with CaptureQueriesContext(connection) as queries:
        html = str(StreetForm()["street"])
    # PostgreSQL: Django's own iterator() opens a server-side cursor (DECLARE, FETCH, CLOSE) for the list.
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT"]
    assert html.replace(' class="form-select"', "") == str(PlainStreetForm()["street"])
    assert "青年路街道" in html and "枣园街道" in html


def test_each_rendering_reads_the_rows_as_they_are_then(streets):
    form = StreetForm()
    str(form["street"])
    SubDistrict.objects.create(code="610104004", name="北院门街道")
    assert "北院门街道" in str(form["street"]), "the field's queryset keeps no rows between renderings"

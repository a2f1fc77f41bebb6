"""Facility forms. The community choice is limited to communities the user may
edit; the status is not a field: it moves only through the lifecycle steps."""

from __future__ import annotations

from django import forms

from communities.selectors import communities_for_user
from core.forms import BootstrapMixin, DateInput

from .models import Facility

FACILITY_FIELDS = [
    "code", "community", "name", "kind", "service_category", "building_area", "activity_area", "site_area",
    "acquisition", "residential_utilities", "compound", "property_fee",
]
INITIAL_FIELDS = ["status", "accepted_on", "handed_over_on"]

UTILITY_CHOICES = [("", "未填写"), ("true", "是"), ("false", "否")]


class FacilityForm(BootstrapMixin, forms.ModelForm):
    residential_utilities = forms.TypedChoiceField(
        label="水电气暖执行居民价格", choices=UTILITY_CHOICES, required=False,
        coerce=lambda v: {"true": True, "false": False}.get(v), empty_value=None,
    )

    class Meta:
        model = Facility
        fields = FACILITY_FIELDS + INITIAL_FIELDS
        widgets = {"accepted_on": DateInput(), "handed_over_on": DateInput()}

    def __init__(self, *args, user, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for_user(  # type: ignore[attr-defined]  # a ModelChoiceField
            user, "change_community").judged()
        from communities.models import Compound

        self.fields["compound"].queryset = Compound.objects.filter(  # type: ignore[attr-defined]
            community__in=self.fields["community"].queryset).order_by("code")  # type: ignore[attr-defined]
        if self.instance.pk and self.instance.residential_utilities is not None:
            self.initial["residential_utilities"] = "true" if self.instance.residential_utilities else "false"
        if not creating:
            # Status and its dates change only through the lifecycle steps.
            for name in INITIAL_FIELDS:
                del self.fields[name]
        else:
            self.fields["status"].help_text = "登记已有设施时选择其当前状态；之后的状态变化按流程逐步办理"
        self._style_widgets()


class StepForm(BootstrapMixin, forms.Form):
    on = forms.DateField(label="办理日期", required=False, widget=DateInput())
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_widgets()

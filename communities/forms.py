"""Browser forms for the district's structure.

Each form limits its choices to what the user may edit (a clerk sees only their
own 街办 and its communities), so a forged POST with another 街办's value fails
as an invalid choice. Validation beyond the fields is the model's ``clean()``,
which ModelForm runs, so the page shows the same coded messages as the services.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.forms import BootstrapMixin, DateInput

from .models import (
    Community,
    CommunityAdjustment,
    CommunityStatus,
    Compound,
)
from .selectors import communities_for_user, sub_districts_for_user

COMMUNITY_FIELDS = [
    "code",
    "name",
    "sub_district",
    "status",
    "households",
    "population",
    "founded_on",
    "approved_on",
    "election_on",
    "party_org_type",
    "east",
    "south",
    "west",
    "north",
    "social_org_count",
    "has_property_committee",
]


class CommunityForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Community
        fields = COMMUNITY_FIELDS
        widgets = {
            "founded_on": DateInput(),
            "approved_on": DateInput(),
            "election_on": DateInput(),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sub_district"].queryset = sub_districts_for_user(user, "change_subdistrict")
        self.fields["sub_district"].empty_label = "请选择街道办事处"
        if self.instance.pk and self.instance.is_revoked:
            # 撤销 is its own action with a date and reason; the edit form never undoes it.
            del self.fields["status"]
        else:
            self.fields["status"].choices = [
                (value, label) for value, label in CommunityStatus.choices if value != CommunityStatus.REVOKED
            ]
        self._style_widgets()


class RevokeForm(BootstrapMixin, forms.Form):
    # Named after the model field so the service's errors land beside it.
    revoked_on = forms.DateField(label="撤销日期", widget=DateInput())
    reason = forms.CharField(label="撤销理由", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("revoked_on", timezone.localdate())
        self._style_widgets()

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("请填写撤销理由。", code="required")
        return reason


class AdjustmentForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = CommunityAdjustment
        fields = ["kind", "reason", "planned_on"]
        widgets = {"planned_on": DateInput(), "reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_widgets()


COMPOUND_FIELDS = [
    "code",
    "name",
    "community",
    "sub_district",
    "households",
    "built_on",
    "must_provide_facility",
    "facility_provided",
    "property_service",
    "co_management_signed_on",
    "residential_property_fee",
    "jurisdiction_unclear",
    "unclear_since",
    "ruling",
    "ruling_authority",
    "ruling_on",
]


class CommunityStreetSelect(forms.Select):
    """The community <select>, each option saying its 街办 (data-street) so compound_form.js can fill 所在街道."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-street"] = instance.sub_district_id or ""
        return option


class CompoundForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Compound
        fields = COMPOUND_FIELDS
        widgets = {
            "community": CommunityStreetSelect(),
            "built_on": DateInput(),
            "unclear_since": DateInput(),
            "ruling_on": DateInput(),
            "co_management_signed_on": DateInput(),
        }
        help_texts = {
            "co_management_signed_on": "单位自管小区与社区签订共建共管协议的日期（措施十八）",
            "community": "尚未划入社区的小区留空，并选择所在街道",
            "sub_district": "已划入社区的小区自动随社区所属街道",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # A clerk may only put a compound into a community they may edit, and
        # never into a 撤销 one.
        self.fields["community"].queryset = (
            communities_for_user(user, "change_community").judged().select_related("sub_district")
        )
        self.fields["community"].empty_label = "（未划入社区）"
        self.fields["sub_district"].queryset = sub_districts_for_user(user, "change_subdistrict")
        self.fields["sub_district"].empty_label = "请选择街道办事处"
        self._style_widgets()

    def clean(self):
        cleaned = super().clean()
        community = cleaned.get("community")
        if community is not None:
            cleaned["sub_district"] = community.sub_district
        elif not cleaned.get("sub_district") and "sub_district" not in self.errors:
            self.add_error(
                "sub_district",
                ValidationError("未划入社区的小区须选择所在街道。", code="sub_district_required"),
            )
        return cleaned

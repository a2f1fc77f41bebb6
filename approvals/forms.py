"""Forms for establishment requests. Choices are limited to the clerk's own 街办,
so a forged POST naming another 街办's community fails as an invalid choice."""

from __future__ import annotations

from django import forms

from communities.models import Community, CommunityStatus, Compound, PartyOrgType, SubDistrict
from communities.selectors import own_sub_districts
from core.forms import BootstrapMixin, DateInput

from . import flow


class RecordsField(forms.ModelMultipleChoiceField):
    """Record ids from check boxes; a forged id too large for the database is refused like any unknown one
    (SQLite raises OverflowError for it inside ``pk__in``, which Django's field does not catch)."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk).strip()
            if not text.isdigit() or int(text) > 2**63 - 1:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                            params={"value": pk})
        return super()._check_values(value)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class Styled(BootstrapMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_widgets()


class PartFields(Styled):
    """A proposed community's figures and 四至."""

    code = forms.RegexField(label="社区代码", regex=r"^\d{12}$", max_length=12,
                            error_messages={"invalid": "社区代码必须是12位数字。"},
                            help_text="12位统计用区划代码，前9位为街道代码；撤销过的代码不得再用")
    name = forms.CharField(label="社区名称", max_length=60)
    households = forms.IntegerField(label="户数", min_value=0)
    population = forms.IntegerField(label="常住人口", min_value=0)
    party_org_type = forms.ChoiceField(label="党组织类型", choices=PartyOrgType.choices, initial=PartyOrgType.BRANCH)
    east = forms.CharField(label="东至", max_length=200, required=False)
    south = forms.CharField(label="南至", max_length=200, required=False)
    west = forms.CharField(label="西至", max_length=200, required=False)
    north = forms.CharField(label="北至", max_length=200, required=False)

    def part_data(self, prefix: str = "") -> dict:
        return {k: self.cleaned_data[k] for k in ("code", "name", "households", "population", "party_org_type",
                                                  "east", "south", "west", "north")}


def _own_streets(user):
    return own_sub_districts(user)


class NewRequestForm(PartFields):
    field_order = ["sub_district", "title", "reason"]
    sub_district = forms.ModelChoiceField(label="街道办事处", queryset=SubDistrict.objects.none(), empty_label=None)
    title = forms.CharField(label="申请名称", max_length=120)
    reason = forms.CharField(label="申请理由", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    compounds = RecordsField(
        label="划入的小区/院落", queryset=Compound.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple, help_text="本街办尚未划入社区的小区/院落",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        streets = _own_streets(user)
        self.fields["sub_district"].queryset = streets
        self.fields["compounds"].queryset = Compound.objects.filter(community__isnull=True, sub_district__in=streets)
        self.fields["compounds"].widget.attrs["class"] = "form-check-input"


class SplitSourceForm(Styled):
    source = forms.ModelChoiceField(label="拆分的原社区", queryset=Community.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Community.objects.filter(
            sub_district__in=_own_streets(user)).exclude(status=CommunityStatus.REVOKED)


class SplitHeadForm(Styled):
    title = forms.CharField(label="申请名称", max_length=120)
    reason = forms.CharField(label="申请理由", widget=forms.Textarea(attrs={"rows": 3}), required=False)


class SplitPartForm(PartFields):
    compounds = RecordsField(label="划入的小区/院落", queryset=Compound.objects.none(),
                                               required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, source: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compounds"].queryset = source.compounds.all()  # type: ignore[attr-defined]  # a RecordsField
        self.fields["compounds"].widget.attrs["class"] = "form-check-input"


class MergeForm(PartFields):
    field_order = ["sources", "title", "reason"]
    sources = RecordsField(label="合并的原社区（至少两个）", queryset=Community.objects.none(),
                                             widget=forms.CheckboxSelectMultiple)
    title = forms.CharField(label="申请名称", max_length=120)
    reason = forms.CharField(label="申请理由", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sources"].queryset = Community.objects.filter(
            sub_district__in=_own_streets(user)).exclude(status=CommunityStatus.REVOKED)
        self.fields["sources"].widget.attrs["class"] = "form-check-input"
        self.fields["code"].label = "合并后社区代码"
        self.fields["name"].label = "合并后社区名称"


class PartEditForm(Styled):
    name = forms.CharField(label="社区名称", max_length=60)
    households = forms.IntegerField(label="户数", min_value=0)
    population = forms.IntegerField(label="常住人口", min_value=0)
    party_org_type = forms.ChoiceField(label="党组织类型", choices=PartyOrgType.choices)
    east = forms.CharField(label="东至", max_length=200, required=False)
    south = forms.CharField(label="南至", max_length=200, required=False)
    west = forms.CharField(label="西至", max_length=200, required=False)
    north = forms.CharField(label="北至", max_length=200, required=False)


class ActForm(BootstrapMixin, forms.Form):
    """通过 a step: the fields this step's row asks for."""

    opinion = forms.CharField(label="办理意见", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    # The form metaclass moves declared fields into base_fields, so this does not shadow BaseForm.files.
    files = MultipleFileField(label="附件（PDF、PNG、JPEG，每个不超过10MB）")  # type: ignore[assignment]

    def __init__(self, *args, step: flow.Step, request_obj, **kwargs):
        super().__init__(*args, **kwargs)
        self.step = step
        if step.number == 1:
            self.fields["residents_agreed"] = forms.BooleanField(
                label="已征得居民同意（村转居的已经村民会议同意）", required=False)
            self.fields["opinion"].label = "申报说明"
        if step.needs_document or step.number == 5:
            who = step.records_outcome_of or "区民政局"
            self.fields["document_no"] = forms.CharField(label=f"{who}文号", max_length=100,
                                                         required=step.needs_document)
            self.fields["decided_on"] = forms.DateField(label=f"{who}意见日期", widget=DateInput(),
                                                        required=step.needs_document)
        if step.records_outcome_of:
            self.fields["opinion"].label = f"{step.records_outcome_of}意见（摘要）"
        if step.number == 3:
            self.fields["gov_agreed_on"] = forms.DateField(label="区政府研究同意日期", widget=DateInput())
        if step.number == 7:
            for name, label in flow.ELECTION_FIELDS:
                self.fields[name] = forms.DateField(label=label, widget=DateInput())
            self.fields["ledger_exception"] = forms.CharField(
                label="未达标仍列入台账的理由（达标的不填）", max_length=500, required=False,
                widget=forms.Textarea(attrs={"rows": 2}))
        if step.number == 8:
            for part in request_obj.parts.all():
                self.fields[f"credit_{part.pk}"] = forms.CharField(
                    label=f"“{part.name}”统一社会信用代码", max_length=18, min_length=18)
        self._style_widgets()

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        data: dict = {}
        if self.step.number == 1:
            data["residents_agreed"] = d.get("residents_agreed", False)
        if self.step.number == 3:
            data["gov_agreed_on"] = d["gov_agreed_on"]
        if self.step.number == 7:
            data.update({name: d[name] for name, _ in flow.ELECTION_FIELDS})
            data["ledger_exception"] = (d.get("ledger_exception") or "").strip()
        if self.step.number == 8:
            data["credit_codes"] = {k.removeprefix("credit_"): v for k, v in d.items() if k.startswith("credit_")}
        return {"opinion": d.get("opinion", ""), "document_no": d.get("document_no", ""),
                "decided_on": d.get("decided_on"), "data": data, "files": d.get("files", [])}


class SendBackForm(Styled):
    opinion = forms.CharField(label="退回理由", widget=forms.Textarea(attrs={"rows": 6}))
    files = MultipleFileField(label="附件（可选）")  # type: ignore[assignment]  # see ActForm.files

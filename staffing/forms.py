"""Browser forms for people, seats, employments, training, assessment and exits.

Forms only parse; validation with error codes is the models' ``clean()``,
run by the services, whose errors the views put back beside the fields.
"""

from __future__ import annotations

from django import forms

from core.forms import BootstrapMixin, DateInput

from .models import (
    AssessmentResult,
    Body,
    CareKind,
    DecisionKind,
    EntryChannel,
    ExitKind,
    Post,
    SeatRole,
    TrainingKind,
)


class StyledForm(BootstrapMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_widgets()


class NoEchoInput(forms.TextInput):
    """An ID number typed by the clerk is not written back into the page after an error."""

    def format_value(self, value):
        return None


def _id_field(label: str = "居民身份证号", required: bool = True, help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, max_length=20, required=required, help_text=help_text,
                           widget=NoEchoInput(attrs={"autocomplete": "off"}))


def _date(label: str, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput())


class EmploymentFieldsMixin(forms.Form):
    full_time = forms.BooleanField(label="专职", required=False, initial=True)
    post = forms.ChoiceField(label="岗位", choices=[("", "（未定）"), *Post.choices], required=False)
    grade = forms.IntegerField(label="等级（1–18）", required=False)
    entry_on = _date("入职日期", required=False)
    entry_channel = forms.ChoiceField(label="入职方式", choices=[("", "（未填）"), *EntryChannel.choices],
                                      required=False)
    probation_until = _date("试用期至", required=False)

    EMPLOYMENT_FIELDS = ("full_time", "post", "grade", "entry_on", "entry_channel", "probation_until")

    def employment_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.EMPLOYMENT_FIELDS}


class WorkerForm(BootstrapMixin, EmploymentFieldsMixin):
    id_number = _id_field(help_text="校验GB 11643校验位；保存后仅管理员可见完整号码")
    name = forms.CharField(label="姓名", max_length=50)
    education = forms.CharField(label="学历", max_length=30, required=False)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)

    field_order = ["id_number", "name", "education", "phone", *EmploymentFieldsMixin.EMPLOYMENT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_widgets()


class EmploymentForm(BootstrapMixin, EmploymentFieldsMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_widgets()


class PersonPickForm(StyledForm):
    """A form naming one person: picked from the community's people, or new by ID number and name."""

    person_required = ""

    def __init__(self, *args, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "（新人员）"), *((p.public_id, p.name) for p in persons)]

    def clean(self):
        data = super().clean()
        if not data.get("person") and not (data.get("id_number") and data.get("name")):
            raise forms.ValidationError(self.person_required, code="person_required")
        return data


class SeatForm(PersonPickForm):
    id_number = _id_field(required=False, help_text="新人员填写身份证号和姓名；本社区已有人员可直接在下方选择")
    name = forms.CharField(label="姓名", max_length=50, required=False)
    person = forms.ChoiceField(label="本社区已有人员", required=False)
    body = forms.ChoiceField(label="组织", choices=Body.choices)
    role = forms.ChoiceField(label="职务", choices=SeatRole.choices)
    start_on = _date("任职日期")

    person_required = "请选择已有人员，或填写新人员的身份证号和姓名。"


class SeatEndForm(StyledForm):
    end_on = _date("离任日期")
    # Below 措施十's minimum the seat falls vacant by itself; the box records a vacancy above it too.
    open_vacancy = forms.BooleanField(label="登记为空缺，需补选（离任后人数低于下限时自动登记）", required=False,
                                      initial=False)
    reason = forms.CharField(label="原因", max_length=200, required=False)


class VacancyFillForm(PersonPickForm):
    person = forms.ChoiceField(label="补选当选人（本社区已有人员）", required=False)
    id_number = _id_field("或新人员身份证号", required=False)
    name = forms.CharField(label="新人员姓名", max_length=50, required=False)
    filled_on = _date("补选日期")

    person_required = "请选择当选人，或填写新人员的身份证号和姓名。"


class TrainingForm(StyledForm):
    title = forms.CharField(label="培训名称", max_length=200)
    kind = forms.ChoiceField(label="培训类型", choices=TrainingKind.choices)
    held_on = _date("培训日期")
    organiser = forms.CharField(label="主办单位", max_length=100, required=False)
    persons = forms.MultipleChoiceField(label="参训人员", widget=forms.CheckboxSelectMultiple, required=True,
                                        error_messages={"required": "请至少选择一名参训人员。"})

    def __init__(self, *args, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["persons"].choices = [(p.public_id, p.name) for p in persons]
        self.fields["persons"].widget.attrs["class"] = "form-check-input"


class AssessmentYearForm(StyledForm):
    """One select per worker: the year's results entered at once."""

    def __init__(self, *args, persons=(), initial_results=None, **kwargs):
        super().__init__(*args, **kwargs)
        initial_results = initial_results or {}
        self.persons = list(persons)
        for p in self.persons:
            self.fields[f"r_{p.public_id}"] = forms.ChoiceField(
                label=p.name, required=False, choices=[("", "（未考核）"), *AssessmentResult.choices],
                initial=initial_results.get(p.pk, ""),
            )
        self._style_widgets()

    def results(self) -> dict:
        return {p: self.cleaned_data.get(f"r_{p.public_id}") for p in self.persons}


class ExitStartForm(StyledForm):
    kind = forms.ChoiceField(label="离职方式", choices=ExitKind.choices)
    on = _date("书面申请日期（辞职）/ 街办决定日期（辞退）")
    leave_on = _date("离职日期")
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ExitStepForm(StyledForm):
    on = _date("日期")
    note = forms.CharField(label="意见/备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CareForm(StyledForm):
    kind = forms.ChoiceField(label="类型", choices=CareKind.choices)
    on = _date("日期")
    note = forms.CharField(label="说明", max_length=200, required=False)


class AssessmentDecisionForm(StyledForm):
    """考核结果运用 (措施十四): what was decided on grade or contract after an assessment."""

    kind = forms.ChoiceField(label="决定", choices=DecisionKind.choices)
    decided_on = _date("决定日期")
    note = forms.CharField(label="说明", max_length=200, required=False)


class TransferRequestForm(StyledForm):
    """人员调动申请: the receiving 街办 names the person by ID number only."""

    to_community = forms.ChoiceField(label="调入社区")
    id_number = _id_field(help_text="该人员在其他街办登记；提交后由原街办或区民政局确认，确认后即可在调入社区登记")
    note = forms.CharField(label="调动说明", max_length=200, required=False)

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_community"].choices = [(str(c.pk), c.name) for c in communities]


class TransferDecideForm(StyledForm):
    note = forms.CharField(label="意见（不同意时必填）", max_length=200, required=False)

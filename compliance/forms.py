"""Forms of the compliance pages: waive a finding, record a supervision action, set a parameter."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.forms import DateInput

from .models import SupervisionLevel


class _Styled(forms.Form):
    def __init__(self, *args, **kwargs):
        # Django's default suffix is an ASCII colon ("督导方式:"); the other forms have none.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs.setdefault("class", css)


class WaiveForm(_Styled):
    reason = forms.CharField(label="豁免理由", widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="如：暂不拆分，已增配工作人员",
                             error_messages={"required": "请填写豁免理由。"})
    until = forms.DateField(label="豁免截止日期", widget=DateInput(),
                            error_messages={"required": "请填写豁免截止日期。", "invalid": "日期格式应为 YYYY-MM-DD。"})


class SupervisionForm(_Styled):
    level = forms.ChoiceField(label="督导方式", choices=SupervisionLevel.choices)
    taken_on = forms.DateField(label="督导日期", widget=DateInput(),
                               error_messages={"required": "请填写督导日期。", "invalid": "日期格式应为 YYYY-MM-DD。"})
    note = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": "请填写督导情况说明。"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["taken_on"].initial = timezone.localdate()


class ParameterForm(_Styled):
    value = forms.CharField(label="新取值", max_length=50, error_messages={"required": "请填写新取值。"})
    effective_from = forms.DateField(label="生效日期", widget=DateInput(),
                                     error_messages={"required": "请填写生效日期。",
                                                     "invalid": "日期格式应为 YYYY-MM-DD。"})
    reason = forms.CharField(label="理由", max_length=500, error_messages={"required": "请填写调整参数的理由。"})


class SweepStartForm(_Styled):
    as_of = forms.DateField(label="评估日期", widget=DateInput(), required=False,
                            error_messages={"invalid": "日期格式应为 YYYY-MM-DD。"},
                            help_text="留空为今天")

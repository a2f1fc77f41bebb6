"""Forms of the 整改, document and 通报 pages: parse input only; the services decide."""

from __future__ import annotations

from django import forms

from approvals.forms import MultipleFileField
from core.forms import DateInput

from .models import DocKind


class _Styled(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                css = "form-select form-select-sm"
            elif isinstance(field.widget, forms.ClearableFileInput):
                css = "form-control form-control-sm"
            else:
                css = "form-control form-control-sm"
            field.widget.attrs.setdefault("class", css)


class MeasuresForm(_Styled):
    measures = forms.CharField(label="整改措施", widget=forms.Textarea(attrs={"rows": 3}),
                               error_messages={"required": "请填写整改措施。"})
    expected_on = forms.DateField(label="预计完成日期", widget=DateInput(),
                                  error_messages={"required": "请填写预计完成日期。",
                                                  "invalid": "日期格式应为 YYYY-MM-DD。"})


class RequestCloseForm(_Styled):
    note = forms.CharField(label="整改情况说明", widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": "请填写整改情况说明。"})
    # The form metaclass moves declared fields into base_fields, so this does not shadow BaseForm.files.
    files = MultipleFileField(label="佐证材料（PDF、PNG、JPEG，每个不超过10MB）")  # type: ignore[assignment]


class ReviewForm(_Styled):
    note = forms.CharField(label="复核意见 / 退回理由", widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": "请填写复核意见或退回理由。"})


class DocumentForm(_Styled):
    unit = forms.CharField(label="责任单位", max_length=200, error_messages={"required": "请选择责任单位。"})
    kind = forms.ChoiceField(label="文种", choices=[(DocKind.SUPERVISE, "督办单"), (DocKind.INTERVIEW, "约谈通知")])
    reply_days = forms.IntegerField(label="反馈期限（天）", min_value=1, max_value=90, required=False)
    note = forms.CharField(label="督导要求（不填用默认文字）", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class BulletinForm(_Styled):
    period_start = forms.DateField(label="统计起始日", widget=DateInput(),
                                   error_messages={"invalid": "日期格式应为 YYYY-MM-DD。"})
    period_end = forms.DateField(label="统计截止日", widget=DateInput(),
                                 error_messages={"invalid": "日期格式应为 YYYY-MM-DD。"})
    remarks = forms.CharField(label="通报意见", widget=forms.Textarea(attrs={"rows": 3}), required=False)

from __future__ import annotations

from django import forms

from communities.selectors import communities_for_user
from core.forms import BootstrapMixin, DateInput

from .models import MAX_YEAR, MIN_YEAR, FundingLevel, SalaryLevel, TaskFund


class AllocationForm(BootstrapMixin, forms.Form):
    community: forms.ModelChoiceField = forms.ModelChoiceField(label="社区", queryset=None)
    year = forms.IntegerField(label="年度", min_value=MIN_YEAR, max_value=MAX_YEAR)
    level = forms.ChoiceField(label="层级", choices=FundingLevel.choices)
    planned = forms.DecimalField(label="配套金额（元）", max_digits=14, decimal_places=2)
    paid = forms.DecimalField(label="本次拨付（元）", max_digits=14, decimal_places=2, required=False,
                              help_text="有一笔拨付到账时填写；每笔拨付按日期保存，已拨付合计自动累加")
    paid_on = forms.DateField(label="拨付日期", required=False, widget=DateInput(), help_text="默认今天")
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for_user(user).judged().order_by("code")
        self._style_widgets()


class SalaryForm(BootstrapMixin, forms.Form):
    year = forms.IntegerField(label="年度", min_value=MIN_YEAR, max_value=MAX_YEAR)
    level = forms.ChoiceField(label="承担层级", choices=SalaryLevel.choices)
    amount = forms.DecimalField(label="金额（元）", max_digits=14, decimal_places=2)
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_widgets()


class TaskFundForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = TaskFund
        fields = ["community", "year", "task", "department", "amount", "received_on", "note"]
        widgets = {"received_on": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for_user(user).judged().order_by("code")
        self._style_widgets()




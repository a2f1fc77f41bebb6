"""Approval and 整改 steps are history: written once, never updated or removed, whichever way is tried."""

import pytest
from django.core.exceptions import ValidationError

from approvals.models import Attachment, StepRecord
from supervision.models import RectAttachment, RectStep


@pytest.mark.parametrize(("model", "label"), [(StepRecord, "审批记录"), (Attachment, "审批记录"),
                                              (RectStep, "整改记录"), (RectAttachment, "整改记录")])
def test_history_rows_refuse_update_and_delete(model, label):
    for attempt in (lambda: model.objects.all().update(pk=1), lambda: model.objects.all().delete(),
                    lambda: model(pk=1).save(), lambda: model(pk=1).delete()):
        with pytest.raises(ValidationError) as excinfo:
            attempt()
        assert excinfo.value.code == "history_immutable" and excinfo.value.messages[0].startswith(label)

"""The admin's import/export of 服务设施: the import sheet's columns and checks (core.resources)."""

from core.resources import SheetResource

from .models import Facility
from .sheets import FacilitySheet


class FacilityResource(SheetResource):
    sheet = FacilitySheet

    class Meta:
        model = Facility
        name = "服务设施（导入工作表格式）"

"""The admin's import/export of 社区 and 小区: the import sheets' columns and checks (core.resources)."""

from core.resources import SheetResource

from .models import Community, Compound
from .sheets import CommunitySheet, CompoundSheet


class CommunityResource(SheetResource):
    sheet = CommunitySheet

    class Meta:
        model = Community
        name = "社区（导入工作表格式）"


class CompoundResource(SheetResource):
    sheet = CompoundSheet

    class Meta:
        model = Compound
        name = "小区（导入工作表格式）"

"""The admin's import/export of 人员: the 人员 sheet's columns and checks (core.resources).

The export holds what a person record holds (not the posts, which have their own sheets), with the number
masked and the birth year beside it for every role, administrators included: a whole number is a reveal,
which is its own recorded action on the person pages, never a side effect of an export.
"""

from import_export.fields import Field

from core.resources import SheetResource

from .models import Person
from .privacy import export_birth, export_id_number
from .sheets import ID_HEADER, PersonSheet

BIRTH_HEADER = "出生年份"


class PersonResource(SheetResource):
    sheet = PersonSheet
    export_columns = (ID_HEADER, "姓名", "社区代码", "学历")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        fields = dict(self.fields)
        self.fields = {
            ID_HEADER: Field(attribute="id_number", column_name=ID_HEADER,
                             dehydrate_method=lambda person: export_id_number(person.id_number)),
            BIRTH_HEADER: Field(attribute="birth_date", column_name=BIRTH_HEADER,
                                dehydrate_method=lambda person: export_birth(person.birth_date)),
            **{header: field for header, field in fields.items() if header != ID_HEADER},
        }

    class Meta:
        model = Person
        name = "人员（导入工作表格式；身份证号遮蔽）"

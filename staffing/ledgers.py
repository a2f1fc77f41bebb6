"""The 人员台账: one row per person the user may see, masked ID numbers unless an administrator asks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Q, TextField
from django.utils import timezone

from communities.ledgers import communities_in_scope
from core.ledgers import CHUNK, Ledger, labels, register
from core.writer import DATE, NUMBER, Col

from . import idcrypto
from .models import Body, Employment, EntryChannel, Post, Seat, SeatRole, Sex
from .privacy import birth_column, export_birth, export_id_number, may_see_id_numbers, record_reveal
from .selectors import persons_for_user


@register("people", "人员台账", order=30, may_reveal=may_see_id_numbers, record_reveal=record_reveal)
def people_ledger(user, street: str | None = None, *, reveal: bool = False, as_of: dt.date | None = None) -> Ledger:
    """One row per person the user may see, with the job and 两委 seats they hold on ``as_of``.

    ID numbers are masked unless an administrator explicitly asks (``reveal``).
    Three queries (people, jobs, seats), each ordered by person and merged here. The ID numbers are read as
    ciphertext and decrypted a chunk at a time (``idcrypto.decrypt_many``), not one by one by the field.
    """
    as_of = as_of or timezone.localdate()
    reveal = reveal and may_see_id_numbers(user)
    communities = communities_in_scope(user, street)
    people = persons_for_user(user)
    if street:
        people = people.filter(
            Exists(Seat.objects.filter(person=OuterRef("pk"), community__in=communities))
            | Exists(Employment.objects.filter(person=OuterRef("pk"), community__in=communities))
            | Q(community__in=communities)
        )
    table = people.order_by("pk").annotate(
        id_token=ExpressionWrapper(F("id_number"), output_field=TextField())).values_list(
        "pk", "public_id", "name", "id_token", "sex", "birth_date", "education", "community__code",
        "community__name", "community__sub_district__name",
    )
    jobs = (Employment.objects.active_on(as_of).filter(community__in=communities).order_by("person_id", "-entry_on")
            .values_list("person_id", "community__code", "full_time", "post", "grade", "entry_on", "entry_channel"))
    seats = (Seat.objects.active_on(as_of).filter(community__in=communities).order_by("person_id", "body")
             .values_list("person_id", "body", "role"))
    sex, post, channel, role = labels(Sex), labels(Post), labels(EntryChannel), labels(SeatRole)

    def rows() -> Iterator[list[Any]]:
        job_iter = iter(jobs.iterator(chunk_size=CHUNK))
        seat_iter = iter(seats.iterator(chunk_size=CHUNK))
        job = next(job_iter, None)
        seat = next(seat_iter, None)
        people_iter = table.iterator(chunk_size=CHUNK)
        while chunk := list(islice(people_iter, CHUNK)):
            numbers = idcrypto.decrypt_many([r[3] for r in chunk])
            for (pk, public_id, name, _token, s, birth, education, c_code, c_name, s_name), number in zip(
                    chunk, numbers, strict=True):
                while job is not None and job[0] < pk:
                    job = next(job_iter, None)
                mine = job if job is not None and job[0] == pk else None
                while job is not None and job[0] == pk:  # a second concurrent job: the latest entry is shown
                    job = next(job_iter, None)
                held: dict[str, str] = {}
                while seat is not None and seat[0] <= pk:
                    if seat[0] == pk:
                        held.setdefault(seat[1], role.get(seat[2], seat[2]))
                    seat = next(seat_iter, None)
                yield [
                    public_id, name, export_id_number(number, user=user, reveal=reveal), sex.get(s, s),
                    export_birth(birth, user=user, reveal=reveal), education,
                    c_code, c_name, s_name, "是" if mine else "否",
                    ("是" if mine[2] else "否") if mine else None, post.get(mine[3], mine[3]) if mine else None,
                    mine[4] if mine else None, mine[5] if mine else None,
                    channel.get(mine[6], mine[6]) if mine else None,
                    held.get(Body.PARTY), held.get(Body.COMMITTEE),
                ]

    cols: list[str | Col] = [Col("人员编号", width=14), "姓名", Col("身份证号", width=20), "性别",
            Col(birth_column(user=user, reveal=reveal), DATE if reveal else NUMBER), "学历",
            Col("所属社区代码", width=15), Col("所属社区", width=20), "街道办事处", "社区工作者", "专职", "岗位",
            Col("等级", NUMBER), Col("入职日期", DATE), "入职方式", "党组织职务", "居委会职务"]
    return Ledger("people", "人员台账", cols, rows(), table.count)

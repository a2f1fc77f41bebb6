"""People of the communities: 两委 seats, community workers and their careers.

The rules (``staffing/rules.py``) read these tables with the readings of
docs/clauses.md: a seat or an employment is *active on D* when it started on or
before D and has not ended on or before D. Seats and employments keep their
own dates, so the district's history stays readable after people move on.

Validation lives in ``clean()`` (stable error codes, Chinese messages) so that
forms, services and the workbook import refuse the same data the same way;
the constraints repeat what SQL can say.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from communities.models import Community
from core.constraints import exactly
from core.history import RecordHistory

from . import idcrypto, idnumbers
from .fields import EncryptedIdNumberField, IdNumberDigestField

MIN_GRADE = 1
MAX_GRADE = 18
PUBLIC_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


# Each byte value to its letter: 256 = 8 × 32, so every letter is equally likely.
_PUBLIC_ID_LETTERS = bytes(ord(PUBLIC_ID_ALPHABET[b % 32]) for b in range(256))


def new_public_id() -> str:
    # Opaque on purpose: findings, exports and URLs carry it instead of the ID number. One urandom call and
    # one table look-up in C (a 100,000-row 人员 import draws 100,000 of them).
    return "P" + secrets.token_bytes(11).translate(_PUBLIC_ID_LETTERS).decode()


def _today():
    return timezone.localdate()


class Sex(models.TextChoices):
    MALE = idnumbers.MALE, "男"
    FEMALE = idnumbers.FEMALE, "女"


def _id_number_taken(digest: str, pk: Any, recorded: Mapping[str, int] | None) -> bool:
    if recorded is None:
        return Person.objects.filter(id_number_hash=digest).exclude(pk=pk).exists()
    holder = recorded.get(digest)
    return holder is not None and holder != pk


class PersonQuerySet(models.QuerySet):
    def with_id_number(self, number: object) -> PersonQuerySet:
        """The person of a number, found by its keyed hash (the stored number is ciphertext)."""
        normalized = idnumbers.normalize(number)
        if not normalized:
            return self.none()
        return self.filter(id_number_hash=idcrypto.digest(normalized))

    def with_id_numbers(self, numbers) -> PersonQuerySet:
        return self.filter(id_number_hash__in=[idcrypto.digest(n) for n in {idnumbers.normalize(n) for n in numbers}
                                               if n])


def id_number_digests(numbers) -> dict[str, str]:
    """number → digest, for callers that map rows read back by digest to their numbers."""
    return {n: idcrypto.digest(n) for n in {idnumbers.normalize(n) for n in numbers} if n}


class Person(models.Model):
    # Unique by the constraints in Meta, not unique=True: that would add a LIKE index (varchar_pattern_ops) that
    # no query uses beside the unique one, on the largest table (2.3 M people; a 10,000-row import writes 0.08 s
    # less without the two), and an index on the history table's copy.
    public_id = models.CharField("人员编号", max_length=12, default=new_public_id, editable=False)
    # Ciphertext in the database, the clear number in Python (staffing/idcrypto.py); found and kept unique by
    # id_number_hash, so a dump or a backup holds no number in clear.
    id_number = EncryptedIdNumberField("居民身份证号")
    id_number_hash = IdNumberDigestField("身份证号摘要")
    name = models.CharField("姓名", max_length=50)
    birth_date = models.DateField("出生日期", editable=False)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, editable=False)
    education = models.CharField("学历", max_length=30, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    # 所属社区: where the person's latest seat or employment is. Kept by the
    # services; person-level findings and sweep chunks go by it.
    community = models.ForeignKey(
        Community, verbose_name="所属社区", on_delete=models.PROTECT, null=True, blank=True, related_name="persons"
    )
    # The ID number stays out of the audit trail: history pages are read by clerks, and the history
    # tables are copied around like any table.
    history = RecordHistory(excluded_fields=["id_number", "id_number_hash"])

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["name", "public_id"]
        constraints = [
            # A digest, never a number: 64 hex characters.
            models.CheckConstraint(condition=exactly("id_number_hash", "0-9a-f", 64), name="person_id_hash_shape"),
            models.CheckConstraint(condition=Q(sex__in=["M", "F"]), name="person_sex_valid"),
            models.UniqueConstraint(fields=["public_id"], name="person_public_id_unique"),
            # One person per ID number: clean() says so first, masked; this is the backstop for racing saves.
            models.UniqueConstraint(fields=["id_number_hash"], name="person_id_number_hash_unique"),
        ]

    def __str__(self) -> str:
        # Never the ID number: str() ends up in logs, admin messages and history.
        return self.name

    def __repr__(self) -> str:
        return f"<Person {self.public_id}>"

    @property
    def masked_id_number(self) -> str:
        return idnumbers.mask(self.id_number)

    def validate_unique(self, exclude=None) -> None:
        # clean() reports a taken ID number itself, masked; the digest is computed at save.
        super().validate_unique(exclude={*(exclude or ()), "id_number", "id_number_hash"})

    def get_constraints(self):
        # The constraints full_clean() checks: not the digest's unique one, whose case clean() reports itself,
        # masked (id_taken); the database keeps it as the backstop.
        return [(model, [c for c in constraints if c.name != "person_id_number_hash_unique"])
                for model, constraints in super().get_constraints()]

    def clean(self, recorded: Mapping[str, int] | None = None, today: date | None = None,
              facts: idnumbers.IdFacts | None = None) -> None:
        """``recorded``: digest → pk of the ID numbers already recorded, read once by a writer of many people (the
        workbook import); None: this number is looked up in the database (a form). ``today``: the writer's day.
        ``facts``: what idnumbers.parse read from this very number on that day (the import's cell parser did),
        so it is not parsed twice; another number is parsed as always."""
        errors: dict[str, list[ValidationError]] = {}
        try:
            if facts is None or facts.number != self.id_number:
                facts = idnumbers.parse(self.id_number, today=today or _today())
        except ValidationError as exc:
            errors.setdefault("id_number", []).append(exc)
        else:
            self.id_number = facts.number
            self.id_number_hash = idcrypto.digest(facts.number)
            self.birth_date = facts.birth_date
            self.sex = facts.sex
            if _id_number_taken(self.id_number_hash, self.pk, recorded):
                errors.setdefault("id_number", []).append(
                    ValidationError(f"身份证号 {self.masked_id_number} 已登记为另一人员。", code="id_taken")
                )
        if not (self.name or "").strip():
            errors.setdefault("name", []).append(ValidationError("姓名不能为空。", code="required"))
        if errors:
            raise ValidationError(errors)


class Body(models.TextChoices):
    PARTY = "party", "社区党组织"
    COMMITTEE = "committee", "社区居委会"


class SeatRole(models.TextChoices):
    SECRETARY = "secretary", "书记"
    DEPUTY_SECRETARY = "deputy_secretary", "副书记"
    DIRECTOR = "director", "主任"
    DEPUTY_DIRECTOR = "deputy_director", "副主任"
    MEMBER = "member", "委员"


ROLES_OF_BODY: dict[str, tuple[str, ...]] = {
    Body.PARTY: (SeatRole.SECRETARY, SeatRole.DEPUTY_SECRETARY, SeatRole.MEMBER),
    Body.COMMITTEE: (SeatRole.DIRECTOR, SeatRole.DEPUTY_DIRECTOR, SeatRole.MEMBER),
}


def active_on(prefix: str, day, start: str, end: str) -> Q:
    """Active on D: started on or before D, and not ended on or before D."""
    p = f"{prefix}__" if prefix else ""
    return Q(**{f"{p}{start}__lte": day}) & (Q(**{f"{p}{end}__isnull": True}) | Q(**{f"{p}{end}__gt": day}))


class SeatQuerySet(models.QuerySet):
    def active_on(self, day) -> SeatQuerySet:
        return self.filter(active_on("", day, "start_on", "end_on"))


class Seat(models.Model):
    """A seat on the community's party organisation or residents' committee (两委)."""

    # Indexed as the first column of seat_person_start.
    person = models.ForeignKey(
        Person, verbose_name="人员", on_delete=models.PROTECT, db_index=False, related_name="seats"
    )
    # Indexed as the first column of seat_community_body.
    community = models.ForeignKey(
        Community, verbose_name="社区", on_delete=models.PROTECT, db_index=False, related_name="seats"
    )
    body = models.CharField("组织", max_length=20, choices=Body.choices)
    role = models.CharField("职务", max_length=20, choices=SeatRole.choices)
    start_on = models.DateField("任职日期")
    end_on = models.DateField("离任日期", null=True, blank=True)
    history = RecordHistory()

    objects = SeatQuerySet.as_manager()

    class Meta:
        verbose_name = "两委职务"
        verbose_name_plural = "两委职务"
        ordering = ["community", "body", "role", "start_on"]
        indexes = [
            models.Index(fields=["community", "body", "start_on"], name="seat_community_body"),
            models.Index(fields=["person", "start_on"], name="seat_person_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=models.F("start_on")), name="seat_end_not_before_start"
            ),
            models.CheckConstraint(
                condition=Q(body="party", role__in=["secretary", "deputy_secretary", "member"])
                | Q(body="committee", role__in=["director", "deputy_director", "member"]),
                name="seat_role_fits_body",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.get_body_display()}{self.get_role_display()} {self.person}"

    @property
    def role_label(self) -> str:
        return f"{'党组织' if self.body == Body.PARTY else '居委会'}{self.get_role_display()}"

    def clean(self, others: Sequence[Seat] | None = None, today: date | None = None) -> None:
        """``others``: the person's other seats, read once by a writer of many rows (the workbook import);
        None: read from the database (a form). ``today``: the writer's day."""
        today = today or _today()
        errors: dict[str, list[ValidationError]] = {}
        if self.body and self.role and self.role not in ROLES_OF_BODY.get(self.body, ()):
            errors.setdefault("role", []).append(
                ValidationError(f"{Body(self.body).label}没有“{SeatRole(self.role).label}”这一职务。", code="role_body")
            )
        if self.start_on and self.end_on and self.end_on < self.start_on:
            errors.setdefault("end_on", []).append(
                ValidationError(
                    f"离任日期（{self.end_on:%Y-%m-%d}）不能早于任职日期（{self.start_on:%Y-%m-%d}）。",
                    code="end_before_start",
                )
            )
        if self.start_on and self.start_on > today:
            errors.setdefault("start_on", []).append(
                ValidationError(f"任职日期不能晚于今天（{today:%Y-%m-%d}）。", code="date_in_future")
            )
        if not errors and self.person_id and self.community_id and self.start_on:
            if others is None:
                others = list(Seat.objects.filter(person_id=self.person_id).select_related("community"))
            # Ranges [start_on, end_on) that meet; open ends are infinite.
            overlapping = [o for o in others if o.pk != self.pk and (o.end_on is None or o.end_on > self.start_on)
                           and (self.end_on is None or o.start_on < self.end_on)]
            overlapping.sort(key=lambda o: (o.community.code, o.body, o.role, o.start_on, o.pk))
            elsewhere = next((o for o in overlapping if o.community_id != self.community_id), None)
            if elsewhere is not None:
                errors.setdefault("community", []).append(
                    ValidationError(
                        f"{self.person.name}在同一时期已担任{elsewhere.community.name}的{elsewhere.role_label}"
                        f"（自{elsewhere.start_on:%Y-%m-%d}起），一人不能同时在两个社区的两委任职。",
                        code="seat_two_communities",
                    )
                )
            elif any(o.community_id == self.community_id and o.body == self.body for o in overlapping):
                errors.setdefault("role", []).append(
                    ValidationError(
                        f"{self.person.name}在同一时期已在本社区{Body(self.body).label}任职，请先结束原职务。",
                        code="seat_duplicate",
                    )
                )
        if errors:
            raise ValidationError(errors)


class Post(models.TextChoices):
    CHIEF = "chief", "正职"
    DEPUTY = "deputy", "副职"
    OTHER = "other", "其他"


class EntryChannel(models.TextChoices):
    RECRUITMENT = "recruitment", "公开招聘"
    ELECTION = "election", "依法选举"


class LeaveWay(models.TextChoices):
    RESIGNATION = "resignation", "辞职"
    DISMISSAL = "dismissal", "辞退"


class EmploymentQuerySet(models.QuerySet):
    def active_on(self, day) -> EmploymentQuerySet:
        return self.filter(active_on("", day, "entry_on", "leave_on"))


class Employment(models.Model):
    """A person's employment as a community worker (社区工作者) of one community."""

    # Indexed as the first column of employment_person_entry.
    person = models.ForeignKey(
        Person, verbose_name="人员", on_delete=models.PROTECT, db_index=False, related_name="employments"
    )
    # Indexed as the first column of employment_community_entry.
    community = models.ForeignKey(
        Community, verbose_name="社区", on_delete=models.PROTECT, db_index=False, related_name="employments"
    )
    full_time = models.BooleanField("专职", default=True)
    post = models.CharField("岗位", max_length=10, choices=Post.choices, blank=True)
    grade = models.PositiveSmallIntegerField("等级", null=True, blank=True, help_text="三岗十八级：1–18")
    entry_on = models.DateField("入职日期", null=True, blank=True)
    entry_channel = models.CharField("入职方式", max_length=20, choices=EntryChannel.choices, blank=True)
    probation_until = models.DateField("试用期至", null=True, blank=True)
    leave_on = models.DateField("离职日期", null=True, blank=True)
    leave_way = models.CharField("离职方式", max_length=20, choices=LeaveWay.choices, blank=True)
    resignation_submitted_on = models.DateField("离职申请日期", null=True, blank=True)
    approved_on = models.DateField("街办审批（决定）日期", null=True, blank=True)
    filed_on = models.DateField("区民政局备案日期", null=True, blank=True)
    history = RecordHistory()

    objects = EmploymentQuerySet.as_manager()

    class Meta:
        verbose_name = "社区工作者任职"
        verbose_name_plural = "社区工作者任职"
        ordering = ["community", "-entry_on"]
        indexes = [
            models.Index(fields=["community", "entry_on"], name="employment_community_entry"),
            models.Index(fields=["person", "entry_on"], name="employment_person_entry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__isnull=True) | Q(grade__gte=MIN_GRADE, grade__lte=MAX_GRADE),
                name="employment_grade_1_18",
            ),
            models.CheckConstraint(
                condition=Q(leave_on__isnull=True) | Q(entry_on__isnull=True) | Q(leave_on__gte=models.F("entry_on")),
                name="employment_leave_not_before_entry",
            ),
            models.CheckConstraint(
                condition=Q(probation_until__isnull=True)
                | Q(entry_on__isnull=True)
                | Q(probation_until__gte=models.F("entry_on")),
                name="employment_probation_after_entry",
            ),
            models.CheckConstraint(condition=Q(post__in=["", "chief", "deputy", "other"]), name="employment_post_valid"),
            models.CheckConstraint(
                condition=Q(leave_way__in=["", "resignation", "dismissal"]), name="employment_leave_way_valid"
            ),
            models.CheckConstraint(
                condition=Q(entry_channel__in=["", "recruitment", "election"]), name="employment_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} 社区工作者 {self.person}"

    @property
    def has_left(self) -> bool:
        return self.leave_on is not None and self.leave_on <= _today()

    def clean(self, others: Sequence[Employment] | None = None, today: date | None = None) -> None:
        """``others``: the person's other employments, read once by a writer of many rows (the workbook import);
        None: read from the database (a form). ``today``: the writer's day."""
        today = today or _today()
        errors: dict[str, list[ValidationError]] = {}

        def add(field: str, message: str, code: str) -> None:
            errors.setdefault(field, []).append(ValidationError(message, code=code))

        if self.grade is not None and not (MIN_GRADE <= self.grade <= MAX_GRADE):
            add("grade", f"等级应为三岗十八级的1–18级，不能是{self.grade}。", "grade_range")
        if self.entry_on and self.leave_on and self.leave_on < self.entry_on:
            add(
                "leave_on",
                f"离职日期（{self.leave_on:%Y-%m-%d}）不能早于入职日期（{self.entry_on:%Y-%m-%d}）。",
                "leave_before_entry",
            )
        if self.entry_on and self.probation_until and self.probation_until < self.entry_on:
            add("probation_until", "试用期结束日期不能早于入职日期。", "probation_before_entry")
        if self.entry_on and self.entry_on > today:
            add("entry_on", f"入职日期不能晚于今天（{today:%Y-%m-%d}）。", "date_in_future")
        for field, label in (("resignation_submitted_on", "离职申请日期"), ("approved_on", "街办审批日期"),
                             ("filed_on", "备案日期")):
            value = getattr(self, field)
            if value and value > today:
                add(field, f"{label}不能晚于今天（{today:%Y-%m-%d}）。", "date_in_future")
        if self.leave_way and not self.leave_on:
            add("leave_on", "已填写离职方式，请填写离职日期。", "leave_date_required")
        if not errors and self.person_id and self.entry_on:
            if others is None:
                others = list(Employment.objects.filter(person_id=self.person_id).select_related("community"))
            entry_on, leave_on = self.entry_on, self.leave_on
            overlapping = [o for o in others if o.pk != self.pk and o.entry_on is not None
                           and (o.leave_on is None or o.leave_on > entry_on) and (leave_on is None or o.entry_on < leave_on)]
            # The first in the model's ordering (community, newest entry first), as the query this replaces read it.
            other = min(overlapping, key=lambda o: (o.community.code, -(o.entry_on.toordinal() if o.entry_on else 0), o.pk),
                        default=None)
            if other is not None:
                add(
                    "entry_on",
                    f"{self.person.name}在同一时期已是{other.community.name}的社区工作者"
                    f"（{other.entry_on:%Y-%m-%d}入职），请先办理离职。",
                    "employment_overlap",
                )
        if errors:
            raise ValidationError(errors)


class ExitKind(models.TextChoices):
    RESIGNATION = "resignation", "辞职"
    DISMISSAL = "dismissal", "辞退"


class ExitStepName(models.TextChoices):
    SUBMITTED = "submitted", "提交书面辞职申请"
    HEAD_OPINION = "head_opinion", "社区负责人提出意见"
    SUBDISTRICT_APPROVED = "subdistrict_approved", "街办审批同意"
    SUBDISTRICT_DECIDED = "subdistrict_decided", "街办作出辞退决定"
    FILED = "filed", "报区民政局备案"


# 措施十五's two procedures, step by step. The services only ever move a
# procedure along these lists, one step at a time.
EXIT_FLOWS: dict[str, tuple[str, ...]] = {
    ExitKind.RESIGNATION: (
        ExitStepName.SUBMITTED,
        ExitStepName.HEAD_OPINION,
        ExitStepName.SUBDISTRICT_APPROVED,
        ExitStepName.FILED,
    ),
    ExitKind.DISMISSAL: (ExitStepName.SUBDISTRICT_DECIDED, ExitStepName.FILED),
}


def next_exit_step(kind: str, done: str | None) -> str | None:
    flow = EXIT_FLOWS[kind]
    if done is None:
        return flow[0]
    index = flow.index(done)
    return flow[index + 1] if index + 1 < len(flow) else None


class ExitProcedure(models.Model):
    """The 离职 procedure of one employment (辞职 or 辞退)."""

    employment = models.OneToOneField(
        Employment, verbose_name="任职", on_delete=models.PROTECT, related_name="exit_procedure"
    )
    kind = models.CharField("类型", max_length=20, choices=ExitKind.choices)
    state = models.CharField("当前步骤", max_length=30, choices=ExitStepName.choices)
    history = RecordHistory()

    class Meta:
        verbose_name = "离职程序"
        verbose_name_plural = "离职程序"

    def __str__(self) -> str:
        return f"{self.employment.person} {self.get_kind_display()}"

    @property
    def next_step(self) -> str | None:
        return next_exit_step(self.kind, self.state)

    @property
    def next_step_label(self) -> str:
        step = self.next_step
        return ExitStepName(step).label if step else ""

    @property
    def finished(self) -> bool:
        return self.next_step is None


class ExitStep(models.Model):
    # Indexed as the first column of exit_step_once.
    procedure = models.ForeignKey(
        ExitProcedure, verbose_name="离职程序", on_delete=models.CASCADE, db_index=False, related_name="steps"
    )
    step = models.CharField("步骤", max_length=30, choices=ExitStepName.choices)
    on = models.DateField("日期")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, null=True, blank=True
    )
    note = models.TextField("意见/备注", blank=True)
    recorded_at = models.DateTimeField("记录时间", default=timezone.now)

    class Meta:
        verbose_name = "离职程序步骤"
        verbose_name_plural = "离职程序步骤"
        ordering = ["procedure", "recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "step"], name="exit_step_once"),
        ]

    def __str__(self) -> str:
        return self.get_step_display()


class TrainingKind(models.TextChoices):
    GENERAL = "general", "全员培训"
    SPECIAL = "special", "专项培训"


class TrainingEvent(models.Model):
    """One training, attended by many people (措施十二)."""

    title = models.CharField("培训名称", max_length=200)
    kind = models.CharField("培训类型", max_length=20, choices=TrainingKind.choices)
    held_on = models.DateField("培训日期")
    organiser = models.CharField("主办单位", max_length=100, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "培训"
        verbose_name_plural = "培训"
        ordering = ["-held_on", "title"]
        constraints = [
            models.UniqueConstraint(fields=["title", "kind", "held_on"], name="training_event_unique"),
            models.CheckConstraint(condition=Q(kind__in=["general", "special"]), name="training_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.title}"

    def clean(self) -> None:
        if not (self.title or "").strip():
            raise ValidationError({"title": ValidationError("培训名称不能为空。", code="required")})


class TrainingAttendance(models.Model):
    # Indexed as the first column of training_attendance_once.
    event = models.ForeignKey(
        TrainingEvent, verbose_name="培训", on_delete=models.CASCADE, db_index=False, related_name="attendances"
    )
    # Indexed as the first column of training_person_event.
    person = models.ForeignKey(
        Person, verbose_name="人员", on_delete=models.PROTECT, db_index=False, related_name="trainings"
    )
    history = RecordHistory()

    class Meta:
        verbose_name = "培训记录"
        verbose_name_plural = "培训记录"
        constraints = [models.UniqueConstraint(fields=["event", "person"], name="training_attendance_once")]
        indexes = [models.Index(fields=["person", "event"], name="training_person_event")]

    def __str__(self) -> str:
        return f"{self.person} {self.event}"


class AssessmentResult(models.TextChoices):
    EXCELLENT = "excellent", "优秀"
    COMPETENT = "competent", "称职"
    BASIC = "basic", "基本称职"
    INCOMPETENT = "incompetent", "不称职"


class Assessment(models.Model):
    """年度考核 (措施十四): one result per person and year."""

    # Indexed as the first column of assessment_person_year.
    person = models.ForeignKey(
        Person, verbose_name="人员", on_delete=models.PROTECT, db_index=False, related_name="assessments"
    )
    year = models.PositiveSmallIntegerField("年度")
    result = models.CharField("结果", max_length=20, choices=AssessmentResult.choices)
    assessed_on = models.DateField("考核日期", null=True, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "年度考核"
        verbose_name_plural = "年度考核"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["person", "year"], name="assessment_person_year"),
            models.CheckConstraint(
                condition=Q(result__in=["excellent", "competent", "basic", "incompetent"]), name="assessment_result_valid"
            ),
            models.CheckConstraint(condition=Q(year__gte=1990, year__lte=2100), name="assessment_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.year}年度 {self.get_result_display()}"

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        if self.year is not None and not (1990 <= self.year <= _today().year):
            errors.setdefault("year", []).append(
                ValidationError(f"考核年度 {self.year} 不合理（不能晚于今年）。", code="year_range")
            )
        if self.assessed_on and self.year and self.assessed_on.year < self.year:
            errors.setdefault("assessed_on", []).append(
                ValidationError("考核日期不能早于所考核的年度。", code="assessed_before_year")
            )
        if errors:
            raise ValidationError(errors)


class DecisionKind(models.TextChoices):
    GRADE = "grade", "等级调整"
    RENEW = "renew", "续聘"
    TERMINATE = "terminate", "解聘"


class AssessmentDecision(models.Model):
    """措施十四: what the 街办 decided on a worker's grade or contract after an assessment (考核结果与等级调整、
    续聘解聘挂钩). M14.incompetent_decision looks for one after a 不称职."""

    assessment = models.ForeignKey(Assessment, verbose_name="年度考核", on_delete=models.PROTECT,
                                   related_name="decisions")
    kind = models.CharField("决定", max_length=20, choices=DecisionKind.choices)
    decided_on = models.DateField("决定日期")
    note = models.CharField("说明", max_length=200, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "考核结果运用"
        verbose_name_plural = "考核结果运用"
        ordering = ["-decided_on"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["grade", "renew", "terminate"]),
                                   name="assessment_decision_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.assessment} {self.get_kind_display()}"

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        if self.decided_on and self.decided_on > _today():
            errors.setdefault("decided_on", []).append(
                ValidationError(f"决定日期不能晚于今天（{_today():%Y-%m-%d}）。", code="date_in_future"))
        assessment = self.assessment if self.assessment_id else None
        if self.decided_on and assessment is not None:
            if self.decided_on.year < assessment.year:
                errors.setdefault("decided_on", []).append(
                    ValidationError("决定日期不能早于所考核的年度。", code="decided_before_year"))
            elif assessment.assessed_on and self.decided_on < assessment.assessed_on:
                errors.setdefault("decided_on", []).append(ValidationError(
                    f"决定日期不能早于考核日期（{assessment.assessed_on:%Y-%m-%d}）。", code="decided_before_assessment"))
        if errors:
            raise ValidationError(errors)


class Vacancy(models.Model):
    """A 两委 seat left vacant, and the 补选 (by-election) that fills it (措施十一)."""

    # Indexed as the first column of vacancy_community_vacated.
    community = models.ForeignKey(
        Community, verbose_name="社区", on_delete=models.PROTECT, db_index=False, related_name="vacancies"
    )
    body = models.CharField("组织", max_length=20, choices=Body.choices)
    role = models.CharField("职务", max_length=20, choices=SeatRole.choices)
    vacated_on = models.DateField("出缺日期")
    reason = models.CharField("出缺原因", max_length=200, blank=True)
    previous_seat = models.ForeignKey(
        Seat, verbose_name="原任职", on_delete=models.PROTECT, null=True, blank=True, related_name="vacancies"
    )
    filled_on = models.DateField("补选日期", null=True, blank=True)
    filled_by = models.OneToOneField(
        Seat, verbose_name="补选任职", on_delete=models.PROTECT, null=True, blank=True, related_name="filled_vacancy"
    )
    history = RecordHistory()

    class Meta:
        verbose_name = "两委职位空缺"
        verbose_name_plural = "两委职位空缺"
        ordering = ["-vacated_on"]
        indexes = [models.Index(fields=["community", "vacated_on"], name="vacancy_community_vacated")]
        constraints = [
            models.CheckConstraint(
                condition=Q(filled_on__isnull=True) | Q(filled_on__gte=models.F("vacated_on")),
                name="vacancy_filled_not_before_vacated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} {Body(self.body).label}{SeatRole(self.role).label}空缺"

    def clean(self, others: Sequence[Seat] | None = None, today: date | None = None) -> None:
        """``others``: the person's other seats, read once by a writer of many rows (the workbook import);
        None: read from the database (a form). ``today``: the writer's day."""
        today = today or _today()
        errors: dict[str, list[ValidationError]] = {}
        if self.body and self.role and self.role not in ROLES_OF_BODY.get(self.body, ()):
            errors.setdefault("role", []).append(
                ValidationError(f"{Body(self.body).label}没有“{SeatRole(self.role).label}”这一职务。", code="role_body")
            )
        if self.vacated_on and self.filled_on and self.filled_on < self.vacated_on:
            errors.setdefault("filled_on", []).append(
                ValidationError("补选日期不能早于出缺日期。", code="end_before_start")
            )
        # A seat may fall vacant on a planned leaving date; the by-election is recorded once held.
        if self.filled_on and self.filled_on > _today():
            errors.setdefault("filled_on", []).append(
                ValidationError(f"补选日期不能晚于今天（{_today():%Y-%m-%d}）。", code="date_in_future")
            )
        if errors:
            raise ValidationError(errors)


class CareKind(models.TextChoices):
    CHECKUP = "checkup", "体检"
    VISIT = "visit", "慰问"


class CareRecord(models.Model):
    """关心关爱 (措施十四): health checks and visits."""

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="care_records")
    kind = models.CharField("类型", max_length=20, choices=CareKind.choices)
    on = models.DateField("日期")
    note = models.CharField("说明", max_length=200, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "关爱记录"
        verbose_name_plural = "关爱记录"
        ordering = ["-on"]

    def __str__(self) -> str:
        return f"{self.person} {self.get_kind_display()} {self.on:%Y-%m-%d}"

    def clean(self) -> None:
        if self.on and self.on > _today():
            raise ValidationError({"on": ValidationError("日期不能晚于今天。", code="date_in_future")})


class TransferStatus(models.TextChoices):
    PENDING = "pending", "待原街办确认"
    CONFIRMED = "confirmed", "已确认，待调入登记"
    REFUSED = "refused", "未同意"
    COMPLETED = "completed", "已调入"


# 人员调动: which status may follow which, and who decides (docs/design.md: state changes are declared).
TRANSFER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    TransferStatus.PENDING: (TransferStatus.CONFIRMED, TransferStatus.REFUSED),
    TransferStatus.CONFIRMED: (TransferStatus.COMPLETED,),
    TransferStatus.REFUSED: (),
    TransferStatus.COMPLETED: (),
}


class PersonTransfer(models.Model):
    """人员调动: a person of one 街办 registered in another. The receiving 街办's clerk asks by ID number (seeing
    nothing of the person), the releasing 街办's clerk or a reviewer confirms, and the next registration in the
    receiving 街办 (worker, seat or 补选 form, or the import) uses the confirmation up. Kept with its history."""

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.PROTECT, related_name="transfers")
    from_sub_district = models.ForeignKey(
        "communities.SubDistrict", verbose_name="调出街办", on_delete=models.PROTECT, to_field="code", null=True,
        blank=True, related_name="+",
    )
    to_community = models.ForeignKey(Community, verbose_name="调入社区", on_delete=models.PROTECT, related_name="+")
    to_sub_district = models.ForeignKey(
        "communities.SubDistrict", verbose_name="调入街办", on_delete=models.PROTECT, to_field="code", related_name="+",
    )
    status = models.CharField("状态", max_length=20, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    note = models.CharField("调动说明", max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="确认人", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)
    decision_note = models.CharField("确认意见", max_length=200, blank=True)
    completed_at = models.DateTimeField("调入登记时间", null=True, blank=True)
    history = RecordHistory()

    class Meta:
        verbose_name = "人员调动"
        verbose_name_plural = "人员调动"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["pending", "confirmed", "refused", "completed"]),
                                   name="person_transfer_status_valid"),
            # One open request per person and receiving 街办: a second one would only duplicate the question.
            models.UniqueConstraint(fields=["person", "to_sub_district"], condition=Q(status__in=["pending", "confirmed"]),
                                    name="person_transfer_one_open"),
        ]

    def __str__(self) -> str:
        return f"人员调动 #{self.pk}"

"""Reads of people that depend on who is asking.

A person is visible to a user when they hold (or held) a seat or an
employment in a community the user may see: clerks see their own 街办's
people, reviewers and administrators everyone.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from accounts.roles import is_admin
from communities.selectors import communities_for_user

from .models import Employment, ExitProcedure, Person, Seat, Vacancy


def persons_for_user(user, perm: str = "view_community") -> QuerySet[Person]:
    if not user.is_authenticated:
        return Person.objects.none()
    if is_admin(user):
        return Person.objects.all()
    communities = communities_for_user(user, perm)
    return Person.objects.filter(
        Exists(Seat.objects.filter(person=OuterRef("pk"), community__in=communities))
        | Exists(Employment.objects.filter(person=OuterRef("pk"), community__in=communities))
    )


def person_for_user(user, public_id: str, perm: str = "view_community") -> Person:
    try:
        return persons_for_user(user, perm).get(public_id=public_id)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到这名人员，或您无权查看。") from None


def employments_for_user(user, perm: str = "view_community") -> QuerySet[Employment]:
    return Employment.objects.filter(community__in=communities_for_user(user, perm))


def employment_for_user(user, pk, perm: str = "view_community") -> Employment:
    try:
        return employments_for_user(user, perm).select_related("person", "community").get(pk=pk)
    except (Employment.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到这条任职记录，或您无权查看。") from None


def seats_for_user(user, perm: str = "view_community") -> QuerySet[Seat]:
    return Seat.objects.filter(community__in=communities_for_user(user, perm))


def seat_for_user(user, pk, perm: str = "view_community") -> Seat:
    try:
        return seats_for_user(user, perm).select_related("person", "community").get(pk=pk)
    except (Seat.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到这条两委任职记录，或您无权查看。") from None


def vacancies_for_user(user, perm: str = "view_community") -> QuerySet[Vacancy]:
    return Vacancy.objects.filter(community__in=communities_for_user(user, perm))


def vacancy_for_user(user, pk, perm: str = "view_community") -> Vacancy:
    try:
        return vacancies_for_user(user, perm).select_related("community").get(pk=pk)
    except (Vacancy.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到这个空缺，或您无权查看。") from None


def exit_procedure_for_user(user, pk, perm: str = "view_community") -> ExitProcedure:
    try:
        return ExitProcedure.objects.filter(employment__community__in=communities_for_user(user, perm)).select_related(
            "employment__person", "employment__community"
        ).get(pk=pk)
    except (ExitProcedure.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到这个离职程序，或您无权查看。") from None

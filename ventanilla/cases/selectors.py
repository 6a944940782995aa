"""Reads of cases. Lookups answer None for a missing and for a forbidden case alike,
so nobody can learn from the answer whether a number or an ID exists."""

import re

from django.db.models import F, QuerySet

from ventanilla.staff.roles import Permission, can

from .constants import FINAL_STATUSES, CaseStatus
from .models import Case
from .numbers import case_number_is_valid, case_number_normalize


def case_for_citizen(number: str, id_number: str) -> Case | None:
    """The case with this number, only when the identification number matches it."""
    if not case_number_is_valid(number or ""):
        return None
    cleaned_id = re.sub(r"[\s.-]", "", id_number or "").upper()
    return (
        Case.objects.filter(number=case_number_normalize(number), id_number=cleaned_id)
        .prefetch_related("transitions")
        .first()
    )


def case_for_staff(user, number: str) -> Case | None:
    """A case an authorised staff member may see, by number."""
    if not can(user, Permission.VIEW_CASES):
        return None
    return (
        Case.objects.filter(number=case_number_normalize(number or ""))
        .select_related("insured", "assigned_to")
        .first()
    )


def case_queue(*, status: str | None = None) -> QuerySet[Case]:
    """Open cases, the nearest review deadline first (paused and reviewed cases after)."""
    cases = Case.objects.exclude(status__in=[s.value for s in FINAL_STATUSES])
    if status:
        cases = Case.objects.filter(status=status)
    return cases.select_related("assigned_to").order_by(
        F("review_due_at").asc(nulls_last=True), "submitted_at"
    )


def case_timeline(case: Case) -> list[dict]:
    """What the citizen sees: each status with the moment it was reached."""
    return [{"status": t.to_status, "at": t.at} for t in case.transitions.all()]


def status_label(status: str) -> str:
    """The Spanish name of a status, as plain text (for JSON)."""
    return str(CaseStatus(status).label)

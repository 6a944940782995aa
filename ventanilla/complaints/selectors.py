"""Reading complaints: the monthly count for the transparency page, the staff list by
deadline, one complaint with its history, and how long an answer took."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.staff.roles import Permission, users_with
from ventanilla.workdays.selectors import (
    deadline_standing,
    month_range,
    working_days_left,
)

from .constants import OPEN_STATUSES
from .models import Complaint

# Answered complaints shown under the open ones (the most recent).
ANSWERED_SHOWN = 50
# The events that make a complaint's history (not the views of its page).
HISTORY_ACTIONS = ("complaint.filed", "complaint.taken", "complaint.assigned", "complaint.answered")


def complaints_filed_in_month(year: int, month: int) -> int:
    """Complaints filed through the channel during a calendar month in Ecuador time
    (America/Guayaquil): one filed at 23:30 on the last day of a month in Guayaquil
    counts in that month, though it is already the next month in UTC."""
    start, end = month_range(year, month)
    return Complaint.objects.filter(filed_at__gte=start, filed_at__lt=end).count()


@dataclass
class ComplaintRow:
    complaint: Complaint
    overdue: bool
    # Whole working days after today up to the deadline's day (0: due today, or late).
    working_days_left: int | None


def complaints_ordered(now: dt.datetime) -> QuerySet[Complaint]:
    """Open complaints past their deadline first, then the other open ones, then the
    answered ones (rank 0, 1, 2)."""
    return Complaint.objects.select_related("assigned_to", "answered_by").annotate(
        rank=SqlCase(
            When(Q(status__in=OPEN_STATUSES, due_at__lt=now), then=Value(0)),
            When(status__in=OPEN_STATUSES, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )


def complaint_rows(now: dt.datetime | None = None) -> list[ComplaintRow]:
    """Every open complaint by deadline (overdue first), then the latest answered ones."""
    now = now or timezone.now()
    ordered = complaints_ordered(now)
    complaints = list(ordered.filter(rank__lt=2).order_by("rank", "due_at", "pk"))
    complaints += list(ordered.filter(rank=2).order_by("-answered_at", "-pk")[:ANSWERED_SHOWN])
    return [ComplaintRow(*standing) for standing in deadline_standing(complaints, now)]


def complaint_for_staff(number: str) -> Complaint | None:
    """The complaint with this number, or None (unknown and malformed numbers alike)."""
    return (
        Complaint.objects.select_related("case", "assigned_to", "answered_by")
        .filter(number=number.strip().upper())
        .first()
    )


def complaint_history(complaint: Complaint) -> list[AuditEvent]:
    """What happened to the complaint, oldest first: filed, taken, assigned, answered."""
    return list(
        AuditEvent.objects.filter(
            object_type=Complaint._meta.label_lower,
            object_id=str(complaint.pk),
            action__in=HISTORY_ACTIONS,
        ).order_by("at", "pk")
    )


@dataclass(frozen=True)
class AnswerTime:
    elapsed: dt.timedelta
    # Working days after the day it was filed up to the day it was answered (COA counting:
    # answered the next working day is 1).
    working_days: int
    late: bool

    @property
    def hours(self) -> int:
        return int(self.elapsed.total_seconds() // 3600)


def complaint_answer_time(complaint: Complaint) -> AnswerTime | None:
    """How long the answer took, in time and in working days; None while unanswered."""
    if complaint.answered_at is None:
        return None
    return AnswerTime(
        elapsed=complaint.answered_at - complaint.filed_at,
        working_days=working_days_left(complaint.filed_at, complaint.answered_at),
        late=complaint.answered_at > complaint.due_at,
    )


def complaint_handlers():
    """Active staff who may be given a complaint (for the supervisor's assign list)."""
    return users_with(Permission.HANDLE_COMPLAINTS)

"""Reading data-subject requests: the staff list, overdue first, with working days left."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from ventanilla.registry.constants import FraudReviewStatus
from ventanilla.registry.models import FraudReview
from ventanilla.workdays.selectors import deadline_standing

from .constants import RequestStatus
from .models import DataSubjectRequest

# Closed requests shown under the open ones (the most recent).
CLOSED_SHOWN = 50


@dataclass
class RequestRow:
    request: DataSubjectRequest
    overdue: bool
    # Whole working days after today up to the deadline's day (0: due today, or late).
    working_days_left: int | None


def data_requests_ordered(now: dt.datetime) -> QuerySet[DataSubjectRequest]:
    """Open requests past their deadline first (the oldest deadline first), then the other
    open ones by deadline, then the closed ones, latest closed first."""
    return DataSubjectRequest.objects.select_related("answered_by").annotate(
        rank=SqlCase(
            When(Q(status=RequestStatus.OPEN, due_at__lt=now), then=Value(0)),
            When(status=RequestStatus.OPEN, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )


def data_request_rows(now: dt.datetime | None = None) -> list[RequestRow]:
    """Every open request and the latest closed ones, in the list's order."""
    now = now or timezone.now()
    ordered = data_requests_ordered(now)
    requests = list(ordered.filter(rank__lt=2).order_by("rank", "due_at", "pk"))
    requests += list(ordered.filter(rank=2).order_by("-answered_at", "-pk")[:CLOSED_SHOWN])
    return [RequestRow(*standing) for standing in deadline_standing(requests, now)]


def data_request_for_staff(request_id: int) -> DataSubjectRequest | None:
    return (
        DataSubjectRequest.objects.select_related("answered_by", "registered_by")
        .filter(pk=request_id)
        .first()
    )


def data_requests_due_soon(now: dt.datetime, *, within_days: int = 3) -> int:
    """Open requests overdue or due within `within_days` calendar days (for the dashboard)."""
    return DataSubjectRequest.objects.filter(
        status=RequestStatus.OPEN, due_at__lt=now + dt.timedelta(days=within_days)
    ).count()


def open_fraud_reviews_of(*, id_type: str, id_number: str) -> int:
    """Open "this was not me" reviews of the person: until they close, it is not settled
    which of their cases someone else filed (the export leaves out only confirmed ones)."""
    return FraudReview.objects.filter(
        person__id_type=id_type,
        person__id_number=id_number,
        status=FraudReviewStatus.OPEN,
    ).count()

from zoneinfo import ZoneInfo

from django.db.models import Case as SqlCase
from django.db.models import Value, When
from django.utils import timezone

from ventanilla.workdays.selectors import month_range

from .constants import ChangeSource, FraudReviewStatus
from .models import ChangeReportLink, ContactDataChange, FraudReview, InsuredPerson

ECUADOR_TZ = ZoneInfo("America/Guayaquil")


def insured_find(*, id_type: str, id_number: str) -> InsuredPerson | None:
    return InsuredPerson.objects.filter(id_type=id_type, id_number=id_number).first()


def insured_with_history(*, id_number: str) -> InsuredPerson | None:
    """The person and their contact-data history, newest change first."""
    return (
        InsuredPerson.objects.filter(id_number=id_number)
        .prefetch_related("changes__case", "changes__changed_by")
        .first()
    )


def change_report_link_for_token(token: str) -> ChangeReportLink | None:
    """The "this was not me" link behind a token (whatever its state), or None."""
    from .services import token_hash

    return (
        ChangeReportLink.objects.select_related("case", "person")
        .filter(token_hash=token_hash(token))
        .first()
    )


def case_contact_changes(case) -> list[ContactDataChange]:
    """The registry changes a validated case made (not the later restorations)."""
    return list(
        ContactDataChange.objects.filter(case=case, source=ChangeSource.CASE).order_by("pk")
    )


def fraud_reviews_list() -> list[FraudReview]:
    """Every fraud review, the open ones first, newest report first; one query."""
    return list(
        FraudReview.objects.select_related("case", "person", "closed_by").order_by(
            SqlCase(When(status=FraudReviewStatus.OPEN, then=Value(0)), default=Value(1)),
            "-reported_at",
            "-id",
        )
    )


def fraud_review_for_staff(review_id: int) -> FraudReview | None:
    return FraudReview.objects.select_related("case", "person").filter(pk=review_id).first()


def fraud_reports_in_month(year: int, month: int) -> int:
    """How many "this was not me" reports came in during a calendar month (Ecuador time):
    each counts as a complaint about the service."""
    start, end = month_range(year, month)
    return FraudReview.objects.filter(reported_at__gte=start, reported_at__lt=end).count()


def insured_is_frozen(*, id_type: str, id_number: str) -> bool:
    """True when the person's record is frozen by a "this was not me" report."""
    return InsuredPerson.objects.filter(
        id_type=id_type, id_number=id_number, frozen_at__isnull=False
    ).exists()


def change_report_link_state(link: ChangeReportLink | None) -> str:
    """The link's state: "usable", "unknown", "expired" or "used" (this or another link of the case was
    followed: the change is already under review)."""
    if link is None:
        return "unknown"
    if link.used_at is not None or FraudReview.objects.filter(case_id=link.case_id).exists():
        return "used"
    if link.expires_at <= timezone.now():
        return "expired"
    return "usable"

"""The one place where a case changes status.

Every move is checked against the table below, stamped with time and actor, and
recorded twice: in the case's timeline (what the citizen sees) and in the audit
trail (what an auditor reads).
"""

from django.utils import timezone

from ventanilla.audit.services import actor_label_for, audit_log

from .constants import CaseStatus as S
from .models import Case, CaseTransition

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset(
        {S.CORRECTION_REQUESTED, S.REQUIREMENTS_REJECTED, S.CALL_PENDING, S.WITHDRAWN}
    ),
    S.CORRECTION_REQUESTED: frozenset({S.IN_REVIEW, S.EXPIRED, S.WITHDRAWN}),
    S.CALL_PENDING: frozenset({S.CALL_SCHEDULED, S.EXPIRED, S.WITHDRAWN}),
    S.CALL_SCHEDULED: frozenset(
        # CALL_PENDING: the citizen cancelled, or missed the call and may book once more;
        # EXPIRED: a second missed call.
        {S.IDENTITY_VALIDATED, S.IDENTITY_REJECTED, S.CALL_PENDING, S.EXPIRED, S.WITHDRAWN}
    ),
    S.IDENTITY_VALIDATED: frozenset({S.COMPLETED}),
    S.REQUIREMENTS_REJECTED: frozenset(),
    S.COMPLETED: frozenset(),
    S.IDENTITY_REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset(),
}


class IllegalTransition(Exception):
    """The case is not in a status from which this action is possible."""

    def __init__(self, case: Case, to_status: str):
        self.case = case
        self.from_status = case.status
        self.to_status = to_status
        super().__init__(
            f"El trámite {case.number} está «{S(case.status).label}»; "
            f"no puede pasar a «{S(to_status).label}»."
        )


def can_transition(case: Case, to_status: str) -> bool:
    return to_status in ALLOWED_TRANSITIONS[case.status]


def transition(case: Case, to_status: str, *, actor=None, reason: str = "") -> CaseTransition:
    """Move `case` to `to_status` or raise IllegalTransition. Call inside a transaction,
    on a case row locked with select_for_update, so that two actions cannot race."""
    if not can_transition(case, to_status):
        raise IllegalTransition(case, to_status)
    now = timezone.now()
    from_status = case.status
    case.status = to_status
    case.status_changed_at = now
    case.save(update_fields=["status", "status_changed_at"])
    audit_log(
        action="case.transition",
        actor=actor,
        case=case,
        obj=case,
        old={"status": from_status},
        new={"status": to_status},
        reason=reason,
    )
    return CaseTransition.objects.create(
        case=case,
        from_status=from_status,
        to_status=to_status,
        at=now,
        actor=actor if actor is not None and not isinstance(actor, str) else None,
        actor_label=actor_label_for(actor),
        reason=reason,
    )

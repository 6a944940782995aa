"""Periodic work: re-enqueue what a dead worker left behind."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .constants import FINAL_STATUSES
from .models import Case


def cases_requeue_stalled_checks() -> int:
    """Checks asked for long ago and never finished (after a submission, a correction or an
    analyst's request): their task was lost with a dead worker. Enqueue them again.

    Not lost, and left alone: a case whose task still waits in the queue (a burst of
    videos), and, on PostgreSQL, one whose checks a live worker is running now, however
    long that takes (its lock, checks/tasks.py). Each case is claimed with a conditional
    update, so two schedulers never both enqueue it. Returns how many were re-enqueued."""
    from ventanilla.checks.tasks import case_checks_lock, case_checks_task, case_checks_waiting

    stale = timezone.now() - dt.timedelta(seconds=settings.STALLED_WORK_AFTER_SECONDS)
    unfinished = Q(checks_completed_at__isnull=True) | Q(
        checks_completed_at__lt=F("checks_enqueued_at")
    )
    stalled_cases = Case.objects.filter(unfinished, checks_enqueued_at__lt=stale).exclude(
        status__in=FINAL_STATUSES
    )
    stalled = list(stalled_cases.values_list("pk", flat=True))
    waiting = case_checks_waiting(stalled)
    recovered = 0
    for case_id in stalled:
        if case_id in waiting:
            continue
        with case_checks_lock(case_id, wait=False) as free:
            if not free:
                continue  # a live worker is running them
            with transaction.atomic():
                # Re-arm the timer (so a still-dead worker does not get a new task every
                # tick) and enqueue, in one transaction, unless the case finished meanwhile
                # or another scheduler re-armed it first (the update's condition).
                if stalled_cases.filter(pk=case_id).update(checks_enqueued_at=timezone.now()):
                    case_checks_task.enqueue(case_id, "scheduler")
                    recovered += 1
    return recovered


# Supervisors see a breach coming: an email per case when its review deadline is near,
# and another when it has passed. The outbox's dedupe key makes "once" hold even when
# the scheduler runs every few seconds, or two schedulers run at once.


def _queue_once(*, key: str, **message) -> bool:
    """Queue a message unless one with this key exists; True when it was queued now."""
    from django.db import IntegrityError, transaction

    from ventanilla.notifications.services import email_queue

    try:
        # A savepoint: another scheduler may have inserted the same key a moment ago.
        with transaction.atomic():
            email_queue(dedupe_key=key, **message)
    except IntegrityError:
        return False
    return True


def _staff_with_email(roles: list[str]):
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def _backoffice_url(name: str, *args) -> str:
    from django.urls import reverse

    return f"{settings.SITE_URL}{reverse(f'backoffice:{name}', args=args)}"


def cases_alert_breach_risk(*, now: dt.datetime | None = None) -> int:
    """Email every active supervisor (with an address) about each case under review
    whose deadline is within STAFF_AT_RISK_HOURS, once per case and deadline, and once
    more when the deadline has passed. Returns how many messages were queued."""
    from ventanilla.notifications.models import OutboundEmail
    from ventanilla.staff.roles import Role
    from ventanilla.workdays.selectors import ECUADOR

    from .constants import REVIEW_CLOCK_STATUSES
    from .dashboard import at_risk_hours

    now = now or timezone.now()
    hours = at_risk_hours()
    cases = list(
        Case.objects.filter(
            status__in=[s.value for s in REVIEW_CLOCK_STATUSES],
            review_due_at__isnull=False,
            review_due_at__lte=now + dt.timedelta(hours=hours),
        )
        .select_related("assigned_to")
        .order_by("review_due_at")
    )
    supervisors = list(_staff_with_email([Role.SUPERVISOR])) if cases else []
    messages = []
    for case in cases:
        overdue = case.review_due_at < now
        deadline = case.review_due_at.astimezone(ECUADOR).date().isoformat()
        kind = "breach_overdue" if overdue else "breach_alert"
        for user in supervisors:
            messages.append((f"{kind}:{case.number}:{deadline}:{user.pk}", case, user, overdue))
    if not messages:
        return 0
    sent = set(
        OutboundEmail.objects.filter(dedupe_key__in=[m[0] for m in messages]).values_list(
            "dedupe_key", flat=True
        )
    )
    queued = 0
    for key, case, user, overdue in messages:
        if key in sent:
            continue
        queued += _queue_once(
            key=key,
            template="breach_alert",
            to=user.email,
            context={
                "case": case,
                "recipient": user,
                "overdue": overdue,
                "at_risk_hours": hours,
                "hours": abs(int((case.review_due_at - now).total_seconds() // 3600)),
                "holder": case.assigned_to.get_username() if case.assigned_to_id else "",
                "link": _backoffice_url("case", case.number),
            },
        )
    return queued


# The morning digest is written once a working day, from this hour (Ecuador time).
DIGEST_HOUR = 7


def cases_daily_digest(*, now: dt.datetime | None = None) -> int:
    """Once a working day, after 07:00 Ecuador time: email each active analyst and
    supervisor (with an address) their open cases, those due today and the next
    working day, and the overdue ones; supervisors also get the team's totals.
    Returns how many messages were queued."""
    from django.db.models import Count

    from ventanilla.notifications.models import OutboundEmail
    from ventanilla.staff.roles import Role
    from ventanilla.workdays.selectors import ECUADOR, is_working_day, non_working_dates

    from .constants import REVIEW_CLOCK_STATUSES, CaseStatus
    from .dashboard import OPEN_STATUSES, at_risk_hours

    now = now or timezone.now()
    local = now.astimezone(ECUADOR)
    today = local.date()
    if local.hour < DIGEST_HOUR:
        return 0
    closed = non_working_dates(today, today + dt.timedelta(days=21))
    if not is_working_day(today, closed):
        return 0
    recipients = list(_staff_with_email([Role.ANALYST, Role.SUPERVISOR]).prefetch_related("groups"))
    keys = {user.pk: f"daily_digest:{today.isoformat()}:{user.pk}" for user in recipients}
    done = set(
        OutboundEmail.objects.filter(dedupe_key__in=keys.values()).values_list(
            "dedupe_key", flat=True
        )
    )
    recipients = [user for user in recipients if keys[user.pk] not in done]
    if not recipients:
        return 0

    next_day = today + dt.timedelta(days=1)
    while not is_working_day(next_day, closed):
        next_day += dt.timedelta(days=1)
    end_of_next_day = dt.datetime.combine(next_day, dt.time.max, tzinfo=ECUADOR)
    open_cases = Case.objects.filter(status__in=OPEN_STATUSES)
    open_count = dict(
        open_cases.values("assigned_to")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("assigned_to", "n")
    )
    pressing = list(
        open_cases.filter(
            status__in=[s.value for s in REVIEW_CLOCK_STATUSES],
            review_due_at__isnull=False,
            review_due_at__lte=end_of_next_day,
        )
        .order_by("review_due_at")
        .values("number", "status", "review_due_at", "assigned_to")
    )
    for row in pressing:
        due_day = row["review_due_at"].astimezone(ECUADOR).date()
        row["link"] = _backoffice_url("case", row["number"])
        row["status_label"] = CaseStatus(row["status"]).label
        row["group"] = (
            "overdue" if row["review_due_at"] < now else "today" if due_day <= today else "next"
        )

    def split(rows):
        return {g: [r for r in rows if r["group"] == g] for g in ("overdue", "today", "next")}

    risk_until = now + dt.timedelta(hours=at_risk_hours())
    team = {
        **{f"{g}_count": len(rows) for g, rows in split(pressing).items()},
        "open": sum(open_count.values()),
        "unassigned": open_count.get(None, 0),
        "at_risk": sum(1 for r in pressing if now <= r["review_due_at"] <= risk_until),
    }
    queued = 0
    for user in recipients:
        mine = split([r for r in pressing if r["assigned_to"] == user.pk])
        is_supervisor = any(g.name == Role.SUPERVISOR for g in user.groups.all())
        queued += _queue_once(
            key=keys[user.pk],
            template="daily_digest",
            to=user.email,
            context={
                "recipient": user,
                "today": today,
                "next_day": next_day,
                "open_count": open_count.get(user.pk, 0),
                "overdue": mine["overdue"],
                "due_today": mine["today"],
                "due_next": mine["next"],
                "team": team if is_supervisor else None,
                "unassigned_pressing": split([r for r in pressing if r["assigned_to"] is None])
                if is_supervisor
                else None,
                "queue_link": _backoffice_url("queue"),
                "dashboard_link": _backoffice_url("dashboard") if is_supervisor else "",
            },
        )
    return queued

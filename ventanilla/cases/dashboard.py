"""Reads for the supervisors' dashboard: workload, age, SLA compliance, breaches.

Every figure comes from a few grouped queries (COUNT ... GROUP BY), never from one
query per case or per analyst, so the page costs the same with 50 cases or a million.
Dates are Ecuador's: a working day is one of ventanilla.workdays.

The promise measured is the seed's: the first answer to the citizen (a correction
request, a rejection, or the requirements accepted and the call to be scheduled) by
the end of the REVIEW_WORKING_DAYS-th working day after the submission day.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.staff.roles import Permission, roles_with
from ventanilla.workdays.selectors import (
    ECUADOR,
    is_working_day,
    non_working_dates,
    working_days_left,
)

from .constants import FINAL_STATUSES, REVIEW_CLOCK_STATUSES, CaseStatus
from .models import Case, CaseTransition
from .selectors import at_risk_hours

OPEN_STATUSES = [s.value for s in CaseStatus if s not in FINAL_STATUSES]
CLOCK_STATUSES = [s.value for s in REVIEW_CLOCK_STATUSES]
# The analyst's first answer to the citizen ends the requirements review.
ANSWER_STATUSES = [
    CaseStatus.CORRECTION_REQUESTED.value,
    CaseStatus.REQUIREMENTS_REJECTED.value,
    CaseStatus.CALL_PENDING.value,
]
# Working days since submission: (label, lowest, highest or None).
AGE_BUCKETS = (("0-1", 0, 1), ("2-3", 2, 3), ("4-7", 4, 7), (">7", 8, None))
# Lists of cases on the dashboard stop here; the totals beside them are complete.
LIST_LIMIT = 100


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ECUADOR)


def _day_end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.max, tzinfo=ECUADOR)


def review_deadline_day(submitted_day: dt.date, closed: set[dt.date]) -> dt.date:
    """The last day of the review term for a case submitted on `submitted_day`
    (the same rule as workdays.working_day_deadline, on a calendar read once)."""
    day = submitted_day
    counted = 0
    while counted < settings.REVIEW_WORKING_DAYS:
        day += dt.timedelta(days=1)
        if is_working_day(day, closed):
            counted += 1
    return day


def _calendar(start: dt.date, end: dt.date) -> set[dt.date]:
    # Far enough past `end` for any review term that starts before it.
    return non_working_dates(start, end + dt.timedelta(days=14 * settings.REVIEW_WORKING_DAYS + 14))


def dashboard_workload(*, now: dt.datetime | None = None) -> dict:
    """Open cases per person who receives cases (every active analyst, even with none,
    and anyone else still holding open cases) and the unassigned ones: open, due today
    (not yet late), overdue, about to breach.

    Returns {"rows": [{"user_id", "username", "name", "open", "due_today", "overdue",
    "at_risk"}], "unassigned": {...same counts}, "totals": {...same counts}}.
    Two queries.
    """
    now = now or timezone.now()
    end_of_today = _day_end(now.astimezone(ECUADOR).date())
    risk_until = now + dt.timedelta(hours=at_risk_hours())
    clock = Q(status__in=CLOCK_STATUSES, review_due_at__isnull=False)
    grouped = (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .values("assigned_to")
        .annotate(
            open=Count("pk"),
            due_today=Count("pk", filter=clock & Q(review_due_at__range=(now, end_of_today))),
            overdue=Count("pk", filter=clock & Q(review_due_at__lt=now)),
            at_risk=Count("pk", filter=clock & Q(review_due_at__range=(now, risk_until))),
        )
        .order_by()
    )
    counts = {row.pop("assigned_to"): row for row in grouped}
    zero = {"open": 0, "due_today": 0, "overdue": 0, "at_risk": 0}
    team = (
        get_user_model()
        .objects.filter(
            Q(is_active=True, groups__name__in=roles_with(Permission.TAKE_CASES))
            | Q(pk__in=[pk for pk in counts if pk is not None])
        )
        .distinct()
        .order_by("username")
        .values("pk", "username", "first_name", "last_name")
    )
    rows = [
        {
            "user_id": user["pk"],
            "username": user["username"],
            "name": f"{user['first_name']} {user['last_name']}".strip() or user["username"],
            **counts.get(user["pk"], zero),
        }
        for user in team
    ]
    totals = {key: sum(row[key] for row in counts.values()) for key in zero}
    return {"rows": rows, "unassigned": counts.get(None, zero), "totals": totals}


def _age_bucket(age: int) -> str:
    for label, lowest, highest in AGE_BUCKETS:
        if age >= lowest and (highest is None or age <= highest):
            return label
    return AGE_BUCKETS[-1][0]


def dashboard_states_by_age(*, now: dt.datetime | None = None) -> dict:
    """Open cases by status and by age in working days since submission (AGE_BUCKETS).

    Returns {"buckets": [labels], "rows": [{"status", "label", "counts": [per bucket],
    "total"}] in the order of the state machine, "totals": [per bucket], "total"}.
    Two queries (the grouped counts and the holiday calendar).
    """
    now = now or timezone.now()
    today = now.astimezone(ECUADOR).date()
    grouped = list(
        Case.objects.filter(status__in=OPEN_STATUSES)
        .values("status", day=TruncDate("submitted_at", tzinfo=ECUADOR))
        .annotate(n=Count("pk"))
        .order_by()
    )
    labels = [label for label, _low, _high in AGE_BUCKETS]
    table = {status: dict.fromkeys(labels, 0) for status in OPEN_STATUSES}
    if grouped:
        first = min(row["day"] for row in grouped)
        closed = non_working_dates(min(first, today), today)
        for row in grouped:
            age = working_days_left(_day_end(row["day"]), now, closed)
            table[row["status"]][_age_bucket(age)] += row["n"]
    rows = [
        {
            "status": status,
            "label": CaseStatus(status).label,
            "counts": list(table[status].values()),
            "total": sum(table[status].values()),
        }
        for status in OPEN_STATUSES
    ]
    totals = [sum(row["counts"][i] for row in rows) for i in range(len(labels))]
    return {"buckets": labels, "rows": rows, "totals": totals, "total": sum(totals)}


def _first_answers():
    """Transitions that ended a case's requirements review for the first time."""
    answer = Q(from_status=CaseStatus.IN_REVIEW, to_status__in=ANSWER_STATUSES)
    earlier = CaseTransition.objects.filter(
        answer, case=OuterRef("case"), at__lt=OuterRef("at")
    ).order_by()
    return CaseTransition.objects.filter(answer).exclude(Exists(earlier))


def _period_starts(now: dt.datetime) -> dict[str, dt.date]:
    today = now.astimezone(ECUADOR).date()
    return {"week": today - dt.timedelta(days=today.weekday()), "month": today.replace(day=1)}


def dashboard_sla(*, now: dt.datetime | None = None) -> dict:
    """SLA compliance this week (from Monday) and this month: cases whose first answer
    came in the period, on time (by the end of the deadline day) or late.

    Returns {"week": {...}, "month": {...}, "late": [...]}; each period has "since",
    "answered", "on_time", "late", "percent" (None without answers). "late" lists the
    cases answered late this month (at most LIST_LIMIT), newest first, each with
    "number", "deadline" (day), "answered_at", "answered_by", "assigned_to" and "causes".
    Three or four queries, whatever the number of cases.
    """
    now = now or timezone.now()
    starts = _period_starts(now)
    since = min(starts.values())
    grouped = list(
        _first_answers()
        .filter(at__gte=_day_start(since), at__lte=now)
        .values(
            submitted_day=TruncDate("case__submitted_at", tzinfo=ECUADOR),
            answered_day=TruncDate("at", tzinfo=ECUADOR),
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    deadlines: dict[dt.date, dt.date] = {}
    if grouped:
        closed = _calendar(
            min(row["submitted_day"] for row in grouped), now.astimezone(ECUADOR).date()
        )
        deadlines = {
            row["submitted_day"]: review_deadline_day(row["submitted_day"], closed)
            for row in grouped
        }
    result = {}
    for period, start in starts.items():
        rows = [row for row in grouped if row["answered_day"] >= start]
        answered = sum(row["n"] for row in rows)
        late = sum(
            row["n"] for row in rows if row["answered_day"] > deadlines[row["submitted_day"]]
        )
        result[period] = {
            "since": start,
            "answered": answered,
            "on_time": answered - late,
            "late": late,
            "percent": round(100 * (answered - late) / answered) if answered else None,
        }
    result["late"] = _late_answers(now, starts["month"], grouped, deadlines)
    return result


def _late_answers(now, month_start, grouped, deadlines) -> list[dict]:
    late_days = {
        row["submitted_day"]
        for row in grouped
        if row["answered_day"] >= month_start
        and row["answered_day"] > deadlines[row["submitted_day"]]
    }
    if not late_days:
        return []
    # Late for its own deadline: one condition per submission day (a few dozen at most).
    late = Q()
    for day in late_days:
        late |= Q(
            case__submitted_at__range=(_day_start(day), _day_end(day)),
            at__gt=_day_end(deadlines[day]),
        )
    checks_done = (
        CaseTransition.objects.filter(
            case=OuterRef("case"),
            from_status=CaseStatus.SUBMITTED,
            to_status=CaseStatus.IN_REVIEW,
        )
        .order_by("at")
        .values("at")[:1]
    )
    transitions = (
        _first_answers()
        .filter(late, at__gte=_day_start(month_start), at__lte=now)
        .annotate(checks_done_at=Subquery(checks_done))
        .select_related("case", "case__assigned_to")
        .order_by("-at")[:LIST_LIMIT]
    )
    rows = []
    for t in transitions:
        deadline = deadlines[t.case.submitted_at.astimezone(ECUADOR).date()]
        causes = []
        if t.checks_done_at is None or t.checks_done_at > _day_end(deadline):
            causes.append(_("Las verificaciones automáticas terminaron después del plazo"))
        causes.append(_holder(t.case))
        rows.append(
            {
                "number": t.case.number,
                "deadline": deadline,
                "answered_at": t.at,
                "answer": CaseStatus(t.to_status).label,
                "answered_by": t.actor_display,
                "causes": causes,
            }
        )
    return rows


def _holder(case: Case) -> str:
    if case.assigned_to_id is None:
        return _("Sin asignar")
    return _("A cargo de %(user)s") % {"user": case.assigned_to.get_username()}


def dashboard_overdue(*, now: dt.datetime | None = None) -> list[dict]:
    """Open cases past their review deadline now, the oldest deadline first (at most
    LIST_LIMIT), each with its causes as far as the record shows them: who holds it,
    the automated checks still running, a return from a correction. One query."""
    now = now or timezone.now()
    back_from_correction = CaseTransition.objects.filter(
        case=OuterRef("pk"),
        from_status=CaseStatus.CORRECTION_REQUESTED,
        to_status=CaseStatus.IN_REVIEW,
    ).order_by("-at")
    cases = (
        Case.objects.filter(
            status__in=CLOCK_STATUSES, review_due_at__isnull=False, review_due_at__lt=now
        )
        .annotate(corrected_at=Subquery(back_from_correction.values("at")[:1]))
        .select_related("assigned_to")
        .order_by("review_due_at")[:LIST_LIMIT]
    )
    rows = []
    for case in cases:
        causes = []
        if case.checks_pending or case.status == CaseStatus.SUBMITTED:
            causes.append(_("Esperando las verificaciones automáticas"))
        if case.corrected_at is not None:
            causes.append(
                _("Volvió de una corrección del ciudadano el %(date)s")
                % {"date": case.corrected_at.astimezone(ECUADOR).strftime("%d/%m/%Y")}
            )
        causes.append(_holder(case))
        rows.append(
            {
                "number": case.number,
                "status": case.get_status_display(),
                "due_at": case.review_due_at,
                "hours_late": int((now - case.review_due_at).total_seconds() // 3600),
                "causes": causes,
            }
        )
    return rows


def dashboard_at_risk(*, now: dt.datetime | None = None) -> list[dict]:
    """Open cases whose review deadline comes within STAFF_AT_RISK_HOURS, nearest first
    (at most LIST_LIMIT), with the hours left and who holds them. One query."""
    now = now or timezone.now()
    cases = (
        Case.objects.filter(
            status__in=CLOCK_STATUSES,
            review_due_at__range=(now, now + dt.timedelta(hours=at_risk_hours())),
        )
        .select_related("assigned_to")
        .order_by("review_due_at", "submitted_at")[:LIST_LIMIT]
    )
    return [
        {
            "number": case.number,
            "status": case.get_status_display(),
            "due_at": case.review_due_at,
            "hours_left": int((case.review_due_at - now).total_seconds() // 3600),
            "holder": _holder(case),
            "checks_pending": case.checks_pending,
        }
        for case in cases
    ]


def dashboard_summary(*, now: dt.datetime | None = None) -> dict:
    """Everything the supervisors' dashboard shows, for one moment `now` (default: now)."""
    now = now or timezone.now()
    return {
        "now": now,
        "at_risk_hours": at_risk_hours(),
        "workload": dashboard_workload(now=now),
        "states": dashboard_states_by_age(now=now),
        "sla": dashboard_sla(now=now),
        "overdue": dashboard_overdue(now=now),
        "at_risk": dashboard_at_risk(now=now),
    }

"""Reads for the institute's internal figures (/gestion/cifras/): what happened in a
period, for supervisors and auditors, optionally for one country of residence.

The live dashboard (dashboard.py) shows the situation now; these figures look back over
a period [start, end) of Ecuador calendar days. Every count is a grouped query
(COUNT ... GROUP BY), so its cost does not grow with the number of cases outside the
period. Medians have no portable SQL on both SQLite and PostgreSQL: the stage times
are read as one (start, end) pair per case and stage ending in the period, and the
median is taken in Python. That list is bounded by the period (a month holds a few
thousand cases; the period is limited to MAX_PERIOD_DAYS).

Definitions (the page prints them beside each table):

- received: submitted in the period;
- decided: reached a final status in the period (Case.status_changed_at, which a final
  status never changes again), by status;
- rejected by reason: the cases decided as "requirements rejected" in the period, by each
  coded reason of their decision (a case with two reasons counts under both); the cases
  decided as "identity not validated", by each identity question the analyst marked
  "does not match" on the call screen;
- SLA compliance: the requirements review ends with the analyst's first answer to the
  citizen, the first CaseTransition from in_review to correction_requested,
  requirements_rejected or call_pending. It is on time when that transition is at the
  latest at the end of the case's review deadline: the end of the REVIEW_WORKING_DAYS-th
  working day after the submission day, the deadline `case_submit` stored in
  review_due_at. It is recomputed from the holiday table (review_deadline_day) because a
  correction request clears the stored column. Counted: the reviews that ended in the
  period, as on the dashboard;
- time per stage, for the stages that ended in the period, in hours and in working days
  (whole working days after the start's day up to the end's day, the way terms count):
  submission -> review: from the submission to the first answer (above);
  review -> invitation: from the first answer to the requirements being approved and
  the citizen invited to the call (in_review -> call_pending; zero when the first
  answer was the approval, the time of the corrections otherwise);
  invitation -> call: from that invitation to the call held (call_scheduled ->
  identity_validated or identity_rejected; missed calls and new bookings included);
  call -> completion: from the validated call to the contact data applied
  (identity_validated -> completed);
- automated checks: the current results (CheckResult.is_current) of the cases received
  in the period; a case is flagged by a check when any of its results for that check
  says "warn" or "fail";
- no-shows: the video calls whose start time is in the period and that were held or
  missed (Appointment.status "held" or "no_show"); the share is missed / (held + missed).
"""

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from ventanilla.appointments.models import Appointment
from ventanilla.checks.constants import CHECK_ORDER, CheckName, CheckOutcome
from ventanilla.checks.models import CheckResult
from ventanilla.review.constants import CallResult, IdentityQuestion, QuestionAnswer
from ventanilla.review.models import CallVerification
from ventanilla.workdays.selectors import ECUADOR, is_working_day, non_working_dates

from .constants import FINAL_STATUSES, CaseStatus, ReviewReason
from .dashboard import ANSWER_STATUSES, _calendar, _first_answers, review_deadline_day
from .models import Case, CaseTransition
from .validators import country_name

# The longest period one request may cover (a year and a bit: "the last 12 months").
MAX_PERIOD_DAYS = 400
# The final statuses in the order of the state machine.
DECIDED_STATUSES = [s for s in CaseStatus if s in FINAL_STATUSES]
STAGES = ("review", "invitation", "call", "completion")
FLAG_OUTCOMES = (CheckOutcome.WARN.value, CheckOutcome.FAIL.value)


@dataclass(frozen=True)
class Period:
    """Ecuador calendar days from `start` up to, not including, `end`."""

    start: dt.date
    end: dt.date
    country: str = ""

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=ECUADOR)

    @property
    def ends_at(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time.min, tzinfo=ECUADOR)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def cases(self, prefix: str = "") -> Q:
        """The country filter on cases, through `prefix` (e.g. "case__") from another model."""
        return Q(**{f"{prefix}residence_country": self.country}) if self.country else Q()

    def instants(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.starts_at, f"{field}__lt": self.ends_at})


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def figures_received(period: Period) -> int:
    """Cases submitted in the period. One query."""
    return Case.objects.filter(period.instants("submitted_at"), period.cases()).count()


def figures_decided(period: Period) -> dict:
    """Cases that reached a final status in the period, per final status.

    Returns {"rows": [{"status", "label", "count"}] in the order of the state machine,
    "total"}. One query."""
    counts = dict(
        Case.objects.filter(
            period.instants("status_changed_at"),
            period.cases(),
            status__in=[s.value for s in DECIDED_STATUSES],
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = [
        {"status": s.value, "label": s.label, "count": counts.get(s.value, 0)}
        for s in DECIDED_STATUSES
    ]
    return {"rows": rows, "total": sum(counts.values())}


def figures_rejections(period: Period) -> dict:
    """Why the cases decided in the period were rejected: every coded reason of the
    requirements rejections, every identity question marked "does not match" in the
    identity rejections (and those with none marked: the reason is in the call notes).

    Returns {"requirements": {"cases", "rows": [{"code", "label", "count"}]},
    "identity": {"cases", "rows": [...], "unmarked"}}. Two queries, reading one small
    JSON list per rejected case (JSON containment has no SQLite lookup)."""
    decided = Q(period.instants("case__status_changed_at"), period.cases("case__"))
    reasons = Counter()
    requirement_cases = 0
    for codes in Case.objects.filter(
        period.instants("status_changed_at"),
        period.cases(),
        status=CaseStatus.REQUIREMENTS_REJECTED,
    ).values_list("decision_reasons", flat=True):
        requirement_cases += 1
        reasons.update(set(codes or []))
    questions = Counter()
    identity_cases = unmarked = 0
    for answers in CallVerification.objects.filter(
        decided,
        case__status=CaseStatus.IDENTITY_REJECTED,
        outcome=CallResult.NOT_VALIDATED,
    ).values_list("answers", flat=True):
        identity_cases += 1
        failed = {q for q, a in (answers or {}).items() if a == QuestionAnswer.DOES_NOT_MATCH}
        questions.update(failed)
        unmarked += not failed
    return {
        "requirements": {
            "cases": requirement_cases,
            "rows": [
                {"code": r.value, "label": r.label, "count": reasons.get(r.value, 0)}
                for r in ReviewReason
            ],
        },
        "identity": {
            "cases": identity_cases,
            "rows": [
                {"code": q.value, "label": q.label, "count": questions.get(q.value, 0)}
                for q in IdentityQuestion
            ],
            "unmarked": unmarked,
        },
    }


def figures_sla(period: Period) -> dict:
    """Requirements reviews that ended in the period (the first answer to the citizen),
    on time or late against the case's review deadline (see the module's docstring).

    Returns {"answered", "on_time", "late", "percent"} (percent None without reviews).
    Two queries (the grouped first answers and the holiday calendar)."""
    grouped = list(
        _first_answers()
        .filter(period.instants("at"), period.cases("case__"))
        .values(
            submitted_day=TruncDate("case__submitted_at", tzinfo=ECUADOR),
            answered_day=TruncDate("at", tzinfo=ECUADOR),
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    answered = late = 0
    if grouped:
        closed = _calendar(min(row["submitted_day"] for row in grouped), period.last_day)
        deadlines = {}
        for row in grouped:
            day = row["submitted_day"]
            if day not in deadlines:
                deadlines[day] = review_deadline_day(day, closed)
            answered += row["n"]
            if row["answered_day"] > deadlines[day]:
                late += row["n"]
    return {
        "answered": answered,
        "on_time": answered - late,
        "late": late,
        "percent": _percent(answered - late, answered),
    }


def _transition_at(**conditions) -> Subquery:
    """The time of the case's first transition matching `conditions`."""
    return Subquery(
        CaseTransition.objects.filter(case=OuterRef("case"), **conditions)
        .order_by("at", "id")
        .values("at")[:1]
    )


def _stage_pairs(period: Period) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    """(start, end) of each stage that ended in the period, one pair per case. Four queries."""
    ended = CaseTransition.objects.filter(period.instants("at"), period.cases("case__"))
    S = CaseStatus
    first_answer = _transition_at(from_status=S.IN_REVIEW, to_status__in=ANSWER_STATUSES)
    invited = _transition_at(from_status=S.IN_REVIEW, to_status=S.CALL_PENDING)
    validated = _transition_at(from_status=S.CALL_SCHEDULED, to_status=S.IDENTITY_VALIDATED)
    queries = {
        "review": _first_answers()
        .filter(period.instants("at"), period.cases("case__"))
        .values_list("case__submitted_at", "at"),
        "invitation": ended.filter(from_status=S.IN_REVIEW, to_status=S.CALL_PENDING)
        .annotate(started=first_answer)
        .values_list("started", "at"),
        "call": ended.filter(
            from_status=S.CALL_SCHEDULED, to_status__in=[S.IDENTITY_VALIDATED, S.IDENTITY_REJECTED]
        )
        .annotate(started=invited)
        .values_list("started", "at"),
        "completion": ended.filter(from_status=S.IDENTITY_VALIDATED, to_status=S.COMPLETED)
        .annotate(started=validated)
        .values_list("started", "at"),
    }
    return {
        stage: [(start, end) for start, end in query.order_by() if start is not None]
        for stage, query in queries.items()
    }


def _working_days_between(pairs: list[tuple[dt.datetime, dt.datetime]]):
    """A function giving the working days after a start's day up to an end's day, on a
    calendar read once for all the pairs."""
    days = [instant.astimezone(ECUADOR).date() for pair in pairs for instant in pair]
    if not days:
        return lambda start, end: 0
    first, last = min(days), max(days)
    closed = non_working_dates(first, last)
    index, counted, day = {}, 0, first
    while day <= last:
        counted += is_working_day(day, closed)
        index[day] = counted
        day += dt.timedelta(days=1)

    def between(start: dt.datetime, end: dt.datetime) -> int:
        return max(
            0, index[end.astimezone(ECUADOR).date()] - index[start.astimezone(ECUADOR).date()]
        )

    return between


def figures_stage_times(period: Period) -> list[dict]:
    """Median time of each stage of the procedure that ended in the period (see the
    module's docstring), in hours and in working days.

    Returns [{"stage", "cases", "median_hours", "median_working_days"}] in the order of
    STAGES (medians None for a stage with no case). Five queries."""
    pairs = _stage_pairs(period)
    working_days = _working_days_between([p for stage in pairs.values() for p in stage])
    rows = []
    for stage in STAGES:
        measured = pairs[stage]
        hours = [(end - start).total_seconds() / 3600 for start, end in measured]
        days = [working_days(start, end) for start, end in measured]
        rows.append(
            {
                "stage": stage,
                "cases": len(measured),
                "median_hours": round(statistics.median(hours), 1) if hours else None,
                "median_working_days": statistics.median(days) if days else None,
            }
        )
    return rows


def figures_checks(period: Period) -> list[dict]:
    """For each automated check, among the cases received in the period: how many have a
    current result of it, how many it flagged (warn or fail), failed, or could not verify.

    Returns [{"name", "label", "checked", "flagged", "failed", "errors", "percent"}] in
    the order an analyst reads the checks (percent: flagged / checked). One query."""
    grouped = {
        row.pop("name"): row
        for row in CheckResult.objects.filter(
            period.instants("case__submitted_at"), period.cases("case__"), is_current=True
        )
        .values("name")
        .annotate(
            checked=Count("case", distinct=True),
            flagged=Count("case", distinct=True, filter=Q(outcome__in=FLAG_OUTCOMES)),
            failed=Count("case", distinct=True, filter=Q(outcome=CheckOutcome.FAIL)),
            errors=Count("case", distinct=True, filter=Q(outcome=CheckOutcome.ERROR)),
        )
        .order_by()
    }
    zero = {"checked": 0, "flagged": 0, "failed": 0, "errors": 0}
    rows = []
    for name in CHECK_ORDER:
        counts = grouped.get(name.value, zero)
        rows.append(
            {
                "name": name.value,
                "label": CheckName(name).label,
                **counts,
                "percent": _percent(counts["flagged"], counts["checked"]),
            }
        )
    return rows


def figures_no_shows(period: Period) -> dict:
    """Video calls due in the period: held, missed (no-shows) and the share missed.

    Returns {"calls", "held", "no_shows", "percent"}. One query."""
    counts = Appointment.objects.filter(
        period.instants("starts_at"), period.cases("case__")
    ).aggregate(
        held=Count("pk", filter=Q(status=Appointment.Status.HELD)),
        no_shows=Count("pk", filter=Q(status=Appointment.Status.NO_SHOW)),
    )
    calls = counts["held"] + counts["no_shows"]
    return {**counts, "calls": calls, "percent": _percent(counts["no_shows"], calls)}


def figures_summary(period: Period) -> dict:
    """Every internal figure of the period. About a dozen queries, whatever the volume."""
    return {
        "period": period,
        "received": figures_received(period),
        "decided": figures_decided(period),
        "rejections": figures_rejections(period),
        "sla": figures_sla(period),
        "stages": figures_stage_times(period),
        "checks": figures_checks(period),
        "no_shows": figures_no_shows(period),
    }


# --- the figures as tables: what the page shows and the CSV exports, row for row ------


def stage_label(stage: str) -> str:
    return {
        "review": _("Presentación → primera respuesta de la revisión"),
        "invitation": _("Primera respuesta → requisitos aprobados y convocatoria"),
        "call": _("Convocatoria → videollamada realizada"),
        "completion": _("Videollamada validada → datos actualizados"),
    }[stage]


def figures_sections(summary: dict) -> list[dict]:
    """The figures as sections of (name, value, unit) rows, in reading order: the page
    prints one table per section and the CSV one line per row, so both say the same.

    Returns [{"key", "title", "definition", "rows": [{"name", "value", "unit"}]}]; a
    value is an int, a float, a string, or None when there is nothing to measure."""
    period, cases, percent = summary["period"], _("trámites"), "%"

    def row(name, value, unit):
        return {"name": str(name), "value": value, "unit": str(unit)}

    sections = [
        {
            "key": "period",
            "title": _("Período y país"),
            "definition": _("Días del calendario de Ecuador, ambos incluidos."),
            "rows": [
                row(_("Desde"), period.start.isoformat(), _("fecha")),
                row(_("Hasta (incluido)"), period.last_day.isoformat(), _("fecha")),
                row(
                    _("País de residencia"),
                    country_name(period.country) if period.country else _("Todos"),
                    _("país"),
                ),
            ],
        },
        {
            "key": "received",
            "title": _("Trámites recibidos"),
            "definition": _("Trámites presentados en el período."),
            "rows": [row(_("Recibidos"), summary["received"], cases)],
        },
        {
            "key": "decided",
            "title": _("Trámites decididos"),
            "definition": _("Trámites que llegaron a un estado final en el período, por estado."),
            "rows": [row(r["label"], r["count"], cases) for r in summary["decided"]["rows"]]
            + [row(_("Total decididos"), summary["decided"]["total"], cases)],
        },
    ]
    requirements = summary["rejections"]["requirements"]
    identity = summary["rejections"]["identity"]
    sections.append(
        {
            "key": "rejections",
            "title": _("Rechazos por motivo"),
            "definition": _(
                "Trámites decididos en el período. Rechazo por requisitos: cada motivo "
                "codificado de la decisión (un trámite con dos motivos cuenta en ambos). "
                "Identidad no validada: cada pregunta de la videollamada marcada «No "
                "coincide»; sin ninguna marcada, el motivo está en las notas de la llamada."
            ),
            "rows": [row(_("Rechazados por requisitos"), requirements["cases"], cases)]
            + [
                row(_("Requisitos: %(reason)s") % {"reason": r["label"]}, r["count"], cases)
                for r in requirements["rows"]
            ]
            + [row(_("Identidad no validada"), identity["cases"], cases)]
            + [
                row(_("Identidad: %(question)s") % {"question": r["label"]}, r["count"], cases)
                for r in identity["rows"]
            ]
            + [
                row(
                    _("Identidad: ninguna pregunta marcada «No coincide»"),
                    identity["unmarked"],
                    cases,
                )
            ],
        }
    )
    sla = summary["sla"]
    sections.append(
        {
            "key": "sla",
            "title": _("Cumplimiento del plazo de revisión"),
            "definition": _(
                "La revisión de requisitos termina con la primera respuesta del analista al "
                "ciudadano: el primer paso de «En revisión de requisitos» a «Corrección "
                "solicitada», «Rechazado por requisitos» o «Requisitos aprobados». Es a "
                "tiempo si ocurre a más tardar al final del plazo del trámite: el 3.er día "
                "laborable después del día de presentación, según el calendario de feriados "
                "(el plazo que se fijó al presentarlo). Se cuentan las revisiones que "
                "terminaron en el período."
            ),
            "rows": [
                row(_("Revisiones terminadas"), sla["answered"], cases),
                row(_("A tiempo"), sla["on_time"], cases),
                row(_("Fuera de plazo"), sla["late"], cases),
                row(_("Cumplimiento"), sla["percent"], percent),
            ],
        }
    )
    stage_rows = []
    for stage in summary["stages"]:
        label = stage_label(stage["stage"])
        stage_rows += [
            row(_("%(stage)s: trámites medidos") % {"stage": label}, stage["cases"], cases),
            row(_("%(stage)s: mediana") % {"stage": label}, stage["median_hours"], _("horas")),
            row(
                _("%(stage)s: mediana") % {"stage": label},
                stage["median_working_days"],
                _("días laborables"),
            ),
        ]
    sections.append(
        {
            "key": "stages",
            "title": _("Tiempo por etapa (mediana)"),
            "definition": _(
                "Etapas que terminaron en el período, medidas con las horas de cada cambio "
                "de estado del trámite. Presentación → primera respuesta: hasta la primera "
                "respuesta de la revisión (como en el plazo). Primera respuesta → "
                "convocatoria: hasta que los requisitos se aprueban y se invita a la "
                "videollamada (cero si la primera respuesta fue la aprobación; si no, el "
                "tiempo de las correcciones). Convocatoria → videollamada: hasta la "
                "videollamada realizada, validada o no (incluye inasistencias y nuevas "
                "reservas). Videollamada validada → datos actualizados: la aplicación de "
                "los datos al registro. Días laborables: días hábiles después del día de "
                "inicio hasta el día de fin."
            ),
            "rows": stage_rows,
        }
    )
    check_rows = []
    for check in summary["checks"]:
        label = check["label"]
        check_rows += [
            row(_("%(check)s: trámites verificados") % {"check": label}, check["checked"], cases),
            row(_("%(check)s: con alerta") % {"check": label}, check["flagged"], cases),
            row(_("%(check)s: no cumple") % {"check": label}, check["failed"], cases),
            row(_("%(check)s: no se pudo verificar") % {"check": label}, check["errors"], cases),
            row(_("%(check)s: con alerta") % {"check": label}, check["percent"], percent),
        ]
    sections.append(
        {
            "key": "checks",
            "title": _("Verificaciones automáticas"),
            "definition": _(
                "Resultados vigentes de los trámites recibidos en el período. Un trámite "
                "tiene alerta de una verificación si alguno de sus resultados es «Revisar» "
                "o «No cumple»; el porcentaje es sobre los trámites verificados."
            ),
            "rows": check_rows,
        }
    )
    no_shows = summary["no_shows"]
    calls = _("videollamadas")
    sections.append(
        {
            "key": "no_shows",
            "title": _("Inasistencias a la videollamada"),
            "definition": _(
                "Videollamadas con hora de inicio en el período que se realizaron o a las "
                "que el ciudadano no se presentó; el porcentaje es sobre ambas."
            ),
            "rows": [
                row(_("Videollamadas"), no_shows["calls"], calls),
                row(_("Realizadas"), no_shows["held"], calls),
                row(_("Inasistencias"), no_shows["no_shows"], calls),
                row(_("Inasistencias"), no_shows["percent"], percent),
            ],
        }
    )
    return sections


def figure_text(value) -> str:
    """A figure as the page and the CSV write it: "" for nothing to measure, one decimal
    for a fraction (with a point), the number or text otherwise."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)

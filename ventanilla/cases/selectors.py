"""Reads of cases. Lookups answer None for a missing and for a forbidden case alike,
so nobody can learn from the answer whether a number or an ID exists."""

import datetime as dt
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from ventanilla.appointments.timezones import zone_place
from ventanilla.staff.roles import Permission, can
from ventanilla.workdays.selectors import ECUADOR, non_working_dates, working_days_left

from .constants import REVIEW_CLOCK_STATUSES, CaseStatus, ReviewReason
from .models import OPEN_STATUSES, Case, CorrectionRequest
from .numbers import case_number_is_valid, case_number_normalize
from .statemachine import can_transition


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


@dataclass(frozen=True)
class QueueFilters:
    """What the queue page asks for, parsed from its query string.

    status: one status, "" (every open case) or ALL_STATUSES (open and closed);
    country: ISO code of residence;
    assignee: a user id, "sin" (unassigned) or "yo" (the viewer); at_risk: the review
    clock runs and is due within STAFF_AT_RISK_HOURS, or overdue; flagged: a flag from
    submission or a recommendation of the checks that asks for a closer look; query:
    a case number, an ID number or words of the name.
    """

    status: str = ""
    country: str = ""
    assignee: str = ""
    at_risk: bool = False
    flagged: bool = False
    query: str = ""

    @classmethod
    def from_query_string(cls, params) -> "QueueFilters":
        status = params.get("estado", "")
        assignee = (params.get("analista") or "").strip()
        return cls(
            status=status if status in CaseStatus.values or status == ALL_STATUSES else "",
            country=(params.get("pais") or "").strip().upper()[:2],
            assignee=assignee if assignee in (UNASSIGNED, MINE) or assignee.isdigit() else "",
            at_risk=params.get("riesgo") in ("1", "si", "on"),
            flagged=params.get("marcado") in ("1", "si", "on"),
            query=(params.get("q") or "").strip()[:100],
        )


UNASSIGNED = "sin"
MINE = "yo"
ALL_STATUSES = "todos"
QUEUE_PAGE_SIZE = 50
QUEUE_ORDER = (F("review_due_at").asc(nulls_last=True), "submitted_at", "id")
# The same order, written so that PostgreSQL cannot walk the deadline index: a name
# search must start from the trigram index and sort the few matches, not scan the
# deadlines of a million cases looking for 51 that match (seconds instead of ms).
SEARCH_ORDER = (
    Coalesce("review_due_at", Value(dt.datetime.max.replace(tzinfo=dt.UTC))),
    "submitted_at",
    "id",
)
_CASE_NUMBER_COMPACT = re.compile(r"(?:VV)?(\d{4})(\d{6})([0-9A-Z])")


def name_search_fold(text: str) -> str:
    """Lower case without accents: how Case.search_name stores a name."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def at_risk_hours() -> int:
    """How many hours before its deadline an open case counts as about to breach."""
    return settings.STAFF_AT_RISK_HOURS


MIN_NAME_WORD = 3


def _compact(query: str) -> str:
    return re.sub(r"[\s.\-_\u2010-\u2015]", "", query).upper()


def _is_identifier(query: str) -> bool:
    """Anything with a digit is a case number or an ID number; words without are a name."""
    return any(ch.isdigit() for ch in query)


def _search(cases: QuerySet[Case], query: str) -> QuerySet[Case]:
    # Case and ID numbers are exact (both indexed); words without digits are a name.
    compact = _compact(query)
    if _is_identifier(compact):
        match = Q(id_number=compact)
        number = _CASE_NUMBER_COMPACT.fullmatch(compact)
        if number:
            match |= Q(number=f"VV-{number[1]}-{number[2]}-{number[3]}")
        return cases.filter(match)
    words = name_search_fold(query).split()
    # Particles ("de", "la") match a third of all names and no trigram index can serve a
    # word under 3 letters: they are left out while a longer word remains.
    long_words = [w for w in words if len(w) >= MIN_NAME_WORD]
    if long_words:
        # On PostgreSQL LIKE '%word%' on search_name uses the trigram index (migration 0005).
        for word in long_words:
            cases = cases.filter(search_name__contains=word)
        return cases
    # Only short words: a trigram index has nothing to look up, yet PostgreSQL's planner
    # may still walk all of it (a million entries, 0.6 s). icontains compares
    # UPPER(search_name), which that index does not cover, so the scan starts from the
    # status filter instead; search_name is already lower case, so the matches are the same.
    for word in words:
        cases = cases.filter(search_name__icontains=word)
    return cases


def case_queue(
    *,
    status: str | None = None,
    filters: QueueFilters | None = None,
    user=None,
    now: dt.datetime | None = None,
) -> QuerySet[Case]:
    """Open cases, the nearest review deadline first (paused and reviewed cases after).

    `status` picks one status (closed ones too); `filters` are the queue page's filters
    (`user` is the viewer, for "yo"). A case or ID number is looked up among every case,
    open or closed, since staff look a number up to answer a citizen. Names are searched
    within the chosen status: the open cases unless the analyst asks for "todos" (a common
    surname matches tens of thousands of closed cases of past years).
    """
    filters = filters or QueueFilters(status=status or "")
    now = now or timezone.now()
    if filters.status == ALL_STATUSES:
        cases = Case.objects.all()
    elif filters.status:
        cases = Case.objects.filter(status=filters.status)
    elif filters.query and _is_identifier(filters.query):
        cases = Case.objects.all()
    else:
        cases = Case.objects.filter(status__in=OPEN_STATUSES)
    if filters.country:
        cases = cases.filter(residence_country=filters.country)
    if filters.assignee == UNASSIGNED:
        cases = cases.filter(assigned_to__isnull=True)
    elif filters.assignee == MINE:
        cases = cases.filter(assigned_to=user.pk if user is not None else None)
    elif filters.assignee:
        cases = cases.filter(assigned_to=int(filters.assignee))
    if filters.at_risk:
        cases = cases.filter(
            status__in=[s.value for s in REVIEW_CLOCK_STATUSES],
            review_due_at__lte=now + dt.timedelta(hours=at_risk_hours()),
        )
    if filters.flagged:
        cases = cases.filter(flagged=True)
    order = QUEUE_ORDER
    if filters.query:
        cases, order = _search(cases, filters.query), SEARCH_ORDER
    return cases.select_related("assigned_to").order_by(*order)


@dataclass
class QueuePage:
    """One page of the queue: its rows, and whether a next page exists (never counted)."""

    number: int
    rows: list[dict]
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def case_queue_rows(cases: list[Case], *, now: dt.datetime) -> list[dict]:
    """Each case with the time left on its review clock: whole working days (weekends and
    holidays skipped, the calendar read once for the page) and hours; `at_risk` when
    due within STAFF_AT_RISK_HOURS, `overdue` once past. Nothing while the clock stops."""
    due_dates = [c.review_due_at for c in cases if c.review_clock_running]
    today = now.astimezone(ECUADOR).date()
    closed = (
        non_working_dates(today, max(due_dates).astimezone(ECUADOR).date()) if due_dates else set()
    )
    risk_window = dt.timedelta(hours=at_risk_hours())
    rows = []
    for case in cases:
        running = case.review_clock_running
        rows.append(
            {
                "case": case,
                "days_left": working_days_left(now, case.review_due_at, closed)
                if running
                else None,
                "hours_left": round((case.review_due_at - now).total_seconds() / 3600)
                if running
                else None,
                "overdue": running and case.review_due_at < now,
                "at_risk": running and case.review_due_at - now <= risk_window,
            }
        )
    return rows


def case_queue_page(
    cases: QuerySet[Case], *, page: int = 1, now: dt.datetime | None = None
) -> QueuePage:
    """A page of QUEUE_PAGE_SIZE rows. One row more than the page is read to know whether
    a next page exists, so a million rows are never counted."""
    page = max(page, 1)
    start = (page - 1) * QUEUE_PAGE_SIZE
    fetched = list(cases[start : start + QUEUE_PAGE_SIZE + 1])
    return QueuePage(
        number=page,
        rows=case_queue_rows(fetched[:QUEUE_PAGE_SIZE], now=now or timezone.now()),
        has_next=len(fetched) > QUEUE_PAGE_SIZE,
    )


def case_timeline(case: Case) -> list[dict]:
    """What the citizen sees: each status with the moment it was reached."""
    return [{"status": t.to_status, "at": t.at} for t in case.transitions.all()]


def status_label(status: str) -> str:
    """The Spanish name of a status, as plain text (for JSON)."""
    return str(CaseStatus(status).label)


# The citizen's status page. The lookup needs only the case number and an ID number,
# which is weaker than access to the mailbox: nothing here carries a personal link
# (correction, video call) or the full email address.

_TIME = "H:i"
CONTACT_EMAIL = "atencionalusuario@iess.gob.ec"


def _day_format() -> str:
    # Each language writes a day its own way, so the format is translated (English:
    # "l, F j, Y"); the letters are those of Django's date filter.
    return pgettext("date format with weekday", r"l j \d\e F \d\e Y")


def _ecuador_date(value: dt.datetime) -> str:
    return dateformat.format(value.astimezone(ECUADOR), _day_format())


def _ecuador_time(value: dt.datetime) -> str:
    return dateformat.format(value.astimezone(ECUADOR), _TIME)


def email_hint(address: str) -> str:
    """The address with the mailbox name hidden except its first letter: m***@example.org."""
    local, _sep, domain = (address or "").partition("@")
    return f"{local[:1]}***@{domain}" if local and domain else ""


def correction_summary(correction: CorrectionRequest, *, now: dt.datetime | None = None) -> dict:
    """What the citizen must correct, in plain words: the items to upload again (labels),
    the analyst's reasons (labels) and message, and the deadline of the personal link
    (`expires_at`, with `deadline` as Spanish text in Ecuador time and `expired`)."""
    now = now or timezone.now()
    return {
        "items": correction.item_labels,
        "reasons": [
            str(ReviewReason(r).label) for r in correction.reasons if r in ReviewReason.values
        ],
        "message": correction.message,
        "expires_at": correction.expires_at,
        "deadline": _("%(date)s a las %(time)s (hora de Ecuador)")
        % {
            "date": _ecuador_date(correction.expires_at),
            "time": _ecuador_time(correction.expires_at),
        },
        "expired": correction.expires_at <= now,
    }


def case_open_correction(case: Case) -> CorrectionRequest | None:
    """The correction request the citizen has not answered yet, if any."""
    return case.corrections.filter(answered_at__isnull=True).first()


def case_withdraw_refusal(case: Case) -> str:
    """Why the citizen cannot withdraw this case, in plain words; "" when they can."""
    if can_transition(case, CaseStatus.WITHDRAWN):
        return ""
    if case.is_final:
        return _(
            "El trámite %(number)s ya está cerrado («%(status)s»), por eso no se puede desistir "
            "de él. Si necesita actualizar sus datos, puede iniciar un trámite nuevo."
        ) % {"number": case.number, "status": CaseStatus(case.status).label}
    return _(
        "El trámite %(number)s está «%(status)s»: en este punto ya no se puede desistir. "
        "Si tiene dudas, escriba a %(contact)s indicando el número de trámite."
    ) % {"number": case.number, "status": CaseStatus(case.status).label, "contact": CONTACT_EMAIL}


def case_for_citizen_session(looked_up: list[str], number: str) -> Case | None:
    """A case this browser looked up earlier with its number and ID number (the numbers
    the session remembers), or None: a number the session does not hold answers like
    an unknown one."""
    if not case_number_is_valid(number or ""):
        return None
    number = case_number_normalize(number)
    if number not in (looked_up or []):
        return None
    return Case.objects.filter(number=number).first()


def _review_deadline(case: Case, now: dt.datetime) -> tuple[str, int | None]:
    if not case.review_clock_running:
        return "", None
    due = case.review_due_at
    if due <= now:
        return (
            _(
                "El plazo de revisión venció el %(date)s (hora de Ecuador). Disculpe la demora: "
                "le escribiremos lo antes posible."
            )
            % {"date": _ecuador_date(due)},
            0,
        )
    left = working_days_left(now, due)
    if left == 0:
        remaining = _("vence hoy")
    else:
        remaining = ngettext(
            "queda %(count)d día laborable", "quedan %(count)d días laborables", left
        ) % {"count": left}
    return (
        _("Plazo de revisión: hasta el %(date)s (hora de Ecuador); %(remaining)s.")
        % {"date": _ecuador_date(due), "remaining": remaining},
        left,
    )


def _expired_reason(case: Case) -> str:
    last = next(
        (t for t in list(case.transitions.all())[::-1] if t.to_status == CaseStatus.EXPIRED),
        None,
    )
    if last is not None and last.from_status == CaseStatus.CALL_PENDING:
        return _("no fue posible agendar la videollamada dentro del plazo")
    return _("no recibimos la corrección dentro del plazo")


def case_citizen_summary(case: Case, *, now: dt.datetime | None = None) -> dict:
    """The status page in plain Spanish words, for a case the citizen has looked up.

    Keys:
      number, status (code), status_label: the case and its status name;
      is_open: the case is not final; can_withdraw: the citizen may still withdraw;
      happening_now: what is happening now; next_step: what the citizen must do next;
      review_deadline: the review deadline and the working days left, as a sentence,
        only while the review clock runs ("" otherwise), with review_due_at and
        working_days_left as values;
      correction: `correction_summary` of the open correction request (or None);
      call: the scheduled video call (starts_at, citizen_timezone, ecuador and local
        as Spanish text) or None;
      decision_reasons (labels) and decision_message: why the case was rejected;
      timeline: [{"status", "label", "at"}] oldest first, `at` aware (show it in Ecuador
        time).

    Dates in the texts are in Ecuador time and say so. Personal links (correction, call)
    are never part of it: they travel only by email.
    """
    now = now or timezone.now()
    status = CaseStatus(case.status)
    mailbox = email_hint(case.email)
    closed_on = _ecuador_date(case.status_changed_at)
    review_deadline, days_left = _review_deadline(case, now)
    due = case.review_due_at if case.review_clock_running else None
    correction = None
    call = None
    happening_now = next_step = ""

    if status in (CaseStatus.SUBMITTED, CaseStatus.IN_REVIEW):
        if status == CaseStatus.SUBMITTED:
            happening_now = _(
                "Recibimos su solicitud. El sistema prepara sus documentos para que un analista "
                "los revise."
            )
        else:
            happening_now = _("Un analista revisa sus documentos.")
        if due is not None:
            next_step = _(
                "No tiene que hacer nada por ahora. Recibirá un correo en %(mailbox)s a más "
                "tardar el %(date)s (hora de Ecuador) con el resultado de la revisión: la "
                "convocatoria a la videollamada o lo que debe corregir."
            ) % {"mailbox": mailbox, "date": _ecuador_date(due)}
        else:
            next_step = _(
                "No tiene que hacer nada por ahora. Recibirá un correo en %(mailbox)s con el "
                "resultado de la revisión."
            ) % {"mailbox": mailbox}
    elif status == CaseStatus.CORRECTION_REQUESTED:
        happening_now = _(
            "El analista le pide corregir algunos documentos. La revisión está en pausa hasta "
            "que usted los envíe."
        )
        open_correction = case_open_correction(case)
        correction = correction_summary(open_correction, now=now) if open_correction else None
        if correction and correction["expired"]:
            next_step = _(
                "El plazo para enviar la corrección venció el %(deadline)s. Escriba a "
                "%(contact)s indicando su número de trámite."
            ) % {"deadline": correction["deadline"], "contact": CONTACT_EMAIL}
        elif correction:
            next_step = _(
                "Cargue de nuevo los documentos indicados abajo con el enlace personal que le "
                "enviamos por correo a %(mailbox)s. Hágalo hasta el %(deadline)s. Si no "
                "encuentra el correo, revise la carpeta de correo no deseado. Su número de "
                "trámite no cambia."
            ) % {"mailbox": mailbox, "deadline": correction["deadline"]}
        else:
            next_step = _(
                "Siga el enlace personal que le enviamos por correo a %(mailbox)s. Su número "
                "de trámite no cambia."
            ) % {"mailbox": mailbox}
    elif status == CaseStatus.CALL_PENDING and hasattr(case, "booking_link"):
        happening_now = _(
            "Sus requisitos fueron aprobados. Falta que usted elija la fecha y la hora de su "
            "videollamada de validación de identidad."
        )
        next_step = _(
            "Elija un horario con el enlace personal que le enviamos por correo a "
            "%(mailbox)s: verá los horarios en su hora local y en la de Ecuador. Si no "
            "encuentra el correo, revise la carpeta de correo no deseado."
        ) % {"mailbox": mailbox}
    elif status == CaseStatus.CALL_PENDING:
        happening_now = _(
            "Sus requisitos fueron aprobados. El IESS está agendando su videollamada de "
            "validación de identidad."
        )
        next_step = _(
            "No tiene que hacer nada por ahora. Recibirá en %(mailbox)s la convocatoria con la "
            "fecha, la hora y el enlace de la videollamada."
        ) % {"mailbox": mailbox}
    elif status == CaseStatus.CALL_SCHEDULED:
        appointment = case.appointments.filter(status="scheduled").order_by("starts_at").first()
        if appointment is not None:
            local = appointment.starts_at.astimezone(
                zoneinfo.ZoneInfo(appointment.citizen_timezone)
            )
            call = {
                "starts_at": appointment.starts_at,
                "citizen_timezone": appointment.citizen_timezone,
                "ecuador": _("%(date)s a las %(time)s (hora de Ecuador)")
                % {
                    "date": _ecuador_date(appointment.starts_at),
                    "time": _ecuador_time(appointment.starts_at),
                },
                "local": _("%(date)s a las %(time)s (hora de %(zone)s)")
                % {
                    "date": dateformat.format(local, _day_format()),
                    "time": dateformat.format(local, _TIME),
                    "zone": zone_place(appointment.citizen_timezone),
                },
            }
            happening_now = _(
                "Sus requisitos fueron aprobados. Su videollamada de validación de identidad "
                "está agendada para el %(when)s."
            ) % {"when": call["ecuador"]}
        else:
            happening_now = _(
                "Sus requisitos fueron aprobados. Su videollamada de validación de identidad "
                "está agendada."
            )
        next_step = _(
            "Revise su correo (%(mailbox)s): allí está la convocatoria con el enlace de la "
            "videollamada. Conéctese a la hora indicada con su documento de identidad original."
        ) % {"mailbox": mailbox}
    elif status == CaseStatus.IDENTITY_VALIDATED:
        happening_now = _("Su identidad fue validada. Estamos actualizando sus datos de contacto.")
        next_step = _("No tiene que hacer nada. Le avisaremos por correo cuando termine.")
    elif status == CaseStatus.COMPLETED:
        happening_now = _(
            "Trámite terminado: su identidad fue validada y sus datos de contacto se "
            "actualizaron el %(date)s."
        ) % {"date": closed_on}
        next_step = _(
            "No tiene que hacer nada más. Si más adelante necesita cambiar sus datos otra vez, "
            "inicie un trámite nuevo."
        )
    elif status == CaseStatus.REQUIREMENTS_REJECTED:
        happening_now = _(
            "Su solicitud fue rechazada el %(date)s porque no cumple los requisitos. Sus datos "
            "de contacto no fueron modificados."
        ) % {"date": closed_on}
        next_step = _(
            "Si desea, presente una solicitud nueva con los documentos correctos; tenga en "
            "cuenta los motivos de abajo."
        )
    elif status == CaseStatus.IDENTITY_REJECTED:
        happening_now = _(
            "No fue posible validar su identidad en la videollamada (%(date)s). Sus datos de "
            "contacto no fueron modificados."
        ) % {"date": closed_on}
        next_step = _(
            "Puede presentar una solicitud nueva. Si tiene preguntas, escriba a %(contact)s "
            "indicando su número de trámite."
        ) % {"contact": CONTACT_EMAIL}
    elif status == CaseStatus.WITHDRAWN:
        happening_now = _(
            "El trámite fue cerrado a su pedido (desistimiento) el %(date)s. Sus datos de "
            "contacto no fueron modificados."
        ) % {"date": closed_on}
        next_step = _(
            "Si desea actualizar sus datos, puede iniciar un trámite nuevo cuando quiera. Si "
            "usted no pidió cerrar el trámite, escriba a %(contact)s."
        ) % {"contact": CONTACT_EMAIL}
    elif status == CaseStatus.EXPIRED:
        happening_now = _(
            "El trámite se cerró el %(date)s porque %(reason)s. Sus datos de contacto no fueron "
            "modificados."
        ) % {"date": closed_on, "reason": _expired_reason(case)}
        next_step = _("Si aún desea actualizar sus datos, inicie un trámite nuevo.")

    rejected = status in (CaseStatus.REQUIREMENTS_REJECTED, CaseStatus.IDENTITY_REJECTED)
    return {
        "number": case.number,
        "status": status.value,
        "status_label": str(status.label),
        "is_open": not case.is_final,
        "can_withdraw": can_transition(case, CaseStatus.WITHDRAWN),
        "happening_now": happening_now,
        "next_step": next_step,
        "review_deadline": review_deadline,
        "review_due_at": due,
        "working_days_left": days_left,
        "correction": correction,
        "call": call,
        "decision_reasons": [
            str(ReviewReason(r).label) for r in case.decision_reasons if r in ReviewReason.values
        ]
        if rejected
        else [],
        "decision_message": case.decision_message if rejected else "",
        "timeline": [
            {"status": t.to_status, "label": str(CaseStatus(t.to_status).label), "at": t.at}
            for t in case.transitions.all()
        ],
    }

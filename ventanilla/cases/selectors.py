"""Reads of cases. Lookups answer None for a missing and for a forbidden case alike,
so nobody can learn from the answer whether a number or an ID exists."""

import datetime as dt
import re
import zoneinfo

from django.db.models import F, QuerySet
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from ventanilla.staff.roles import Permission, can
from ventanilla.workdays.selectors import ECUADOR, working_days_left

from .constants import FINAL_STATUSES, CaseStatus, ReviewReason
from .models import Case, CorrectionRequest
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
                    "zone": appointment.citizen_timezone,
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

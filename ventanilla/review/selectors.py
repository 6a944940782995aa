"""Reads for the analyst's case page: the checklist, the notes, and the case's whole
history (transitions, messages, views, checklist changes and notes) in time order."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ventanilla.audit.models import AuditEvent
from ventanilla.audit.selectors import action_label
from ventanilla.cases.constants import CaseStatus, ReviewReason
from ventanilla.documents.constants import DocumentKind

from .constants import RULE_DOCUMENTS, RULE_REASONS, IdentityQuestion, ReviewRule, RuleAnswer
from .models import CallVerification, CaseNote, ChecklistVersion


def checklist_versions(case) -> list[ChecklistVersion]:
    """Every saved version of the case's checklist, newest first, with who saved it."""
    return list(ChecklistVersion.objects.filter(case=case).select_related("created_by"))


def checklist_rows(version: ChecklistVersion | None) -> list[dict]:
    """One row per rule of the seed, in its order: the rule, its label and the current
    answer and reason ("" when not judged yet)."""
    answers = version.answers if version else {}
    return [
        {
            "rule": rule,
            "label": label,
            "answer": (answers.get(rule) or {}).get("answer", ""),
            "reason": (answers.get(rule) or {}).get("reason", ""),
        }
        for rule, label in ReviewRule.choices
    ]


def _failed_rules(version: ChecklistVersion | None) -> list[str]:
    if version is None:
        return []
    return [
        rule
        for rule in ReviewRule.values
        if (version.answers.get(rule) or {}).get("answer") == RuleAnswer.FAILS
    ]


def checklist_failed_reasons(version: ChecklistVersion | None) -> list[str]:
    """The coded reasons (ReviewReason) of the rules marked "no cumple", in the
    reasons' own order, each once."""
    wanted = {RULE_REASONS[rule] for rule in _failed_rules(version)}
    return [reason for reason in ReviewReason.values if reason in wanted]


def checklist_failed_items(version: ChecklistVersion | None) -> list[str]:
    """The files (DocumentKind) the citizen would upload again for the rules marked
    "no cumple"."""
    wanted = {kind for rule in _failed_rules(version) for kind in RULE_DOCUMENTS[rule]}
    return [kind for kind in DocumentKind.values if kind in wanted]


def checklist_failed_message(version: ChecklistVersion | None) -> str:
    """A first draft of the citizen's message: each failed rule with the analyst's reason."""
    if version is None:
        return ""
    return "\n".join(
        f"- {ReviewRule(rule).label}: {version.answers[rule]['reason']}"
        for rule in _failed_rules(version)
    )


def case_notes(case) -> list[CaseNote]:
    """The case's internal notes, newest first, with their authors."""
    return list(CaseNote.objects.filter(case=case).select_related("author"))


# --- the history ---------------------------------------------------------------------

# What the audit trail's actions mean, for the analyst. Status changes come from the
# transitions and checklist and notes from their own rows, so their audit events are
# not repeated.
AUDIT_LABELS = {
    "case.submitted": gettext_lazy("Ingresó el trámite"),
    "case.viewed": gettext_lazy("Abrió la página del trámite"),
    "document.viewed": gettext_lazy("Abrió un archivo"),
    "check_evidence.viewed": gettext_lazy("Vio una evidencia de las verificaciones"),
    "case.checks_requested": gettext_lazy("Pidió repetir las verificaciones"),
    "case.checked": gettext_lazy("Verificaciones automáticas terminadas"),
    "case.correction_requested": gettext_lazy("Pidió una corrección"),
    "case.withdrawn": gettext_lazy("Desistió del trámite"),
    "appointment.created": gettext_lazy("Agendó la videollamada"),
    "appointment.cancelled": gettext_lazy("Se canceló la videollamada"),
    "registry.contact_data_applied": gettext_lazy("Actualizó los datos de contacto en el registro"),
    "registry.person_created": gettext_lazy("Creó al asegurado en el registro"),
    "registry.viewed": gettext_lazy("Vio el registro del asegurado"),
}
AUDIT_SHOWN_ELSEWHERE = ("case.transition", "review.")
HISTORY_KINDS = {
    "transition": gettext_lazy("Estado"),
    "email": gettext_lazy("Mensaje"),
    "audit": gettext_lazy("Acceso o acción"),
    "checklist": gettext_lazy("Lista de verificación"),
    "note": gettext_lazy("Nota interna"),
}


@dataclass
class HistoryEntry:
    at: datetime
    kind: str
    actor: str
    title: str
    detail: str = ""

    @property
    def kind_label(self) -> str:
        return str(HISTORY_KINDS[self.kind])


def _actor_display(label: str) -> str:
    return {"citizen": _("Ciudadano"), "system": _("Sistema")}.get(label, label)


def _audit_detail(event: AuditEvent) -> str:
    new = event.new_value if isinstance(event.new_value, dict) else {}
    if event.action == "document.viewed" and new.get("kind") in DocumentKind.values:
        detail = f"{DocumentKind(new['kind']).label} v{new.get('version', '?')}"
        if new.get("frame_at_seconds") is not None:
            detail += " " + _("(cuadro del video, segundo %(second)s)") % {
                "second": new["frame_at_seconds"]
            }
        return detail
    if event.action == "check_evidence.viewed":
        return f"{new.get('check', '')}: {new.get('name', '')}".strip(": ")
    if event.action == "case.correction_requested":
        reasons = [str(ReviewReason(r).label) for r in new.get("reasons", []) if r in ReviewReason]
        return "; ".join(reasons)
    return event.reason


def _checklist_detail(version: ChecklistVersion) -> str:
    parts = []
    for change in version.changes:
        rule = ReviewRule(change["rule"]).label if change["rule"] in ReviewRule else change["rule"]
        new = RuleAnswer(change["new"]).label if change["new"] else _("sin marcar")
        part = f"{rule}: {new}"
        if change["new"] == RuleAnswer.FAILS and change["reason"]:
            part += f" ({change['reason']})"
        parts.append(part)
    return "; ".join(parts)


def case_history(
    case,
    *,
    transitions=None,
    emails=None,
    checklists: list[ChecklistVersion] | None = None,
    notes: list[CaseNote] | None = None,
) -> list[HistoryEntry]:
    """Everything that happened to the case, oldest first: each status change, each
    message sent to the citizen, each view and action in the audit trail, each change
    of the checklist and each internal note. Lists the page already loaded can be
    passed in, so that the page reads each table once."""
    transitions = case.transitions.all() if transitions is None else transitions
    emails = case.emails.all() if emails is None else emails
    checklists = checklist_versions(case) if checklists is None else checklists
    notes = case_notes(case) if notes is None else notes
    events = AuditEvent.objects.filter(case=case).exclude(action="case.transition")
    events = events.exclude(action__startswith="review.").order_by("at", "id")

    entries = [
        HistoryEntry(
            t.at,
            "transition",
            t.actor_display,
            f"{CaseStatus(t.from_status).label + ' → ' if t.from_status else ''}"
            f"{CaseStatus(t.to_status).label}",
            t.reason,
        )
        for t in transitions
    ]
    entries += [
        HistoryEntry(
            e.sent_at or e.created_at,
            "email",
            _("Sistema"),
            e.subject,
            _("Para %(to)s · %(status)s") % {"to": e.to, "status": e.get_status_display()},
        )
        for e in emails
    ]
    entries += [
        HistoryEntry(
            event.at,
            "audit",
            _actor_display(event.actor_label),
            str(AUDIT_LABELS.get(event.action) or action_label(event.action)),
            _audit_detail(event),
        )
        for event in events
    ]
    entries += [
        HistoryEntry(
            v.created_at,
            "checklist",
            v.created_by.get_username(),
            _("Versión %(version)s") % {"version": v.version},
            _checklist_detail(v),
        )
        for v in checklists
    ]
    entries += [
        HistoryEntry(n.created_at, "note", n.author.get_username(), _("Nota interna"), n.text)
        for n in notes
    ]
    order = list(HISTORY_KINDS)
    return sorted(entries, key=lambda e: (e.at, order.index(e.kind)))


# --- declared data against the documents ----------------------------------------------

# The consistency check's sources (ventanilla.checks.engines.consistency), as columns.
SOURCES = (
    ("formulario", gettext_lazy("Solicitud")),
    ("cédula anverso", gettext_lazy("Cédula (anverso)")),
    ("cédula reverso", gettext_lazy("Cédula (reverso)")),
    ("registro", gettext_lazy("Registro del IESS")),
)
DECLARED_ROWS = (
    ("full_name", gettext_lazy("Nombres y apellidos")),
    ("first_names", gettext_lazy("Nombres")),
    ("last_names", gettext_lazy("Apellidos")),
    ("id_number", gettext_lazy("Número de identificación")),
    ("birth_date", gettext_lazy("Fecha de nacimiento")),
    ("fingerprint_code", gettext_lazy("Código dactilar")),
    ("id_issue_date", gettext_lazy("Fecha de expedición de la cédula")),
    ("residence_country", gettext_lazy("País de residencia")),
    ("residence_region", gettext_lazy("Estado / provincia de residencia")),
    ("residence_city", gettext_lazy("Ciudad de residencia")),
    ("postal_code", gettext_lazy("Código postal")),
    ("foreign_phone", gettext_lazy("Teléfono en el exterior")),
    ("email", gettext_lazy("Correo electrónico")),
    ("ecuador_mobile", gettext_lazy("Celular (Ecuador)")),
    ("ecuador_landline", gettext_lazy("Teléfono fijo (Ecuador)")),
)
# A comparison's status as the analyst reads it: a word besides the colour.
AGREEMENT = {
    "agrees": ("agrees", gettext_lazy("Coincide")),
    "slip": ("doubtful", gettext_lazy("Dudoso")),
    "unread": ("unread", gettext_lazy("No se pudo leer")),
    "differs": ("differs", gettext_lazy("No coincide")),
}
_WORST_FIRST = ("differs", "doubtful", "unread", "agrees")


def _declared_value(case, field: str) -> str:
    if field == "full_name":
        return case.full_name
    value = getattr(case, field, "")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value or "")


def declared_vs_documents(case, consistency) -> dict:
    """Every declared field beside what each document shows, from the consistency
    check's evidence (`consistency` is its CheckResult, or None before it ran).

    Returns {"sources": [(key, label)], "rows": [...], "failed_checks": [...]}: each row
    has the field, its label, the declared value, one cell per source (None when that
    source is not compared for the field; else read, state, state_label, similarity)
    and the row's overall state (its worst cell; "" when nothing was compared)."""
    evidence = consistency.evidence if consistency is not None else {}
    cells: dict[tuple[str, str], dict] = {}
    for item in evidence.get("fields") or []:
        state, label = AGREEMENT.get(item.get("status"), ("unread", AGREEMENT["unread"][1]))
        cells[(item.get("field"), item.get("source"))] = {
            "read": item.get("read"),
            "state": state,
            "state_label": str(label),
            "similarity": item.get("similarity"),
        }
    rows = []
    for field, label in DECLARED_ROWS:
        row_cells = [cells.get((field, source)) for source, _label in SOURCES]
        states = {cell["state"] for cell in row_cells if cell}
        if field in ("first_names", "last_names", "ecuador_landline") and not states:
            continue  # shown in "Nombres y apellidos", or not declared and not read
        state = next((s for s in _WORST_FIRST if s in states), "")
        rows.append(
            {
                "field": field,
                "label": str(label),
                "declared": _declared_value(case, field),
                "cells": row_cells,
                "state": state,
            }
        )
    return {
        "sources": [(key, str(label)) for key, label in SOURCES],
        "rows": rows,
        "failed_checks": [c for c in evidence.get("checks") or [] if c.get("ok") is False],
        "available": consistency is not None,
    }


def statement_clauses(video_statement) -> list[dict]:
    """The seed's statement, clause by clause, with what the video_statement check heard:
    state "heard", "doubtful" or "missing" and a Spanish label for each."""
    if video_statement is None:
        return []
    labels = {
        "heard": _("Se escucha"),
        "doubtful": _("Dudoso"),
        "missing": _("Falta"),
    }
    clauses = []
    for clause in video_statement.evidence.get("clauses") or []:
        if clause.get("heard"):
            state = "heard"
        elif clause.get("doubtful"):
            state = "doubtful"
        else:
            state = "missing"
        clauses.append(
            {
                "key": clause.get("key", ""),
                "label": clause.get("label", ""),
                "expected": clause.get("expected", ""),
                "score": clause.get("score"),
                "state": state,
                "state_label": labels[state],
            }
        )
    return clauses


# --- the identity video call -----------------------------------------------------------


def _shown(value) -> str:
    if value is None or value == "":
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def call_questions(case) -> list[dict]:
    """The identity questions for the call on `case`, each with the answer the holder
    should give. The registry's value is the reference where it has one; the value the
    citizen declared on the case is shown beside it, and `differs` marks a disagreement
    the analyst must clear on the call. A question with no expected answer anywhere (a
    passport has no fingerprint code) is not asked."""
    from ventanilla.registry.selectors import insured_find

    person = case.insured or insured_find(id_type=case.id_type, id_number=case.id_number)
    registry = {"birth_date": person.birth_date if person else None}
    rows = []
    for question, label in IdentityQuestion.choices:
        declared = _shown(getattr(case, question, None))
        on_record = _shown(registry.get(question))
        expected = on_record or declared
        if not expected:
            continue
        rows.append(
            {
                "question": question,
                "label": label,
                "expected": expected,
                "declared": declared,
                "registry": on_record,
                "source": _("registro de asegurados")
                if on_record
                else _("declarado en el trámite"),
                "differs": bool(on_record and declared and on_record != declared),
            }
        )
    return rows


def call_verifications(case) -> list[CallVerification]:
    """The recorded calls of a case, newest first, with who recorded them."""
    return list(
        CallVerification.objects.filter(case=case).select_related("recorded_by", "appointment")
    )

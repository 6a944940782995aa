"""The analyst's own records on a case: the checklist of the seed's rules and internal
notes. Both are audited in the same transaction; neither decides anything."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ventanilla.audit.services import audit_log
from ventanilla.cases.models import Case

from .constants import (
    NOTE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    CallResult,
    IdentityQuestion,
    QuestionAnswer,
    ReviewRule,
    RuleAnswer,
)
from .models import CallVerification, CaseNote, ChecklistVersion


def _clean_answers(answers: dict) -> dict:
    """{rule: {"answer", "reason"}} with unknown rules refused, blank answers dropped and
    a reason required for "no cumple". Errors are keyed by rule, in Spanish."""
    errors = {}
    cleaned = {}
    for rule, given in answers.items():
        if rule not in ReviewRule.values:
            errors[rule] = f"Regla desconocida: {rule}."
            continue
        answer = (given.get("answer") or "").strip()
        reason = " ".join((given.get("reason") or "").split())
        label = ReviewRule(rule).label
        if not answer:
            continue
        if answer not in RuleAnswer.values:
            errors[rule] = (
                f"«{label}»: elija cumple, no cumple o no aplica (se recibió «{answer}»)."
            )
        elif answer == RuleAnswer.FAILS and not reason:
            errors[rule] = (
                f"«{label}»: escriba el motivo por el que no cumple; el ciudadano y el "
                "supervisor deben poder entender la decisión."
            )
        elif len(reason) > REASON_MAX_LENGTH:
            errors[rule] = f"«{label}»: el motivo no puede pasar de {REASON_MAX_LENGTH} caracteres."
        else:
            cleaned[rule] = {"answer": answer, "reason": reason}
    if errors:
        raise ValidationError(errors)
    # Saved in the seed's order, whatever order the form sent.
    return {rule: cleaned[rule] for rule in ReviewRule.values if rule in cleaned}


def _changes(old: dict, new: dict) -> list[dict]:
    return [
        {
            "rule": rule,
            "old": (old.get(rule) or {}).get("answer", ""),
            "new": (new.get(rule) or {}).get("answer", ""),
            "reason": (new.get(rule) or {}).get("reason", ""),
        }
        for rule in ReviewRule.values
        if old.get(rule) != new.get(rule)
    ]


@transaction.atomic
def checklist_save(*, case: Case, actor, answers: dict) -> ChecklistVersion:
    """Save the analyst's judgement of each of the seed's rules as a new version of the
    case's checklist (the previous versions stay). Every "no cumple" needs a reason.
    Saving the same answers again adds nothing and returns the current version. A closed
    case's checklist cannot change."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.is_final:
        raise ValidationError(
            f"El trámite {case.number} está cerrado ({case.get_status_display()}): su lista "
            "de verificación ya no se puede cambiar. Si hace falta, deje una nota interna."
        )
    cleaned = _clean_answers(answers)
    previous = ChecklistVersion.objects.filter(case=case).first()
    old = previous.answers if previous else {}
    if previous is not None and old == cleaned:
        return previous
    if not cleaned:
        raise ValidationError(
            "Marque al menos una regla como cumple, no cumple o no aplica antes de guardar."
        )
    version = ChecklistVersion.objects.create(
        case=case,
        version=(previous.version + 1) if previous else 1,
        answers=cleaned,
        changes=_changes(old, cleaned),
        created_by=actor,
        created_at=timezone.now(),
    )
    audit_log(
        action="review.checklist_saved",
        actor=actor,
        case=case,
        obj=version,
        old=old or None,
        new=cleaned,
    )
    return version


@transaction.atomic
def case_note_add(*, case: Case, actor, text: str) -> CaseNote:
    """Add an internal note to a case, for other staff only (never shown to the citizen)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Escriba el texto de la nota."})
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"text": f"La nota no puede pasar de {NOTE_MAX_LENGTH} caracteres ({len(text)})."}
        )
    note = CaseNote.objects.create(case=case, author=actor, text=text, created_at=timezone.now())
    # The text stays in the note; the audit trail records that it was written.
    audit_log(
        action="review.note_added", actor=actor, case=case, obj=note, new={"length": len(text)}
    )
    return note


def _question_labels(questions: list[str]) -> str:
    return ", ".join(f"«{IdentityQuestion(q).label}»" for q in questions)


def call_verification_record(
    *, case: Case, appointment, actor, outcome: str, answers: dict | None, notes: str = ""
) -> CallVerification:
    """Record the analyst's answers to the identity questions and the call's outcome.
    Call inside the transaction that records the outcome on the case.

    `answers` ({question: "matches" | "does_not_match" | ""}) is None when the call was
    recorded without the call screen (the staff API). With answers, a validation is
    refused unless every question asked was answered "coincide"."""
    from .selectors import call_questions

    cleaned = {}
    if answers is not None:
        asked = [row["question"] for row in call_questions(case)]
        unknown = [q for q in answers if q not in IdentityQuestion.values]
        if unknown:
            raise ValidationError(f"Pregunta desconocida: {', '.join(unknown)}.")
        for question in asked:
            answer = (answers.get(question) or "").strip()
            if answer and answer not in QuestionAnswer.values:
                raise ValidationError(
                    f"{_question_labels([question])}: marque «coincide» o «no coincide»."
                )
            if answer:
                cleaned[question] = answer
        if outcome == CallResult.VALIDATED:
            mismatched = [q for q in asked if cleaned.get(q) == QuestionAnswer.DOES_NOT_MATCH]
            unanswered = [q for q in asked if q not in cleaned]
            if mismatched:
                raise ValidationError(
                    "No se puede validar la identidad: la respuesta no coincide en "
                    f"{_question_labels(mismatched)}. Si la persona no pudo responder lo que "
                    "consta en su cédula y en el registro, registre «identidad no validada» "
                    "con el motivo."
                )
            if unanswered:
                raise ValidationError(
                    "No se puede validar la identidad sin preguntar todo: falta marcar "
                    f"{_question_labels(unanswered)}. Haga la pregunta y marque «coincide» o "
                    "«no coincide»."
                )
    verification = CallVerification.objects.create(
        appointment=appointment,
        case=case,
        answers=cleaned,
        outcome=outcome,
        notes=notes,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit_log(
        action="review.call_recorded",
        actor=actor,
        case=case,
        obj=verification,
        new={"outcome": outcome, "answers": cleaned, "with_questions": answers is not None},
        reason=notes,
    )
    return verification

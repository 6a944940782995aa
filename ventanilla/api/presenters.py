"""What the staff API shows of a case: plain dicts built from selectors."""

from django.utils import timezone

from ventanilla.backoffice.file_links import staff_file_url
from ventanilla.cases.constants import DECLARED_FIELDS, IdType, Province, ReviewReason
from ventanilla.cases.selectors import status_label
from ventanilla.checks.constants import Recommendation
from ventanilla.checks.selectors import check_run_latest, checks_for_case
from ventanilla.workdays.selectors import working_days_left


def queue_item(case) -> dict:
    return {
        "number": case.number,
        "status": case.status,
        "status_label": status_label(case.status),
        "full_name": case.full_name,
        "id_type": case.id_type,
        "id_number": case.id_number,
        "residence_country": case.residence_country,
        "submitted_at": case.submitted_at,
        "review_due_at": case.review_due_at,
        "working_days_left": (
            working_days_left(timezone.now(), case.review_due_at) if case.review_due_at else None
        ),
        "flags": case.flags,
        "assigned_to": case.assigned_to.get_username() if case.assigned_to else None,
    }


def _file_url(request, case, obj) -> str | None:
    """A short-lived link bound to the token's staff user (backoffice/file_links.py); None
    for a file the retention purge deleted."""
    return staff_file_url(request, case, obj, api=True) or None


def case_detail(case, *, request) -> dict:
    """Everything an analyst sees: fields, files, check results, messages, history.

    ``request`` (the API's, ``request.auth`` the staff user) signs the files' links."""
    data = queue_item(case)
    data["fields"] = {name: getattr(case, name) for name in DECLARED_FIELDS}
    data["labels"] = {
        "id_type": str(IdType(case.id_type).label),
        "birth_province": str(Province(case.birth_province).label),
    }
    data["insured"] = (
        {"id_number": case.insured.id_number, "insured_type": case.insured.insured_type}
        if case.insured
        else None
    )
    data["documents"] = [
        {
            "kind": d.kind,
            "version": d.version,
            "is_current": d.is_current,
            "format": d.format,
            "size": d.size,
            "sha256": d.sha256 or None,  # taken by the checks (docs/security.md E)
            "details": d.details,
            "uploaded_at": d.uploaded_at,
            "url": _file_url(request, case, d),
            "purged_at": d.purged_at,
        }
        for d in case.documents.all()
    ]
    data["checks"] = [check_item(case, r, request=request) for r in checks_for_case(case)]
    data["verification"] = verification_summary(case)
    data["messages"] = [
        {
            "template": e.template,
            "to": e.to,
            "subject": e.subject,
            "status": e.status,
            "attempts": e.attempts,
            "created_at": e.created_at,
            "sent_at": e.sent_at,
        }
        for e in case.emails.all()
    ]
    data["timeline"] = [
        {
            "from": t.from_status,
            "to": t.to_status,
            "at": t.at,
            "by": t.actor_label,
            "reason": t.reason,
        }
        for t in case.transitions.all()
    ]
    data["corrections"] = [
        {
            "items": c.items,
            "reasons": c.reasons,
            "reason_labels": [str(ReviewReason(r).label) for r in c.reasons],
            "message": c.message,
            "requested_at": c.requested_at,
            "answered_at": c.answered_at,
        }
        for c in case.corrections.all()
    ]
    data["appointments"] = [
        {
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "meeting_url": a.meeting_url,
            "citizen_timezone": a.citizen_timezone,
            "status": a.status,
        }
        for a in case.appointments.all()
    ]
    data["decision"] = {"reasons": case.decision_reasons, "message": case.decision_message}
    return data


def check_item(case, result, *, request) -> dict:
    """One check as the API contract shows it: name, result, score, evidence, finished_at."""
    return {
        "name": result.name,
        "result": result.outcome,
        "score": result.score,
        "summary": result.summary,
        "document": result.document.kind if result.document else None,
        "evidence": result.evidence,
        "attachments": {a.name: _file_url(request, case, a) for a in result.attachments.all()},
        "finished_at": result.created_at,
    }


def verification_summary(case) -> dict | None:
    """The overall advice of the last finished run, and whether another run is on its way."""
    run = check_run_latest(case)
    pending = case.checks_pending
    if run is None:
        return {"recommendation": None, "pending": True} if pending else None
    return {
        "recommendation": run.recommendation,
        "label": str(Recommendation(run.recommendation).label),
        "reasons": run.reasons,
        "trigger": run.trigger,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "seconds": run.timings.get("total"),
        "pending": pending,
    }

"""Automated checks run by the worker after a submission and after each correction.

They advise the analyst and never decide (LOPDP art. 20). This first pipeline
re-validates every stored file from storage (not from the upload the web process
saw) and decodes the video to its end; the deeper checks build on it.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from ventanilla.cases.models import Case
from ventanilla.cases.services import case_mark_checked
from ventanilla.documents.constants import DocumentKind
from ventanilla.documents.services import document_open
from ventanilla.documents.validation import probe_video, revalidate_stored

from .constants import CheckName, CheckOutcome
from .models import CheckResult

logger = logging.getLogger(__name__)

# A statement read at a normal pace takes about 30 seconds; far shorter cannot hold it.
MIN_STATEMENT_SECONDS = 15


def _record(case, document, name, outcome, summary, evidence, score=None) -> CheckResult:
    CheckResult.objects.filter(case=case, document=document, name=name, is_current=True).update(
        is_current=False
    )
    return CheckResult.objects.create(
        case=case,
        document=document,
        name=name,
        outcome=outcome,
        summary=summary[:255],
        evidence=evidence,
        score=score,
    )


def _check_integrity(case, document) -> CheckResult:
    try:
        with document_open(document) as stored:
            inspected = revalidate_stored(document.kind, stored)
    except ValidationError as exc:
        return _record(
            case,
            document,
            CheckName.FILE_INTEGRITY,
            CheckOutcome.FAIL,
            " ".join(exc.messages),
            {"code": exc.code or ""},
        )
    if inspected.sha256 != document.sha256:
        return _record(
            case,
            document,
            CheckName.FILE_INTEGRITY,
            CheckOutcome.FAIL,
            "El archivo guardado no coincide con el recibido (huella SHA-256 distinta).",
            {"stored_sha256": inspected.sha256, "received_sha256": document.sha256},
        )
    return _record(
        case,
        document,
        CheckName.FILE_INTEGRITY,
        CheckOutcome.PASS,
        f"{inspected.format.upper()} válido, {inspected.size} bytes.",
        {"sha256": inspected.sha256, **inspected.details},
    )


def _check_video(case, document) -> CheckResult:
    with document_open(document) as stored:
        probe = probe_video(stored)
    if not probe.get("complete"):
        outcome, summary = (
            CheckOutcome.FAIL,
            (
                f"El video está incompleto o dañado: se pudieron reproducir "
                f"{probe.get('decoded_seconds', 0):.1f} de {probe.get('duration_seconds', 0):.1f} s."
            ),
        )
    elif probe.get("duration_seconds", 0) < MIN_STATEMENT_SECONDS:
        outcome, summary = (
            CheckOutcome.WARN,
            (
                f"El video dura {probe['duration_seconds']:.1f} s: parece corto para la "
                "declaración completa."
            ),
        )
    else:
        outcome, summary = (
            CheckOutcome.PASS,
            (f"Video de {probe['duration_seconds']:.1f} s con imagen y sonido."),
        )
    return _record(case, document, CheckName.VIDEO_PROBE, outcome, summary, probe)


def case_checks_run(*, case_id: int) -> Case:
    """Run every check on the case's current documents, then hand the case to review.

    Safe to run twice: each run replaces the previous results.
    """
    case = Case.objects.get(pk=case_id)
    for document in case.documents.filter(is_current=True):
        try:
            with transaction.atomic():
                _check_integrity(case, document)
                if document.kind == DocumentKind.VIDEO:
                    _check_video(case, document)
        except Exception as exc:  # a broken check must not stop the case reaching an analyst
            logger.exception("check failed on document %s", document.pk)
            _record(
                case,
                document,
                CheckName.FILE_INTEGRITY,
                CheckOutcome.ERROR,
                "No se pudo verificar el archivo; revíselo manualmente.",
                {"error": f"{type(exc).__name__}: {exc}"[:500]},
            )
    return case_mark_checked(case_id=case_id)

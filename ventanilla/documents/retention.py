"""Retention: a case's files are deleted once their period after the final decision ends.

What stays is the record: the Document row with its SHA-256, size, format and the
moment it was purged, the case, its timeline, its decision and the audit trail. The
periods are settings (RETENTION_*_DAYS, shown on the privacy notice); the check evidence
cut from the files (face crops, the signature crop) and the face encodings are biometric
or derived from the files, and go with the shortest period of all.

A case is on legal hold, and keeps everything, while a "this was not me" fraud review of it
is open, while the person's registry record is frozen, or while a "this was not me" link
sent for it can still be used: the files are the evidence of what happened.

Order of work, so that a crash never leaves a file behind for good: a document row is first
marked purged (with the audit event, in one transaction), then its file is deleted and its
name cleared; a run that finds a marked row still naming a file finishes the job. A check
attachment has no mark: its file is deleted before its row, so what a crash leaves is a row
without a file, which the next run deletes.

Call it outside a transaction (the scheduler and the command do): each case is its own.
"""

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ventanilla.audit.services import audit_log
from ventanilla.cases.constants import FINAL_STATUSES
from ventanilla.cases.models import Case
from ventanilla.checks.models import CheckAttachment, FaceSignature
from ventanilla.registry.constants import FraudReviewStatus
from ventanilla.registry.models import ChangeReportLink, FraudReview

from .constants import DocumentKind
from .encryption import FileDecryptionError
from .models import Document
from .services import document_open
from .validation import file_sha256

logger = logging.getLogger(__name__)

# What the report and the audit event call the derived files of the checks.
CHECK_EVIDENCE = "check_evidence"

HOLD_FRAUD_REVIEW = "fraud_review_open"
HOLD_FROZEN = "registry_frozen"
HOLD_REPORT_LINK = "report_link_active"
HOLD_LABELS = {
    HOLD_FRAUD_REVIEW: "revisión por suplantación abierta",
    HOLD_FROZEN: "registro del asegurado congelado",
    HOLD_REPORT_LINK: "enlace «no fui yo» todavía vigente",
}


def retention_days() -> dict[str, int]:
    """Days each kind of file is kept after the final decision, from the settings."""
    return {
        DocumentKind.ID_FRONT: settings.RETENTION_ID_DOCUMENT_DAYS,
        DocumentKind.ID_BACK: settings.RETENTION_ID_DOCUMENT_DAYS,
        DocumentKind.SELFIE: settings.RETENTION_SELFIE_DAYS,
        DocumentKind.VIDEO: settings.RETENTION_VIDEO_DAYS,
        DocumentKind.REQUEST_FORM: settings.RETENTION_REQUEST_FORM_DAYS,
    }


def check_evidence_days() -> int:
    """Face crops, the signature crop and face encodings: never kept longer than any file
    they may come from."""
    return min(retention_days().values())


@dataclass
class PurgeReport:
    """What one purge did (or, in a dry run, would do)."""

    dry_run: bool = False
    files: Counter = field(default_factory=Counter)  # kind (or CHECK_EVIDENCE) -> files
    bytes_freed: int = 0
    face_signatures: int = 0
    cases: list[str] = field(default_factory=list)  # case numbers purged
    held: dict[str, list[str]] = field(default_factory=dict)  # case number -> hold reasons
    finished: int = 0  # files of an interrupted earlier run deleted now

    @property
    def total_files(self) -> int:
        return sum(self.files.values())

    def lines(self) -> list[str]:
        """The report in plain words, for the operator."""
        verb = "Se eliminarían" if self.dry_run else "Se eliminaron"
        lines = []
        if self.cases:
            lines.append(
                f"{verb} {self.total_files} archivos ({_size(self.bytes_freed)}) de "
                f"{len(self.cases)} trámites cuyo plazo de conservación terminó:"
            )
            for kind, count in sorted(self.files.items()):
                lines.append(f"  {_kind_label(kind)}: {count}")
            if self.face_signatures:
                lines.append(f"  Huellas faciales (vectores biométricos): {self.face_signatures}")
            lines.append(f"  Trámites: {', '.join(self.cases)}")
        else:
            lines.append("Ningún archivo ha cumplido su plazo de conservación: nada que eliminar.")
        if self.finished:
            lines.append(
                f"Se terminaron de borrar {self.finished} archivos que una ejecución "
                "anterior dejó marcados."
            )
        for number, reasons in sorted(self.held.items()):
            why = ", ".join(HOLD_LABELS[r] for r in reasons)
            lines.append(f"Retenido, no se elimina: {number} ({why}).")
        return lines


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def _kind_label(kind: str) -> str:
    if kind == CHECK_EVIDENCE:
        return "Evidencias de las verificaciones (recortes)"
    return str(DocumentKind(kind).label)


def _holds(case: Case, now: dt.datetime) -> list[str]:
    reasons = []
    if FraudReview.objects.filter(case=case, status=FraudReviewStatus.OPEN).exists():
        reasons.append(HOLD_FRAUD_REVIEW)
    if case.insured_id is not None and case.insured.frozen_at is not None:
        reasons.append(HOLD_FROZEN)
    if ChangeReportLink.objects.filter(
        case=case, used_at__isnull=True, expires_at__gt=now
    ).exists():
        reasons.append(HOLD_REPORT_LINK)
    return reasons


def _candidates(now: dt.datetime):
    """Closed cases old enough for at least the shortest period that still hold a file,
    a check attachment or a face encoding."""
    shortest = now - dt.timedelta(days=check_evidence_days())
    unpurged = Document.objects.filter(case=OuterRef("pk"), purged_at__isnull=True)
    attachments = CheckAttachment.objects.filter(result__case=OuterRef("pk"))
    signatures = FaceSignature.objects.filter(case=OuterRef("pk"))
    return (
        Case.objects.filter(status__in=FINAL_STATUSES, status_changed_at__lte=shortest)
        .filter(Q(Exists(unpurged)) | Q(Exists(attachments)) | Q(Exists(signatures)))
        .select_related("insured")
        .order_by("status_changed_at", "pk")
    )


def _due(case: Case, now: dt.datetime) -> tuple[list[Document], list[CheckAttachment], int]:
    """The files of `case` whose period has ended, its check attachments and how many face
    encodings it has once the check-evidence period ended."""
    # A final status never changes again, so status_changed_at is the decision time.
    decided = case.status_changed_at
    kinds = [
        kind for kind, days in retention_days().items() if decided + dt.timedelta(days=days) <= now
    ]
    documents = list(
        Document.objects.filter(case=case, purged_at__isnull=True, kind__in=kinds).order_by(
            "kind", "version"
        )
    )
    if decided + dt.timedelta(days=check_evidence_days()) > now:
        return documents, [], 0
    attachments = list(CheckAttachment.objects.filter(result__case=case).order_by("pk"))
    return documents, attachments, FaceSignature.objects.filter(case=case).count()


def _delete_file(name: str) -> None:
    # Storage.delete ignores a file already gone: a re-run, or a file lost some other way.
    if name:
        default_storage.delete(name)


def _fingerprint_missing(documents: list[Document]) -> None:
    """The SHA-256 of a file the checks never read (the intake does not take it,
    docs/security.md E), taken before the file goes: it is the record that stays. A file
    that cannot be read any more keeps none."""
    for document in documents:
        if document.sha256 or not document.file.name:
            continue
        try:
            with document_open(document) as stored:
                document.sha256 = file_sha256(stored)
        except (OSError, FileDecryptionError):
            logger.warning("no fingerprint for document %s: its file cannot be read", document.pk)
            continue
        Document.objects.filter(pk=document.pk, sha256="").update(sha256=document.sha256)


def _finish_marked() -> int:
    """Delete the files of documents marked purged whose file is still named (a run that
    stopped between its two steps), and clear the name. Returns how many."""
    done = 0
    for pk, name in (
        Document.objects.filter(purged_at__isnull=False).exclude(file="").values_list("pk", "file")
    ):
        _delete_file(name)
        done += Document.objects.filter(pk=pk, purged_at__isnull=False, file=name).update(file="")
    return done


def _purge_case(case_id: int, now: dt.datetime, report: PurgeReport) -> None:
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",)).select_related("insured").get(pk=case_id)
        )
        if case.status not in FINAL_STATUSES:
            return
        documents, attachments, signatures = _due(case, now)
        if not (documents or attachments or signatures):
            return  # another purge got here first
        holds = _holds(case, now)
        if holds:
            report.held[case.number] = holds
            return
        evidence_bytes = sum(_stored_size(a.file.name) for a in attachments)
        if report.dry_run:
            _count(report, case, documents, attachments, evidence_bytes, signatures)
            return
        _fingerprint_missing(documents)
        # The mark first: from here on the row says the file is gone, and a run that
        # finds the name still there deletes it.
        Document.objects.filter(pk__in=[d.pk for d in documents]).update(purged_at=now)
        for attachment in attachments:
            _delete_file(attachment.file.name)
        CheckAttachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
        FaceSignature.objects.filter(case=case).delete()
        audit_log(
            action="retention.purged",
            actor=None,
            case=case,
            obj=case,
            new={
                "decided_at": case.status_changed_at.isoformat(),
                "status": case.status,
                "documents": [
                    {
                        "kind": d.kind,
                        "version": d.version,
                        "sha256": d.sha256,
                        "size": d.size,
                        "format": d.format,
                    }
                    for d in documents
                ],
                "check_evidence": [{"check": a.result.name, "name": a.name} for a in attachments],
                "face_signatures": signatures,
            },
        )
    _count(report, case, documents, attachments, evidence_bytes, signatures)
    for document in documents:
        _delete_file(document.file.name)
        Document.objects.filter(pk=document.pk, file=document.file.name).update(file="")


def _count(report, case, documents, attachments, evidence_bytes, signatures) -> None:
    report.cases.append(case.number)
    for document in documents:
        report.files[document.kind] += 1
        report.bytes_freed += document.size
    if attachments:
        report.files[CHECK_EVIDENCE] += len(attachments)
        report.bytes_freed += evidence_bytes
    report.face_signatures += signatures


def _stored_size(name: str) -> int:
    try:
        return default_storage.size(name)
    except OSError:
        return 0


def retention_purge(*, now: dt.datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Delete the stored files of closed cases whose retention period ended (per kind,
    counted from the final decision), keep their rows with hashes, and write one audit
    event per case purged. Cases on legal hold keep everything and are listed.

    Idempotent: a second run finds nothing to do, and finishes what an interrupted run
    left half done. With `dry_run`, nothing changes and the report says what would go.
    """
    now = now or timezone.now()
    report = PurgeReport(dry_run=dry_run)
    if not dry_run:
        report.finished = _finish_marked()
    for case_id in list(_candidates(now).values_list("pk", flat=True)):
        _purge_case(case_id, now, report)
    return report

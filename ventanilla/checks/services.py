"""The verification pipeline: what an analyst checks by eye, done by the worker in seconds.

Runs after a submission, after each correction, and whenever an analyst asks.
Every check advises and never decides (LOPDP art. 20): the results, their
evidence and an overall recommendation are shown to the analyst, who decides.

One run reads each current file from storage once. The video is decoded once
(integrity, audio for speech and frames for faces in the same pass);
transcription, the slowest step, runs in a thread while the image, signature,
OCR and cross-case checks run beside it. The results of a run are recorded
together, so an analyst never sees half of a run. See docs/checks.md.
"""

import io
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from ventanilla.audit.services import audit_log
from ventanilla.cases.constants import DECLARED_FIELDS
from ventanilla.cases.models import Case
from ventanilla.cases.services import case_checks_outcome_record, case_mark_checked
from ventanilla.documents.constants import DocumentKind, FileFormat
from ventanilla.documents.encryption import FileDecryptionError
from ventanilla.documents.models import Document
from ventanilla.documents.scanning import scanning_enabled
from ventanilla.documents.services import document_open
from ventanilla.documents.validation import probe_video, revalidate_stored

from . import cross_case, residence
from .constants import CheckName, RunTrigger
from .engines import ERROR, FAIL, PASS, WARN, Finding, worst
from .engines.media import VideoCollector, VideoSamples
from .models import CheckAttachment, CheckResult, CheckRun, FaceSignature
from .recommendation import recommend

logger = logging.getLogger(__name__)

# A statement read at a normal pace takes about 30 seconds; far shorter cannot hold it.
MIN_STATEMENT_SECONDS = 15
MAX_STATEMENT_SECONDS = 180
IMAGE_KINDS = (
    DocumentKind.ID_FRONT,
    DocumentKind.ID_BACK,
    DocumentKind.SELFIE,
    DocumentKind.REQUEST_FORM,
)


@dataclass
class _Outcome:
    name: str
    finding: Finding
    document: Document | None = None


@dataclass
class _Run:
    """What one run has read and found so far."""

    case: Case
    documents: dict[str, Document]
    raw: dict[str, bytes] = field(default_factory=dict)
    images: dict[str, list[np.ndarray]] = field(default_factory=dict)
    video: VideoSamples | None = None
    outcomes: list[_Outcome] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    faces: dict[str, np.ndarray] = field(default_factory=dict)  # source -> 128-d encoding
    ocr: dict[str, Any] = field(default_factory=dict)  # kind -> OcrResult | None
    form_ocr_last_page: Any = None  # OCR of the form's last page, where the signature box is
    broken: set[str] = field(default_factory=set)  # kinds whose file failed its integrity check
    scanned: set[int] = field(default_factory=set)  # documents ClamAV found clean in this run
    fingerprints: dict[int, str] = field(default_factory=dict)  # document -> SHA-256 taken here

    def add(self, name: str, finding: Finding, document: Document | None = None) -> None:
        self.outcomes.append(_Outcome(name, finding, document))

    def timed(self, label: str, fn: Callable, *args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.timings[label] = round(
                self.timings.get(label, 0.0) + time.perf_counter() - started, 3
            )


def _error(exc: BaseException, what: str) -> Finding:
    logger.exception("check failed: %s", what)
    return Finding(
        ERROR,
        f"No se pudo completar esta verificación ({what}); revísela manualmente.",
        evidence={"error": f"{type(exc).__name__}: {exc}"[:500]},
    )


def _guard(run: _Run, name: str, fn: Callable, *args, document=None, **kwargs) -> None:
    """Run one check; a broken check records `error` instead of stopping the others."""
    try:
        finding = run.timed(name, fn, *args, **kwargs)
    except Exception as exc:  # a broken check must not stop the case reaching an analyst
        finding = _error(exc, name)
    if finding is not None:
        run.add(name, finding, document)


# --- 1. file integrity ------------------------------------------------------------------------


def _integrity(run: _Run, document: Document) -> Finding:
    try:
        with document_open(document) as stored:
            content = stored.read()
    except FileDecryptionError as exc:
        # Altered on disk, or stored under a key no longer configured: the operator's message
        # goes to the log; the analyst learns the file cannot be trusted.
        logger.error("case %s, %s: %s", run.case.number, document.kind, exc)
        return Finding(
            FAIL,
            "El archivo guardado fue alterado o no se puede descifrar: no coincide con el recibido.",
            evidence={"code": "undecryptable", "received_sha256": document.sha256},
        )
    run.raw[document.kind] = content
    try:
        inspected = revalidate_stored(document.kind, io.BytesIO(content))
    except ValidationError as exc:
        return Finding(FAIL, " ".join(exc.messages), evidence={"code": exc.code or ""})
    if not document.sha256:
        # The intake does not hash the uploads (docs/security.md E): the fingerprint is taken
        # here, from the stored file, which decrypting just proved unaltered since the intake
        # stored it (an altered byte fails AES-GCM's tag above).
        document.sha256 = inspected.sha256
        run.fingerprints[document.pk] = inspected.sha256
    elif inspected.sha256 != document.sha256:
        return Finding(
            FAIL,
            "El archivo guardado no coincide con el recibido (huella SHA-256 distinta).",
            evidence={"stored_sha256": inspected.sha256, "received_sha256": document.sha256},
        )
    evidence = {"sha256": inspected.sha256, "size": inspected.size, **inspected.details}
    if scanning_enabled():
        # revalidate_stored is thorough: ClamAV scanned the file and found nothing. Only now
        # can staff open it (the intake does not scan: docs/security.md).
        run.scanned.add(document.pk)
        evidence["virus_scan"] = "clean"
    if document.kind == DocumentKind.VIDEO:
        return _video_integrity(run, content, evidence)
    # Active content in a PDF (JavaScript, launch actions, embedded files) never gets here:
    # the intake and revalidate_stored refuse it (documents/validation.py).
    return Finding(
        PASS, f"{inspected.format.upper()} válido, {inspected.size} bytes.", evidence=evidence
    )


def _video_integrity(run: _Run, content: bytes, evidence: dict) -> Finding:
    collector = VideoCollector()
    probe = probe_video(io.BytesIO(content), on_frame=collector)
    run.video = collector.samples()
    evidence.update(probe)
    duration = probe.get("duration_seconds") or 0
    if not probe.get("complete"):
        return Finding(
            FAIL,
            (
                f"El video está incompleto o dañado: se pudieron reproducir "
                f"{probe.get('decoded_seconds', 0):.1f} de {duration:.1f} s."
            ),
            evidence=evidence,
        )
    if duration < MIN_STATEMENT_SECONDS:
        return Finding(
            WARN,
            f"El video dura {duration:.1f} s: parece corto para la declaración completa.",
            evidence=evidence,
        )
    if duration > MAX_STATEMENT_SECONDS:
        return Finding(
            WARN,
            f"El video dura {duration:.1f} s: mucho más de lo que toma la declaración.",
            evidence=evidence,
        )
    return Finding(PASS, f"Video de {duration:.1f} s con imagen y sonido.", evidence=evidence)


# --- 2-6. the documents ---------------------------------------------------------------------


def _load_images(run: _Run) -> None:
    from .engines.imaging import document_images

    for kind in IMAGE_KINDS:
        document = run.documents.get(kind)
        if document is None or kind not in run.raw or kind in run.broken:
            continue  # a file that failed its integrity check is not read any further
        try:
            run.images[kind] = run.timed(
                "decode_images", document_images, run.raw[kind], document.format
            )
        except Exception as exc:
            run.add(CheckName.IMAGE_QUALITY, _error(exc, "lectura de la imagen"), document)


def _image_quality(run: _Run) -> None:
    from .engines.imaging import image_quality

    for kind, images in run.images.items():
        _guard(
            run,
            CheckName.IMAGE_QUALITY,
            image_quality,
            images,
            kind=kind,
            document=run.documents[kind],
        )


def _face_match(run: _Run) -> Finding:
    from .engines.faces import face_match

    frames = [frame for _, frame in run.video.frames] if run.video else []
    finding = face_match(
        selfie=run.images.get(DocumentKind.SELFIE, []),
        id_front=run.images.get(DocumentKind.ID_FRONT, []),
        video_frames=frames,
    )
    # The encodings stay in memory for the cross-case check; they are not evidence.
    encodings = finding.evidence.pop("encodings", None) or {}
    run.faces = {
        source: np.asarray(vector, dtype=np.float32) for source, vector in encodings.items()
    }
    return finding


def _signature(run: _Run) -> Finding:
    from .engines.consistency import signature_box
    from .engines.signatures import verify_request_signature

    document = run.documents.get(DocumentKind.REQUEST_FORM)
    if document is None or DocumentKind.REQUEST_FORM not in run.raw:
        return Finding(ERROR, "No hay solicitud que revisar.")
    case = run.case
    if document.format == FileFormat.PDF:
        finding = verify_request_signature(
            run.raw[DocumentKind.REQUEST_FORM],
            id_type=case.id_type,
            id_number=case.id_number,
            trust_roots_dir=settings.SIGNATURE_TRUST_ROOTS_DIR,
            crl_dir=settings.SIGNATURE_CRL_DIR,
        )
        if finding is not None:
            return finding
    # No electronic signature: a handwritten one, photographed or scanned.
    pages = run.images.get(DocumentKind.REQUEST_FORM) or []
    if not pages:
        return Finding(ERROR, "No se pudo leer la solicitud para buscar la firma.")
    finding = signature_box(pages[-1], run.form_ocr_last_page)
    finding.evidence["handwritten"] = True
    return finding


def _ocr(run: _Run) -> None:
    """Read the form and the ID card once; the signature and consistency checks share it."""
    from .engines import consistency
    from .engines.ocr import read_image, read_pdf_text

    declared = declared_data(run.case)
    # Tesseract reads first (0.1-0.4 s); rapidocr (1-4 s) only re-reads a document
    # whose fields do not all agree with the declared data.
    acceptance = {
        DocumentKind.REQUEST_FORM: consistency.FORM,
        DocumentKind.ID_FRONT: consistency.ID_FRONT,
        DocumentKind.ID_BACK: consistency.ID_BACK,
    }
    run.ocr = {}
    run.form_ocr_last_page = None
    for kind in (DocumentKind.REQUEST_FORM, DocumentKind.ID_FRONT, DocumentKind.ID_BACK):
        document = run.documents.get(kind)
        if document is None:
            continue
        try:
            result = None
            if document.format == FileFormat.PDF and kind in run.raw:
                result = read_pdf_text(run.raw[kind])
            if result is None and run.images.get(kind):
                accept = consistency.document_agrees(declared, acceptance[kind])
                pages = [read_image(image, accept=accept) for image in run.images[kind]]
                result = pages[0] if len(pages) == 1 else _join_pages(pages)
                if kind == DocumentKind.REQUEST_FORM:
                    run.form_ocr_last_page = pages[-1]
            run.ocr[kind] = result
        except Exception:
            logger.exception("OCR failed on %s", kind)
            run.ocr[kind] = None


def _join_pages(pages):
    from .engines.ocr import OcrResult

    return OcrResult(
        engine=pages[0].engine,
        lines=[line for page in pages for line in page.lines],
        seconds=sum(page.seconds for page in pages),
    )


def _consistency(run: _Run) -> Finding:
    from .engines.consistency import consistency

    case = run.case
    registry = None
    if case.insured is not None:
        registry = {
            "first_names": case.insured.first_names,
            "last_names": case.insured.last_names,
            "birth_date": case.insured.birth_date,
        }
    return consistency(
        declared_data(case),
        form=run.ocr.get(DocumentKind.REQUEST_FORM),
        id_front=run.ocr.get(DocumentKind.ID_FRONT),
        id_back=run.ocr.get(DocumentKind.ID_BACK),
        registry=registry,
        today=timezone.localdate(),
    )


def declared_data(case: Case) -> dict:
    """What the citizen typed, as the consistency check compares it."""
    return {name: getattr(case, name) for name in DECLARED_FIELDS}


# --- 4. the spoken statement ----------------------------------------------------------------


def _transcribe(audio: np.ndarray):
    """What was said, and only that: no prompt. Given the expected statement as a prompt,
    Whisper wrote the applicant's name over another person's spoken name in 7 of 12
    test readings, so the transcript would no longer be evidence of what was said."""
    from .engines.speech import transcribe

    return transcribe(audio, model_dir=settings.WHISPER_MODEL_DIR, threads=settings.CHECK_THREADS)


def _statement_inputs(case: Case) -> dict:
    return {
        "first_names": case.first_names,
        "last_names": case.last_names,
        "id_number": case.id_number,
        "residence": residence.spoken_names(
            case.residence_country, case.residence_region, case.residence_city
        ),
    }


def _statement(run: _Run, transcript) -> Finding:
    from .engines.statement import statement_match

    finding = statement_match(transcript.text, **_statement_inputs(run.case))
    finding.evidence["speech"] = {
        "language": transcript.language,
        "audio_seconds": round(transcript.audio_seconds, 1),
        "speech_seconds": round(transcript.speech_seconds, 1),
        "transcription_seconds": round(transcript.seconds, 2),
    }
    return finding


# --- the run --------------------------------------------------------------------------------


def case_checks_run(
    *, case_id: int, trigger: str = RunTrigger.SUBMISSION, requested_by=None
) -> CheckRun:
    """Run every check on the case's current files and record the results together.

    Safe to run twice: each run replaces the previous results. A submitted case
    goes on to the analyst's review when the run ends, whatever it found.
    """
    case = Case.objects.select_related("insured").get(pk=case_id)
    started = timezone.now()
    run_row = CheckRun.objects.create(
        case=case,
        trigger=trigger,
        requested_by=requested_by,
        requested_at=case.checks_enqueued_at or started,
        started_at=started,
    )
    clock = time.perf_counter()
    documents = {d.kind: d for d in case.documents.filter(is_current=True)}
    run = _Run(case=case, documents=documents)

    for document in documents.values():
        try:
            finding = run.timed(CheckName.FILE_INTEGRITY, _integrity, run, document)
        except Exception as exc:
            finding = _error(exc, f"integridad de {document.get_kind_display()}")
        if finding.outcome in (FAIL, ERROR) and document.kind != DocumentKind.VIDEO:
            run.broken.add(document.kind)
        run.add(CheckName.FILE_INTEGRITY, finding, document)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech") as pool:
        speech = None
        if run.video is not None and run.video.audio.size:
            speech = pool.submit(run.timed, "transcription", _transcribe, run.video.audio)
        _load_images(run)
        _image_quality(run)
        _guard(run, CheckName.FACE_MATCH, _face_match, run)
        run.timed("ocr", _ocr, run)
        _guard(run, CheckName.SIGNATURE, _signature, run)
        _guard(run, CheckName.CONSISTENCY, _consistency, run)
        _guard(run, CheckName.CROSS_CASE, cross_case.cross_case, case, run.documents, run.faces)
        if speech is None:
            run.add(CheckName.VIDEO_STATEMENT, _no_audio(run))
        else:
            try:
                transcript = speech.result()
            except Exception as exc:
                run.add(CheckName.VIDEO_STATEMENT, _error(exc, "transcripción del video"))
            else:
                _guard(run, CheckName.VIDEO_STATEMENT, _statement, run, transcript)
    run.timings["total"] = round(time.perf_counter() - clock, 3)
    return _record(run, run_row)


def _no_audio(run: _Run) -> Finding:
    if DocumentKind.VIDEO not in run.documents:
        return Finding(ERROR, "No hay video que revisar.")
    if run.video is None:
        return Finding(ERROR, "No se pudo decodificar el video para escuchar la declaración.")
    return Finding(FAIL, "El video no tiene sonido: no se escucha la declaración.")


def _record(run: _Run, run_row: CheckRun) -> CheckRun:
    saved_files: list[str] = []
    try:
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=run.case.pk)
            CheckResult.objects.filter(case=case, is_current=True).update(is_current=False)
            results = []
            for outcome in run.outcomes:
                finding = outcome.finding
                result = CheckResult.objects.create(
                    case=case,
                    run=run_row,
                    document=outcome.document,
                    name=outcome.name,
                    outcome=finding.outcome,
                    score=finding.score,
                    summary=finding.summary[:255],
                    evidence=finding.evidence,
                )
                for name, content in finding.attachments.items():
                    attachment = CheckAttachment(result=result, name=name[:64])
                    attachment.file.save("crop.jpg", ContentFile(content), save=False)
                    saved_files.append(attachment.file.name)
                    attachment.save()
                results.append(result)
            FaceSignature.objects.filter(case=case, is_current=True).update(is_current=False)
            FaceSignature.objects.bulk_create(
                FaceSignature(case=case, source=source, vector=vector.astype(np.float32).tobytes())
                for source, vector in run.faces.items()
            )
            Document.objects.filter(pk__in=run.scanned, scanned_at__isnull=True).update(
                scanned_at=timezone.now()
            )
            for document_id, sha256 in run.fingerprints.items():
                Document.objects.filter(pk=document_id, sha256="").update(sha256=sha256)
            run_row.recommendation, run_row.reasons = recommend(results)
            run_row.finished_at = timezone.now()
            run_row.timings = run.timings
            run_row.save(update_fields=["recommendation", "reasons", "finished_at", "timings"])
            # The queue filters on it ("marcado por las verificaciones").
            case_checks_outcome_record(case_id=case.pk, recommendation=run_row.recommendation)
            audit_log(
                action="case.checked",
                actor=run_row.requested_by,
                case=case,
                obj=run_row,
                new={
                    "trigger": run_row.trigger,
                    "recommendation": run_row.recommendation,
                    "results": {r.name: worst_of(results, r.name) for r in results},
                },
            )
    except BaseException:
        for name in saved_files:
            default_storage.delete(name)
        raise
    case_mark_checked(case_id=run.case.pk, requested_at=run_row.requested_at)
    return run_row


def worst_of(results: list[CheckResult], name: str) -> str:
    return worst(r.outcome for r in results if r.name == name)

"""A request filled in page by page: start it, save each page's answers and files, send
a link to continue later, and submit it through the one intake (``case_submit``).

The draft never decides what is valid: each page is checked by the intake form's own
fields and rules, and the submission runs the whole intake form again on everything
kept, so the web pages and the JSON API accept and refuse exactly the same request.
"""

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ventanilla.cases.forms import CaseSubmissionForm
from ventanilla.cases.models import Case
from ventanilla.cases.services import case_submit
from ventanilla.documents.validation import InspectedFile, file_sha256
from ventanilla.notifications.services import email_queue

from .models import DraftFile, RequestDraft

logger = logging.getLogger(__name__)


class DraftIncomplete(Exception):
    """The kept answers do not make a valid request yet: ``errors`` by field name."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("the request is incomplete")
        self.errors = errors


def _expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=settings.DRAFT_RETENTION_HOURS)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def draft_start() -> RequestDraft:
    """A new, empty request."""
    return RequestDraft.objects.create(expires_at=_expiry())


@transaction.atomic
def draft_save_answers(
    *, draft: RequestDraft, step: str, answers: dict[str, str], complete: bool
) -> RequestDraft:
    """Keep one page's answers as typed; ``complete`` when the page passed its checks."""
    draft = RequestDraft.objects.select_for_update().get(pk=draft.pk)
    draft.answers = {**draft.answers, **answers}
    steps = [s for s in draft.completed_steps if s != step]
    draft.completed_steps = [*steps, step] if complete else steps
    if answers.get("email"):
        draft.email = answers["email"].strip().lower()
    draft.expires_at = _expiry()
    draft.save()
    return draft


def draft_file_store(
    *, draft: RequestDraft, kind: str, upload, inspected: InspectedFile, conversion: dict
) -> DraftFile:
    """Keep an accepted upload as the draft's file of that kind (replacing an earlier one)."""
    previous = list(DraftFile.objects.filter(draft=draft, kind=kind))
    draft_file = DraftFile(
        draft=draft,
        kind=kind,
        original_name=(getattr(upload, "name", "") or "")[:255],
        format=inspected.format,
        content_type=inspected.content_type,
        size=inspected.size,
        # The intake's inspection leaves the fingerprint to the checks; a draft's file is
        # one upload at a time, and its record (the audit trail, a data export) names it.
        sha256=inspected.sha256 or file_sha256(upload),
        details=inspected.details,
        conversion=conversion,
    )
    upload.seek(0)
    draft_file.file.save(f"upload{inspected.extension}", upload, save=False)
    try:
        with transaction.atomic():
            DraftFile.objects.filter(pk__in=[p.pk for p in previous]).delete()
            draft_file.save()
            RequestDraft.objects.filter(pk=draft.pk).update(expires_at=_expiry())
    except BaseException:
        default_storage.delete(draft_file.file.name)
        raise
    old_names = [p.file.name for p in previous]
    transaction.on_commit(lambda: _delete_files(old_names))
    return draft_file


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.exception("could not delete the draft file %s", name)


def draft_stored_inspections(draft: RequestDraft) -> dict[str, InspectedFile]:
    """The inspection of each kept file, as the intake form expects it."""
    return {
        f.kind: InspectedFile(
            format=f.format,
            content_type=f.content_type,
            size=f.size,
            sha256=f.sha256,
            extension=f".{f.file.name.rsplit('.', 1)[-1]}",
            details=f.details,
        )
        for f in draft.files.all()
    }


@transaction.atomic
def draft_send_resume_link(*, draft: RequestDraft, email: str) -> str:
    """Email a personal, single-use link to continue this request on any device.

    A new link replaces the previous one. Returns the token (for the tests' eyes only:
    the pages never show it)."""
    draft = RequestDraft.objects.select_for_update().get(pk=draft.pk)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    draft.email = email.strip().lower()
    draft.resume_token_hash = _token_hash(token)
    draft.resume_link_sent_at = now
    draft.expires_at = _expiry()
    draft.save()
    email_queue(
        template="draft_resume",
        to=draft.email,
        context={
            "link": settings.SITE_URL + reverse("portal:request_resume", args=[token]),
            "expires_at": draft.expires_at,
        },
        dedupe_key=f"draft_resume:{draft.public_id}:{draft.resume_token_hash[:16]}",
    )
    return token


@transaction.atomic
def draft_resume(*, token: str) -> RequestDraft | None:
    """The draft behind a "continue later" link, or None (unknown, used or expired).

    The link works once: whoever opens it takes the request into their browser."""
    draft = (
        RequestDraft.objects.select_for_update()
        .filter(resume_token_hash=_token_hash(token), expires_at__gt=timezone.now())
        .exclude(resume_token_hash="")
        .first()
    )
    if draft is None:
        return None
    draft.resume_token_hash = ""
    draft.expires_at = _expiry()
    draft.save(update_fields=["resume_token_hash", "expires_at", "updated_at"])
    return draft


def draft_intake_form(draft: RequestDraft) -> CaseSubmissionForm:
    """The intake form bound to everything the draft keeps (answers and files)."""
    files = {}
    for draft_file in draft.files.all():
        handle = default_storage.open(draft_file.file.name, "rb")
        files[draft_file.kind] = File(handle, name=draft_file.original_name or draft_file.kind)
    return CaseSubmissionForm(data=draft.answers, files=files)


def draft_submit(*, draft: RequestDraft, client_address: str | None = None) -> Case:
    """Turn the draft into a case through the one intake, then delete the draft.

    Raises ``DraftIncomplete`` if the kept answers and files are not a valid request."""
    form = draft_intake_form(draft)
    try:
        if not form.is_valid():
            raise DraftIncomplete({k: [str(m) for m in v] for k, v in form.errors.items()})
        with transaction.atomic():
            locked = RequestDraft.objects.select_for_update().filter(pk=draft.pk).first()
            if locked is None:  # submitted twice at once: the other request won
                raise DraftIncomplete({})
            case = case_submit(
                fields=form.case_fields(),
                uploads=form.uploads(),
                inspected=form.inspected,
                client_address=client_address,
            )
            _draft_delete(locked)
    finally:
        for upload in form.files.values():
            upload.close()
    return case


def _draft_delete(draft: RequestDraft) -> None:
    names = list(draft.files.values_list("file", flat=True))
    draft.delete()
    transaction.on_commit(lambda: _delete_files(names))


def drafts_purge_expired() -> int:
    """Delete unfinished requests past their retention time, with their files (LOPDP:
    no data kept longer than needed). Returns how many were deleted."""
    count = 0
    for draft in RequestDraft.objects.filter(expires_at__lte=timezone.now()).iterator():
        with transaction.atomic():
            _draft_delete(draft)
        count += 1
    return count

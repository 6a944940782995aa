"""Short-lived staff links to files, bound to who asked and where (docs/security.md, A).

Every staff URL of a document, a video still or a check's evidence carries a token
(``?t=``) signed with SECRET_KEY that names the file (model and primary key), the staff
user and an HMAC of the session key, and expires after STAFF_FILE_LINK_SECONDS. A link
copied out of the case page therefore opens nothing in another browser, for another
user, or later: the view answers 403 with a page that says to reopen the case, and the
refusal is audited (``file_link.refused``). Each successful use is audited by the view.

The JSON API has no session: its links are bound to the token's staff user only (binding
``api``) and expire the same way; they open in a back-office session of that same user.
"""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from ventanilla.audit.services import audit_log
from ventanilla.cases.selectors import case_for_staff
from ventanilla.documents.selectors import document_scanned

SALT = "ventanilla.backoffice.file_link"
TOKEN_PARAMETER = "t"  # noqa: S105 (the query parameter's name)
API_BINDING = "api"
DOCUMENT = "documents.document"
CHECK_ATTACHMENT = "checks.checkattachment"


class FileLinkRefused(Exception):
    """The link's token is missing, expired, altered, or for another file, user or session."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def session_binding(session_key: str | None) -> str:
    """An HMAC of the session key: names the session without revealing its key."""
    if not session_key:
        return ""
    return salted_hmac(f"{SALT}.session", session_key, algorithm="sha256").hexdigest()[:32]


def file_link_token(*, model_label: str, pk: int, user, binding: str) -> str:
    """A signed token for one file, one staff user and one binding (session or API)."""
    return signing.dumps({"f": model_label, "id": pk, "u": user.pk, "b": binding}, salt=SALT)


def file_url(*, case, obj, user, binding: str, still: bool = False) -> str:
    """The link to a Document (``still``: the frame of its video) or a CheckAttachment of
    ``case``, for ``user`` in the session (or API) that ``binding`` names."""
    model_label = obj._meta.label_lower
    if model_label == CHECK_ATTACHMENT:
        view_name = "backoffice:check_attachment"
    elif model_label == DOCUMENT:
        view_name = "backoffice:video_still" if still else "backoffice:document"
    else:
        raise ValueError(f"No staff file view serves {model_label}.")
    token = file_link_token(model_label=model_label, pk=obj.pk, user=user, binding=binding)
    return (
        reverse(view_name, args=[case.number, obj.pk]) + "?" + urlencode({TOKEN_PARAMETER: token})
    )


def staff_file_url(request, case, obj, *, still: bool = False, api: bool = False) -> str:
    """The link to a file of ``case`` for the signed-in staff member of ``request``, bound
    to their session. ``api``: for the JSON API, where ``request.auth`` is the staff user
    and there is no session. No link ("") for a document the retention purge deleted, nor
    for one the antivirus has not found clean (documents/selectors.py)."""
    if getattr(obj, "purged_at", None):
        return ""
    if obj._meta.label_lower == DOCUMENT and not document_scanned(obj):
        return ""
    if api:
        return file_url(case=case, obj=obj, user=request.auth, binding=API_BINDING, still=still)
    return file_url(
        case=case,
        obj=obj,
        user=request.user,
        binding=session_binding(request.session.session_key),
        still=still,
    )


def file_link_check(request, *, model_label: str, pk: int) -> None:
    """Accept the request's token for this file, user and session, or raise FileLinkRefused."""
    token = request.GET.get(TOKEN_PARAMETER, "")
    if not token:
        raise FileLinkRefused("missing")
    try:
        claims = signing.loads(token, salt=SALT, max_age=settings.STAFF_FILE_LINK_SECONDS)
    except signing.SignatureExpired:
        raise FileLinkRefused("expired") from None
    except signing.BadSignature:
        raise FileLinkRefused("invalid") from None
    if not isinstance(claims, dict):
        raise FileLinkRefused("invalid")
    if claims.get("f") != model_label or claims.get("id") != pk:
        raise FileLinkRefused("other_file")
    if claims.get("u") != request.user.pk:
        raise FileLinkRefused("other_user")
    binding = str(claims.get("b", ""))
    if binding == API_BINDING:
        return
    current = session_binding(request.session.session_key)
    if not current or not constant_time_compare(binding, current):
        raise FileLinkRefused("other_session")


def file_link_refused(request, *, number: str, model_label: str, pk: int, reason: str):
    """The 403 page ("the link expired, reopen the case"), and its audit event."""
    case = case_for_staff(request.user, number)
    audit_log(
        action="file_link.refused",
        actor=request.user,
        case=case,
        new={"file": model_label, "id": pk, "reason": reason},
    )
    return render(
        request,
        "backoffice/file_link_refused.html",
        {
            "case": case,
            "reason": reason,
            "link_minutes": max(1, round(settings.STAFF_FILE_LINK_SECONDS / 60)),
        },
        status=403,
    )


def file_link_required(model_label: str, pk_argument: str):
    """Decorate a staff file view (inside staff_required): refuse a request without a valid
    link for the file its URL names, before the file is even looked up."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, number, **kwargs):
            pk = kwargs[pk_argument]
            try:
                file_link_check(request, model_label=model_label, pk=pk)
            except FileLinkRefused as exc:
                return file_link_refused(
                    request, number=number, model_label=model_label, pk=pk, reason=exc.reason
                )
            return view(request, number, **kwargs)

        return wrapped

    return decorator

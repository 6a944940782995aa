from django.utils import timezone

from .models import RequestDraft


def draft_for_browser(public_id: str | None) -> RequestDraft | None:
    """The unexpired draft whose id this browser's session holds, or None."""
    if not public_id:
        return None
    return (
        RequestDraft.objects.filter(public_id=public_id, expires_at__gt=timezone.now())
        .prefetch_related("files")
        .first()
    )

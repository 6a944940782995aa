"""The page django-axes shows when a username is locked out (AXES_LOCKOUT_CALLABLE):
the sign-in page, saying plainly that the account is locked and until when."""

from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

from .selectors import lockout_ends_at

LOCKED_TEMPLATE = "backoffice/login.html"


def lockout_page(request, username: str, until=None):
    """The sign-in page with the lock-out notice (HTTP 429)."""
    until = until or lockout_ends_at(request, username)
    return render(
        request,
        LOCKED_TEMPLATE,
        {"form": AuthenticationForm(request), "locked_until": until, "locked": True},
        status=429,
    )


def lockout_response(request, original_response=None, credentials=None):
    """Called by axes' middleware for a request it locked out."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return lockout_page(request, username)

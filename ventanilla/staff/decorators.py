from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from .roles import can, is_staff_member
from .selectors import totp_device_confirmed


def is_verified(user) -> bool:
    """The session passed the second factor (django-otp's OTPMiddleware sets this)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def second_factor_url(user) -> str:
    """Where a signed-in user goes for the second factor: the code page, or the
    enrolment page if they have no authenticator app yet."""
    if totp_device_confirmed(user) is None:
        return reverse("backoffice:two_factor_enrol")
    return reverse("backoffice:two_factor")


def staff_required(permission: str):
    """Back-office views: anonymous visitors go to the sign-in page; signed-in staff who
    have not passed the second factor go to the code (or enrolment) page; users without
    the permission are refused (403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if is_staff_member(user) and not is_verified(user):
                return redirect_to_login(request.get_full_path(), second_factor_url(user))
            if not can(user, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator

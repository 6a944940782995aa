"""Signing out a session left idle: a staff member who walks away from the desk does not
leave the back-office open (STAFF_IDLE_TIMEOUT_SECONDS)."""

from django.conf import settings
from django.contrib import messages
from django.utils import timezone
from django.utils.translation import gettext as _

from .services import LAST_ACTIVITY_SESSION_KEY, staff_sign_out


class StaffIdleTimeoutMiddleware:
    """After AuthenticationMiddleware, OTPMiddleware and MessageMiddleware. Only requests
    that carry a session cookie are looked at, so that citizens' pages stay cookie-free."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            now = timezone.now().timestamp()
            last = request.session.get(LAST_ACTIVITY_SESSION_KEY)
            limit = settings.STAFF_IDLE_TIMEOUT_SECONDS
            if last is not None and now - last > limit:
                staff_sign_out(request=request, idle=True)
                messages.info(
                    request,
                    _(
                        "Su sesión se cerró porque estuvo %(minutes)d minutos sin actividad. "
                        "Ingrese de nuevo para continuar."
                    )
                    % {"minutes": max(1, limit // 60)},
                )
            else:
                request.session[LAST_ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)

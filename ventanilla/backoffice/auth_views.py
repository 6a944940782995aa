"""Staff sign-in: the password page, then the second factor (a TOTP code, or enrolling an
authenticator app the first time), and signing out. The rules live in
ventanilla/staff/services.py; these views parse, call one service and render."""

import base64
import json
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from ventanilla.staff.decorators import is_verified, second_factor_url
from ventanilla.staff.forms import EnrolmentForm, SecondFactorForm
from ventanilla.staff.lockout import lockout_page
from ventanilla.staff.selectors import passkeys_of, totp_device_confirmed
from ventanilla.staff.services import (
    PasskeyRefused,
    SecondFactorRefused,
    StaffLockedOut,
    passkey_authentication_options,
    passkey_sign_in,
    staff_second_factor_verify,
    staff_sign_in_failed,
    staff_sign_out,
    staff_totp_enrol,
    totp_enrolment_device,
)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}"


class LoginView(auth_views.LoginView):
    """Step one: username and password (django-axes counts the failures)."""

    template_name = "backoffice/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        auth_login(self.request, user)
        return redirect(_with_next(second_factor_url(user), self.get_success_url()))

    def form_invalid(self, form):
        staff_sign_in_failed(request=self.request, username=self.request.POST.get("username", ""))
        return super().form_invalid(form)


def _second_factor_page(view):
    """Only for a user who signed in with the password and still needs the code."""

    @sensitive_post_parameters("code")
    @csrf_protect
    @never_cache
    def wrapper(request):
        if not request.user.is_authenticated:
            return redirect(_with_next(resolve_url(settings.LOGIN_URL), _next_url(request)))
        if is_verified(request.user):
            return redirect(_next_url(request))
        return view(request)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_second_factor_page
def two_factor(request):
    """Step two for a user with an authenticator app: a TOTP or backup code."""
    next_url = _next_url(request)
    if totp_device_confirmed(request.user) is None:
        return redirect(_with_next(second_factor_url(request.user), next_url))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            staff_second_factor_verify(request=request, code=form.cleaned_data["code"])
        except StaffLockedOut as locked:
            return lockout_page(request, locked.username, locked.until)
        except SecondFactorRefused as refused:
            form.add_error("code", str(refused))
        else:
            return redirect(next_url)
    return render(
        request,
        "backoffice/two_factor.html",
        {
            "form": form,
            "next": next_url,
            "next_query": urlencode({"next": next_url}),
            "has_passkey": passkeys_of(request.user).exists(),
        },
    )


def _grouped(secret: str, size: int = 4) -> str:
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


@_second_factor_page
def two_factor_enrol(request):
    """Step two the first time: add the account to an authenticator app (QR code or the
    key typed by hand) and confirm it with a code; then the backup codes, shown once."""
    next_url = _next_url(request)
    if totp_device_confirmed(request.user) is not None:
        return redirect(_with_next(second_factor_url(request.user), next_url))
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = staff_totp_enrol(request=request, code=form.cleaned_data["code"])
        except StaffLockedOut as locked:
            return lockout_page(request, locked.username, locked.until)
        except SecondFactorRefused as refused:
            form.add_error("code", str(refused))
        else:
            return render(
                request,
                "backoffice/two_factor_backup_codes.html",
                {"codes": codes, "next": next_url},
            )
    device = totp_enrolment_device(user=request.user)
    secret = base64.b32encode(device.bin_key).decode()
    qr_code = segno.make(device.config_url, error="m").svg_inline(
        scale=5, title="Código QR para la aplicación de autenticación"
    )
    return render(
        request,
        "backoffice/two_factor_enrol.html",
        {
            "form": form,
            "next": next_url,
            "qr_code": qr_code,
            "secret": _grouped(secret),
            "issuer": settings.OTP_TOTP_ISSUER,
        },
    )


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires), recorded in the audit trail."""

    next_page = "backoffice:login"

    def post(self, request, *args, **kwargs):
        staff_sign_out(request=request)
        return super().post(request, *args, **kwargs)


# --- the second factor with a passkey (WebAuthn): JSON for static/js/passkey.js -----------


def json_body(request) -> dict:
    """The request's JSON object, or {} when the body is not one."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def json_refusal(message: str, *, status: int = 400, **extra) -> JsonResponse:
    """A refusal the page shows as it is: ``{"error": "<Spanish message>"}``."""
    return JsonResponse({"error": str(message), **extra}, status=status)


def _json_locked(request, locked: StaffLockedOut) -> JsonResponse:
    return json_refusal(
        _(
            "Hubo demasiados intentos fallidos: por seguridad, la cuenta está bloqueada por "
            "unos minutos. Vuelva a la página de ingreso más tarde."
        ),
        status=429,
        redirect=resolve_url(settings.LOGIN_URL),
    )


def _passkey_step(view):
    """JSON endpoints of the second step: only for a user who passed the password step.
    An expired session gets a message and the way back to the sign-in page; a session
    already verified is sent on."""

    @require_POST
    @csrf_protect
    @never_cache
    def wrapper(request):
        if not request.user.is_authenticated:
            return json_refusal(
                _("Su sesión terminó. Ingrese de nuevo con su usuario y contraseña."),
                status=401,
                redirect=_with_next(resolve_url(settings.LOGIN_URL), _next_url(request)),
            )
        if is_verified(request.user):
            return JsonResponse({"redirect": _next_url(request)})
        try:
            return view(request)
        except StaffLockedOut as locked:
            return _json_locked(request, locked)
        except PasskeyRefused as refused:
            return json_refusal(str(refused))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_passkey_step
def passkey_sign_in_options(request):
    """The challenge and the user's passkeys, for navigator.credentials.get()."""
    return HttpResponse(
        passkey_authentication_options(request=request), content_type="application/json"
    )


@_passkey_step
def passkey_sign_in_verify(request):
    """The browser's signed answer: on success, where to go next (as after a code)."""
    passkey_sign_in(request=request, credential_json=json_body(request).get("credential"))
    return JsonResponse({"redirect": _next_url(request)})

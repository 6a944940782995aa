"""Staff accounts, their sign-in (password, then a TOTP code) and API tokens.

The sign-in use cases take the request: sessions, the client's address and the
lock-out count all live there. django-axes counts failures (wrong passwords through
the authentication backend, wrong codes through ``user_login_failed`` sent here) and
locks a username from one address; django-otp keeps the devices and marks a session
verified. Every step writes an audit event with a pseudonym of the address and the
browser's user agent.
"""

import base64
import datetime as dt
import hashlib
import secrets

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from django.contrib.auth import get_user_model
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ventanilla.audit.services import audit_log
from ventanilla.cases.services import client_ref_for

from .models import ApiToken
from .roles import is_staff_member
from .selectors import lockout_ends_at, totp_device_confirmed

# When the session last saw a request (seconds since the epoch); see middleware.py.
LAST_ACTIVITY_SESSION_KEY = "staff_last_activity"
BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Aplicación de autenticación"
BACKUP_DEVICE_NAME = "Códigos de respaldo"
DEMO_DEVICE_NAME = "Demostración"
ANONYMOUS = "anonymous"


class SecondFactorRefused(Exception):
    """A code was not accepted; the message says why and what to do, in Spanish."""


class StaffLockedOut(Exception):
    """Too many failures: this username may not sign in from this address until ``until``."""

    def __init__(self, username: str, until: dt.datetime | None):
        super().__init__(username, until)
        self.username = username
        self.until = until


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user) -> str:
    """A new token for a staff member who has a second factor; the key is shown once and
    only its hash is kept."""
    if not is_staff_member(user):
        raise PermissionError(f"{user.get_username()} no tiene un rol de personal del IESS.")
    if totp_device_confirmed(user) is None:
        raise PermissionError(
            f"{user.get_username()} no tiene activada la verificación en dos pasos: debe "
            "ingresar una vez en /gestion/ingresar/ y activar la aplicación de autenticación "
            "antes de recibir un token de la API."
        )
    key = f"vv_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, key_hash=_hash(key), prefix=key[3:9])
    audit_log(action="staff.api_token_created", actor=user, obj=token)
    return key


def api_token_user(key: str):
    """The active user behind a bearer key, or None. A token works only while its owner
    keeps a confirmed second factor (a reset of the factor stops the tokens too)."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(key), revoked_at__isnull=True, user__is_active=True)
        .filter(Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)))
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


@transaction.atomic
def staff_user_ensure(
    *, username: str, password: str, role: str, email: str = "", first_name: str = ""
) -> object:
    """Create (or reset) a staff user in one role. Used by the demo data and tests."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.email = email
    user.first_name = first_name
    user.is_staff = False  # the Django admin is for administrators only
    user.save()
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.set([group])
    return user


# --- sign-in ---------------------------------------------------------------------------


def _client(request) -> dict:
    return {
        "client_ref": client_ref_for(get_client_ip_address(request)),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:255],
    }


def _sign_in_audit(request, *, action: str, actor, username: str, **details) -> None:
    audit_log(
        action=action,
        actor=actor,
        new={"username": username, **_client(request), **details},
    )


def staff_sign_in_failed(*, request, username: str) -> None:
    """Record a refused username and password (never the password). django-axes has
    already counted it; if it was the failure that locked the account, say so too."""
    if not username:
        return
    locked = bool(getattr(request, "axes_locked_out", False))
    _sign_in_audit(
        request,
        action="staff.sign_in_failed",
        actor=ANONYMOUS,
        username=username,
        step="password",
        locked=locked,
    )
    # A number here means this failure was counted; None means axes refused the attempt
    # because the account was already locked.
    if locked and getattr(request, "axes_failures_since_start", None) is not None:
        until = lockout_ends_at(request, username)
        _sign_in_audit(
            request,
            action="staff.locked_out",
            actor=ANONYMOUS,
            username=username,
            until=until.isoformat() if until else None,
        )


def _code_failed(request, user, *, step: str) -> None:
    """Count a wrong code like a wrong password; sign out and lock at the limit."""
    username = user.get_username()
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    _sign_in_audit(request, action="staff.otp_failed", actor=user, username=username, step=step)
    if getattr(request, "axes_locked_out", False):
        until = lockout_ends_at(request, username)
        _sign_in_audit(
            request,
            action="staff.locked_out",
            actor=user,
            username=username,
            until=until.isoformat() if until else None,
        )
        auth_logout(request)
        raise StaffLockedOut(username, until)
    raise SecondFactorRefused(
        _(
            "El código no es correcto o ya venció. Escriba el código que muestra ahora su aplicación."
        )
    )


def _refuse_if_locked(request, user) -> None:
    username = user.get_username()
    if AxesProxyHandler.is_locked(request, {"username": username}):
        until = lockout_ends_at(request, username)
        auth_logout(request)
        raise StaffLockedOut(username, until)


def _refuse_if_throttled(device) -> None:
    allowed, data = device.verify_is_allowed()
    if not allowed:
        seconds = max(1, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)
        raise SecondFactorRefused(
            ngettext(
                "Demasiados códigos seguidos: espere %(seconds)d segundo y vuelva a intentar.",
                "Demasiados códigos seguidos: espere %(seconds)d segundos y vuelva a intentar.",
                seconds,
            )
            % {"seconds": seconds}
        )


def _sign_in_complete(request, device, *, method: str) -> None:
    user = request.user
    django_otp.login(request, device)
    # A new session id once both factors passed, as after the password.
    request.session.cycle_key()
    request.session[LAST_ACTIVITY_SESSION_KEY] = timezone.now().timestamp()
    AxesProxyHandler.reset_attempts(
        username=user.get_username(), ip_address=get_client_ip_address(request)
    )
    _sign_in_audit(
        request, action="staff.signed_in", actor=user, username=user.get_username(), method=method
    )


def _normalized(code: str) -> str:
    return "".join(code.split()).lower()


def staff_second_factor_verify(*, request, code: str):
    """The second step of sign-in for a user who has an authenticator app: a 6-digit TOTP
    code, or one of the backup codes (used up once accepted). Returns the device that
    accepted it; raises SecondFactorRefused or StaffLockedOut."""
    user = request.user
    _refuse_if_locked(request, user)
    code = _normalized(code)
    is_totp = code.isdigit()
    model = TOTPDevice if is_totp else StaticDevice
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is not None:
            _refuse_if_throttled(device)
        accepted = device is not None and device.verify_token(code)
    if not accepted:
        _code_failed(request, user, step="code")
    _sign_in_complete(request, device, method="totp" if is_totp else "backup_code")
    return device


@transaction.atomic
def totp_enrolment_device(*, user) -> TOTPDevice:
    """The authenticator app being set up: the same unconfirmed device (and QR code) until
    the user confirms it with a code."""
    device = (
        TOTPDevice.objects.filter(user=user, confirmed=False, name=TOTP_DEVICE_NAME)
        .order_by("-pk")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _backup_codes_create(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def staff_totp_enrol(*, request, code: str) -> list[str]:
    """Confirm the authenticator app with its first code, which also completes this
    sign-in. Returns 10 one-time backup codes, to be shown once."""
    user = request.user
    _refuse_if_locked(request, user)
    device = totp_enrolment_device(user=user)
    code = _normalized(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        _refuse_if_throttled(device)
        accepted = code.isdigit() and device.verify_token(code)
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _backup_codes_create(user)
            _sign_in_audit(
                request,
                action="staff.otp_enrolled",
                actor=user,
                username=user.get_username(),
                device=device.persistent_id,
            )
    if not accepted:
        _code_failed(request, user, step="enrolment")
    _sign_in_complete(request, device, method="totp")
    return codes


def staff_sign_out(*, request, idle: bool = False) -> None:
    """Sign the user out; ``idle`` when the session was left unused too long."""
    user = request.user
    if user.is_authenticated:
        _sign_in_audit(
            request,
            action="staff.idle_timeout" if idle else "staff.signed_out",
            actor=user,
            username=user.get_username(),
        )
    auth_logout(request)


@transaction.atomic
def staff_second_factor_reset(*, user, actor=None) -> int:
    """Remove a user's authenticator app and backup codes (a lost phone): the next sign-in
    asks them to enrol again, and their API tokens stop working until they do."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        count, _ = model.objects.filter(user=user).delete()
        removed += count
    audit_log(
        action="staff.otp_reset", actor=actor, obj=user, new={"username": user.get_username()}
    )
    return removed


@transaction.atomic
def demo_totp_device_ensure(user, secret: str) -> TOTPDevice:
    """Give a DEMO user a confirmed authenticator with a published base32 ``secret``, so
    that a person trying `make run` can add it to an app (or compute codes with
    ``oathtool --totp -b SECRET``). Never for real accounts."""
    key = base64.b32decode("".join(secret.split()).upper()).hex()
    TOTPDevice.objects.filter(user=user).exclude(name=DEMO_DEVICE_NAME).delete()
    device, created = TOTPDevice.objects.get_or_create(
        user=user, name=DEMO_DEVICE_NAME, defaults={"key": key, "confirmed": True}
    )
    if not created and (device.key != key or not device.confirmed):
        device.key, device.confirmed, device.last_t, device.drift = key, True, -1, 0
        device.save()
    return device

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
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ventanilla.audit.client import client_ip, user_agent
from ventanilla.audit.services import audit_log
from ventanilla.cases.services import client_ref_for
from ventanilla.notifications.services import email_queue

from .decorators import is_verified
from .models import ApiToken, PasskeyDevice
from .roles import Permission, Role, can, is_staff_member
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


# --- staff API tokens --------------------------------------------------------------------
# A token is the back-office's sign-in for a machine: it acts for its owner, only while the
# owner is active and keeps a confirmed second factor, only within its scope AND the owner's
# current role (a demoted owner's tokens lose that power at once), and only until it expires
# (API_TOKEN_DAYS) or someone revokes it. docs/security.md, "D2. Staff API tokens".

API_TOKEN_SCOPES: dict[str, frozenset[str]] = {
    ApiToken.Scope.READ: frozenset({Permission.VIEW_CASES, Permission.VIEW_REGISTRY}),
    ApiToken.Scope.DECIDE: frozenset(
        {Permission.VIEW_CASES, Permission.VIEW_REGISTRY, Permission.DECIDE}
    ),
}


class ApiTokenRefused(PermissionError):
    """A token cannot be made or revoked; the message says why, in Spanish."""


def _api_token_scope_default(user) -> str:
    # The widest scope the role allows, so that `manage.py api_token <username>` keeps
    # giving an analyst a token that can decide; `--scope read` narrows it.
    return ApiToken.Scope.DECIDE if can(user, Permission.DECIDE) else ApiToken.Scope.READ


@transaction.atomic
def api_token_create(*, user, scope: str | None = None) -> str:
    """A new token for a staff member who has a second factor, in `scope` (by default the
    widest their role allows), valid for API_TOKEN_DAYS. A scope that grants more than the
    role (an auditor asking for ``decide``) is refused. The key is returned once; only its
    SHA-256 is kept."""
    if not is_staff_member(user):
        raise ApiTokenRefused(f"{user.get_username()} no tiene un rol de personal del IESS.")
    if totp_device_confirmed(user) is None:
        raise ApiTokenRefused(
            f"{user.get_username()} no tiene activada la verificación en dos pasos: debe "
            "ingresar una vez en /gestion/ingresar/ y activar la aplicación de autenticación "
            "antes de recibir un token de la API."
        )
    scope = scope or _api_token_scope_default(user)
    if scope not in API_TOKEN_SCOPES:
        raise ApiTokenRefused(
            f"Alcance desconocido «{scope}»: use uno de {', '.join(ApiToken.Scope.values)}."
        )
    if scope == ApiToken.Scope.DECIDE and not can(user, Permission.DECIDE):
        raise ApiTokenRefused(
            f"El rol de {user.get_username()} no permite decidir trámites: su token solo "
            "puede tener el alcance «read»."
        )
    key = f"vv_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        key_hash=_hash(key),
        prefix=key[3:9],
        scope=scope,
        expires_at=timezone.now() + dt.timedelta(days=settings.API_TOKEN_DAYS),
    )
    audit_log(
        action="staff.api_token_created",
        actor=user,
        obj=token,
        new={
            "username": user.get_username(),
            "prefix": token.prefix,
            "scope": scope,
            "expires_at": token.expires_at.isoformat(),
        },
    )
    return key


def api_token_find(key: str) -> ApiToken | None:
    """The token behind a bearer key, with its user, if it may still be used: not revoked,
    not expired, its owner active and with a confirmed second factor (a reset of the factor
    stops the tokens too). None in every other case, whichever the reason, so that the
    answer does not tell a guessed key from a revoked one. Records the use."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            key_hash=_hash(key),
            revoked_at__isnull=True,
            expires_at__gt=now,
            user__is_active=True,
        )
        .filter(Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)))
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_user(key: str):
    """The active user behind a usable bearer key, or None (see api_token_find)."""
    token = api_token_find(key)
    return token.user if token is not None else None


def api_token_scope_allows(token: ApiToken, permission: str) -> bool:
    """Whether the token's scope covers `permission` (the role is asked separately)."""
    return permission in API_TOKEN_SCOPES.get(token.scope, frozenset())


def api_tokens_of(user):
    """A person's tokens, newest first: in use, expired and revoked (for their account page
    and `manage.py api_token --list`)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke a token (``staff.api_token_revoked``): it is refused from the next request on.
    Its owner may revoke it, and so may an administrator; `actor` None is the command line.
    Revoking a revoked token changes nothing."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if actor is not None and actor.pk != token.user_id and not can(actor, Permission.MANAGE_STAFF):
        raise ApiTokenRefused(
            "Solo la dueña o el dueño del token, o un administrador, puede revocarlo."
        )
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_log(
            action="staff.api_token_revoked",
            actor=actor,
            obj=token,
            new={"username": token.user.get_username(), "prefix": token.prefix},
        )
    return token


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
    """The address's pseudonym and the browser, kept in the event's values as before the
    audit trail had columns for them (readers of older events, and SIGN_IN.md, expect
    them). The columns (ip, user_agent, request_id) are filled by audit_log itself, from
    the same address (ventanilla/audit/client.py)."""
    return {"client_ref": client_ref_for(client_ip(request)), "user_agent": user_agent(request)}


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


def _code_failed(request, user, *, step: str, refusal: Exception | None = None, **details):
    """Count a wrong code (or a refused passkey) like a wrong password, recording the step
    and `details`; sign out and lock at the limit, else raise `refusal` (by default: the
    code is wrong)."""
    username = user.get_username()
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    _sign_in_audit(
        request, action="staff.otp_failed", actor=user, username=username, step=step, **details
    )
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
    raise refusal or SecondFactorRefused(
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
    """Remove a user's authenticator app, backup codes and passkeys (a lost phone): the next
    sign-in asks them to enrol again, and their API tokens stop working until they do."""
    removed = 0
    for model in (TOTPDevice, StaticDevice, PasskeyDevice):
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


# --- accounts (the administrators' page, /gestion/personal/) -----------------------------
# Accounts are created without a password: the person sets it through a single-use link
# (Django's password-reset token, void once the password changes), then enrols an
# authenticator app at the first sign-in. Every change is an audit event with old and new
# values.


def staff_roles_of(user) -> list[str]:
    """The user's Ventanilla roles, sorted (read afresh, not from the request's cache)."""
    return sorted(user.groups.filter(name__in=Role.values).values_list("name", flat=True))


def _roles_clean(roles) -> list[str]:
    roles = sorted(set(roles or []))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationError({"roles": f"Rol desconocido: {', '.join(unknown)}."})
    if not roles:
        raise ValidationError(
            {
                "roles": "Marque al menos un rol. Para quitarle todo acceso a una persona, "
                "desactive su cuenta."
            }
        )
    return roles


def _roles_apply(user, roles: list[str]) -> None:
    """Give exactly `roles` among Ventanilla's roles; other groups are left alone."""
    user.groups.remove(*Group.objects.filter(name__in=Role.values).exclude(name__in=roles))
    user.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in roles))
    # roles.user_roles caches per user object.
    user.__dict__.pop("_ventanilla_roles", None)


def _account_values(user) -> dict:
    return {
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "roles": staff_roles_of(user),
    }


def staff_activation_link(user) -> str:
    """A single-use address where `user` sets their password: valid for
    PASSWORD_RESET_TIMEOUT, and void once the password is set."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.SITE_URL}{reverse('backoffice:activate', args=[uid, token])}"


def _activation_email_queue(user, *, actor) -> None:
    link = staff_activation_link(user)
    email_queue(
        template="staff_activation",
        to=user.email,
        context={
            "recipient": user,
            "link": link,
            "sign_in_url": f"{settings.SITE_URL}{reverse('backoffice:login')}",
            "valid_days": max(settings.PASSWORD_RESET_TIMEOUT // 86400, 1),
            "invited_by": actor.get_full_name() or actor.get_username() if actor else "",
        },
        # The token changes with every second, so a new link is a new message.
        dedupe_key=f"staff_activation:{user.pk}:{link.rstrip('/').rsplit('/', 1)[-1]}",
    )
    audit_log(
        action="staff.activation_sent",
        actor=actor,
        obj=user,
        new={"username": user.get_username(), "email": user.email},
    )


@transaction.atomic
def staff_account_create(
    *, actor, username: str, first_name: str, last_name: str, email: str, roles: list[str]
):
    """An administrator opens an account for a colleague: no password yet; an email with a
    single-use link to set it goes to `email`. Refuses (ValidationError, by field) a
    username or an email already in use, or no role."""
    user_model = get_user_model()
    username = (username or "").strip()
    email = user_model.objects.normalize_email((email or "").strip())
    roles = _roles_clean(roles)
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            {"username": f"Ya existe una cuenta con el usuario «{username}»: elija otro."}
        )
    if not email:
        raise ValidationError({"email": "Escriba el correo: allí llega el enlace de activación."})
    if user_model.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": f"El correo {email} ya es de otra cuenta: cada persona usa el suyo."}
        )
    user = user_model(
        username=username,
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        email=email,
        is_staff=False,  # the Django admin is not the back-office
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    _roles_apply(user, roles)
    audit_log(action="staff.account_created", actor=actor, obj=user, new=_account_values(user))
    _activation_email_queue(user, actor=actor)
    return user


@transaction.atomic
def staff_activation_resend(*, actor, user):
    """A new activation link for an account whose owner has not set a password yet (the
    first link expired or was lost). Refused once the password is set, or if the account
    is deactivated."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.has_usable_password():
        raise ValidationError(
            f"{user.get_username()} ya creó su contraseña; el enlace de activación sirve "
            "solo una vez."
        )
    if not user.is_active:
        raise ValidationError(
            f"La cuenta de {user.get_username()} está desactivada: reactívela antes de "
            "enviar el enlace."
        )
    if not user.email:
        raise ValidationError(f"{user.get_username()} no tiene correo: no hay adónde enviarlo.")
    _activation_email_queue(user, actor=actor)
    return user


@transaction.atomic
def staff_password_set(*, user, password: str):
    """The person set their password through the activation link (the form checked it
    against the password rules). The link is void from now on."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    had_password = user.has_usable_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_log(
        action="staff.password_set",
        actor=user,
        obj=user,
        new={"username": user.get_username(), "first_time": not had_password},
    )
    return user


@transaction.atomic
def staff_roles_set(*, actor, user, roles: list[str]):
    """Change the roles of an account (at least one). An administrator cannot take away
    their own administrator role: another administrator must."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    roles = _roles_clean(roles)
    old = staff_roles_of(user)
    if user.pk == actor.pk and Role.ADMINISTRATOR in old and Role.ADMINISTRATOR not in roles:
        raise ValidationError(
            {
                "roles": "No puede quitarse a sí mismo el rol de administrador: pídaselo a "
                "otro administrador, para que siempre quede alguien que administre las cuentas."
            }
        )
    if roles != old:
        _roles_apply(user, roles)
        audit_log(
            action="staff.roles_changed",
            actor=actor,
            obj=user,
            old={"username": user.get_username(), "roles": old},
            new={"username": user.get_username(), "roles": roles},
        )
    return user


@transaction.atomic
def staff_active_set(*, actor, user, active: bool):
    """Deactivate an account (it can no longer sign in, its open sessions and API tokens
    stop working) or reactivate it. An administrator cannot deactivate themself."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk and not active:
        raise ValidationError(
            "No puede desactivar su propia cuenta: pídaselo a otro administrador."
        )
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_log(
            action="staff.reactivated" if active else "staff.deactivated",
            actor=actor,
            obj=user,
            old={"username": user.get_username(), "is_active": not active},
            new={"username": user.get_username(), "is_active": active},
        )
    return user


# --- passkeys (WebAuthn) -----------------------------------------------------------------
# A passkey is a second factor like the authenticator app: the password first, then the
# browser signs a single-use challenge with the key kept on the person's device, and
# py_webauthn checks the signature against the public key stored at registration. The
# challenge lives in the session for PASSKEY_CHALLENGE_SECONDS and is taken out (used up)
# by the first answer, right or wrong. A failed passkey counts toward the lock-out like a
# wrong code. The authenticator app stays: it is the fallback for a lost device.

PASSKEY_CHALLENGE_SECONDS = 180
PASSKEY_REGISTRATION_SESSION_KEY = "staff_passkey_registration"
PASSKEY_SIGN_IN_SESSION_KEY = "staff_passkey_sign_in"
PASSKEY_NAME_MAX_LENGTH = 64


class PasskeyRefused(SecondFactorRefused):
    """A passkey ceremony was refused; the message says why and what to do, in Spanish."""


def _challenge_keep(request, key: str, challenge: bytes) -> None:
    request.session[key] = {
        "challenge": bytes_to_base64url(challenge),
        "user": request.user.pk,
        "expires": timezone.now().timestamp() + PASSKEY_CHALLENGE_SECONDS,
    }


def _challenge_take(request, key: str) -> bytes:
    """The challenge given to this session's user, taken out of the session: it answers
    one ceremony only. Refused if missing, used, expired or given to another user."""
    kept = request.session.pop(key, None)
    if (
        not isinstance(kept, dict)
        or kept.get("user") != request.user.pk
        or kept.get("expires", 0) < timezone.now().timestamp()
    ):
        raise PasskeyRefused(
            _(
                "La solicitud de la llave de acceso venció o ya se usó. Presione el botón "
                "de nuevo para empezar otra."
            )
        )
    return base64url_to_bytes(kept["challenge"])


def _user_handle(user) -> bytes:
    # An opaque, stable handle for the authenticator, not the username or the database id.
    return salted_hmac(
        "ventanilla.staff.passkey.user_handle", str(user.pk), algorithm="sha256"
    ).digest()


def _descriptors(devices) -> list:
    descriptors = []
    for device in devices:
        transports = []
        for value in device.transports or []:
            try:
                transports.append(AuthenticatorTransport(value))
            except ValueError:
                continue
        descriptors.append(
            PublicKeyCredentialDescriptor(id=bytes(device.credential_id), transports=transports)
        )
    return descriptors


def passkey_name_clean(name: str) -> str:
    """The name the person gives the passkey, trimmed; refused if empty or too long."""
    name = " ".join((name or "").split())
    if not name:
        raise PasskeyRefused(
            _("Escriba un nombre para la llave, por ejemplo «Llave del portátil».")
        )
    if len(name) > PASSKEY_NAME_MAX_LENGTH:
        raise PasskeyRefused(
            _("El nombre de la llave admite hasta %(limit)d caracteres: acórtelo.")
            % {"limit": PASSKEY_NAME_MAX_LENGTH}
        )
    return name


def _refuse_unless_verified_staff(user) -> None:
    if not (is_verified(user) and is_staff_member(user)):
        raise PasskeyRefused(
            _(
                "Para agregar una llave de acceso, ingrese primero con su contraseña y el "
                "código de su aplicación de autenticación."
            )
        )


def passkey_registration_options(*, request) -> str:
    """The options (JSON) for ``navigator.credentials.create()``: a new passkey for the
    signed-in, verified staff member. Their passkeys are excluded (the same device twice
    would be refused by the browser), user verification (PIN, fingerprint) is required.
    The challenge is kept in the session for one answer."""
    user = request.user
    _refuse_unless_verified_staff(user)
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=_user_handle(user),
        user_name=user.get_username(),
        user_display_name=user.get_full_name() or user.get_username(),
        timeout=PASSKEY_CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(PasskeyDevice.objects.filter(user=user)),
    )
    _challenge_keep(request, PASSKEY_REGISTRATION_SESSION_KEY, options.challenge)
    return options_to_json(options)


def passkey_register(*, request, credential_json, name: str):
    """Check the browser's answer to the registration options and keep the new passkey
    (its public key, counter, transports and model) under the name the person chose.
    Audited as ``staff.passkey_added``. Raises PasskeyRefused with the reason."""
    user = request.user
    _refuse_unless_verified_staff(user)
    name = passkey_name_clean(name)
    challenge = _challenge_take(request, PASSKEY_REGISTRATION_SESSION_KEY)
    try:
        credential = parse_registration_credential_json(credential_json)
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=settings.WEBAUTHN_ORIGINS,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyRefused(
            _(
                "El navegador no entregó una llave de acceso válida para este sitio. Intente "
                "de nuevo; si se repite, use otro navegador o dispositivo."
            )
        ) from exc
    with transaction.atomic():
        if PasskeyDevice.objects.filter(credential_id=verified.credential_id).exists():
            raise PasskeyRefused(
                _("Esta llave de acceso ya está registrada: no hace falta agregarla otra vez.")
            )
        device = PasskeyDevice.objects.create(
            user=user,
            name=name,
            confirmed=True,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=[t.value for t in credential.response.transports or []],
            aaguid=verified.aaguid,
        )
        _sign_in_audit(
            request,
            action="staff.passkey_added",
            actor=user,
            username=user.get_username(),
            device=device.persistent_id,
            name=name,
            aaguid=verified.aaguid,
        )
    return device


def passkey_authentication_options(*, request) -> str:
    """The options (JSON) for ``navigator.credentials.get()`` for the user who passed the
    password step: only their passkeys are allowed, and user verification is required.
    Refused when they have none, or when the account is locked."""
    user = request.user
    if not user.is_authenticated:
        raise PasskeyRefused(_("Su sesión terminó. Ingrese de nuevo con su usuario y contraseña."))
    _refuse_if_locked(request, user)
    devices = list(PasskeyDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        raise PasskeyRefused(
            _(
                "Su cuenta no tiene llaves de acceso. Escriba el código de su aplicación de "
                "autenticación; después puede agregar una llave en «Mi cuenta»."
            )
        )
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        timeout=PASSKEY_CHALLENGE_SECONDS * 1000,
        allow_credentials=_descriptors(devices),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _challenge_keep(request, PASSKEY_SIGN_IN_SESSION_KEY, options.challenge)
    return options_to_json(options)


def _passkey_failed(request, user, *, reason: str, message: str) -> None:
    """Count a refused passkey like a wrong code (django-axes), recording why."""
    _code_failed(request, user, step="passkey", refusal=PasskeyRefused(message), reason=reason)


def passkey_sign_in(*, request, credential_json):
    """The second step of sign-in with a passkey: the browser's signed answer to the
    challenge of passkey_authentication_options, checked against the public key of one of
    this user's passkeys. A counter that does not move forward means the key may have been
    copied: refused and recorded (``staff.passkey_counter_went_back``). On success the
    counter and last use are updated and the sign-in completes as with a code. Returns
    the device; raises PasskeyRefused or StaffLockedOut."""
    user = request.user
    if not user.is_authenticated:
        raise PasskeyRefused(_("Su sesión terminó. Ingrese de nuevo con su usuario y contraseña."))
    _refuse_if_locked(request, user)
    challenge = _challenge_take(request, PASSKEY_SIGN_IN_SESSION_KEY)
    not_valid = _(
        "La llave de acceso no fue aceptada. Intente de nuevo, o escriba el código de su "
        "aplicación de autenticación."
    )
    try:
        credential = parse_authentication_credential_json(credential_json)
    except (WebAuthnException, ValueError, TypeError, KeyError):
        _passkey_failed(request, user, reason="malformed", message=not_valid)
    verified = counter_went_back = None
    with transaction.atomic():
        device = (
            PasskeyDevice.objects.select_for_update()
            .filter(user=user, confirmed=True, credential_id=credential.raw_id)
            .first()
        )
        if device is not None:
            try:
                verified = verify_authentication_response(
                    credential=credential,
                    expected_challenge=challenge,
                    expected_rp_id=settings.WEBAUTHN_RP_ID,
                    expected_origin=settings.WEBAUTHN_ORIGINS,
                    credential_public_key=bytes(device.public_key),
                    # Checked below, once the signature is known to be genuine.
                    credential_current_sign_count=0,
                    require_user_verification=True,
                )
            except (WebAuthnException, ValueError, TypeError, KeyError):
                verified = None
            if verified is not None:
                new, old = verified.new_sign_count, device.sign_count
                if (new or old) and new <= old:
                    counter_went_back = {"stored": old, "received": new}
                else:
                    device.sign_count = new
                    device.set_last_used_timestamp(commit=False)
                    device.save(update_fields=["sign_count", "last_used_at"])
    if device is None:
        _passkey_failed(
            request,
            user,
            reason="unknown_credential",
            message=_(
                "Esta llave de acceso no está registrada en su cuenta. Use una llave que "
                "agregó en «Mi cuenta», o escriba el código de su aplicación de autenticación."
            ),
        )
    if verified is None:
        _passkey_failed(request, user, reason="invalid", message=not_valid)
    if counter_went_back is not None:
        _sign_in_audit(
            request,
            action="staff.passkey_counter_went_back",
            actor=user,
            username=user.get_username(),
            device=device.persistent_id,
            name=device.name,
            **counter_went_back,
        )
        _passkey_failed(
            request,
            user,
            reason="counter_went_back",
            message=_(
                "Por seguridad, la llave «%(name)s» fue rechazada: su contador de usos "
                "retrocedió, lo que ocurre si la llave fue copiada. Escriba el código de su "
                "aplicación de autenticación y avise a un administrador."
            )
            % {"name": device.name},
        )
    _sign_in_complete(request, device, method="passkey")
    return device


@transaction.atomic
def passkey_remove(*, actor, device) -> None:
    """The person removes one of their passkeys (``staff.passkey_removed``). Always
    allowed: the authenticator app and the backup codes remain their second factor."""
    if device.user_id != actor.pk:
        raise PermissionError("Solo la dueña o el dueño de una llave de acceso puede quitarla.")
    persistent_id, name = device.persistent_id, device.name
    device.delete()
    audit_log(
        action="staff.passkey_removed",
        actor=actor,
        obj=actor,
        new={"username": actor.get_username(), "device": persistent_id, "name": name},
    )

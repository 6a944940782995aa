"""Reads about staff: accounts, second-factor devices (apps, backup codes, passkeys) and
lock-outs."""

import datetime as dt

from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Prefetch, Subquery
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ventanilla.audit.models import AuditEvent

from .models import PasskeyDevice
from .roles import Role


def totp_device_confirmed(user) -> TOTPDevice | None:
    """The user's confirmed authenticator app, or None if they have not enrolled one."""
    if not user or not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def backup_device(user) -> StaticDevice | None:
    """The user's one-time backup codes, if any are left."""
    return (
        StaticDevice.objects.filter(user=user, confirmed=True, token_set__isnull=False)
        .order_by("pk")
        .first()
    )


def lockout_ends_at(request, username: str) -> dt.datetime | None:
    """When the lock-out of ``username`` from this request's address ends (None if no
    failure is recorded). Counting itself is django-axes' business."""
    latest = (
        AccessAttempt.objects.filter(username=username, ip_address=get_client_ip_address(request))
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    if latest is None:
        return None
    return latest + get_cool_off(request)


def passkeys_of(user):
    """The user's passkeys, oldest first (none for an anonymous user)."""
    if not user or not user.is_authenticated:
        return PasskeyDevice.objects.none()
    return PasskeyDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def staff_accounts():
    """Everyone holding a Ventanilla role (active or not), with their roles, whether they
    have an authenticator app and their last complete sign-in: three queries in all."""
    last_sign_in = (
        AuditEvent.objects.filter(actor=OuterRef("pk"), action="staff.signed_in")
        .order_by("-at")
        .values("at")[:1]
    )
    return (
        get_user_model()
        .objects.filter(groups__name__in=Role.values)
        .distinct()
        .annotate(
            has_authenticator=Exists(
                TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
            ),
            last_sign_in=Subquery(last_sign_in),
        )
        .prefetch_related(
            Prefetch(
                "groups",
                queryset=Group.objects.filter(name__in=Role.values).order_by("name"),
                to_attr="role_groups",
            )
        )
        .order_by("username")
    )

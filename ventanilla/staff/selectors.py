"""Reads about staff sign-in: second-factor devices and lock-outs."""

import datetime as dt

from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


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

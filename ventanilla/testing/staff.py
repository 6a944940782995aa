"""Signing staff in from the tests, the way the back-office requires it."""

import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import hotp, totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_device_for(user) -> TOTPDevice:
    """The user's confirmed authenticator app, created if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Pruebas", confirmed=True)
    return device


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the person's app shows now (or ``steps_ahead`` periods later: a code is
    accepted once, so a second sign-in within 30 seconds needs the next one)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead):0{device.digits}d}"


def totp_code_unused(device: TOTPDevice) -> str:
    """A code the device will accept now: the current one, or the next one if the current
    one was already used (the same person signing in twice within 30 seconds)."""
    device.refresh_from_db()
    current = (int(time.time()) - device.t0) // device.step + device.drift
    step = max(current, device.last_t + 1)
    return f"{hotp(device.bin_key, step, device.digits):0{device.digits}d}"


def staff_login(client, user) -> None:
    """Sign ``user`` in on Django's test ``client`` with every factor the back-office
    asks for, so that a test reaches the page it is about: the password (force_login)
    and a verified second factor (the session key django-otp's middleware reads)."""
    device = totp_device_for(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

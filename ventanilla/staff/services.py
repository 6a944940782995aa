"""Staff accounts and API tokens."""

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from ventanilla.audit.services import audit_log

from .models import ApiToken
from .roles import is_staff_member


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user) -> str:
    """A new token for a staff member; the key is shown once and only its hash is kept."""
    if not is_staff_member(user):
        raise PermissionError(f"{user.get_username()} no tiene un rol de personal del IESS.")
    key = f"vv_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, key_hash=_hash(key), prefix=key[3:9])
    audit_log(action="staff.api_token_created", actor=user, obj=token)
    return key


def api_token_user(key: str):
    """The active user behind a bearer key, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(key), revoked_at__isnull=True, user__is_active=True)
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

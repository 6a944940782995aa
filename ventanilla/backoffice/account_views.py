"""The person's own account page (/gestion/cuenta/): their passkeys, with the JSON endpoints
of the registration ceremony for static/js/passkey.js, and their staff API tokens (each can
be revoked here). Open to every staff member who
passed the second factor, whatever their role: it only ever touches their own account.
Like every back-office page, the endpoints send a session without the second factor to
the code page (the script follows that redirect). The rules live in
ventanilla/staff/services.py."""

from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ventanilla.staff.decorators import staff_required
from ventanilla.staff.models import ApiToken, PasskeyDevice
from ventanilla.staff.roles import Permission
from ventanilla.staff.selectors import passkeys_of
from ventanilla.staff.services import (
    PASSKEY_NAME_MAX_LENGTH,
    PasskeyRefused,
    api_token_revoke,
    api_tokens_of,
    passkey_name_clean,
    passkey_register,
    passkey_registration_options,
    passkey_remove,
)

from .auth_views import json_body, json_refusal


def refusals_as_json(view):
    """The JSON endpoints: a refused passkey is ``{"error": "<Spanish message>"}`` (400)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PasskeyRefused as refused:
            return json_refusal(str(refused))

    return wrapper


@never_cache
@staff_required(Permission.USE_BACKOFFICE)
def account(request):
    """Mi cuenta: seguridad. The person's passkeys (name, added, last used), a button to
    remove each, and a form to add one; their API tokens, with a button to revoke each."""
    return render(
        request,
        "backoffice/account.html",
        {
            "passkeys": passkeys_of(request.user),
            "name_max_length": PASSKEY_NAME_MAX_LENGTH,
            "api_tokens": api_tokens_of(request.user),
            "now": timezone.now(),
        },
    )


@require_POST
@never_cache
@staff_required(Permission.USE_BACKOFFICE)
@refusals_as_json
def passkey_add_options(request):
    """Step one of adding a passkey: the name is checked, then the options for
    navigator.credentials.create()."""
    passkey_name_clean(json_body(request).get("name") or "")
    return HttpResponse(
        passkey_registration_options(request=request), content_type="application/json"
    )


@require_POST
@never_cache
@staff_required(Permission.USE_BACKOFFICE)
@refusals_as_json
def passkey_add(request):
    """Step two: the browser's new credential, checked and kept under its name."""
    body = json_body(request)
    device = passkey_register(
        request=request, credential_json=body.get("credential"), name=body.get("name") or ""
    )
    messages.success(
        request,
        _(
            "Se agregó la llave de acceso «%(name)s». En su próximo ingreso, después de la "
            "contraseña, presione «Usar mi llave de acceso»."
        )
        % {"name": device.name},
    )
    return JsonResponse({"redirect": reverse("backoffice:account")})


@require_POST
@staff_required(Permission.USE_BACKOFFICE)
def passkey_delete(request, device_id: int):
    """Remove one of the person's own passkeys (someone else's answers as a missing one)."""
    device = PasskeyDevice.objects.filter(user=request.user, pk=device_id).first()
    if device is None:
        raise Http404
    passkey_remove(actor=request.user, device=device)
    messages.success(
        request,
        _(
            "Se quitó la llave de acceso «%(name)s». Su aplicación de autenticación y sus "
            "códigos de respaldo siguen siendo su segundo factor."
        )
        % {"name": device.name},
    )
    return redirect("backoffice:account")


@require_POST
@staff_required(Permission.USE_BACKOFFICE)
def api_token_revoke_own(request, token_id: int):
    """Revoke one of the person's own API tokens (someone else's answers as a missing one)."""
    token = ApiToken.objects.filter(user=request.user, pk=token_id).first()
    if token is None:
        raise Http404
    api_token_revoke(actor=request.user, token=token)
    messages.success(
        request,
        _(
            "Se revocó el token %(prefix)s…: desde ahora la API lo rechaza. Si un sistema lo "
            "usaba, pida uno nuevo."
        )
        % {"prefix": token.prefix},
    )
    return redirect("backoffice:account")

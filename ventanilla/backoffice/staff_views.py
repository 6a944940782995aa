"""The landing page after sign-in, the administrators' staff accounts page, and the page
where a new colleague sets their password. The rules live in ventanilla/staff/services.py;
these views parse, call one service and render."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ventanilla.cases.models import OPEN_STATUSES, Case
from ventanilla.staff import services
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.models import ApiToken
from ventanilla.staff.roles import Permission, Role, can
from ventanilla.staff.selectors import staff_accounts

from .forms import StaffAccountForm, StaffRolesForm

# Where each role lands, in this order: the first page the user may open.
LANDING_PAGES = (
    (Permission.VIEW_CASES, "backoffice:queue"),
    (Permission.MANAGE_STAFF, "backoffice:staff"),
    (Permission.EDIT_CALENDAR, "backoffice:calendar"),
    (Permission.VIEW_AUDIT, "backoffice:audit"),
)


@staff_required(Permission.USE_BACKOFFICE)
def home(request):
    """After sign-in and from the brand link: the first page this person can use (the
    queue for those who work cases, else staff accounts, the calendar, the audit)."""
    for permission, url_name in LANDING_PAGES:
        if can(request.user, permission):
            return redirect(url_name)
    return redirect("backoffice:account")


# --- staff accounts -----------------------------------------------------------------------


def _role_labels(account) -> list[str]:
    return [Role(group.name).label for group in account.role_groups]


def _account_or_404(user_id: int):
    account = staff_accounts().filter(pk=user_id).first()
    if account is None:
        raise Http404
    return account


def _open_cases_held(account) -> int:
    return Case.objects.filter(assigned_to=account, status__in=OPEN_STATUSES).count()


def _detail_url(account) -> str:
    return reverse("backoffice:staff_detail", args=[account.pk])


@staff_required(Permission.MANAGE_STAFF)
def staff_list(request):
    accounts = list(staff_accounts())
    for account in accounts:
        account.role_labels = _role_labels(account)
    return render(request, "backoffice/staff_list.html", {"accounts": accounts})


@staff_required(Permission.MANAGE_STAFF)
def staff_new(request):
    form = StaffAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.staff_account_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "Cuenta %(username)s creada. Enviamos a %(email)s el enlace para crear "
                    "la contraseña; al ingresar por primera vez activará la verificación en "
                    "dos pasos."
                )
                % {"username": account.username, "email": account.email},
            )
            return redirect(_detail_url(account))
    status = 400 if form.errors else 200
    return render(request, "backoffice/staff_new.html", {"form": form}, status=status)


@staff_required(Permission.MANAGE_STAFF)
def staff_detail(request, user_id: int):
    """One account: its data and roles (the form saves the roles), and the actions."""
    account = _account_or_404(user_id)
    form = StaffRolesForm(
        request.POST or None, initial={"roles": [g.name for g in account.role_groups]}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_roles_set(
                actor=request.user, user=account, roles=form.cleaned_data["roles"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("Roles de %(username)s guardados.") % {"username": account.username}
            )
            return redirect(_detail_url(account))
    context = {
        "account": account,
        "role_labels": _role_labels(account),
        "form": form,
        "is_self": account.pk == request.user.pk,
        "open_cases": _open_cases_held(account),
        "awaiting_password": not account.has_usable_password(),
        "api_tokens": services.api_tokens_of(account),
        "now": timezone.now(),
    }
    return render(
        request, "backoffice/staff_detail.html", context, status=400 if form.errors else 200
    )


@staff_required(Permission.MANAGE_STAFF)
@require_POST
def staff_active(request, user_id: int):
    account = _account_or_404(user_id)
    active = request.POST.get("active") == "1"
    try:
        services.staff_active_set(actor=request.user, user=account, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_detail_url(account))
    if active:
        messages.success(
            request, _("Cuenta de %(username)s reactivada.") % {"username": account.username}
        )
    else:
        held = _open_cases_held(account)
        text = _(
            "Cuenta de %(username)s desactivada: ya no puede ingresar, y su sesión y sus "
            "claves de la API dejaron de funcionar."
        ) % {"username": account.username}
        if held:
            text += " " + ngettext(
                "Todavía tiene %(count)d trámite abierto asignado: reasígnelo desde la cola.",
                "Todavía tiene %(count)d trámites abiertos asignados: reasígnelos desde la cola.",
                held,
            ) % {"count": held}
        messages.success(request, text)
    return redirect(_detail_url(account))


@staff_required(Permission.MANAGE_STAFF)
@require_POST
def staff_second_factor(request, user_id: int):
    account = _account_or_404(user_id)
    services.staff_second_factor_reset(user=account, actor=request.user)
    messages.success(
        request,
        _(
            "Se quitó la aplicación de autenticación de %(username)s y sus códigos de "
            "respaldo. En su próximo ingreso activará una nueva."
        )
        % {"username": account.username},
    )
    return redirect(_detail_url(account))


@staff_required(Permission.MANAGE_STAFF)
@require_POST
def staff_api_token_revoke(request, user_id: int, token_id: int):
    """An administrator revokes one of a colleague's API tokens (a leaked key, a system
    retired) without touching the rest of the account."""
    account = _account_or_404(user_id)
    token = ApiToken.objects.filter(user=account, pk=token_id).first()
    if token is None:
        raise Http404
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(
        request,
        _("Se revocó el token %(prefix)s… de %(username)s: desde ahora la API lo rechaza.")
        % {"prefix": token.prefix, "username": account.username},
    )
    return redirect(_detail_url(account))


@staff_required(Permission.MANAGE_STAFF)
@require_POST
def staff_activation_resend(request, user_id: int):
    account = _account_or_404(user_id)
    try:
        services.staff_activation_resend(actor=request.user, user=account)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Enviamos a %(email)s un enlace nuevo para crear la contraseña.")
            % {"email": account.email},
        )
    return redirect(_detail_url(account))


# --- the new colleague's link ----------------------------------------------------------------


class ActivationView(auth_views.PasswordResetConfirmView):
    """/gestion/activar/<uidb64>/<token>/: set the password once. Django moves the token
    from the address into the session first (so it cannot leak in a Referer header); the
    token is void once the password is set, and an inactive account gets no form."""

    template_name = "backoffice/activate.html"
    success_url = reverse_lazy("backoffice:login")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form):
        services.staff_password_set(user=self.user, password=form.cleaned_data["new_password1"])
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(
            self.request,
            _(
                "Contraseña creada. Ingrese con su usuario %(username)s y la nueva contraseña; "
                "después active la verificación en dos pasos con su teléfono."
            )
            % {"username": self.user.get_username()},
        )
        return redirect(self.get_success_url())

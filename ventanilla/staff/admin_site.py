"""Django's admin behind the same door as the back-office: the staff sign-in with its
second factor, its lock-out and its audit. The admin's own password-only form is never
shown."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from .decorators import is_verified, second_factor_url


class StaffAdminSite(admin.AdminSite):
    site_header = "Ventanilla: administración técnica"
    site_title = "Ventanilla"

    def has_permission(self, request):
        return super().has_permission(request) and is_verified(request.user)

    def login(self, request, extra_context=None):
        user = request.user
        next_url = request.GET.get("next") or reverse("admin:index")
        if not user.is_authenticated:
            return redirect_to_login(next_url, reverse("backoffice:login"))
        if not is_verified(user):
            return redirect_to_login(next_url, second_factor_url(user))
        # Signed in with both factors, but not an operator of the admin.
        raise PermissionDenied

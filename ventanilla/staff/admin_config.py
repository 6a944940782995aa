"""Django's admin app, with the site that requires the staff sign-in (admin_site.py).
Kept apart from the site so that settings can load it before the models are ready."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "ventanilla.staff.admin_site.StaffAdminSite"

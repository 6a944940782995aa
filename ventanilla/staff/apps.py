from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "ventanilla.staff"
    label = "staff"
    verbose_name = "Personal"

from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "ventanilla.workdays"
    label = "workdays"
    verbose_name = "Calendario laboral"

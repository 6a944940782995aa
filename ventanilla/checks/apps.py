from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "ventanilla.checks"
    label = "checks"
    verbose_name = "Verificaciones automáticas"

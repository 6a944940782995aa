from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "ventanilla.backoffice"
    label = "backoffice"
    verbose_name = "Gestión interna"

from django.apps import AppConfig


class DraftsConfig(AppConfig):
    name = "ventanilla.drafts"
    label = "drafts"
    verbose_name = "Solicitudes en preparación"

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "ventanilla.documents"
    label = "documents"
    verbose_name = "Documentos"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)

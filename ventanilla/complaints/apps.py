from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "ventanilla.complaints"
    label = "complaints"
    verbose_name = "Quejas"

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ventanilla.ops"
    label = "ops"
    verbose_name = "Operación"

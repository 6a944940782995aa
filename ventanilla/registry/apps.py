from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "ventanilla.registry"
    label = "registry"
    verbose_name = "Registro de asegurados"

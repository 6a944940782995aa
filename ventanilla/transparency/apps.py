from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "ventanilla.transparency"
    label = "transparency"
    verbose_name = "Transparencia"

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "ventanilla.cases"
    label = "cases"
    verbose_name = "Trámites"

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "ventanilla.privacy"
    label = "privacy"
    verbose_name = "Derechos del titular (LOPDP)"

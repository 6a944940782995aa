from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "ventanilla.notifications"
    label = "notifications"
    verbose_name = "Notificaciones"

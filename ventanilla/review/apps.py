from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "ventanilla.review"
    label = "review"
    verbose_name = "Revisión del analista"

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.start, name="start"),
    path("tramite/nuevo/", views.case_new, name="case_new"),
    path("tramite/recibido/", views.case_received, name="case_received"),
    path("tramite/correccion/<str:token>/", views.correction, name="correction"),
    path("consulta/", views.status_lookup, name="status"),
]

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "backoffice"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("ingresar/", views.LoginView.as_view(), name="login"),
    path("salir/", auth_views.LogoutView.as_view(next_page="backoffice:login"), name="logout"),
    path("tramites/<str:number>/", views.case_detail, name="case"),
    path("tramites/<str:number>/correccion/", views.request_correction, name="correction"),
    path("tramites/<str:number>/rechazo/", views.reject, name="reject"),
    path("tramites/<str:number>/convocatoria/", views.invite, name="invite"),
    path("tramites/<str:number>/resultado/", views.call_outcome, name="call_outcome"),
    path("tramites/<str:number>/archivos/<int:document_id>/", views.document, name="document"),
    path("tramites/<str:number>/verificaciones/", views.checks_rerun, name="checks_rerun"),
    path(
        "tramites/<str:number>/verificaciones/evidencias/<int:attachment_id>/",
        views.check_attachment,
        name="check_attachment",
    ),
    path("asegurados/<str:id_number>/", views.insured, name="insured"),
]

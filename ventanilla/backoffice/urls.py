from django.urls import path

from . import auth_views, queue_views, views
from .dashboard_views import audit, audit_export, dashboard

app_name = "backoffice"

urlpatterns = [
    path("", queue_views.queue, name="queue"),
    path("tomar/", queue_views.take_next, name="take_next"),
    path("asignar/", queue_views.assign, name="assign"),
    path("ingresar/", auth_views.LoginView.as_view(), name="login"),
    path("ingresar/codigo/", auth_views.two_factor, name="two_factor"),
    path("ingresar/activar/", auth_views.two_factor_enrol, name="two_factor_enrol"),
    path("salir/", auth_views.LogoutView.as_view(), name="logout"),
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
    path("tramites/<str:number>/lista/", views.checklist_save, name="checklist"),
    path("tramites/<str:number>/notas/", views.note_add, name="note_add"),
    path(
        "tramites/<str:number>/archivos/<int:document_id>/cuadro/",
        views.video_still,
        name="video_still",
    ),
    path("asegurados/<str:id_number>/", views.insured, name="insured"),
    path("tablero/", dashboard, name="dashboard"),
    path("auditoria/", audit, name="audit"),
    path("auditoria/exportar/", audit_export, name="audit_export"),
]

from django.urls import path

from . import booking_views, request_views, transparency_views, views
from .complaint_views import complaint, complaint_received
from .not_me_views import not_me

app_name = "portal"

urlpatterns = [
    path("", views.start, name="start"),
    path("privacidad/", views.privacy, name="privacy"),
    path("transparencia/", transparency_views.transparency, name="transparency"),
    path("transparencia/datos.csv", transparency_views.transparency_csv, name="transparency_csv"),
    path("atencion/", transparency_views.attention, name="attention"),
    path("tramite/nuevo/", request_views.case_new, name="case_new"),
    path("tramite/nuevo/revision/", request_views.request_review, name="request_review"),
    path("tramite/nuevo/guardar/", request_views.request_save, name="request_save"),
    path(
        "tramite/nuevo/solicitud.pdf",
        request_views.request_form_download,
        name="request_form_download",
    ),
    path("tramite/nuevo/archivo/<str:kind>/", request_views.request_file, name="request_file"),
    path("tramite/nuevo/<slug:slug>/", request_views.request_step, name="request_step"),
    path("tramite/continuar/<str:token>/", request_views.request_resume, name="request_resume"),
    path("tramite/recibido/", request_views.case_received, name="case_received"),
    path("tramite/correccion/<str:token>/", views.correction, name="correction"),
    path("tramite/no-fui-yo/<str:token>/", not_me, name="not_me"),
    path("tramite/videollamada/<str:token>/", booking_views.booking, name="booking"),
    path(
        "tramite/videollamada/<str:token>/cambiar/",
        booking_views.booking_change,
        name="booking_change",
    ),
    path(
        "tramite/videollamada/<str:token>/cancelar/",
        booking_views.booking_cancel,
        name="booking_cancel",
    ),
    path("tramite/videollamada/<str:token>/zona/", booking_views.booking_zone, name="booking_zone"),
    path(
        "tramite/videollamada/<str:token>/videollamada.ics",
        booking_views.booking_ics,
        name="booking_ics",
    ),
    path("consulta/", views.status_lookup, name="status"),
    path("consulta/<str:number>/desistir/", views.withdraw, name="withdraw"),
    path("consulta/<str:number>/desistido/", views.withdraw_done, name="withdraw_done"),
    path("quejas/", complaint, name="complaint"),
    path("quejas/recibida/", complaint_received, name="complaint_received"),
]

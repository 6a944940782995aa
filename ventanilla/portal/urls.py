from django.urls import path

from . import request_views, views

app_name = "portal"

urlpatterns = [
    path("", views.start, name="start"),
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
    path("consulta/", views.status_lookup, name="status"),
    path("consulta/<str:number>/desistir/", views.withdraw, name="withdraw"),
    path("consulta/<str:number>/desistido/", views.withdraw_done, name="withdraw_done"),
]

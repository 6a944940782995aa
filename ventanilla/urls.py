from django.contrib import admin
from django.urls import include, path

from ventanilla.api.views import api
from ventanilla.ops.views import healthz, metrics, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("gestion/", include("ventanilla.backoffice.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("ventanilla.portal.urls")),
]

"""URL map: pages per app, the JSON API under /api/v1/, the admin under /admin/."""

from django.contrib import admin
from django.urls import include, path

from soskdt.api import api

admin.site.site_header = "SoSKDT — Sổ sức khỏe điện tử"
admin.site.site_title = "SoSKDT"
admin.site.index_title = "Quản trị hệ thống"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("soskdt.core.urls")),
]

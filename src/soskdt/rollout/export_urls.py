"""Download URLs of the roll-out exports (namespace ``rollout_exports``), beside the report pages they belong to."""

from django.urls import path

from soskdt.rollout import export_views

app_name = "rollout_exports"

urlpatterns = [
    path(
        "trien-khai/don-vi/<str:code>/bao-cao/<str:period>/phu-luc-1.<str:fmt>",
        export_views.unit_report,
        name="unit_report",
    ),
    path(
        "trien-khai/tong-hop/<str:period>/phu-luc-1.<str:fmt>",
        export_views.consolidated_report,
        name="consolidated_report",
    ),
    path("trien-khai/don-vi/<str:code>/ap-phich.pdf", export_views.unit_poster_file, name="unit_poster"),
    path("trien-khai/tong-hop/ap-phich.pdf", export_views.area_poster_file, name="area_poster"),
]

from django.urls import path

from soskdt.rollout import views

app_name = "rollout"

urlpatterns = [
    path("trien-khai/", views.home, name="home"),
    path("trien-khai/mau-danh-sach-can-bo.xlsx", views.roster_template, name="roster_template"),
    path("trien-khai/tiep-don/", views.reception, name="reception"),
    path("trien-khai/tong-hop/", views.dashboard_page, name="dashboard"),
    path("trien-khai/tong-hop/cai-dat/", views.campaign_settings, name="campaign"),
    path("trien-khai/tong-hop/nhac-nho/", views.send_reminders_now, name="send_reminders"),
    path("trien-khai/tong-hop/ty-le-tich-hop/", views.add_coverage, name="add_coverage"),
    path("trien-khai/tong-hop/<str:period>/phu-luc-1/", views.consolidated_print, name="consolidated"),
    path("trien-khai/don-vi/<str:code>/", views.unit_page, name="unit"),
    path("trien-khai/don-vi/<str:code>/nhan-su/them/", views.entry_add, name="entry_add"),
    path("trien-khai/don-vi/<str:code>/nhan-su/nhap-excel/", views.roster_import, name="roster_import"),
    path("trien-khai/don-vi/<str:code>/nhan-su.xlsx", views.roster_export, name="roster_export"),
    path("trien-khai/don-vi/<str:code>/nhan-su/<int:pk>/", views.entry_edit, name="entry_edit"),
    path(
        "trien-khai/don-vi/<str:code>/nhan-su/<int:pk>/<str:indicator>/",
        views.status_cell,
        name="status_cell",
    ),
    path("trien-khai/don-vi/<str:code>/bao-cao/<str:period>/", views.report_page, name="report"),
    path(
        "trien-khai/don-vi/<str:code>/bao-cao/<str:period>/<str:action>/",
        views.report_action,
        name="report_action",
    ),
    path("trien-khai/don-vi/<str:code>/tap-huan/", views.trainings, name="trainings"),
    path("trien-khai/don-vi/<str:code>/in-an/", views.printing, name="printing"),
    path("trien-khai/don-vi/<str:code>/tiep-don/", views.unit_reception, name="unit_reception"),
    path(
        "trien-khai/don-vi/<str:code>/tiep-don/<int:pk>/hoan-tac/",
        views.reception_undo,
        name="reception_undo",
    ),
]

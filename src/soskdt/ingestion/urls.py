from django.urls import path

from soskdt.ingestion import views

app_name = "ingestion"

urlpatterns = [
    path("du-lieu-kcb/", views.home, name="home"),
    path("du-lieu-kcb/gui-tep/", views.upload, name="upload"),
    path("du-lieu-kcb/chua-lien-ket/", views.unlinked, name="unlinked"),
    path("du-lieu-kcb/chua-lien-ket/lien-ket-lai/", views.relink, name="relink"),
    path("du-lieu-kcb/theo-ngay/", views.daily, name="daily"),
    path("du-lieu-kcb/<uuid:pk>/", views.submission, name="submission"),
    path("du-lieu-kcb/<uuid:pk>/xu-ly-lai/", views.reprocess, name="reprocess"),
    path("du-lieu-kcb/<uuid:pk>/tiep-tuc/", views.resume, name="resume"),
]

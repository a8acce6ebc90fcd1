from django.urls import include, path

from soskdt.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("soskdt.identity.urls")),
    path("", include("soskdt.wallet.urls")),
    path("", include("soskdt.healthbook.urls")),
    path("", include("soskdt.sharing.urls")),
    path("", include("soskdt.ingestion.urls")),
    path("", include("soskdt.rollout.urls")),
    path("", include("soskdt.rollout.export_urls")),
]

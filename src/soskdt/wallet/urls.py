from django.urls import path

from soskdt.wallet import views

app_name = "wallet"

urlpatterns = [
    path("vi-giay-to/", views.home, name="home"),
    path("vi-giay-to/tich-hop-thong-tin/", views.integrations, name="integrations"),
    path("vi-giay-to/tich-hop-thong-tin/tao-moi/", views.new_request, name="new_request"),
    path("vi-giay-to/tich-hop-thong-tin/<int:pk>/", views.request_detail, name="request_detail"),
]

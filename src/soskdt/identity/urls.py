from django.contrib.auth import views as auth_views
from django.urls import path

app_name = "identity"

urlpatterns = [
    path("dang-nhap/", auth_views.LoginView.as_view(), name="login"),
    path("can-bo/dang-nhap/", auth_views.LoginView.as_view(), name="staff_login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
]

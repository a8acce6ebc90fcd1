from django.urls import path

from soskdt.identity import views

app_name = "identity"

urlpatterns = [
    path("dang-nhap/", views.citizen_login, name="login"),
    path("can-bo/dang-nhap/", views.staff_login, name="staff_login"),
    path("dang-xuat/", views.logout_view, name="logout"),
    path("cong-dan/", views.citizen_home, name="citizen_home"),
    path("cong-dan/ca-nhan/", views.profile, name="profile"),
    path("can-bo/", views.staff_home, name="staff_home"),
]

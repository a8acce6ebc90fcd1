from django.urls import path, register_converter

from soskdt.healthbook import views


class PersonalIdConverter:
    regex = "[0-9]{12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class TabConverter:
    regex = "xet-nghiem|chan-doan-hinh-anh|tham-do-chuc-nang|thuoc-da-dieu-tri|phau-thuat-thu-thuat"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PersonalIdConverter, "pid")
register_converter(TabConverter, "tab")

app_name = "healthbook"

urlpatterns = [
    path("ho-so-suc-khoe/", views.home, name="home"),
    path("ho-so-suc-khoe/ca-nhan/", views.profile, name="profile"),
    path("ho-so-suc-khoe/dat-passcode/", views.set_passcode, name="set_passcode"),
    path("ho-so-suc-khoe/quen-passcode/", views.forgot_passcode, name="forgot_passcode"),
    path("ho-so-suc-khoe/quen-passcode/nhap-ma-otp/", views.reset_passcode, name="reset_passcode"),
    path("ho-so-suc-khoe/<pid:pid>/", views.book, name="book"),
    path("ho-so-suc-khoe/<pid:pid>/dieu-khoan/", views.terms_page, name="terms"),
    path("ho-so-suc-khoe/<pid:pid>/passcode/", views.unlock, name="unlock"),
    path("ho-so-suc-khoe/<pid:pid>/dong-so/", views.lock, name="lock"),
    path("ho-so-suc-khoe/<pid:pid>/cap-nhat-du-lieu/", views.sync, name="sync"),
    path("ho-so-suc-khoe/<pid:pid>/nam/<int:year>/", views.year, name="year"),
    path("ho-so-suc-khoe/<pid:pid>/nam/<int:year>/<tab:slug>/", views.year_tab, name="year_tab"),
    path("ho-so-suc-khoe/<pid:pid>/dot-kham/<int:visit_id>/", views.visit, name="visit"),
    path("ho-so-suc-khoe/<pid:pid>/dot-kham/<int:visit_id>/pdf/", views.visit_pdf, name="visit_pdf"),
    path("ho-so-suc-khoe/<pid:pid>/dot-kham/<int:visit_id>/<tab:slug>/", views.visit_tab, name="visit_tab"),
]

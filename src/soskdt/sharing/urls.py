"""Pages of sharing: citizen (``sharing:``), clinician and auditor (``sharing:``), the shared book (``sharing:shared_book:``)."""

from django.urls import include, path, register_converter

from soskdt.sharing import views


class KeyConverter:
    """A share session's or emergency access's public id (``secrets.token_urlsafe(16)``)."""

    regex = "[A-Za-z0-9_-]{16,43}"

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


register_converter(KeyConverter, "sharekey")
register_converter(TabConverter, "sharetab")

app_name = "sharing"

# The citizen's book templates link with {% url book_ns|add:":year" pid … %}: same names as healthbook's.
book_patterns = [
    path("", views.shared_book, name="book"),
    path("nam/<int:year>/", views.shared_year, name="year"),
    path("nam/<int:year>/<sharetab:slug>/", views.shared_year_tab, name="year_tab"),
    path("dot-kham/<int:visit_id>/", views.shared_visit, name="visit"),
    path("dot-kham/<int:visit_id>/pdf/", views.shared_visit_pdf, name="visit_pdf"),
    path("dot-kham/<int:visit_id>/<sharetab:slug>/", views.shared_visit_tab, name="visit_tab"),
    path("dong-so/", views.shared_close, name="close"),
]

urlpatterns = [
    # citizen
    path("ho-so-suc-khoe/chia-se/", views.shares, name="shares"),
    path("ho-so-suc-khoe/chia-se/tao/", views.share_create, name="share_create"),
    path("ho-so-suc-khoe/chia-se/<int:share_id>/", views.share_detail, name="share_detail"),
    path("ho-so-suc-khoe/chia-se/<int:share_id>/thu-hoi/", views.share_revoke, name="share_revoke"),
    path("ho-so-suc-khoe/ai-da-xem-so/", views.access_log, name="access_log"),
    path("ho-so-suc-khoe/thong-bao/", views.notices, name="notices"),
    path("ho-so-suc-khoe/nguoi-dai-dien/", views.proxy, name="proxy"),
    # clinician and auditor
    path("tra-cuu-so/", views.home, name="home"),
    path("tra-cuu-so/qr/<sharekey:public_id>/", views.open_qr, name="open_qr"),
    path("tra-cuu-so/khan-cap/", views.emergency, name="emergency"),
    path("kiem-soat/truy-cap-khan-cap/", views.emergency_review, name="emergency_review"),
    path("tra-cuu-so/so/<sharekey:pid>/", include((book_patterns, "shared_book"))),
]

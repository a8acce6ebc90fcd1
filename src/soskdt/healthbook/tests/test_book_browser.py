"""The letter's Appendix 2 walked in a phone-sized chromium, end to end, the way a citizen does it.

Data as a real deployment has it: a level-2 citizen whose BHYT card matches the population register,
another whose card does not, and the first citizen's visits over two years sent by the facility as a
QĐ 130 file and loaded by the ingestion pipeline (``receive_file`` → ``process_submission``).

Walk: log in → *Ví giấy tờ* → *Tích hợp thông tin* → *Tạo mới yêu cầu* → *Thẻ BHYT* → the 10 digits →
*Gửi yêu cầu* → approved (and, for the other citizen, refused with its reason) → *Hồ sơ sức khỏe* →
*Hồ sơ sức khỏe điện tử* → terms → *Đồng ý sử dụng* → passcode twice → *Đóng sổ*, log out, log in →
passcode → *Cập nhật dữ liệu* → *Năm* → a visit → *Chi tiết đợt khám* → each tab → *Tải PDF*.

Every step is kept as a screenshot under ``test-artifacts/screenshots/<test>/`` (the PDF beside them),
and every page is checked for English left on a Vietnamese page, tap targets of the main controls and
the weight of its HTML, CSS and JS.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, Response, expect

from soskdt import testing
from soskdt.browser_testing import log_in, log_out
from soskdt.healthbook.access import verify_chain
from soskdt.healthbook.models import AccessLog, DrugLine, Visit
from soskdt.ingestion import samples, services
from soskdt.ingestion.models import SubmissionSource, SubmissionStatus
from soskdt.registry.models import Facility, InsuranceCard
from soskdt.wallet.models import CardLinkRequest, LinkStatus
from soskdt.wallet.tests.conftest import IMMEDIATE

pytestmark = pytest.mark.browser

PASSCODE = "258014"
PAGE_BUDGET = 200_000  # bytes: the HTML of a page plus its stylesheets and scripts
MIN_TAP = 44  # px, the smallest comfortable tap target (WCAG 2.5.5)
ENGLISH_CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES" / "django.mo"
# Words of an English UI that must not show on a Vietnamese page (whole words, any case).
ENGLISH_WORDS = (
    "Login",
    "Log in",
    "Logout",
    "Sign in",
    "Password",
    "Submit",
    "Year",
    "Visit",
    "Visits",
    "Download",
    "Error",
    "Back",
    "Next",
    "Previous",
    "Cancel",
    "Save",
    "Home",
    "Search",
    "Loading",
    "Details",
    "Required",
    "This field",
    "Welcome",
    "Settings",
    "Page",
    "Yes",
    "No data",
)
_ENGLISH_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH_WORDS) + r")\b", re.IGNORECASE)


# --- data, as a deployment has it ------------------------------------------------------------------


def _patient(citizen: Any, card: InsuranceCard) -> samples.Patient:
    return samples.Patient(
        name=citizen.full_name,
        birth=f"{citizen.birth_year:04d}{citizen.birth_month:02d}{citizen.birth_day:02d}",
        sex=int(citizen.sex),
        personal_id=citizen.personal_id,
        card_code=card.code,
        card_from="20240101",
        card_to="20251231",
        primary_facility="79048",
        phone=citizen.phone,
        weight="62.00",
    )


def _surgery_with_everything(rng: random.Random, patient: samples.Patient) -> samples.VisitSpec:
    """An appendectomy stay that also had a chest X-ray, an ECG and a glucose far above the range."""
    spec = samples.random_visit(rng, kind="surgery", patient=patient, day=dt.date(2025, 3, 12), results=2)
    code, name, group, price, description, conclusion = samples.IMAGING[0]
    spec.services.append(samples.ServiceLine(code, name, group, "Lần", Decimal(price)))
    spec.results.append(samples.ResultLine(code, name, description=description, conclusion=conclusion))
    code, name, group, price, description, conclusion = samples.ECG
    spec.services.append(samples.ServiceLine(code, name, group, "Lần", Decimal(price)))
    spec.results.append(samples.ResultLine(code, name, description=description, conclusion=conclusion))
    glucose = "23.0075.1494"
    spec.services.append(samples.ServiceLine(glucose, "Định lượng Glucose [Máu]", "1", "Lần", Decimal(21500)))
    spec.results.append(
        samples.ResultLine(glucose, "Định lượng Glucose", indicator="GLU", value="11.2", unit="mmol/L")
    )
    return spec


def load_visits(patient: samples.Patient, archive: Path, settings: Any) -> int:
    """Send five visits over 2024 and 2025 as one QĐ 130 file through the ingestion pipeline."""
    settings.ARCHIVE_ROOT = archive
    Facility.objects.get_or_create(
        code="79001", defaults={"name": "Bệnh viện Đa khoa tỉnh", "province_code": "79"}
    )
    rng = random.Random(310)
    visits = [
        samples.random_visit(rng, kind="inpatient", patient=patient, day=dt.date(2024, 4, 15)),
        samples.random_visit(rng, kind="follow_up", patient=patient, day=dt.date(2024, 10, 2)),
        _surgery_with_everything(rng, patient),
        samples.random_visit(rng, kind="exam", patient=patient, day=dt.date(2025, 6, 20)),
        samples.random_visit(rng, kind="referral", patient=patient, day=dt.date(2025, 9, 8)),
    ]
    content = samples.build_envelope("79048", visits, created_on="20251010")
    received = services.receive_file(
        stream=io.BytesIO(content), file_name="79048_thang10.xml", source=SubmissionSource.CLI
    )
    submission = services.process_submission(submission_id=received.pk, helpers=0)
    assert submission.status == SubmissionStatus.DONE, submission.status
    assert (submission.visits_accepted, submission.visits_rejected) == (5, 0)
    return len(visits)


# --- what every page is checked for -----------------------------------------------------------------


class PageChecks:
    """Screenshots plus the checks every Vietnamese page of the walk must pass."""

    def __init__(self, page: Page, shoot: Any) -> None:
        self.page, self.shoot = page, shoot
        self.documents: dict[str, Response] = {}
        self.assets: dict[str, Response] = {}
        self.weights: dict[str, int] = {}
        self.folder: Path | None = None
        page.on("response", self._seen)

    def _seen(self, response: Response) -> None:
        kind = response.request.resource_type
        if kind == "document":
            self.documents[response.url.split("#")[0]] = response
        elif kind in ("stylesheet", "script"):
            self.assets[response.url] = response

    def _asset_size(self, url: str) -> int:
        seen = self.assets.get(url)
        if seen is not None and seen.ok:
            return len(seen.body())
        # Served from the browser's cache without a response event: ask the server.
        return len(self.page.request.get(url).body())

    def weight(self) -> int:
        document = self.documents.get(self.page.url.split("#")[0])
        html = len(document.body()) if document is not None else len(self.page.content().encode())
        urls = self.page.eval_on_selector_all(
            "link[rel=stylesheet][href], script[src]", "els => els.map(e => e.href || e.src)"
        )
        return html + sum(self._asset_size(url) for url in set(urls))

    def __call__(self, name: str, *, tap: tuple[Locator, ...] = ()) -> Path:
        """Check the page as it is now (language, tap targets, weight) and keep its screenshot."""
        self.page.wait_for_load_state("networkidle")
        text = self.page.inner_text("body")
        english = sorted({m.group(0) for m in _ENGLISH_RE.finditer(text)})
        assert not english, f"{name}: English words on a Vietnamese page: {english}"
        assert self.page.get_attribute("html", "lang") == "vi", name
        for target in (self.page.locator("form.logout button"), *tap):
            for i in range(target.count()):
                box = target.nth(i).bounding_box()
                assert box is not None, (name, target)
                assert box["height"] >= MIN_TAP and box["width"] >= MIN_TAP, (name, str(target), box)
        weight = self.weight()
        self.weights[name] = weight
        assert weight < PAGE_BUDGET, (name, weight)
        path = self.shoot(self.page, name)
        self.folder = path.parent
        return path


def _button(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=name, exact=True)


def _link(page: Page, name: str) -> Locator:
    return page.get_by_role("link", name=name, exact=True)


def _link_card(page: Page, check: PageChecks, number: str, prefix: str) -> None:
    """Ví giấy tờ → Tích hợp thông tin → Tạo mới yêu cầu → Thẻ BHYT → the digits → Gửi yêu cầu."""
    page.get_by_role("link", name="Ví giấy tờ").click()
    expect(page.get_by_role("heading", name="Ví giấy tờ")).to_be_visible()
    check(f"{prefix}vi-giay-to", tap=(_link(page, "Tích hợp thông tin"),))
    _link(page, "Tích hợp thông tin").click()
    expect(page.get_by_role("heading", name="Tích hợp thông tin")).to_be_visible()
    check(f"{prefix}tich-hop-thong-tin", tap=(_link(page, "Tạo mới yêu cầu"),))
    _link(page, "Tạo mới yêu cầu").click()
    expect(page.get_by_role("heading", name="Nhập thông tin tích hợp")).to_be_visible()
    page.get_by_label("Loại thông tin").select_option("BHYT")
    field = page.get_by_label("Số thẻ BHYT")
    expect(field).to_have_attribute("placeholder", "Nhập 10 kí tự cuối trên mã số thẻ BHYT")
    field.fill(number)
    check(
        f"{prefix}nhap-so-the-bhyt",
        tap=(_button(page, "Gửi yêu cầu"), page.get_by_label("Loại thông tin"), field),
    )
    _button(page, "Gửi yêu cầu").click()


# --- the walk ------------------------------------------------------------------------------------------


def test_a_citizen_links_their_card_opens_the_book_and_reads_a_visit_down_to_its_pdf(
    live_server, transactional_db, page, shoot, settings, tmp_path
):
    settings.TASKS = IMMEDIATE
    testing.make_facility(code="79048", name="Trung tâm Y tế khu vực An Phú")
    an = testing.make_citizen_account(
        full_name="Nguyễn Văn An", birth_year=1964, birth_month=3, birth_day=8, phone="0903123456"
    )
    card = testing.make_card(
        citizen=an.citizen, group="HT", benefit_level=2, primary_care_facility_code="79048"
    )
    binh = testing.make_citizen_account(full_name="Trần Thị Bình", sex="2", birth_year=1970)
    wrong = testing.make_card(citizen=binh.citizen, primary_care_facility_code="79048")
    InsuranceCard.objects.filter(pk=wrong.pk).update(birth_day=1)  # the card disagrees with the register
    sent = load_visits(_patient(an.citizen, card), tmp_path / "archive", settings)
    assert Visit.objects.filter(citizen=an.citizen).count() == sent
    check = PageChecks(page, shoot)
    base = live_server.url

    # Bước 1: đăng nhập bằng số định danh cá nhân và mật khẩu.
    page.goto(base + reverse("identity:login"))
    page.fill("input[name=username]", an.username)
    page.fill("input[name=password]", testing.DEFAULT_PASSWORD)
    check("dang-nhap", tap=(_button(page, "Đăng nhập"), page.locator("input[name=username]")))
    with page.expect_navigation():
        _button(page, "Đăng nhập").click()
    page.goto(base + reverse("identity:citizen_home"))
    expect(page.get_by_role("heading", name="Nguyễn Văn An")).to_be_visible()
    check("trang-chu", tap=(page.locator("main a"),))

    # Ví giấy tờ: the matching card is approved and shown.
    _link_card(page, check, card.social_insurance_number, "an-")
    expect(page.get_by_text("Tích hợp thẻ BHYT thành công")).to_be_visible()
    expect(page.get_by_text(card.code)).to_be_visible()
    check("an-tich-hop-thanh-cong")
    _link(page, "Về Ví giấy tờ").click()
    expect(page.locator(".bhyt-card")).to_contain_text("Còn giá trị sử dụng")
    check("an-vi-giay-to-co-the")

    # Hồ sơ sức khỏe → Hồ sơ sức khỏe điện tử: first use, the terms, then the passcode twice.
    page.goto(base + reverse("identity:citizen_home"))
    page.get_by_role("link", name="Hồ sơ sức khỏe").first.click()
    expect(page.get_by_role("heading", name="Hồ sơ sức khỏe", exact=True)).to_be_visible()
    check("ho-so-suc-khoe", tap=(page.locator("ul.menu a"),))
    page.locator("a.menu-book").click()
    expect(page.get_by_role("button", name="Đồng ý sử dụng")).to_be_visible()
    check("dieu-khoan", tap=(_button(page, "Đồng ý sử dụng"), _link(page, "Để sau")))
    _button(page, "Đồng ý sử dụng").click()
    expect(page.get_by_role("heading", name="Đặt passcode")).to_be_visible()
    page.get_by_label("Passcode mới (6 chữ số)").fill(PASSCODE)
    page.get_by_label("Nhập lại passcode").fill(PASSCODE)
    check("dat-passcode", tap=(_button(page, "Xác nhận"), page.get_by_label("Nhập lại passcode")))
    _button(page, "Xác nhận").click()
    expect(page.get_by_text("Sổ sức khỏe điện tử của bạn đã sẵn sàng")).to_be_visible()
    check("so-da-san-sang", tap=(_button(page, "Cập nhật dữ liệu"), _button(page, "Đóng sổ")))
    _button(page, "Đóng sổ").click()
    expect(page.get_by_text("Đã đóng sổ.")).to_be_visible()
    log_out(page)

    # The other citizen: a card that disagrees with the register is refused, and the page says why.
    log_in(page, base, binh.username)
    page.goto(base + reverse("identity:citizen_home"))
    _link_card(page, check, wrong.social_insurance_number, "binh-")
    expect(page.get_by_text("Yêu cầu không thành công")).to_be_visible()
    status = page.locator("#request-status")
    expect(status).to_contain_text("Thông tin ngày sinh trên thẻ BHYT khác với dữ liệu dân cư (CCCD).")
    expect(status).to_contain_text(
        "Liên hệ cơ quan BHXH nơi cấp thẻ để điều chỉnh thông tin cho khớp với CCCD."
    )
    check("binh-khong-thanh-cong")
    assert CardLinkRequest.objects.get(account=binh).status == LinkStatus.REJECTED
    log_out(page)

    # Bước 1 again, the returning way: log in, Hồ sơ sức khỏe điện tử, nhập passcode.
    log_in(page, base, an.username)
    page.goto(base + reverse("healthbook:home"))
    page.locator("a.menu-book").click()
    passcode = page.get_by_label("Passcode (6 chữ số)")
    expect(passcode).to_be_visible()
    passcode.fill(PASSCODE)
    check("nhap-passcode", tap=(_button(page, "Mở sổ"), passcode, _link(page, "Quên passcode?")))
    _button(page, "Mở sổ").click()

    # Bước 2: Cập nhật dữ liệu, then Năm.
    expect(page.get_by_role("heading", name="Hồ sơ sức khỏe điện tử")).to_be_visible()
    expect(page.get_by_text("Bấm “Cập nhật dữ liệu” để tải các đợt khám chữa bệnh vào sổ.")).to_be_visible()
    check("so-chua-cap-nhat", tap=(_button(page, "Cập nhật dữ liệu"),))
    _button(page, "Cập nhật dữ liệu").click()
    expect(page.get_by_text(f"Có {sent} đợt khám mới.")).to_be_visible()
    years = page.locator("ul.years a")
    expect(years).to_have_count(2)
    check("cap-nhat-du-lieu", tap=(years,))
    years.filter(has_text="2025").click()
    expect(page.get_by_role("heading", name="Năm 2025")).to_be_visible()
    cards = page.locator("a.visit-card")
    expect(cards).to_have_count(3)
    check("nam-2025", tap=(cards, page.locator("nav.book-tabs a")))

    # Bước 3: one visit, Chi tiết đợt khám.
    cards.filter(has_text="12/03/2025").click()
    expect(page.get_by_role("heading", name="Chi tiết đợt khám")).to_be_visible()
    expect(page.locator("#diagnoses")).to_contain_text("K35.8")
    tabs = page.locator("nav.book-tabs a")
    check("chi-tiet-dot-kham", tap=(tabs, _link(page, "Tải PDF")))
    tabs.filter(has_text="Chi tiết đợt khám").click()
    expect(tabs.filter(has_text="Chi tiết đợt khám")).to_have_attribute("aria-current", "page")

    # Bước 4: each tab.
    drug = DrugLine.objects.filter(visit__citizen=an.citizen, visit__main_icd="K35.8").values_list(
        "name", flat=True
    )[0]
    expected = {
        "Xét nghiệm": ("xet-nghiem", "Glucose"),
        "Chẩn đoán hình ảnh": ("chan-doan-hinh-anh", "Chụp X-quang ngực thẳng"),
        "Thăm dò chức năng": ("tham-do-chuc-nang", "Điện tim thường"),
        "Thuốc đã điều trị": ("thuoc-da-dieu-tri", re.escape(drug)),
        "Phẫu thuật, thủ thuật": ("phau-thuat-thu-thuat", "Phẫu thuật nội soi cắt ruột thừa"),
    }
    for label, (slug, content) in expected.items():
        tabs.filter(has_text=label).click()
        expect(page.get_by_role("heading", name=label, exact=True)).to_be_visible()
        expect(page.locator("main")).to_contain_text(re.compile(content))
        if label == "Xét nghiệm":
            flagged = page.locator(".result.flag-high").filter(has_text="11.2")
            expect(flagged).to_be_visible()
            expect(flagged).to_contain_text("Cao")
        if label == "Phẫu thuật, thủ thuật":
            expect(page.locator("main")).to_contain_text("Thay băng vết mổ")
        check(f"tab-{slug}", tap=(tabs,))

    # Tải PDF.
    tabs.filter(has_text="Chi tiết đợt khám").click()
    with page.expect_download() as download_info:
        _link(page, "Tải PDF").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF") and len(content) > 10_000, len(content)
    assert check.folder is not None
    download.save_as(check.folder / f"{len(list(check.folder.glob('*.png'))) + 1:02d}-tai-pdf.pdf")

    # Every read of the walk is in the book's access log, and the chain holds.
    actions = set(AccessLog.objects.filter(owner=an.citizen).values_list("action", flat=True))
    assert {
        "book.terms",
        "passcode.set",
        "book.unlock",
        "book.sync",
        "book.open",
        "visits.year",
        "visit.detail",
        "tab.lab",
        "tab.imaging",
        "tab.functional",
        "tab.drugs",
        "tab.procedures",
        "visit.pdf",
    } <= actions, actions
    assert verify_chain(an.citizen.pk).broken_at is None
    assert all(weight < PAGE_BUDGET for weight in check.weights.values()), check.weights


@pytest.mark.xfail(not ENGLISH_CATALOGUE.exists(), reason="English catalogue not built yet", strict=False)
def test_the_en_button_switches_the_pages_to_english(live_server, transactional_db, page, shoot):
    an = testing.make_citizen_account(full_name="Nguyễn Văn An", birth_year=1964)
    log_in(page, live_server.url, an.username)
    page.goto(live_server.url + reverse("healthbook:home"))
    with page.expect_navigation():
        page.locator("form.lang button[name=language]").click()
    shoot(page, "ho-so-suc-khoe-en")
    assert page.get_attribute("html", "lang") == "en"
    text = page.inner_text("body")
    assert "Đăng xuất" not in text and "Hồ sơ sức khỏe điện tử" not in text, text[:500]
    expect(page.locator("form.logout button")).to_have_text(re.compile(r"log ?out|sign ?out", re.IGNORECASE))

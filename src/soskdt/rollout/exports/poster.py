"""The printable guide of the seed letter's Appendix 2, for reception areas and wards (A4 or A3, portrait).

The text is the letter's, verbatim: "HƯỚNG DẪN SỬ DỤNG SỔ SỨC KHOẺ ĐIỆN TỬ TRÊN ỨNG DỤNG VNEID KHI ĐI KHÁM CHỮA
BỆNH" with its legal basis, the two conditions and steps 1–3, then the guide to linking the BHYT card (steps 1–6).
Added around it: the unit's name at the top, and a large QR code (segno) to the citizen web app with its address
printed under it. Laid out for A4 in millimetres; A3 is the same page enlarged by √2 (type included), so a poster
reads the same from further away. If a long unit name would push the page over, everything is set a little
smaller until it fits on one page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONT = "DejaVuSans"
SIZES_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
TICK = "✓"

TITLE = "HƯỚNG DẪN SỬ DỤNG SỔ SỨC KHOẺ ĐIỆN TỬ TRÊN ỨNG DỤNG VNEID KHI ĐI KHÁM CHỮA BỆNH"
LEGAL = (
    "(Theo Điều 6, Phụ lục 1 tại Quyết định số 2733/QĐ-BYT ngày 17/9/2024 của Bộ Y tế về việc ban hành hướng "
    "dẫn thí điểm thực hiện Sổ sức khỏe điện tử phục vụ tích hợp trên ứng dụng VNeID)"
)
CONDITIONS_HEADING = "ĐIỀU KIỆN CẦN THIẾT"
CONDITIONS = (
    "CÀI ĐẶT ỨNG DỤNG VNEID ĐÃ XÁC THỰC ĐỊNH DANH MỨC ĐỘ 2;",
    "TÍCH HỢP THÔNG TIN THẺ BHYT (NẾU CÓ)",
)
WHEN_READY = (
    "Khi đã đáp ứng được điều kiện cần thiết: Người dân khi đi khám chữa bệnh BHYT, có thể xuất trình "
    "**Sổ sức khỏe điện tử VNeID** thay cho sổ giấy."
)
STEPS_INTRO = "Các bước thực hiện như sau:"


@dataclass(frozen=True, slots=True)
class Step:
    heading: str  # the line in capitals above the ticks ("" for none)
    ticks: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step(
        "",
        (
            "ĐĂNG NHẬP ỨNG DỤNG VNEID.",
            "CHỌN MỤC: HỒ SƠ SỨC KHOẺ",
            "CHỌN: HỒ SƠ SỨC KHOẺ ĐIỆN TỬ",
            "NHẬP PASSCODE",
        ),
    ),
    Step(
        "ĐỂ XEM THÔNG TIN: THỰC HIỆN THEO THỨ TỰ SAU",
        (
            "Chọn: Cập nhật dữ liệu",
            "Chọn: Năm (tìm kiếm lịch sử khám chữa bệnh theo năm)",
            "Chọn: 1 lần khám chữa bệnh có trong danh sách được hiển thị, để xem thông tin chi tiết.",
            "Ngoài ra, có thể xem các thông tin: hành chính của cá nhân; đợt khám, chữa bệnh; Chẩn đoán xác "
            "định khi ra viện; Thuốc đã điều trị, đơn đã kê; Tóm tắt hồ sơ bệnh án; ...",
        ),
    ),
    Step(
        "CƠ SỞ KHÁM BỆNH, CHỮA BỆNH:",
        (
            "Tiếp nhận thông tin (trong Sổ sức khỏe điện tử VNeID);",
            "Ra quyết định hỗ trợ chẩn đoán, điều trị.",
        ),
    ),
)

CARD_HEADING = "Hướng dẫn cách tích hợp đồng bộ thẻ Bảo hiểm y tế vào thẻ căn cước trên ứng dụng VNeID"
CARD_STEPS: tuple[tuple[str, str], ...] = (
    ("Bước 1:", "Đăng nhập vào VNeID."),
    (
        "Bước 2:",
        "Kiểm tra phiên bản của ứng dụng. Để tự tích hợp thẻ BHYT vào VNeID thì ứng dụng phải chạy phiên bản "
        "2.0.4 trở lên.\nĐể kiểm tra phiên bản ứng dụng, người dùng nhấn chọn “Cá nhân”. Phiên bản của ứng dụng "
        "sẽ nằm ở cuối trang.",
    ),
    ("Bước 3:", "Chọn “Ví giấy tờ”. Sau đó chọn “Tích hợp thông tin”."),
    ("Bước 4:", "Chọn “Tạo mới yêu cầu”."),
    ("Bước 5:", 'Nhấn vào dấu mũi tên và chọn "Thẻ Bảo hiểm y tế".'),
    ("Bước 6:", 'Nhập số thẻ BHYT sau đó nhấn vào "Gửi yêu cầu".\nNhập 10 kí tự cuối trên mã số thẻ BHYT'),
)
QR_CAPTION = "Quét mã để mở Sổ sức khỏe điện tử"

_RED = (166, 25, 32)
_DARK = (30, 30, 30)
_GREY = (85, 85, 85)
_PALE = (253, 244, 230)
_PALE_RED = (250, 233, 233)
_WHITE = (255, 255, 255)
_MARGIN = 12.0
STEP_PT = 10.0
# Step 2 says the most: its column is wider.
_STEP_SHARES = (0.29, 0.44, 0.27)
CARD_PT = 10.5


@cache
def font_files() -> dict[str, Path]:
    """DejaVu Sans (regular, bold, oblique) from matplotlib's data directory: it has Vietnamese and ✓."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    files = {
        "": folder / "DejaVuSans.ttf",
        "B": folder / "DejaVuSans-Bold.ttf",
        "I": folder / "DejaVuSans-Oblique.ttf",
    }
    missing = [str(path) for path in files.values() if not path.exists()]
    if missing:
        raise FileNotFoundError(f"DejaVu Sans fonts not found: {', '.join(missing)}")
    return files


def qr_png(url: str, *, scale: int = 10) -> bytes:
    """The QR code of ``url`` as a PNG (error correction M, the standard 4-module quiet zone)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def render_poster(
    unit_name: str, url: str, *, size: str = "A4", superior: str = "", footer: str = ""
) -> bytes:
    """The Appendix 2 poster for ``unit_name`` as a one-page PDF, with a QR code to ``url``."""
    if size not in SIZES_MM:
        raise ValueError(f"unknown poster size {size!r}")
    fit = 1.0
    for _attempt in range(8):
        pdf = _Poster(size, fit)
        pdf.draw(unit_name=unit_name, superior=superior, url=url, footer=footer)
        if not pdf.overflowed:
            break
        # Only the type shrinks (boxes and the QR code keep their size), so this may take a second try.
        fit *= min(0.99, max(0.8, pdf.available / pdf.needed))
    return bytes(pdf.output())


class _Poster(FPDF):
    """One poster page; every length is given for A4 and multiplied by ``k`` (√2 for A3)."""

    def __init__(self, size: str, fit: float) -> None:
        width, height = SIZES_MM[size]
        super().__init__(orientation="portrait", unit="mm", format=(width, height))
        self.k_size = width / SIZES_MM["A4"][0]
        self.fit = fit
        self.overflowed = False
        self.needed = self.available = 0.0
        for style, path in font_files().items():
            self.add_font(FONT, style, str(path))
        self.set_auto_page_break(False)
        self.set_margins(self.mm(_MARGIN), self.mm(_MARGIN), self.mm(_MARGIN))
        self.set_title(TITLE)
        self.set_creator("SoSKDT")
        self.set_lang("vi")

    # Sizes: lengths scale with the paper; type also with ``fit`` (only used when a page would overflow).
    def mm(self, value: float) -> float:
        return value * self.k_size

    def pt(self, value: float) -> float:
        return value * self.k_size * self.fit

    def line_mm(self, size_pt: float, spacing: float = 1.25) -> float:
        return size_pt * spacing * 0.3528

    def font(self, style: str, size: float, colour: tuple[int, int, int] = _DARK) -> float:
        """Set the font (``size`` in A4 points); return the scaled size in points."""
        scaled = self.pt(size)
        self.set_font(FONT, style, scaled)
        self.set_text_color(*colour)
        return scaled

    def text_block(
        self,
        x: float,
        width: float,
        text: str,
        *,
        style: str = "",
        size: float = 11,
        colour: tuple[int, int, int] = _DARK,
        align: str = "L",
        markdown: bool = False,
        spacing: float = 1.25,
    ) -> float:
        """Write wrapped text at (x, current y); return its height."""
        scaled = self.font(style, size, colour)
        top = self.get_y()
        self.set_x(x)
        self.multi_cell(
            width,
            self.line_mm(scaled, spacing),
            text,
            align=align,
            markdown=markdown,
            new_x=XPos.LEFT,
            new_y=YPos.NEXT,
        )
        return self.get_y() - top

    def measure(
        self, width: float, text: str, *, style: str = "", size: float = 11, spacing: float = 1.25
    ) -> float:
        scaled = self.font(style, size)
        lines = self.multi_cell(width, self.line_mm(scaled, spacing), text, dry_run=True, output="LINES")
        assert isinstance(lines, list)
        return len(lines) * self.line_mm(scaled, spacing)

    # --- the page ----------------------------------------------------------------------------------------

    def draw(self, *, unit_name: str, superior: str, url: str, footer: str) -> None:
        self.add_page()
        self._band(unit_name, superior)
        self._title()
        self._conditions()
        self._steps()
        self._card_guide(url)
        self._footer(footer)

    def _band(self, unit_name: str, superior: str) -> None:
        band = self.mm(26)
        self.set_fill_color(*_RED)
        self.rect(0, 0, self.w, band, style="F")
        inner = self.w - 2 * self.l_margin
        name_height = self.measure(inner, unit_name.upper(), style="B", size=17, spacing=1.15)
        top_height = self.measure(inner, superior.upper(), size=10) if superior else 0
        self.set_y(max((band - name_height - top_height) / 2, self.mm(3)))
        if superior:
            self.text_block(self.l_margin, inner, superior.upper(), size=10, colour=_WHITE, align="C")
        self.text_block(
            self.l_margin,
            inner,
            unit_name.upper(),
            style="B",
            size=17,
            colour=_WHITE,
            align="C",
            spacing=1.15,
        )
        self.set_y(max(self.get_y(), band) + self.mm(5))

    def _title(self) -> None:
        inner = self.w - 2 * self.l_margin
        self.text_block(self.l_margin, inner, TITLE, style="B", size=18, colour=_RED, align="C", spacing=1.2)
        self.ln(self.mm(1.5))
        self.text_block(self.l_margin, inner, LEGAL, style="I", size=8.5, colour=_GREY, align="C")
        self.ln(self.mm(4))

    def _conditions(self) -> None:
        inner = self.w - 2 * self.l_margin
        pad = self.mm(4)
        lines = [f"{TICK}  {text}" for text in CONDITIONS]
        height = (
            self.measure(inner - 2 * pad, CONDITIONS_HEADING, style="B", size=14)
            + sum(self.measure(inner - 2 * pad, line, style="B", size=12.5) for line in lines)
            + 2 * pad
            + self.mm(1.5)
        )
        top = self.get_y()
        self.set_fill_color(*_PALE)
        self.set_draw_color(*_RED)
        self.set_line_width(self.mm(0.6))
        self.rect(self.l_margin, top, inner, height, style="DF", round_corners=True, corner_radius=self.mm(3))
        self.set_y(top + pad)
        self.text_block(
            self.l_margin + pad, inner - 2 * pad, CONDITIONS_HEADING, style="B", size=14, colour=_RED
        )
        self.ln(self.mm(1.5))
        for line in lines:
            self.text_block(self.l_margin + pad, inner - 2 * pad, line, style="B", size=12.5)
        self.set_y(top + height + self.mm(3.5))
        self.text_block(self.l_margin, inner, WHEN_READY, size=11.5, markdown=True)
        self.text_block(self.l_margin, inner, STEPS_INTRO, style="B", size=11.5)
        self.ln(self.mm(2.5))

    def _steps(self) -> None:
        inner = self.w - 2 * self.l_margin
        gap = self.mm(4)
        widths = [(inner - 2 * gap) * share for share in _STEP_SHARES]
        pad = self.mm(3)
        badge = self.mm(12)
        tick = self.mm(5)
        height = max(
            badge
            + 2 * pad
            + (
                self.measure(w - 2 * pad, s.heading, style="B", size=STEP_PT) + self.mm(1.5)
                if s.heading
                else 0
            )
            + sum(self.measure(w - 2 * pad - tick, t, size=STEP_PT) + self.mm(1.2) for t in s.ticks)
            for s, w in zip(STEPS, widths, strict=True)
        )
        top = self.get_y()
        x = self.l_margin
        for index, (step, width) in enumerate(zip(STEPS, widths, strict=True)):
            body = width - 2 * pad
            self.set_draw_color(*_RED)
            self.set_line_width(self.mm(0.5))
            self.set_fill_color(*_WHITE)
            self.rect(x, top, width, height, style="DF", round_corners=True, corner_radius=self.mm(3))
            self.set_fill_color(*_RED)
            self.rect(x, top, width, badge, style="F", round_corners=True, corner_radius=self.mm(3))
            self.set_y(top + (badge - self.line_mm(self.pt(16))) / 2)
            self.text_block(x, width, f"BƯỚC {index + 1}", style="B", size=16, colour=_WHITE, align="C")
            self.set_y(top + badge + pad)
            if step.heading:
                self.text_block(x + pad, body, step.heading, style="B", size=STEP_PT, colour=_RED)
                self.ln(self.mm(1.5))
            for text in step.ticks:
                row = self.get_y()
                self.font("B", STEP_PT, _RED)
                self.set_xy(x + pad, row)
                self.cell(tick, self.line_mm(self.pt(STEP_PT)), TICK)
                self.set_y(row)
                self.text_block(x + pad + tick, body - tick, text, size=STEP_PT)
                self.ln(self.mm(1.2))
            x += width + gap
        self.set_y(top + height + self.mm(5))

    def _card_guide(self, url: str) -> None:
        inner = self.w - 2 * self.l_margin
        qr_side = self.mm(54)
        gap = self.mm(6)
        text_width = inner - qr_side - gap
        self.set_draw_color(*_RED)
        self.set_line_width(self.mm(0.4))
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(self.mm(4))
        self.text_block(self.l_margin, inner, CARD_HEADING, style="B", size=13, colour=_RED, spacing=1.15)
        self.ln(self.mm(3))
        top = self.get_y()
        chip = self.mm(7.5)
        line = self.line_mm(self.pt(CARD_PT))
        page_left, page_right = self.l_margin, self.r_margin
        text_x = page_left + chip + self.mm(3)
        for number, (step, text) in enumerate(CARD_STEPS, start=1):
            row = self.get_y()
            self.set_fill_color(*_RED)
            self.ellipse(page_left, row, chip, chip, style="F")
            self.set_y(row + (chip - self.line_mm(self.pt(12), 1.0)) / 2)
            self.text_block(
                page_left, chip, str(number), style="B", size=12, colour=_WHITE, align="C", spacing=1.0
            )
            # The step's text flows in its column after the bold "Bước n:", its first line level with the number.
            self.set_left_margin(text_x)
            self.set_right_margin(self.w - (page_left + text_width))
            self.set_xy(text_x, row + (chip - line) / 2)
            self.font("B", CARD_PT, _RED)
            self.write(line, f"{step} ")
            paragraphs = text.split("\n")
            for index, paragraph in enumerate(paragraphs):
                is_hint = number == len(CARD_STEPS) and index == len(paragraphs) - 1 and index > 0
                if index:
                    self.ln(line)
                if is_hint:  # the app's hint in the card number field, as on its screen
                    self.font("I", CARD_PT, _GREY)
                    self.write(line, f"Ô “Số thẻ BHYT”: {paragraph}")
                else:
                    self.font("", CARD_PT, _DARK)
                    self.write(line, paragraph)
            self.ln(line)
            self.set_left_margin(page_left)
            self.set_right_margin(page_right)
            self.set_y(max(self.get_y(), row + chip) + self.mm(2.2))
        bottom = self.get_y()
        self._qr(url, self.l_margin + text_width + gap, top, qr_side)
        self.set_y(max(bottom, self.get_y()))

    def _qr(self, url: str, x: float, top: float, side: float) -> None:
        pad = self.mm(3)
        caption = self.measure(side, QR_CAPTION, style="B", size=11)
        url_size = self._fitting_size(url, side + 2 * pad - self.mm(3), 10)
        address = self.measure(side + 2 * pad, url, style="B", size=url_size)
        height = side + caption + address + 3 * pad
        self.set_draw_color(*_RED)
        self.set_line_width(self.mm(0.6))
        self.set_fill_color(*_WHITE)
        self.rect(
            x - pad,
            top - pad,
            side + 2 * pad,
            height + pad,
            style="DF",
            round_corners=True,
            corner_radius=self.mm(3),
        )
        self.set_y(top)
        self.text_block(x, side, QR_CAPTION, style="B", size=11, colour=_RED, align="C")
        self.image(io.BytesIO(qr_png(url)), x=x, y=self.get_y() + pad / 2, w=side, h=side)
        self.set_y(self.get_y() + side + pad)
        self.text_block(x - pad, side + 2 * pad, url, style="B", size=url_size, align="C")
        self.set_y(top + height)

    def _fitting_size(self, text: str, width: float, size: float) -> float:
        """The largest size up to ``size`` (A4 points) at which ``text`` fits on one line of ``width``."""
        while size > 6:
            self.font("B", size)
            if self.get_string_width(text) <= width:
                break
            size -= 0.5
        return size

    def _footer(self, footer: str) -> None:
        bottom = self.h - self.mm(8)
        self.needed = self.get_y()
        self.available = bottom - self.mm(2)
        self.overflowed = self.needed > self.available
        if footer:
            self.set_y(bottom)
            self.text_block(
                self.l_margin, self.w - 2 * self.l_margin, footer, style="I", size=8, colour=_GREY, align="C"
            )

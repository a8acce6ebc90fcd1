"""Build realistic QĐ 130 files for tests, the benchmark and the demo.

A visit is described by a ``VisitSpec`` (patient, card, type, dates, diagnoses, drug/service/result lines,
notes, discharge paper, summary, referral, follow-up) or directly as tables (``{"XML1": [row], "XML2": [...]}``,
rows as ``{field: text}``; a table may also be given as the inner document itself, ``str``/``bytes``).
``visit_tables`` turns a spec into tables that are valid and internally consistent (totals add up, times fall
within the stay, treatment days follow the rule of the visit type); ``build_envelope`` / ``write_envelope``
wrap visits into a GIAMDINHHS file with the variants seen in the wild (base64 or embedded inner XML, signature
last or inside THONGTINDONVI, BOM, CRLF, CDATA, padded values, fields in any order).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Literal

from soskdt.ingestion.catalogue import ROW_TABLES, table

Rows = list[dict[str, str]]
Tables = Mapping[str, "Rows | str | bytes"]
Encoding = Literal["base64", "embedded", "escaped", "cdata"]
KINDS = ("exam", "chronic_refill", "inpatient", "imaging", "ecg", "surgery", "referral", "follow_up")

_CENT = Decimal("0.01")

# --- reference data (plausible, Vietnamese) -------------------------------------------------------------------
FAMILY_NAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
)
MIDDLE_NAMES_M = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công", "Gia")
MIDDLE_NAMES_F = ("Thị", "Ngọc", "Thu", "Thanh", "Mỹ", "Kim", "Bảo", "Hoài")
GIVEN_NAMES_M = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hùng",
    "Khoa",
    "Long",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tài",
    "Tuấn",
    "Việt",
)
GIVEN_NAMES_F = (
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Ngân",
    "Phương",
    "Thảo",
    "Trang",
    "Yến",
)
STREETS = (
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Cách Mạng Tháng Tám",
)
WARDS = (
    "Phường Bến Nghé",
    "Phường Tân Định",
    "Phường Võ Thị Sáu",
    "Xã Bình Hưng",
    "Phường Thủ Dầu Một",
    "Xã Tân Nhựt",
)
#: (code, Vietnamese diagnosis text)
DIAGNOSES = (
    ("I10", "Tăng huyết áp vô căn (nguyên phát)"),
    ("E11.9", "Bệnh đái tháo đường không phụ thuộc insulin, không có biến chứng"),
    ("J18.9", "Viêm phổi, không xác định"),
    ("K29.7", "Viêm dạ dày, không đặc hiệu"),
    ("J02.9", "Viêm họng cấp, không đặc hiệu"),
    ("E78.5", "Tăng lipid máu, không đặc hiệu"),
    ("M54.5", "Đau vùng thắt lưng"),
    ("N39.0", "Nhiễm khuẩn hệ tiết niệu, vị trí không xác định"),
    ("K35.8", "Viêm ruột thừa cấp, khác và không xác định"),
    ("I20.9", "Cơn đau thắt ngực, không đặc hiệu"),
    ("A09", "Tiêu chảy và viêm dạ dày ruột do nhiễm trùng"),
    ("J45.9", "Hen phế quản, không đặc hiệu"),
    ("S52.5", "Gãy đầu dưới xương quay"),
    ("I25.1", "Bệnh tim do xơ vữa động mạch"),
)
#: (MA_THUOC, TEN_THUOC, HAM_LUONG, DON_VI_TINH, DUONG_DUNG, DANG_BAO_CHE, SO_DANG_KY, unit price in đồng)
DRUGS = (
    ("40.17", "Paracetamol", "500mg", "Viên", "1.01", "Viên nén", "VD-21345-14", 500),
    ("40.678", "Amlodipin", "5mg", "Viên", "1.01", "Viên nang cứng", "VD-25123-16", 650),
    ("40.819", "Metformin", "850mg", "Viên", "1.01", "Viên nén bao phim", "VD-30012-18", 900),
    ("40.135", "Amoxicilin", "500mg", "Viên", "1.01", "Viên nang", "VD-19876-13", 1200),
    ("40.980", "Omeprazol", "20mg", "Viên", "1.01", "Viên nang tan trong ruột", "VD-28765-17", 1100),
    ("40.606", "Losartan", "50mg", "Viên", "1.01", "Viên nén bao phim", "VN-22334-19", 2500),
    ("40.702", "Atorvastatin", "20mg", "Viên", "1.01", "Viên nén bao phim", "VD-33221-19", 1800),
    ("40.249", "Ceftriaxon", "1g", "Lọ", "2.15", "Bột pha tiêm", "VN-20112-16", 18500),
    (
        "40.1003",
        "Natri clorid 0,9%",
        "0,9% 500ml",
        "Chai",
        "2.15",
        "Dung dịch tiêm truyền",
        "VD-17654-12",
        9800,
    ),
    ("40.483", "Salbutamol", "2,5mg/2,5ml", "Ống", "1.06", "Dung dịch khí dung", "VN-18765-15", 4600),
    (
        "40.345",
        "Vitamin B1 + B6 + B12",
        "100mg + 200mg + 200mcg",
        "Viên",
        "1.01",
        "Viên nén bao phim",
        "VD-26789-17",
        1500,
    ),
    ("40.56", "Ibuprofen", "400mg", "Viên", "1.01", "Viên nén bao phim", "VD-24567-16", 800),
    ("40.930", "Gliclazid", "30mg", "Viên", "1.01", "Viên nén giải phóng có kiểm soát", "VD-29876-18", 1300),
    ("40.128", "Cefuroxim", "500mg", "Viên", "1.01", "Viên nén bao phim", "VD-31234-19", 5200),
    ("40.1001", "Glucose 5%", "5% 500ml", "Chai", "2.15", "Dung dịch tiêm truyền", "VD-16543-12", 11000),
)
#: (MA_DICH_VU, TEN_DICH_VU, MA_NHOM, DON_VI_TINH, price; for labs: MA_CHI_SO, unit, (low, high) of values)
LABS = (
    ("23.0075.1494", "Định lượng Glucose [Máu]", "GLU", "mmol/L", (4.0, 9.5), 21500),
    ("23.0058.1487", "Định lượng Creatinin [Máu]", "CRE", "µmol/L", (60.0, 130.0), 21500),
    ("23.0166.1506", "Định lượng Urê [Máu]", "URE", "mmol/L", (2.5, 8.5), 21500),
    ("23.0041.1506", "Định lượng Cholesterol toàn phần [Máu]", "CHOL", "mmol/L", (3.5, 7.0), 26900),
    ("23.0084.1506", "Định lượng Triglycerid [Máu]", "TG", "mmol/L", (0.8, 3.5), 26900),
    ("23.0020.1493", "Đo hoạt độ ALT (GPT) [Máu]", "ALT", "U/L", (10.0, 60.0), 21500),
    ("23.0019.1493", "Đo hoạt độ AST (GOT) [Máu]", "AST", "U/L", (10.0, 55.0), 21500),
    ("23.0083.1523", "Định lượng HbA1c [Máu]", "HBA1C", "%", (5.0, 9.0), 101000),
    (
        "22.0121.1369",
        "Tổng phân tích tế bào máu ngoại vi (bằng máy đếm laser)",
        "WBC",
        "G/L",
        (4.0, 11.0),
        46200,
    ),
    ("23.0206.1596", "Tổng phân tích nước tiểu (bằng máy tự động)", "SG", "", (1.005, 1.030), 27400),
)
#: (MA_DICH_VU, TEN_DICH_VU, MA_NHOM, price, description, conclusion)
IMAGING = (
    (
        "18.0119.0028",
        "Chụp X-quang ngực thẳng",
        "2",
        65400,
        "Hai phế trường sáng, không thấy tổn thương nhu mô. Bóng tim không to. Góc sườn hoành hai bên nhọn.",
        "Hiện chưa thấy bất thường trên phim X-quang ngực.",
    ),
    (
        "18.0001.0001",
        "Siêu âm ổ bụng (gan mật, tụy, lách, thận, bàng quang)",
        "2",
        43900,
        "Gan không to, nhu mô đều. Túi mật không sỏi. Tụy, lách bình thường. Hai thận không ứ nước, không sỏi.",
        "Hiện chưa phát hiện bất thường trên siêu âm ổ bụng.",
    ),
    (
        "18.0205.0062",
        "Chụp cắt lớp vi tính sọ não không tiêm thuốc cản quang",
        "2",
        536000,
        "Không thấy hình ảnh xuất huyết hay khối choán chỗ. Hệ thống não thất cân đối.",
        "Hình ảnh CT sọ não trong giới hạn bình thường.",
    ),
)
ECG = (
    "02.0085.1778",
    "Điện tim thường",
    "3",
    32800,
    "Nhịp xoang đều, tần số 78 lần/phút. Trục trung gian. Không thấy biến đổi ST-T.",
    "Điện tâm đồ trong giới hạn bình thường.",
)
EXAM_FEE = ("02.1896", "Khám Nội", "13", "Lần", 38700)
BED_DAY = ("K02.1902", "Ngày giường bệnh Nội khoa loại 1 (Hạng III)", "15", "Ngày", 199100)
SURGERY = (
    ("10.0448.0575", "Phẫu thuật nội soi cắt ruột thừa", "8", 2939000, "1"),
    ("10.0918.0521", "Phẫu thuật kết hợp xương đầu dưới xương quay", "8", 3544000, "2"),
)
PROCEDURE = ("03.3826.0211", "Thay băng vết mổ chiều dài dưới 15cm", "18", "Lần", 57600)
SUPPLIES = (
    ("N03.05.010", "Bơm tiêm nhựa dùng một lần 5ml", "Cái", 900),
    ("N02.01.050", "Bông y tế thấm nước", "Gói", 3500),
    ("N04.03.020", "Kim luồn tĩnh mạch 22G", "Cái", 12500),
)
DEPARTMENTS = ("K01", "K02", "K03", "K19", "K26")
CARD_GROUPS = ("DN", "HC", "HT", "HS", "GD", "TE", "CN", "BT", "XN", "NO")
_LEVEL_OF_GROUP = {"TE": "1", "CN": "2", "BT": "2", "HT": "3"}
_BENEFIT_OF_LEVEL = {"1": 100, "2": 100, "3": 95, "4": 80, "5": 100}


def qd130_time(value: dt.datetime) -> str:
    """Format a datetime as QĐ 130 ``yyyymmddHHMM``."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}{value.hour:02d}{value.minute:02d}"


def qd130_date(value: dt.date) -> str:
    """Format a date as QĐ 130 ``yyyymmdd``."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _money(value: Decimal) -> str:
    value = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


def _number(value: Decimal | int | float) -> str:
    d = Decimal(str(value))
    return str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")


# --- what a visit is made of -----------------------------------------------------------------------------------
@dataclass(slots=True)
class Patient:
    name: str
    birth: str  # yyyymmdd or yyyymmddHHMM (day/month may be 00)
    sex: int  # 1 male, 2 female
    personal_id: str | None
    card_code: str | None
    primary_facility: str = "79048"
    card_from: str = "20250101"
    card_to: str = "20251231"
    patient_id: str = "BN0000001"
    address: str = "12 Lê Lợi, Phường Bến Nghé, Thành phố Hồ Chí Minh"
    province: str = "79"
    district: str = "760"
    commune: str = "26734"
    phone: str = "0903123456"
    ethnicity: str = "01"
    nationality: str = "000"
    occupation: str = "00000"
    weight: str = "58.50"

    @property
    def benefit(self) -> int:
        if not self.card_code:
            return 0
        return _BENEFIT_OF_LEVEL.get(self.card_code[2], 80)


@dataclass(slots=True)
class DrugLine:
    code: str
    name: str
    strength: str
    unit: str
    route: str
    form: str
    registration: str
    price: Decimal
    quantity: Decimal
    dose: str = "1 viên/lần * 2 lần/ngày"
    group: str = "4"
    scope: str = "1"
    tender: str = "123/QĐ-SYT;G1;N4;2024"


@dataclass(slots=True)
class ServiceLine:
    code: str
    name: str
    group: str
    unit: str
    price: Decimal
    quantity: Decimal = Decimal(1)
    supply_code: str = ""
    anaesthesia: str = ""
    tender: str = ""
    result_after: dt.timedelta = dt.timedelta(minutes=45)


@dataclass(slots=True)
class ResultLine:
    service_code: str
    name: str
    indicator: str = ""
    value: str = ""
    unit: str = ""
    description: str = ""
    conclusion: str = ""


@dataclass(slots=True)
class NoteLine:
    text: str
    stage: str = ""
    surgery: str = ""


@dataclass(slots=True)
class VisitSpec:
    """Everything needed to write one consistent visit (see ``visit_tables``)."""

    ma_lk: str
    patient: Patient
    visit_type: str  # MA_LOAI_KCB "01".."09"
    admitted: dt.datetime
    discharged: dt.datetime
    main_diagnosis: tuple[str, str]  # (ICD-10, text)
    secondary_diagnoses: list[tuple[str, str]] = field(default_factory=list)
    inpatient_from: dt.datetime | None = None
    reason: str = "Đau đầu, chóng mặt"
    outcome: str = "2"  # KET_QUA_DTRI
    discharge_type: str = "1"  # MA_LOAI_RV
    department: str = "K01"
    doctor: str = "000123/HCM-CCHN"
    performer: str = "000456/HCM-CCHN"
    signer: str = "7912345678"  # MA_TTDV
    category: str = "1.1"  # MA_DOITUONG_KCB
    drugs: list[DrugLine] = field(default_factory=list)
    services: list[ServiceLine] = field(default_factory=list)
    results: list[ResultLine] = field(default_factory=list)
    notes: list[NoteLine] = field(default_factory=list)
    discharge_paper: bool = False  # XML7
    summary: bool = False  # XML8
    referral_to: str | None = None  # XML13 destination facility
    follow_up: dt.datetime | None = None  # XML14 appointment
    treatment: str = "Điều trị nội khoa"
    advice: str = "Tái khám khi có dấu hiệu bất thường."

    @property
    def item_count(self) -> int:
        return len(self.drugs) + len(self.services) + len(self.results)


def _full_row(table_name: str, values: Mapping[str, str]) -> dict[str, str]:
    """A row with every catalogue field of the table, in catalogue order, empty unless given."""
    return {name: values.get(name, "") for name in table(table_name).field_names}


def _split_line(
    benefit: int, bv: Decimal, scope: str
) -> tuple[Decimal, Decimal, Decimal, Decimal, int]:  # THANH_TIEN_BH, T_BHTT, T_BNCCT, T_BNTT, TYLE_TT_BH
    if scope != "1" or benefit == 0:
        return Decimal(0), Decimal(0), Decimal(0), bv, 0
    bh = bv
    bhtt = (bh * benefit / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    return bh, bhtt, bh - bhtt, Decimal(0), 100


def treatment_days(
    visit_type: str, admitted: dt.datetime, discharged: dt.datetime, drug_days: int = 0
) -> int:
    """SO_NGAY_DTRI as QĐ 4750 defines it for the visit type."""
    if visit_type in ("01", "07", "09"):
        return 0
    if visit_type in ("02", "03", "04", "06"):
        return (discharged.date() - admitted.date()).days + 1
    return drug_days


def visit_tables(spec: VisitSpec, facility_code: str) -> dict[str, Rows]:
    """Return the QĐ 130 tables of ``spec``: every field present (empty when unused), totals that add up."""
    p = spec.patient
    lk = spec.ma_lk
    benefit = p.benefit
    stay = max(spec.discharged - spec.admitted, dt.timedelta(minutes=10))
    tables: dict[str, Rows] = {}

    def order_time(i: int, n: int) -> dt.datetime:
        # Spread orders over the first half of the stay so that results fit before discharge.
        return spec.admitted + dt.timedelta(minutes=5) + (stay / 2) * i / max(n, 1)

    totals = {
        k: Decimal(0)
        for k in ("T_THUOC", "T_VTYT", "BV", "BH", "T_BNTT", "T_BNCCT", "T_BHTT", "T_NGUONKHAC", "GDV")
    }
    drug_rows: Rows = []
    for i, d in enumerate(spec.drugs):
        bv = (d.quantity * d.price).quantize(_CENT, rounding=ROUND_HALF_UP)
        bh, bhtt, bncct, bntt, rate = _split_line(benefit, bv, d.scope)
        ordered = order_time(i, len(spec.drugs))
        drug_rows.append(
            _full_row(
                "XML2",
                {
                    "MA_LK": lk,
                    "STT": str(i + 1),
                    "MA_THUOC": d.code,
                    "MA_NHOM": d.group,
                    "TEN_THUOC": d.name,
                    "DON_VI_TINH": d.unit,
                    "HAM_LUONG": d.strength,
                    "DUONG_DUNG": d.route,
                    "DANG_BAO_CHE": d.form,
                    "LIEU_DUNG": d.dose,
                    "CACH_DUNG": "Uống sau ăn" if d.route == "1.01" else "Theo chỉ định của bác sĩ",
                    "SO_DANG_KY": d.registration,
                    "TT_THAU": d.tender if d.group not in ("7", "17") else "",
                    "PHAM_VI": d.scope,
                    "TYLE_TT_BH": str(rate),
                    "SO_LUONG": _number(d.quantity),
                    "DON_GIA": _number(d.price),
                    "THANH_TIEN_BV": _money(bv),
                    "THANH_TIEN_BH": _money(bh),
                    "T_NGUONKHAC_NSNN": "0",
                    "T_NGUONKHAC_VTNN": "0",
                    "T_NGUONKHAC_VTTN": "0",
                    "T_NGUONKHAC_CL": "0",
                    "T_NGUONKHAC": "0",
                    "MUC_HUONG": str(benefit if rate else 0),
                    "T_BNTT": _money(bntt),
                    "T_BNCCT": _money(bncct),
                    "T_BHTT": _money(bhtt),
                    "MA_KHOA": spec.department,
                    "MA_BAC_SI": spec.doctor,
                    "NGAY_YL": qd130_time(ordered),
                    "NGAY_TH_YL": qd130_time(ordered + dt.timedelta(minutes=2)),
                    "MA_PTTT": "1",
                    "NGUON_CTRA": "1",
                },
            )
        )
        totals["T_THUOC"] += bv
        for key, amount in (
            ("BV", bv),
            ("BH", bh),
            ("T_BNTT", bntt),
            ("T_BNCCT", bncct),
            ("T_BHTT", bhtt),
            ("GDV", bhtt),
        ):
            totals[key] += amount
    service_rows: Rows = []
    ordered_at: dict[str, dt.datetime] = {}
    for i, s in enumerate(spec.services):
        bv = (s.quantity * s.price).quantize(_CENT, rounding=ROUND_HALF_UP)
        bh, bhtt, bncct, bntt, rate = _split_line(benefit, bv, "1")
        ordered = order_time(i, len(spec.services))
        performed = s.group in ("1", "2", "3", "8", "18")
        result_at = min(ordered + s.result_after, spec.discharged)
        is_supply = s.group in ("10", "11")
        ordered_at.setdefault(s.code, ordered)
        service_rows.append(
            _full_row(
                "XML3",
                {
                    "MA_LK": lk,
                    "STT": str(i + 1),
                    "MA_DICH_VU": "" if is_supply else s.code,
                    "MA_VAT_TU": s.supply_code if is_supply else "",
                    "MA_NHOM": s.group,
                    "TEN_VAT_TU": s.name if is_supply else "",
                    "TEN_DICH_VU": "" if is_supply else s.name,
                    "DON_VI_TINH": s.unit,
                    "PHAM_VI": "1",
                    "SO_LUONG": _number(s.quantity),
                    "DON_GIA_BV": _number(s.price),
                    "DON_GIA_BH": _number(s.price),
                    "TT_THAU": s.tender or ("123/QĐ-SYT;G2;N1;2024" if s.group == "10" else ""),
                    "TYLE_TT_DV": "100",
                    "TYLE_TT_BH": str(rate),
                    "THANH_TIEN_BV": _money(bv),
                    "THANH_TIEN_BH": _money(bh),
                    "MUC_HUONG": str(benefit if rate else 0),
                    "T_NGUONKHAC_NSNN": "0",
                    "T_NGUONKHAC_VTNN": "0",
                    "T_NGUONKHAC_VTTN": "0",
                    "T_NGUONKHAC_CL": "0",
                    "T_NGUONKHAC": "0",
                    "T_BNTT": _money(bntt),
                    "T_BNCCT": _money(bncct),
                    "T_BHTT": _money(bhtt),
                    "MA_KHOA": spec.department,
                    "MA_GIUONG": "H001" if s.group == "15" else "",
                    "MA_BAC_SI": spec.doctor,
                    "NGUOI_THUC_HIEN": spec.performer if performed else "",
                    "MA_BENH": spec.main_diagnosis[0],
                    "NGAY_YL": qd130_time(ordered),
                    "NGAY_TH_YL": qd130_time(ordered + dt.timedelta(minutes=5)) if performed else "",
                    "NGAY_KQ": qd130_time(result_at) if performed else "",
                    "MA_PTTT": "1",
                    "PP_VO_CAM": s.anaesthesia,
                    "MA_MAY": "XQ.1.79048.1" if s.group == "2" else "",
                },
            )
        )
        totals["T_VTYT"] += bv if is_supply else 0
        for key, amount in (
            ("BV", bv),
            ("BH", bh),
            ("T_BNTT", bntt),
            ("T_BNCCT", bncct),
            ("T_BHTT", bhtt),
            ("GDV", bhtt),
        ):
            totals[key] += amount
    result_rows: Rows = []
    for i, r in enumerate(spec.results):
        start = ordered_at.get(r.service_code, spec.admitted)
        result_rows.append(
            _full_row(
                "XML4",
                {
                    "MA_LK": lk,
                    "STT": str(i + 1),
                    "MA_DICH_VU": r.service_code,
                    "MA_CHI_SO": r.indicator,
                    "TEN_CHI_SO": r.name,
                    "GIA_TRI": r.value,
                    "DON_VI_DO": r.unit,
                    "MO_TA": r.description,
                    "KET_LUAN": r.conclusion,
                    "NGAY_KQ": qd130_time(min(start + dt.timedelta(minutes=45), spec.discharged)),
                    "MA_BS_DOC_KQ": spec.performer,
                },
            )
        )
    note_rows: Rows = []
    for i, n in enumerate(spec.notes):
        note_rows.append(
            _full_row(
                "XML5",
                {
                    "MA_LK": lk,
                    "STT": str(i + 1),
                    "DIEN_BIEN_LS": n.text,
                    "GIAI_DOAN_BENH": n.stage,
                    "PHAU_THUAT": n.surgery,
                    "THOI_DIEM_DBLS": qd130_time(spec.admitted + stay * (i + 1) / (len(spec.notes) + 1)),
                    "NGUOI_THUC_HIEN": spec.doctor,
                },
            )
        )
    codes = [spec.main_diagnosis, *spec.secondary_diagnoses]
    diagnosis_text = "; ".join(text for _, text in codes)
    cards = p.card_code or ""
    xml1 = _full_row(
        "XML1",
        {
            "MA_LK": lk,
            "STT": "1",
            "MA_BN": p.patient_id,
            "HO_TEN": p.name,
            "SO_CCCD": p.personal_id or "",
            "NGAY_SINH": p.birth if len(p.birth) == 12 else p.birth + "0000",
            "GIOI_TINH": str(p.sex),
            "MA_QUOCTICH": p.nationality,
            "MA_DANTOC": p.ethnicity,
            "MA_NGHE_NGHIEP": p.occupation,
            "DIA_CHI": p.address,
            "MATINH_CU_TRU": p.province,
            "MAHUYEN_CU_TRU": p.district,
            "MAXA_CU_TRU": p.commune,
            "DIEN_THOAI": p.phone,
            "MA_THE_BHYT": cards,
            "MA_DKBD": p.primary_facility if cards else "",
            "GT_THE_TU": p.card_from if cards else "",
            "GT_THE_DEN": p.card_to if cards else "",
            "LY_DO_VV": spec.reason,
            "LY_DO_VNT": spec.reason if spec.inpatient_from else "",
            "CHAN_DOAN_VAO": spec.main_diagnosis[1],
            "CHAN_DOAN_RV": diagnosis_text,
            "MA_BENH_CHINH": spec.main_diagnosis[0],
            "MA_BENH_KT": ";".join(code for code, _ in spec.secondary_diagnoses),
            "MA_DOITUONG_KCB": spec.category,
            "MA_NOI_DEN": spec.referral_to or "",
            "NGAY_VAO": qd130_time(spec.admitted),
            "NGAY_VAO_NOI_TRU": qd130_time(spec.inpatient_from) if spec.inpatient_from else "",
            "NGAY_RA": qd130_time(spec.discharged),
            "GIAY_CHUYEN_TUYEN": f"CT{lk[-6:]}" if spec.referral_to else "",
            "SO_NGAY_DTRI": str(treatment_days(spec.visit_type, spec.admitted, spec.discharged, 30)),
            "PP_DIEU_TRI": spec.treatment,
            "KET_QUA_DTRI": spec.outcome,
            "MA_LOAI_RV": spec.discharge_type,
            "GHI_CHU": spec.advice,
            "NGAY_TTOAN": qd130_time(spec.discharged),
            "T_THUOC": _money(totals["T_THUOC"]),
            "T_VTYT": _money(totals["T_VTYT"]),
            "T_TONGCHI_BV": _money(totals["BV"]),
            "T_TONGCHI_BH": _money(totals["BH"]),
            "T_BNTT": _money(totals["T_BNTT"]),
            "T_BNCCT": _money(totals["T_BNCCT"]),
            "T_BHTT": _money(totals["T_BHTT"]),
            "T_NGUONKHAC": _money(totals["T_NGUONKHAC"]),
            "T_BHTT_GDV": _money(totals["GDV"]),
            "NAM_QT": str(spec.discharged.year),
            "THANG_QT": str(spec.discharged.month),
            "MA_LOAI_KCB": spec.visit_type,
            "MA_KHOA": spec.department,
            "MA_CSKCB": facility_code,
            "CAN_NANG": p.weight,
            "NGAY_TAI_KHAM": qd130_date(spec.follow_up.date()) if spec.follow_up else "",
            "MA_HSBA": f"HS{lk[-8:]}",
            "MA_TTDV": spec.signer,
        },
    )
    tables["XML1"] = [xml1]
    if drug_rows:
        tables["XML2"] = drug_rows
    if service_rows:
        tables["XML3"] = service_rows
    if result_rows:
        tables["XML4"] = result_rows
    if note_rows:
        tables["XML5"] = note_rows
    key_results = (
        "; ".join(f"{r.name}: {r.value or r.conclusion} {r.unit}".strip() for r in spec.results[:5])
        or "Không"
    )
    if spec.discharge_paper:
        tables["XML7"] = [
            _full_row(
                "XML7",
                {
                    "MA_LK": lk,
                    "SO_LUU_TRU": f"LT{lk[-8:]}",
                    "MA_YTE": p.patient_id,
                    "MA_KHOA_RV": spec.department,
                    "NGAY_VAO": xml1["NGAY_VAO"],
                    "NGAY_RA": xml1["NGAY_RA"],
                    "MA_DINH_CHI_THAI": "0",
                    "CHAN_DOAN_RV": diagnosis_text[:1500],
                    "PP_DIEUTRI": spec.treatment,
                    "GHI_CHU": spec.advice,
                    "MA_TTDV": spec.signer,
                    "MA_BS": "7912340001",
                    "TEN_BS": "Trần Văn Bình",
                    "NGAY_CT": qd130_date(spec.discharged.date()),
                },
            )
        ]
    if spec.summary:
        tables["XML8"] = [
            _full_row(
                "XML8",
                {
                    "MA_LK": lk,
                    "MA_LOAI_KCB": spec.visit_type,
                    "NGAY_VAO": xml1["NGAY_VAO"],
                    "NGAY_RA": xml1["NGAY_RA"],
                    "CHAN_DOAN_VAO": spec.main_diagnosis[1],
                    "CHAN_DOAN_RV": diagnosis_text,
                    "QT_BENHLY": f"Bệnh nhân vào viện vì {spec.reason.lower()}. Được điều trị, theo dõi tại khoa.",
                    "TOMTAT_KQ": key_results,
                    "PP_DIEUTRI": spec.treatment,
                    "KET_QUA_DTRI": spec.outcome,
                    "GHI_CHU": spec.advice,
                    "MA_TTDV": spec.signer,
                    "NGAY_CT": qd130_date(spec.discharged.date()),
                },
            )
        ]
    if spec.referral_to:
        tables["XML13"] = [
            _full_row(
                "XML13",
                {
                    "MA_LK": lk,
                    "SO_HOSO": f"HS{lk[-8:]}",
                    "SO_CHUYENTUYEN": f"{spec.discharged.year}/{lk[-4:]}",
                    "GIAY_CHUYEN_TUYEN": xml1["GIAY_CHUYEN_TUYEN"],
                    "MA_CSKCB": facility_code,
                    "MA_NOI_DEN": spec.referral_to,
                    "HO_TEN": p.name,
                    "NGAY_SINH": xml1["NGAY_SINH"],
                    "GIOI_TINH": xml1["GIOI_TINH"],
                    "MA_QUOCTICH": p.nationality,
                    "MA_DANTOC": p.ethnicity,
                    "MA_NGHE_NGHIEP": p.occupation,
                    "DIA_CHI": p.address,
                    "MA_THE_BHYT": cards,
                    "GT_THE_DEN": xml1["GT_THE_DEN"],
                    "NGAY_VAO": xml1["NGAY_VAO"],
                    "NGAY_RA": xml1["NGAY_RA"],
                    "DAU_HIEU_LS": spec.reason,
                    "CHAN_DOAN_RV": diagnosis_text,
                    "QT_BENHLY": f"Bệnh nhân vào viện vì {spec.reason.lower()}.",
                    "TOMTAT_KQ": key_results,
                    "PP_DIEUTRI": spec.treatment,
                    "MA_BENH_CHINH": spec.main_diagnosis[0],
                    "MA_BENH_KT": xml1["MA_BENH_KT"],
                    "TEN_DICH_VU": "; ".join(s.name for s in spec.services[:5]) or "Khám bệnh",
                    "TEN_THUOC": "; ".join(d.name for d in spec.drugs[:5]),
                    "MA_LOAI_RV": spec.discharge_type,
                    "MA_LYDO_CT": "2",
                    "HUONG_DIEU_TRI": "Tiếp tục điều trị chuyên khoa tại tuyến trên.",
                    "PHUONGTIEN_VC": "Xe cứu thương",
                    "HOTEN_NGUOI_HT": "Lê Thị Hạnh",
                    "CHUCDANH_NGUOI_HT": "Điều dưỡng",
                    "MA_BAC_SI": spec.doctor,
                    "MA_TTDV": spec.signer,
                },
            )
        ]
    if spec.follow_up:
        tables["XML14"] = [
            _full_row(
                "XML14",
                {
                    "MA_LK": lk,
                    "SO_GIAYHEN_KL": f"HK{lk[-8:]}",
                    "MA_CSKCB": facility_code,
                    "HO_TEN": p.name,
                    "NGAY_SINH": xml1["NGAY_SINH"],
                    "GIOI_TINH": xml1["GIOI_TINH"],
                    "DIA_CHI": p.address,
                    "MA_THE_BHYT": cards,
                    "GT_THE_DEN": xml1["GT_THE_DEN"],
                    "NGAY_VAO": xml1["NGAY_VAO"],
                    "NGAY_RA": xml1["NGAY_RA"],
                    "NGAY_HEN_KL": qd130_time(spec.follow_up),
                    "CHAN_DOAN_RV": diagnosis_text,
                    "MA_BENH_CHINH": spec.main_diagnosis[0],
                    "MA_BENH_KT": xml1["MA_BENH_KT"],
                    "MA_DOITUONG_KCB": spec.category,
                    "MA_BAC_SI": spec.doctor,
                    "MA_TTDV": spec.signer,
                    "NGAY_CT": qd130_date(spec.discharged.date()),
                },
            )
        ]
    return tables


# --- random but consistent visits --------------------------------------------------------------------------------
def random_personal_id(rng: random.Random, birth_year: int, sex: int, province: str = "079") -> str:
    """A 12-digit personal ID whose sex/century digit and year agree with ``birth_year`` and ``sex`` (1/2)."""
    century = (birth_year - 1900) // 100
    digit = century * 2 + (0 if sex == 1 else 1)
    return f"{province}{digit}{birth_year % 100:02d}{rng.randrange(1_000_000):06d}"


def random_patient(rng: random.Random, *, province: str = "79", facility_code: str = "79048") -> Patient:
    """A patient with a consistent personal ID and, most of the time, a valid BHYT card."""
    sex = rng.choice((1, 2))
    year = rng.randrange(1940, 2022)
    birth = dt.date(year, rng.randrange(1, 13), rng.randrange(1, 29))
    middle = rng.choice(MIDDLE_NAMES_M if sex == 1 else MIDDLE_NAMES_F)
    given = rng.choice(GIVEN_NAMES_M if sex == 1 else GIVEN_NAMES_F)
    name = f"{rng.choice(FAMILY_NAMES)} {middle} {given}"
    group = "TE" if year >= 2019 else rng.choice(CARD_GROUPS)
    level = _LEVEL_OF_GROUP.get(group, "4")
    card = f"{group}{level}{province}{rng.randrange(10**9, 10**10)}" if rng.random() < 0.95 else None
    return Patient(
        name=name,
        birth=qd130_date(birth),
        sex=sex,
        personal_id=random_personal_id(rng, year, sex, "0" + province),
        card_code=card,
        primary_facility=facility_code,
        patient_id=f"BN{rng.randrange(10**7):07d}",
        address=f"{rng.randrange(1, 300)} {rng.choice(STREETS)}, {rng.choice(WARDS)}",
        province=province,
        phone=f"09{rng.randrange(10**8):08d}",
        weight=f"{rng.randrange(8 if year >= 2019 else 40, 30 if year >= 2019 else 85)}.{rng.choice(('00', '50'))}",
    )


def _drug(rng: random.Random, days: int) -> DrugLine:
    code, name, strength, unit, route, form, reg, price = rng.choice(DRUGS)
    per_day = rng.choice((1, 2, 3))
    quantity = Decimal(per_day * max(days, 1)) if unit == "Viên" else Decimal(rng.randrange(1, 4))
    dose = f"1 {unit.lower()}/lần * {per_day} lần/ngày * {max(days, 1)} ngày"
    return DrugLine(code, name, strength, unit, route, form, reg, Decimal(price), quantity, dose=dose)


def _lab(rng: random.Random) -> tuple[ServiceLine, ResultLine]:
    code, name, indicator, unit, (low, high), price = rng.choice(LABS)
    value = f"{rng.uniform(low, high):.3f}" if high < 2 else f"{rng.uniform(low, high):.1f}"
    return (
        ServiceLine(code, name, "1", "Lần", Decimal(price)),
        ResultLine(code, name.split(" [")[0], indicator=indicator, value=value, unit=unit),
    )


def _report(entry: tuple[str, str, str, int, str, str]) -> tuple[ServiceLine, ResultLine]:
    code, name, group, price, description, conclusion = entry
    return (
        ServiceLine(code, name, group, "Lần", Decimal(price)),
        ResultLine(code, name, description=description, conclusion=conclusion),
    )


def random_visit(
    rng: random.Random,
    *,
    facility_code: str = "79048",
    patient: Patient | None = None,
    kind: str = "exam",
    day: dt.date | None = None,
    drugs: int | None = None,
    services: int | None = None,
    results: int | None = None,
) -> VisitSpec:
    """A consistent visit of ``kind`` (one of ``KINDS``); ``drugs``/``services``/``results`` force line counts."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    patient = patient or random_patient(rng, facility_code=facility_code)
    day = day or dt.date(2025, 1, 2) + dt.timedelta(days=rng.randrange(330))
    start = dt.datetime.combine(day, dt.time(7, 0)) + dt.timedelta(minutes=rng.randrange(0, 180))
    main = rng.choice(DIAGNOSES)
    secondary = [d for d in rng.sample(DIAGNOSES, 2) if d != main][:1]
    spec = VisitSpec(
        ma_lk=f"{facility_code}{qd130_date(day)}{rng.getrandbits(40):010x}",
        patient=patient,
        visit_type="01",
        admitted=start,
        discharged=start + dt.timedelta(hours=3),
        main_diagnosis=main,
        secondary_diagnoses=secondary,
        department=rng.choice(DEPARTMENTS[:2]),
    )
    n_drugs, n_services, n_results = 3, 1, 0
    if kind == "exam":
        n_drugs, n_services = rng.randrange(2, 6), 2
    elif kind == "chronic_refill":
        spec.visit_type, spec.reason = "07", "Lĩnh thuốc theo hẹn"
        spec.main_diagnosis = rng.choice((DIAGNOSES[0], DIAGNOSES[1], DIAGNOSES[5]))
        spec.discharged = start + dt.timedelta(minutes=40)
        n_drugs, n_services = 4, 0
    elif kind == "inpatient":
        spec.visit_type, spec.reason = "03", "Sốt cao, ho, khó thở"
        spec.inpatient_from = start + dt.timedelta(hours=2)
        spec.discharged = start + dt.timedelta(days=rng.randrange(3, 8), hours=2)
        spec.outcome, spec.department = rng.choice(("1", "2")), "K03"
        spec.discharge_paper = spec.summary = True
        spec.treatment = "Kháng sinh, hạ sốt, bù dịch"
        n_drugs, n_services, n_results = 8, 10, 8
        spec.notes = [
            NoteLine("Bệnh tỉnh, sốt 38,5 độ, ho khạc đờm. CSST<M90_T38.5_HA120/80_NT22>"),
            NoteLine("Bệnh tỉnh, hết sốt, còn ho ít. CSST<M80_T37_HA120/70_NT18>"),
        ]
    elif kind == "imaging":
        n_drugs, n_services, n_results = 2, 2, 1
    elif kind == "ecg":
        spec.main_diagnosis = DIAGNOSES[9]
        n_drugs, n_services, n_results = 3, 2, 1
    elif kind == "surgery":
        spec.visit_type, spec.reason = "03", "Đau hố chậu phải"
        spec.main_diagnosis, spec.department = DIAGNOSES[8], "K19"
        spec.inpatient_from = start + dt.timedelta(hours=1)
        spec.discharged = start + dt.timedelta(days=rng.randrange(4, 7), hours=3)
        spec.outcome = "1"
        spec.discharge_paper = spec.summary = True
        spec.treatment = "Phẫu thuật nội soi cắt ruột thừa, kháng sinh dự phòng"
        n_drugs, n_services, n_results = 6, 6, 2
        spec.notes = [
            NoteLine(
                "Sau mổ ngày 1: tỉnh, vết mổ khô, trung tiện được.",
                surgery="Phẫu thuật nội soi cắt ruột thừa",
            )
        ]
    elif kind == "referral":
        spec.discharge_type, spec.referral_to, spec.outcome = "2", "79001", "3"
        spec.reason = "Đau ngực trái, khó thở"
        spec.main_diagnosis = DIAGNOSES[9]
        n_drugs, n_services, n_results = 2, 2, 1
    elif kind == "follow_up":
        spec.follow_up = spec.discharged + dt.timedelta(days=rng.choice((7, 14, 30)))
        spec.main_diagnosis = rng.choice((DIAGNOSES[0], DIAGNOSES[1]))
        n_drugs, n_services = 4, 1
    n_drugs = n_drugs if drugs is None else drugs
    n_services = n_services if services is None else services
    n_results = n_results if results is None else results
    days = treatment_days(spec.visit_type, spec.admitted, spec.discharged) or 7
    spec.drugs = [_drug(rng, days) for _ in range(n_drugs)]
    lines: list[ServiceLine] = []
    reports: list[ResultLine] = []
    # The lines that make the kind come first, so that a small ``services`` count keeps them.
    if kind == "imaging":
        service, result = _report(rng.choice(IMAGING))
        lines.append(service)
        reports.append(result)
    if kind in ("ecg", "referral"):
        service, result = _report(ECG)
        lines.append(service)
        reports.append(result)
    if kind == "surgery":
        code, name, group, price, anaesthesia = SURGERY[0]
        lines.append(
            ServiceLine(
                code,
                name,
                group,
                "Lần",
                Decimal(price),
                anaesthesia=anaesthesia,
                result_after=dt.timedelta(hours=1),
            )
        )
    if kind in ("inpatient", "surgery"):
        code, name, group, unit, price = BED_DAY
        lines.append(ServiceLine(code, name, group, unit, Decimal(price), quantity=Decimal(max(days - 1, 1))))
    if kind == "surgery":
        code, name, group, unit, price = PROCEDURE
        lines.append(ServiceLine(code, name, group, unit, Decimal(price), quantity=Decimal(2)))
    if kind in ("exam", "imaging", "ecg", "referral", "follow_up"):
        code, name, group, unit, price = EXAM_FEE
        lines.append(ServiceLine(code, name, group, unit, Decimal(price)))
    while len(lines) < n_services:
        pick = rng.random()
        if pick < 0.75 or kind not in ("inpatient", "surgery"):
            service, result = _lab(rng)
            lines.append(service)
            if len(reports) < n_results:
                reports.append(result)
        else:
            code, name, unit, price = rng.choice(SUPPLIES)
            lines.append(
                ServiceLine(
                    "",
                    name,
                    "10",
                    unit,
                    Decimal(price),
                    quantity=Decimal(rng.randrange(1, 6)),
                    supply_code=code,
                )
            )
    spec.services = lines[: max(n_services, 0)] if n_services else []
    billed = {s.code for s in spec.services if s.group in ("1",)}
    # More results than billed labs: extra indicators of the billed tests (a blood count has many).
    while len(reports) < n_results and billed:
        code = sorted(billed)[len(reports) % len(billed)]
        entry = next(e for e in LABS if e[0] == code)
        low, high = entry[4]
        reports.append(
            ResultLine(
                code,
                f"{entry[1].split(' [')[0]} ({len(reports) + 1})",
                entry[2],
                f"{rng.uniform(low, high):.2f}",
                entry[3],
            )
        )
    kept = {s.code for s in spec.services}
    spec.results = [r for r in reports if r.service_code in kept][
        : n_results if results is not None else len(reports)
    ]
    return spec


# --- writing files ---------------------------------------------------------------------------------------------
def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


_FREE_TEXT_MIN = 256


def inner_document(
    table_name: str,
    rows: Sequence[Mapping[str, str]],
    *,
    declaration: bool = True,
    newline: str = "\n",
    cdata: bool = False,
    pad: bool = False,
    shuffle: random.Random | None = None,
) -> str:
    """The inner XML document of one table (root/container/records/fields) as text."""
    spec = table(table_name)
    free_text = {
        f.name
        for f in spec.fields
        if f.format == "text" and (f.max_len is None or f.max_len >= _FREE_TEXT_MIN)
    }
    parts: list[str] = []
    if declaration:
        parts.append('<?xml version="1.0" encoding="utf-8"?>' + newline)
    root = spec.inner_root or table_name
    record = spec.record_element or root
    parts.append(f"<{root}>")
    if not spec.single_record:
        parts.append(f"{newline}<{spec.list_container}>" if spec.list_container else "")
    for row in rows:
        if not spec.single_record:
            parts.append(f"{newline}<{record}>")
        items = list(row.items())
        if shuffle is not None:
            shuffle.shuffle(items)
        for name, value in items:
            if value == "" and not pad:
                parts.append(f"{newline}<{name}></{name}>" if newline != "" else f"<{name}/>")
                continue
            text = _cdata(value) if cdata and name in free_text and value else _escape(value)
            if pad:
                text = f"  {text}{newline}  "
            parts.append(f"{newline}<{name}>{text}</{name}>")
        if not spec.single_record:
            parts.append(f"{newline}</{record}>")
    if not spec.single_record and spec.list_container:
        parts.append(f"{newline}</{spec.list_container}>")
    parts.append(f"{newline}</{root}>")
    return "".join(parts)


_SIGNATURE = (
    '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>'
    '<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
    '<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
    '<Reference URI=""><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
    "<DigestValue>q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c=</DigestValue></Reference></SignedInfo>"
    "<SignatureValue>TUlJQ2lqQ0NBZk9nQXdJQkFnSVFVMW9LR1NvS0E1V1ZxQ0FzT2NmM0R6QU5CZ2txaGtpRzl3MEJBUXNGQURBaU1TQXdIZ1lE</SignatureValue>"
    "</Signature>"
)


@dataclass(slots=True)
class EnvelopeOptions:
    encoding: Encoding = "base64"
    signature_place: Literal["last", "inside", "none"] = "last"
    bom: bool = False
    crlf: bool = False
    cdata: bool = False
    pad: bool = False
    namespaces: bool = True
    inner_declaration: bool = True
    shuffle: random.Random | None = None
    created_on: str = "20250315"


def _table_order(key: str) -> tuple[int, str]:
    name = key.split(".", 1)[0]
    return (int(name[3:]) if name[3:].isdigit() else 99, key)


def _hoso(tables: Tables, facility_code: str, o: EnvelopeOptions, nl: str) -> str:
    parts = [f"{nl}<HOSO>"]
    for key in sorted(tables, key=_table_order):
        # "XML7.2" writes a second FILEHOSO of type XML7 (to test repeated tables).
        name = key.split(".", 1)[0]
        content = tables[key]
        if isinstance(content, (str, bytes)):
            inner_text = content.decode("utf-8") if isinstance(content, bytes) else content
        else:
            inner_text = inner_document(
                name,
                content,
                declaration=o.inner_declaration,
                newline=nl,
                cdata=o.cdata,
                pad=o.pad,
                shuffle=o.shuffle,
            )
        if o.encoding == "base64":
            raw = (b"\xef\xbb\xbf" if o.bom else b"") + inner_text.encode("utf-8")
            body = base64.b64encode(raw).decode("ascii")
        elif o.encoding == "embedded":
            body = _strip_declaration(inner_text)
        elif o.encoding == "escaped":
            body = _escape(inner_text)
        else:
            body = _cdata(inner_text)
        parts.append(
            f"{nl}<FILEHOSO>{nl}<LOAIHOSO>{name}</LOAIHOSO>{nl}<NOIDUNGFILE>{body}</NOIDUNGFILE>{nl}</FILEHOSO>"
        )
    parts.append(f"{nl}</HOSO>")
    return "".join(parts)


def _strip_declaration(text: str) -> str:
    if text.startswith("<?xml"):
        return text[text.index("?>") + 2 :].lstrip()
    return text


def write_envelope(
    stream: IO[bytes],
    facility_code: str,
    visits: Iterable[VisitSpec | Tables],
    *,
    count: int | None = None,
    encoding: Encoding = "base64",
    signature_place: Literal["last", "inside", "none"] = "last",
    bom: bool = False,
    crlf: bool = False,
    cdata: bool = False,
    pad: bool = False,
    namespaces: bool = True,
    inner_declaration: bool = True,
    shuffle: random.Random | None = None,
    created_on: str = "20250315",
) -> int:
    """Write a GIAMDINHHS file to ``stream`` visit by visit (bounded memory); return the number of HOSO.

    ``count`` is written as SOLUONGHOSO (default: ``len(visits)`` when it is a sequence).
    """
    o = EnvelopeOptions(
        encoding, signature_place, bom, crlf, cdata, pad, namespaces, inner_declaration, shuffle, created_on
    )
    nl = "\r\n" if crlf else "\n"
    if count is None:
        count = len(visits) if isinstance(visits, Sequence) else 0
    xmlns = (
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
        if namespaces
        else ""
    )
    signature = f"<CHUKYDONVI>{_SIGNATURE}</CHUKYDONVI>"
    head = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"{nl}<GIAMDINHHS{xmlns}>",
        f"{nl}<THONGTINDONVI>{nl}<MACSKCB>{facility_code}</MACSKCB>",
        f"{nl}{signature}" if signature_place == "inside" else "",
        f"{nl}</THONGTINDONVI>",
        f"{nl}<THONGTINHOSO>{nl}<NGAYLAP>{created_on}</NGAYLAP>{nl}<SOLUONGHOSO>{count}</SOLUONGHOSO>{nl}<DANHSACHHOSO>",
    ]
    if bom:
        stream.write(b"\xef\xbb\xbf")
    stream.write("".join(head).encode("utf-8"))
    written = 0
    for visit in visits:
        tables = visit_tables(visit, facility_code) if isinstance(visit, VisitSpec) else visit
        stream.write(_hoso(tables, facility_code, o, nl).encode("utf-8"))
        written += 1
    tail = f"{nl}</DANHSACHHOSO>{nl}</THONGTINHOSO>"
    if signature_place == "last":
        tail += f"{nl}{signature}"
    tail += f"{nl}</GIAMDINHHS>{nl}"
    stream.write(tail.encode("utf-8"))
    return written


def build_envelope(
    facility_code: str,
    visits: Sequence[VisitSpec | Tables],
    *,
    encoding: Encoding = "base64",
    signature_place: Literal["last", "inside", "none"] = "last",
    bom: bool = False,
    crlf: bool = False,
    cdata: bool = False,
    pad: bool = False,
    namespaces: bool = True,
    inner_declaration: bool = True,
    shuffle: random.Random | None = None,
    created_on: str = "20250315",
    count: int | None = None,
) -> bytes:
    """Return a whole GIAMDINHHS file holding ``visits`` (see ``write_envelope`` for the options)."""
    buffer = io.BytesIO()
    write_envelope(
        buffer,
        facility_code,
        visits,
        count=count,
        encoding=encoding,
        signature_place=signature_place,
        bom=bom,
        crlf=crlf,
        cdata=cdata,
        pad=pad,
        namespaces=namespaces,
        inner_declaration=inner_declaration,
        shuffle=shuffle,
        created_on=created_on,
    )
    return buffer.getvalue()


def sample_visits(seed: int = 130, n: int = 8, *, facility_code: str = "79048") -> list[VisitSpec]:
    """``n`` visits cycling through every kind, deterministic for ``seed``."""
    rng = random.Random(seed)
    return [random_visit(rng, facility_code=facility_code, kind=KINDS[i % len(KINDS)]) for i in range(n)]


__all__ = [
    "KINDS",
    "ROW_TABLES",
    "DrugLine",
    "NoteLine",
    "Patient",
    "ResultLine",
    "ServiceLine",
    "VisitSpec",
    "build_envelope",
    "inner_document",
    "qd130_date",
    "qd130_time",
    "random_patient",
    "random_personal_id",
    "random_visit",
    "sample_visits",
    "treatment_days",
    "visit_tables",
    "write_envelope",
]

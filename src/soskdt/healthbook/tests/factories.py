"""Visit inputs typed as the QĐ 130 validator produces them, for tests and the load benchmark."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from soskdt.healthbook.records import VisitInput
from soskdt.registry.models import Citizen, Facility, InsuranceCard

FACILITY_CODE = "79048"

# (MA_DICH_VU, MA_NHOM, name, unit price) — lab and imaging lines get results.
SERVICE_CATALOGUE = [
    ("22.0120.1370", 1, "Tổng phân tích tế bào máu ngoại vi", Decimal("46200")),
    ("23.0075.1494", 1, "Định lượng Glucose [Máu]", Decimal("21500")),
    ("23.0020.1494", 1, "Định lượng Creatinin [Máu]", Decimal("21500")),
    ("18.0119.0028", 2, "Chụp Xquang ngực thẳng", Decimal("65400")),
    ("21.0014.1778", 3, "Điện tim thường", Decimal("32800")),
    ("02.1896", 13, "Khám Nội", Decimal("38700")),
    ("K15.1914", 15, "Giường Nội khoa loại 1 Hạng II", Decimal("214700")),
    ("N03.05.030", 10, "Bơm tiêm nhựa 5ml", Decimal("1100")),
]


def make_facility(code: str = FACILITY_CODE) -> Facility:
    facility, _created = Facility.objects.get_or_create(
        code=code, defaults={"name": f"Bệnh viện {code}", "province_code": code[:2]}
    )
    return facility


def make_citizen(personal_id: str = "079085001234", *, birth_year: int = 1985, sex: str = "1") -> Citizen:
    return Citizen.objects.create(
        personal_id=personal_id,
        full_name="Nguyễn Văn An",
        birth_year=birth_year,
        birth_month=3,
        birth_day=15,
        sex=sex,
    )


def make_card(
    holder_personal_id: str,
    social_insurance_number: str = "7912345678",
    *,
    valid_from: dt.date = dt.date(2025, 1, 1),
) -> InsuranceCard:
    return InsuranceCard.objects.create(
        code=f"DN479{social_insurance_number}",
        social_insurance_number=social_insurance_number,
        holder_personal_id=holder_personal_id,
        full_name="Nguyễn Văn An",
        birth_year=1985,
        sex="1",
        primary_care_facility_code=FACILITY_CODE,
        valid_from=valid_from,
        valid_to=valid_from.replace(month=12, day=31),
    )


def make_visit_input(
    *,
    ma_lk: str = "LK000001",
    facility_code: str = FACILITY_CODE,
    personal_id: str | None = "079085001234",
    social_insurance_number: str = "7912345678",
    drugs: int = 3,
    services: int = 5,
    results: int = 4,
    notes: int = 2,
    documents: bool = True,
    admitted_at: dt.datetime = dt.datetime(2025, 3, 10, 8, 30),
    submission_ref: str = "sub-1",
) -> VisitInput:
    """Build one inpatient visit with the given number of lines; results refer to lab and imaging lines."""
    discharged_at = admitted_at + dt.timedelta(days=4, hours=2)
    card = f"DN479{social_insurance_number}"
    summary: dict[str, object] = {
        "MA_LK": ma_lk,
        "STT": 1,
        "MA_BN": "BN" + ma_lk[-6:],
        "HO_TEN": "Nguyễn Văn An",
        "SO_CCCD": personal_id,
        "NGAY_SINH": dt.datetime(1985, 3, 15, 0, 0),
        "GIOI_TINH": 1,
        "NHOM_MAU": "O+",
        "MA_QUOCTICH": "000",
        "MA_DANTOC": "01",
        "MA_NGHE_NGHIEP": "00000",
        "DIA_CHI": "12 Nguyễn Trãi, Phường Bến Thành, TP Hồ Chí Minh",
        "MATINH_CU_TRU": "79",
        "MAHUYEN_CU_TRU": "760",
        "MAXA_CU_TRU": "26734",
        "DIEN_THOAI": "0901234567",
        "MA_THE_BHYT": [card],
        "MA_DKBD": [facility_code],
        "GT_THE_TU": [dt.date(2025, 1, 1)],
        "GT_THE_DEN": [dt.date(2025, 12, 31)],
        "LY_DO_VV": "Sốt cao, ho kéo dài 5 ngày",
        "CHAN_DOAN_VAO": "Viêm phổi",
        "CHAN_DOAN_RV": "Viêm phổi do vi khuẩn; Tăng huyết áp",
        "MA_BENH_CHINH": "J15.9",
        "MA_BENH_KT": ["I10", "E11.9"],
        "MA_DOITUONG_KCB": "1.1",
        "NGAY_VAO": admitted_at,
        "NGAY_VAO_NOI_TRU": admitted_at + dt.timedelta(minutes=45),
        "NGAY_RA": discharged_at,
        "SO_NGAY_DTRI": 5,
        "PP_DIEU_TRI": "Kháng sinh đường tĩnh mạch, hạ sốt",
        "KET_QUA_DTRI": 2,
        "MA_LOAI_RV": 1,
        "GHI_CHU": "Uống thuốc đủ liều\nTái khám sau 7 ngày",
        "NGAY_TTOAN": discharged_at + dt.timedelta(minutes=30),
        "T_THUOC": Decimal("350000.50"),
        "T_VTYT": Decimal("11000"),
        "T_TONGCHI_BV": Decimal("1650000.50"),
        "T_TONGCHI_BH": Decimal("1600000"),
        "T_BNTT": Decimal("50000.50"),
        "T_BNCCT": Decimal("320000"),
        "T_BHTT": Decimal("1280000"),
        "T_NGUONKHAC": Decimal("0"),
        "T_BHTT_GDV": Decimal("0"),
        "NAM_QT": 2025,
        "THANG_QT": 3,
        "MA_LOAI_KCB": "03",
        "MA_KHOA": "K03",
        "MA_CSKCB": facility_code,
        "MA_KHUVUC": None,
        "CAN_NANG": "65.50",
        "NGAY_TAI_KHAM": [discharged_at.date() + dt.timedelta(days=7)],
        "MA_HSBA": "HS" + ma_lk[-6:],
        "MA_TTDV": "7900012345",
    }
    return VisitInput(
        facility_code=facility_code,
        ma_lk=ma_lk,
        submission_ref=submission_ref,
        received_at=dt.datetime(2025, 3, 15, 3, 0, tzinfo=dt.UTC),
        summary=summary,
        drugs=[_drug(ma_lk, i, admitted_at) for i in range(1, drugs + 1)],
        services=[_service(ma_lk, i, admitted_at) for i in range(1, services + 1)],
        results=[_result(ma_lk, i, admitted_at, services) for i in range(1, results + 1)],
        notes=[_note(ma_lk, i, admitted_at) for i in range(1, notes + 1)],
        discharge_paper=_discharge_paper(ma_lk, admitted_at, discharged_at) if documents else None,
        record_summary=_record_summary(ma_lk, admitted_at, discharged_at) if documents else None,
        referral=None,
        follow_up=_follow_up(ma_lk, facility_code, discharged_at) if documents else None,
        raw_documents={"XML11": {"root": "CHI_TIEU_DU_LIEU_GIAY_NGHI_VIEC", "data": {"SO_CT": "123/GNV"}}}
        if documents
        else {},
        warnings=[{"code": "SAMPLE_WARNING", "severity": "warning", "table": "XML1"}],
    )


def _drug(ma_lk: str, i: int, admitted_at: dt.datetime) -> dict[str, object]:
    quantity = Decimal(i * 2)
    price = Decimal("1250.5")
    amount = (quantity * price).quantize(Decimal("0.01"))
    return {
        "MA_LK": ma_lk,
        "STT": i,
        "MA_THUOC": f"40.{100 + i}",
        "MA_NHOM": 4,
        "TEN_THUOC": f"Amoxicilin {250 * i}mg",
        "DON_VI_TINH": "Viên",
        "HAM_LUONG": f"{250 * i}mg",
        "DUONG_DUNG": "1.01",
        "DANG_BAO_CHE": "Viên nang cứng",
        "LIEU_DUNG": "1 viên/lần * 2 lần/ngày * 5 ngày",
        "CACH_DUNG": "Uống sau ăn",
        "SO_DANG_KY": f"VD-{30000 + i}-18",
        "TT_THAU": "G1;N1;2024",
        "PHAM_VI": 1,
        "TYLE_TT_BH": 100,
        "SO_LUONG": quantity,
        "DON_GIA": price,
        "THANH_TIEN_BV": amount,
        "THANH_TIEN_BH": amount,
        "T_NGUONKHAC_NSNN": Decimal("0"),
        "T_NGUONKHAC_VTNN": Decimal("0"),
        "T_NGUONKHAC_VTTN": Decimal("0"),
        "T_NGUONKHAC_CL": Decimal("0"),
        "T_NGUONKHAC": Decimal("0"),
        "MUC_HUONG": 80,
        "T_BNTT": Decimal("0"),
        "T_BNCCT": (amount * Decimal("0.2")).quantize(Decimal("0.01")),
        "T_BHTT": (amount * Decimal("0.8")).quantize(Decimal("0.01")),
        "MA_KHOA": "K03",
        "MA_BAC_SI": "000123/HCM-CCHN",
        "NGAY_YL": admitted_at + dt.timedelta(hours=i),
        "NGAY_TH_YL": admitted_at + dt.timedelta(hours=i, minutes=15),
        "MA_PTTT": 1,
        "NGUON_CTRA": 1,
    }


def _service(ma_lk: str, i: int, admitted_at: dt.datetime) -> dict[str, object]:
    code, group, name, price = SERVICE_CATALOGUE[(i - 1) % len(SERVICE_CATALOGUE)]
    supply = group == 10
    return {
        "MA_LK": ma_lk,
        "STT": i,
        "MA_DICH_VU": None if supply else code,
        "MA_VAT_TU": code if supply else None,
        "MA_NHOM": group,
        "TEN_VAT_TU": name if supply else None,
        "TEN_DICH_VU": None if supply else name,
        "DON_VI_TINH": "Cái" if supply else "Lần",
        "PHAM_VI": 1,
        "SO_LUONG": Decimal("1"),
        "DON_GIA_BV": price,
        "DON_GIA_BH": price,
        "TYLE_TT_DV": 100,
        "TYLE_TT_BH": 100,
        "THANH_TIEN_BV": price,
        "THANH_TIEN_BH": price,
        "MUC_HUONG": 80,
        "T_NGUONKHAC_NSNN": Decimal("0"),
        "T_NGUONKHAC_VTNN": Decimal("0"),
        "T_NGUONKHAC_VTTN": Decimal("0"),
        "T_NGUONKHAC_CL": Decimal("0"),
        "T_NGUONKHAC": Decimal("0"),
        "T_BNTT": Decimal("0"),
        "T_BNCCT": (price * Decimal("0.2")).quantize(Decimal("0.01")),
        "T_BHTT": (price * Decimal("0.8")).quantize(Decimal("0.01")),
        "MA_KHOA": "K03",
        "MA_BAC_SI": "000123/HCM-CCHN",
        "NGUOI_THUC_HIEN": "000456/HCM-CCHN",
        "NGAY_YL": admitted_at + dt.timedelta(minutes=10 * i),
        "NGAY_TH_YL": admitted_at + dt.timedelta(minutes=10 * i + 5),
        "NGAY_KQ": admitted_at + dt.timedelta(minutes=10 * i + 50),
        "MA_PTTT": 1,
        "MA_MAY": "XN.1.79048.1" if group == 1 else None,
    }


def _result(ma_lk: str, i: int, admitted_at: dt.datetime, services: int) -> dict[str, object]:
    # Results belong to the lab and imaging lines present in the visit (the first four catalogue entries).
    with_results = [
        n for n in range(1, services + 1) if SERVICE_CATALOGUE[(n - 1) % len(SERVICE_CATALOGUE)][1] in (1, 2)
    ]
    line = with_results[(i - 1) % len(with_results)] if with_results else 1
    code, group, name, _price = SERVICE_CATALOGUE[(line - 1) % len(SERVICE_CATALOGUE)]
    imaging = group == 2
    return {
        "MA_LK": ma_lk,
        "STT": i,
        "MA_DICH_VU": code,
        "MA_CHI_SO": None if imaging else f"{code}.{i}",
        "TEN_CHI_SO": name if imaging else f"Chỉ số {i}",
        "GIA_TRI": None if imaging else f"{4 + i / 10:.1f}",
        "DON_VI_DO": None if imaging else "mmol/L",
        "MO_TA": "Hai phế trường có đám mờ thùy dưới phải" if imaging else None,
        "KET_LUAN": "Viêm phổi thùy dưới phải" if imaging else None,
        "NGAY_KQ": admitted_at + dt.timedelta(minutes=10 * line + 50),
        "MA_BS_DOC_KQ": "000789/HCM-CCHN",
    }


def _note(ma_lk: str, i: int, admitted_at: dt.datetime) -> dict[str, object]:
    return {
        "MA_LK": ma_lk,
        "STT": i,
        "DIEN_BIEN_LS": f"Ngày {i}: sốt giảm, CSST<M80_T37.5_HA120/70_NT18>",
        "THOI_DIEM_DBLS": admitted_at + dt.timedelta(days=i - 1, hours=2),
        "NGUOI_THUC_HIEN": "000123/HCM-CCHN",
    }


def _discharge_paper(ma_lk: str, admitted_at: dt.datetime, discharged_at: dt.datetime) -> dict[str, object]:
    return {
        "MA_LK": ma_lk,
        "SO_LUU_TRU": "LT-2025-0001",
        "MA_YTE": "BN" + ma_lk[-6:],
        "MA_KHOA_RV": "K03",
        "NGAY_VAO": admitted_at,
        "NGAY_RA": discharged_at,
        "MA_DINH_CHI_THAI": 0,
        "CHAN_DOAN_RV": "Viêm phổi do vi khuẩn",
        "PP_DIEUTRI": "Kháng sinh",
        "GHI_CHU": "Nghỉ ngơi",
        "MA_TTDV": "7900012345",
        "MA_BS": "7900054321",
        "TEN_BS": "Trần Thị Lan",
        "NGAY_CT": discharged_at.date(),
        "SO_NGAY_NGHI": 5,
        "NGOAITRU_TUNGAY": discharged_at.date(),
        "NGOAITRU_DENNGAY": discharged_at.date() + dt.timedelta(days=4),
    }


def _record_summary(ma_lk: str, admitted_at: dt.datetime, discharged_at: dt.datetime) -> dict[str, object]:
    return {
        "MA_LK": ma_lk,
        "MA_LOAI_KCB": "03",
        "NGAY_VAO": admitted_at,
        "NGAY_RA": discharged_at,
        "CHAN_DOAN_VAO": "Viêm phổi",
        "CHAN_DOAN_RV": "Viêm phổi do vi khuẩn",
        "QT_BENHLY": "Sốt 5 ngày, ho đờm",
        "TOMTAT_KQ": "Bạch cầu tăng; X-quang đám mờ thùy dưới phải",
        "PP_DIEUTRI": "Kháng sinh đường tĩnh mạch",
        "KET_QUA_DTRI": 2,
        "GHI_CHU": "Tái khám sau 7 ngày",
        "MA_TTDV": "7900012345",
        "NGAY_CT": discharged_at.date(),
    }


def _follow_up(ma_lk: str, facility_code: str, discharged_at: dt.datetime) -> dict[str, object]:
    return {
        "MA_LK": ma_lk,
        "SO_GIAYHEN_KL": "HK-0001",
        "MA_CSKCB": facility_code,
        "HO_TEN": "Nguyễn Văn An",
        "NGAY_HEN_KL": discharged_at + dt.timedelta(days=7),
        "CHAN_DOAN_RV": "Viêm phổi do vi khuẩn",
        "MA_BENH_CHINH": "J15.9",
        "MA_BENH_KT": ["I10"],
        "MA_BAC_SI": "000123/HCM-CCHN",
        "NGAY_CT": discharged_at.date(),
    }

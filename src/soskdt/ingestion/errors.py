"""Every problem code the QĐ 130 parser and validator can report, with severity, message and meaning.

Codes are stable (facilities and the API depend on them); messages are Vietnamese msgids translated by gettext.
``docs/ingestion-errors.md`` is rendered from this table by ``render_markdown`` and a test keeps the two equal.
Codes already declared by ``soskdt.core`` (card code, facility code, personal-ID consistency) are reused as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from soskdt.core.errors import Problem, define, message_for

ERROR = "error"
WARNING = "warning"

FILE = "file"  # the whole file (reported by the parser as FileProblem)
VISIT = "visit"  # one HOSO (reported by the parser; the visit is not yielded)
RECORD = "record"  # a field, row or rule of one visit (reported by the validator, or attached by the parser)


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    severity: str
    scope: str
    meaning: str
    example: str
    message: Promise | None  # None: declared elsewhere (soskdt.core), reused

    def text(self) -> str:
        return message_for(self.code)


CODES: dict[str, ErrorCode] = {}


def _code(code: str, severity: str, scope: str, message: Promise | None, meaning: str, example: str) -> str:
    if message is not None:
        define(code, message)
    CODES[code] = ErrorCode(code, severity, scope, meaning, example, message)
    return code


# --- file -----------------------------------------------------------------------------------------------------
XML_FILE_EMPTY = _code(
    "XML_FILE_EMPTY",
    ERROR,
    FILE,
    _("Tệp rỗng: không có nội dung XML."),
    "The file is empty or only whitespace.",
    "0 bytes",
)
XML_FILE_TOO_LARGE = _code(
    "XML_FILE_TOO_LARGE",
    ERROR,
    FILE,
    _("Tệp vượt quá dung lượng tối đa cho phép ({limit} byte)."),
    "The file is larger than ParserLimits.max_file_bytes (default 2 GiB).",
    "a 3 GiB file",
)
XML_FILE_UNREADABLE = _code(
    "XML_FILE_UNREADABLE",
    ERROR,
    FILE,
    _("Không đọc được tệp."),
    "The file could not be opened or read (I/O error).",
    "a path that does not exist",
)
XML_NOT_XML = _code(
    "XML_NOT_XML",
    ERROR,
    FILE,
    _("Tệp không phải là tài liệu XML."),
    "The content does not start like XML.",
    "a PDF or a ZIP",
)
XML_MALFORMED = _code(
    "XML_MALFORMED",
    ERROR,
    FILE,
    _("Tệp XML sai cú pháp tại dòng {line}, cột {column}; các hồ sơ từ vị trí này trở đi không được xử lý."),
    "A syntax error before the end of the file; complete HOSO before it were still yielded.",
    "<HOSO><FILEHOSO></HOSO>",
)
XML_TRUNCATED = _code(
    "XML_TRUNCATED",
    ERROR,
    FILE,
    _("Tệp XML bị cắt cụt (kết thúc giữa chừng); chỉ các hồ sơ đầy đủ phía trước được xử lý."),
    "The file ends in the middle of the document; complete HOSO before the cut were still yielded.",
    "upload interrupted after 60% of the bytes",
)
XML_DTD_FORBIDDEN = _code(
    "XML_DTD_FORBIDDEN",
    ERROR,
    FILE,
    _("Tệp có khai báo DOCTYPE (DTD); vì lý do an toàn, tệp bị từ chối."),
    "A DOCTYPE anywhere in the file (entity expansion and external-entity attacks are refused outright).",
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
)
XML_TOO_DEEP = _code(
    "XML_TOO_DEEP",
    ERROR,
    FILE,
    _("Tệp XML lồng quá {limit} cấp."),
    "Elements nested deeper than ParserLimits.max_depth (default 64).",
    "<a><a><a>… ×100",
)
XML_LIMIT_EXCEEDED = _code(
    "XML_LIMIT_EXCEEDED",
    ERROR,
    FILE,
    _(
        "Tệp XML vượt giới hạn an toàn của bộ phân tích tại dòng {line} (ví dụ một nút văn bản lớn hơn 10 MB)."
    ),
    "libxml2's own safety limit without huge_tree (text node > 10 MB, name too long); parsing stops there.",
    "a NOIDUNGFILE of 20 MB of base64",
)
ENVELOPE_ROOT_INVALID = _code(
    "ENVELOPE_ROOT_INVALID",
    ERROR,
    FILE,
    _("Phần tử gốc của tệp phải là GIAMDINHHS, không phải “{value}”."),
    "The root element is not GIAMDINHHS.",
    "<TONG_HOP> sent without the envelope",
)
ENVELOPE_FACILITY_MISSING = _code(
    "ENVELOPE_FACILITY_MISSING",
    ERROR,
    FILE,
    _("Thiếu mã cơ sở KCB gửi tệp (THONGTINDONVI/MACSKCB)."),
    "The envelope has no MACSKCB; every visit of the file also gets this error.",
    "<THONGTINDONVI/>",
)
ENVELOPE_FACILITY_INVALID = _code(
    "ENVELOPE_FACILITY_INVALID",
    ERROR,
    FILE,
    _("Mã cơ sở KCB gửi tệp (MACSKCB) “{value}” phải gồm 5 chữ số."),
    "MACSKCB is not a 5-digit facility code.",
    "<MACSKCB>7904</MACSKCB>",
)
ENVELOPE_NO_VISITS = _code(
    "ENVELOPE_NO_VISITS",
    ERROR,
    FILE,
    _("Tệp không có hồ sơ nào (DANHSACHHOSO/HOSO)."),
    "A well-formed envelope without any HOSO.",
    "<DANHSACHHOSO/>",
)
ENVELOPE_COUNT_MISMATCH = _code(
    "ENVELOPE_COUNT_MISMATCH",
    WARNING,
    FILE,
    _("SOLUONGHOSO khai báo {declared} hồ sơ nhưng tệp có {found} hồ sơ."),
    "SOLUONGHOSO differs from the number of HOSO found (or is not a number).",
    "<SOLUONGHOSO>3</SOLUONGHOSO> with 2 HOSO",
)
ENVELOPE_DATE_INVALID = _code(
    "ENVELOPE_DATE_INVALID",
    WARNING,
    FILE,
    _("Ngày lập tệp (NGAYLAP) “{value}” phải có dạng yyyymmdd."),
    "NGAYLAP is not a yyyymmdd date.",
    "<NGAYLAP>31/12/2025</NGAYLAP>",
)
ENVELOPE_TOO_MANY_VISITS = _code(
    "ENVELOPE_TOO_MANY_VISITS",
    ERROR,
    FILE,
    _("Tệp có hơn {limit} hồ sơ; các hồ sơ sau đó không được xử lý."),
    "More HOSO than ParserLimits.max_visits (default 200,000); parsing stops.",
    "200,001 HOSO",
)

# --- one HOSO (parser) ---------------------------------------------------------------------------------------
FILEHOSO_TYPE_INVALID = _code(
    "FILEHOSO_TYPE_INVALID",
    ERROR,
    VISIT,
    _("LOAIHOSO “{value}” không hợp lệ và không nhận ra được bảng từ nội dung."),
    "LOAIHOSO is missing or not XMLn, and the inner root is not a known table.",
    "<LOAIHOSO>BANG1</LOAIHOSO> with an unknown root",
)
FILEHOSO_TYPE_INFERRED = _code(
    "FILEHOSO_TYPE_INFERRED",
    WARNING,
    RECORD,
    _("LOAIHOSO “{value}” không hợp lệ; đã xác định bảng {table} theo phần tử gốc của nội dung."),
    "LOAIHOSO is missing or invalid; the table was recognised from the inner root element.",
    "<LOAIHOSO/> with <TONG_HOP> inside",
)
INNER_EMPTY = _code(
    "INNER_EMPTY",
    ERROR,
    VISIT,
    _("NOIDUNGFILE của {table} rỗng."),
    "NOIDUNGFILE has no content.",
    "<NOIDUNGFILE/>",
)
INNER_BASE64_INVALID = _code(
    "INNER_BASE64_INVALID",
    ERROR,
    VISIT,
    _("NOIDUNGFILE của {table} không phải chuỗi base64 hợp lệ."),
    "NOIDUNGFILE is neither XML nor valid base64.",
    "<NOIDUNGFILE>PFRPTkdf*</NOIDUNGFILE>",
)
INNER_TOO_LARGE = _code(
    "INNER_TOO_LARGE",
    ERROR,
    VISIT,
    _("Nội dung {table} sau giải mã vượt quá {limit} byte."),
    "The decoded inner document would exceed ParserLimits.max_inner_bytes (checked before decoding).",
    "a base64 bomb",
)
INNER_NOT_XML = _code(
    "INNER_NOT_XML",
    ERROR,
    VISIT,
    _("Nội dung {table} không phải XML hợp lệ."),
    "The inner document (decoded base64 or escaped text) is not well-formed XML or not UTF-8.",
    "base64 of 'hello'",
)
INNER_DTD_FORBIDDEN = _code(
    "INNER_DTD_FORBIDDEN",
    ERROR,
    VISIT,
    _("Nội dung {table} có khai báo DOCTYPE (DTD); hồ sơ bị từ chối vì lý do an toàn."),
    "The inner document declares a DOCTYPE.",
    "base64 of '<!DOCTYPE TONG_HOP [...]><TONG_HOP>…'",
)
INNER_TOO_DEEP = _code(
    "INNER_TOO_DEEP",
    ERROR,
    VISIT,
    _("Nội dung {table} lồng quá {limit} cấp."),
    "The inner document is nested deeper than ParserLimits.max_depth.",
    "<TONG_HOP><a><a>… ×100",
)
INNER_ROOT_INVALID = _code(
    "INNER_ROOT_INVALID",
    ERROR,
    VISIT,
    _("Phần tử gốc của {table} phải là {expected}, không phải “{value}”."),
    "The inner root element does not match LOAIHOSO.",
    "LOAIHOSO XML2 containing <TONG_HOP>",
)
TABLE_TOO_MANY_ROWS = _code(
    "TABLE_TOO_MANY_ROWS",
    ERROR,
    VISIT,
    _("Bảng {table} có hơn {limit} dòng trong một hồ sơ."),
    "More rows in one table of one visit than ParserLimits.max_rows_per_table (default 20,000).",
    "25,000 CHI_TIET_DVKT",
)
HOSO_UNREADABLE = _code(
    "HOSO_UNREADABLE",
    ERROR,
    VISIT,
    _("Không đọc được hồ sơ này do lỗi không lường trước; các hồ sơ khác vẫn được xử lý."),
    "An unexpected failure while reading one HOSO (a bug, reported rather than raised).",
    "—",
)
FIELD_REPEATED = _code(
    "FIELD_REPEATED",
    ERROR,
    RECORD,
    _("Trường {field} xuất hiện nhiều lần trong cùng một dòng của {table}."),
    "The same field element appears twice in one record; the last value is kept, the record is in error.",
    "<MA_LK>a</MA_LK><MA_LK>b</MA_LK>",
)

# --- tables and fields (validator) --------------------------------------------------------------------------
XML1_MISSING = _code(
    "XML1_MISSING",
    ERROR,
    RECORD,
    _("Hồ sơ thiếu bảng XML1 (chỉ tiêu tổng hợp khám bệnh, chữa bệnh)."),
    "The HOSO has no XML1; the visit has no key, patient or dates.",
    "HOSO with only XML2",
)
TABLE_REPEATED = _code(
    "TABLE_REPEATED",
    ERROR,
    RECORD,
    _("Bảng {table} chỉ được có một bản ghi trong mỗi hồ sơ."),
    "A single-record table (XML1, XML7, XML8, XML13, XML14) appears more than once.",
    "two FILEHOSO with LOAIHOSO XML1",
)
TABLE_UNKNOWN = _code(
    "TABLE_UNKNOWN",
    WARNING,
    RECORD,
    _("Loại hồ sơ {table} không có trong danh mục QĐ 130; nội dung được lưu nguyên trạng."),
    "A FILEHOSO type outside XML0…XML15; kept raw in raw_documents.",
    "<LOAIHOSO>XML16</LOAIHOSO>",
)
TABLE_NOT_EXPECTED = _code(
    "TABLE_NOT_EXPECTED",
    WARNING,
    RECORD,
    _("Bảng {table} không gửi kèm hồ sơ GIAMDINHHS; nội dung được lưu nguyên trạng."),
    "XML0 (check-in, sent on its own) or XML12 (entered on the portal) inside a HOSO; kept raw.",
    "<LOAIHOSO>XML0</LOAIHOSO>",
)
FIELD_REQUIRED = _code(
    "FIELD_REQUIRED",
    ERROR,
    RECORD,
    _("Thiếu trường bắt buộc {field}."),
    "A field the portal requires (flag 'x' in the catalogue) is missing or empty.",
    "XML1 without MA_BENH_CHINH",
)
FIELD_REQUIRED_IF = _code(
    "FIELD_REQUIRED_IF",
    ERROR,
    RECORD,
    _("Thiếu trường {field}: bắt buộc khi {condition}."),
    "A conditionally required field is missing (LY_DO_VNT with NGAY_VAO_NOI_TRU; NGUOI_THUC_HIEN and "
    "NGAY_TH_YL for MA_NHOM 1,2,3,8,18; TT_THAU; MA_XANG_DAU for transport; XML7 termination fields …).",
    "XML3 lab row without NGUOI_THUC_HIEN",
)
FIELD_TOO_LONG = _code(
    "FIELD_TOO_LONG",
    ERROR,
    RECORD,
    _("Trường {field} dài {length} ký tự, vượt quá {max} ký tự."),
    "Longer than the effective maximum size of the catalogue.",
    "HO_TEN of 300 characters",
)
FIELD_UNKNOWN = _code(
    "FIELD_UNKNOWN",
    WARNING,
    RECORD,
    _("Trường {field} không có trong danh mục của bảng {table}; giá trị được lưu nhưng không kiểm tra."),
    "An element the catalogue does not list for this table (kept raw, not validated).",
    "<MA_PTTT_QT_CU>…</MA_PTTT_QT_CU>",
)
FIELD_NUMBER_INVALID = _code(
    "FIELD_NUMBER_INVALID",
    ERROR,
    RECORD,
    _("Trường {field} phải là số không âm, dùng dấu chấm thập phân và không có dấu phân cách hàng nghìn."),
    "Not a plain decimal number (digits, optional '.' and digits).",
    "<DON_GIA>1,500.00</DON_GIA>",
)
FIELD_TIME_INVALID = _code(
    "FIELD_TIME_INVALID",
    ERROR,
    RECORD,
    _("Trường {field} phải là thời điểm có thật, dạng yyyymmddHHMM (12 chữ số)."),
    "Not 12 digits, or not a real calendar date and time.",
    "<NGAY_VAO>202502301000</NGAY_VAO>",
)
FIELD_DATE_INVALID = _code(
    "FIELD_DATE_INVALID",
    ERROR,
    RECORD,
    _("Trường {field} phải là ngày có thật, dạng yyyymmdd (8 chữ số)."),
    "Not 8 digits or not a real calendar date (each item of a ';' list).",
    "<GT_THE_DEN>20251331</GT_THE_DEN>",
)
FIELD_BIRTH_DATE_INVALID = _code(
    "FIELD_BIRTH_DATE_INVALID",
    ERROR,
    RECORD,
    _("Ngày sinh ({field}) phải có dạng yyyymmddHHMM; ngày, tháng chưa rõ ghi 00."),
    "Birth date not yyyymmddHHMM (or yyyymmdd); unknown day/month may be 00, anything else must be real.",
    "<NGAY_SINH>19851532</NGAY_SINH>",
)
FIELD_CODE_NOT_IN_LIST = _code(
    "FIELD_CODE_NOT_IN_LIST",
    ERROR,
    RECORD,
    _("Giá trị “{value}” của {field} không có trong danh mục."),
    "Outside an authoritative code list (GIOI_TINH, MA_LOAI_KCB, KET_QUA_DTRI, MA_LOAI_RV, MA_NHOM, PHAM_VI, "
    "MA_PTTT, NGUON_CTRA, PP_VO_CAM, MA_LYDO_CT).",
    "<GIOI_TINH>0</GIOI_TINH>, <MA_LOAI_KCB>1</MA_LOAI_KCB>",
)
FIELD_CODE_UNKNOWN = _code(
    "FIELD_CODE_UNKNOWN",
    WARNING,
    RECORD,
    _("Giá trị “{value}” của {field} không có trong danh mục đã biết."),
    "Outside a code list the catalogue marks as partial or vendor-sourced (MA_DOITUONG_KCB, MA_TAI_NAN, MA_KHUVUC).",
    "<MA_KHUVUC>K9</MA_KHUVUC>",
)
VISIT_TYPE_NOT_IN_QD130 = _code(
    "VISIT_TYPE_NOT_IN_QD130",
    WARNING,
    RECORD,
    _("MA_LOAI_KCB “{value}” chưa có trong QĐ 130 (mã bổ sung theo QĐ 1804, áp dụng từ 01/08/2026)."),
    "MA_LOAI_KCB 10–16: added by QĐ 1804 (secondary source), accepted with a warning.",
    "<MA_LOAI_KCB>14</MA_LOAI_KCB>",
)
ICD10_INVALID = _code(
    "ICD10_INVALID",
    ERROR,
    RECORD,
    _("Mã bệnh “{value}” của {field} không đúng dạng ICD-10 (ví dụ I10, E11.9)."),
    "A diagnosis code (or one item of a ';' list) does not have the ICD-10 shape A00 / A00.0 / A00.00.",
    "<MA_BENH_CHINH>i10</MA_BENH_CHINH>",
)
ICD10_TOO_MANY_SECONDARY = _code(
    "ICD10_TOO_MANY_SECONDARY",
    ERROR,
    RECORD,
    _("{field} có {count} mã bệnh kèm theo, tối đa là 12."),
    "More than 12 secondary diagnoses in MA_BENH_KT.",
    "13 codes in MA_BENH_KT",
)
ID_NUMBER_INVALID = _code(
    "ID_NUMBER_INVALID",
    ERROR,
    RECORD,
    _(
        "Số giấy tờ tùy thân ({field}) phải gồm 12 chữ số (số định danh cá nhân), 9 chữ số (CMND cũ) "
        "hoặc 1 chữ cái in hoa và 7 chữ số (hộ chiếu)."
    ),
    "SO_CCCD is not a 12-digit personal ID, a 9-digit old ID card or a passport number (letter + 7 digits).",
    "<SO_CCCD>0790851234</SO_CCCD>",
)
CARD_CODE_INVALID = _code(
    "CARD_CODE_INVALID",
    ERROR,
    RECORD,
    None,
    "A card code (each ';' item of MA_THE_BHYT) is not 2 letters + level + 2-digit province + 10 digits.",
    "<MA_THE_BHYT>HC47912345</MA_THE_BHYT>",
)
CARD_GROUP_UNKNOWN = _code(
    "CARD_GROUP_UNKNOWN",
    ERROR,
    RECORD,
    None,
    "The beneficiary group (first two letters of the card) is not in the list.",
    "ZZ47901234567890",
)
CARD_LEVEL_INVALID = _code(
    "CARD_LEVEL_INVALID",
    ERROR,
    RECORD,
    None,
    "The benefit level (third character) is not 1–5.",
    "HC97901234567890",
)
FACILITY_CODE_INVALID = _code(
    "FACILITY_CODE_INVALID",
    ERROR,
    RECORD,
    None,
    "A facility code (MA_CSKCB, MA_NOI_DI, MA_NOI_DEN, each MA_DKBD item) is not 5 digits.",
    "<MA_NOI_DEN>BV01</MA_NOI_DEN>",
)
PERSONAL_ID_BIRTH_YEAR_MISMATCH = _code(
    "PERSONAL_ID_BIRTH_YEAR_MISMATCH",
    WARNING,
    RECORD,
    None,
    "Digits 4–6 of the 12-digit SO_CCCD (century + year) disagree with NGAY_SINH.",
    "SO_CCCD 079085… with NGAY_SINH 1990…",
)
PERSONAL_ID_SEX_MISMATCH = _code(
    "PERSONAL_ID_SEX_MISMATCH",
    WARNING,
    RECORD,
    None,
    "The sex digit of the 12-digit SO_CCCD disagrees with GIOI_TINH (1 male, 2 female).",
    "SO_CCCD 0791… (female) with GIOI_TINH 1",
)

# --- rules across fields and tables (validator) -------------------------------------------------------------
TIME_IN_FUTURE = _code(
    "TIME_IN_FUTURE",
    ERROR,
    RECORD,
    _("Trường {field} là thời điểm trong tương lai."),
    "NGAY_SINH after today, or NGAY_VAO / NGAY_RA more than one day after today (Vietnam time).",
    "NGAY_VAO next year",
)
DISCHARGE_BEFORE_ADMISSION = _code(
    "DISCHARGE_BEFORE_ADMISSION",
    ERROR,
    RECORD,
    _("Thời điểm ra viện (NGAY_RA) trước thời điểm vào viện (NGAY_VAO)."),
    "NGAY_RA < NGAY_VAO (XML1, XML7, XML8, XML13, XML14).",
    "NGAY_VAO 202503021000, NGAY_RA 202503010900",
)
INPATIENT_ADMISSION_BEFORE_ARRIVAL = _code(
    "INPATIENT_ADMISSION_BEFORE_ARRIVAL",
    ERROR,
    RECORD,
    _("Thời điểm vào điều trị nội trú (NGAY_VAO_NOI_TRU) trước thời điểm vào viện (NGAY_VAO)."),
    "NGAY_VAO_NOI_TRU < NGAY_VAO.",
    "NGAY_VAO 202503021000, NGAY_VAO_NOI_TRU 202503020900",
)
ORDER_OUTSIDE_STAY = _code(
    "ORDER_OUTSIDE_STAY",
    ERROR,
    RECORD,
    _("Thời điểm y lệnh ({field}) nằm ngoài thời gian khám, điều trị (từ NGAY_VAO đến NGAY_RA)."),
    "An XML2/XML3 NGAY_YL before XML1 NGAY_VAO or after NGAY_RA.",
    "drug ordered the day before admission",
)
RESULT_OUTSIDE_STAY = _code(
    "RESULT_OUTSIDE_STAY",
    ERROR,
    RECORD,
    _("Thời điểm có kết quả (NGAY_KQ) nằm ngoài khoảng từ NGAY_VAO đến 60 ngày sau NGAY_RA."),
    "XML3/XML4 NGAY_KQ before NGAY_VAO or more than 60 days after NGAY_RA (QĐ 4750 allows late results up to 60 days).",
    "result dated before admission",
)
RESULT_BEFORE_ORDER = _code(
    "RESULT_BEFORE_ORDER",
    ERROR,
    RECORD,
    _("Thời điểm có kết quả (NGAY_KQ) trước thời điểm y lệnh (NGAY_YL)."),
    "XML3 NGAY_KQ < NGAY_YL of the same row, or XML4 NGAY_KQ < the NGAY_YL of its XML3 service (by MA_DICH_VU).",
    "NGAY_YL 202503021000, NGAY_KQ 202503020930",
)
TREATMENT_DAYS_INVALID = _code(
    "TREATMENT_DAYS_INVALID",
    ERROR,
    RECORD,
    _("SO_NGAY_DTRI = {value} không đúng: với MA_LOAI_KCB {visit_type} phải là {expected}."),
    "SO_NGAY_DTRI must be 0 for types 01/07/09 and (date of NGAY_RA − date of NGAY_VAO) + 1 for 02/03/04/06 "
    "(QĐ 4750); not checked for 05/08.",
    "type 03 from 1 to 5 March with SO_NGAY_DTRI 4",
)
RESULT_TIME_MISSING = _code(
    "RESULT_TIME_MISSING",
    ERROR,
    RECORD,
    _("Kết quả cận lâm sàng có giá trị (GIA_TRI) nhưng thiếu thời điểm có kết quả (NGAY_KQ)."),
    "XML4 row with GIA_TRI and without NGAY_KQ.",
    "<GIA_TRI>5.6</GIA_TRI><NGAY_KQ/>",
)
IMAGING_REPORT_MISSING = _code(
    "IMAGING_REPORT_MISSING",
    ERROR,
    RECORD,
    _("Dịch vụ chẩn đoán hình ảnh “{value}” thiếu mô tả (MO_TA) hoặc kết luận (KET_LUAN) trong XML4."),
    "An XML3 row with MA_NHOM 2 has no XML4 row with the same MA_DICH_VU, or that XML4 row lacks MO_TA or KET_LUAN.",
    "chest X-ray billed, no report",
)
SUMMARY_NOT_ALLOWED = _code(
    "SUMMARY_NOT_ALLOWED",
    ERROR,
    RECORD,
    _("Bảng XML8 (tóm tắt hồ sơ bệnh án) chỉ dùng cho MA_LOAI_KCB 03, 04, 06; hồ sơ này là “{value}”."),
    "XML8 sent for a visit type other than 03/04/06 (02 is only a warning, see next).",
    "XML8 with an outpatient exam (01)",
)
SUMMARY_FOR_OUTPATIENT_TREATMENT = _code(
    "SUMMARY_FOR_OUTPATIENT_TREATMENT",
    WARNING,
    RECORD,
    _("Bảng XML8 (tóm tắt hồ sơ bệnh án) được gửi kèm hồ sơ điều trị ngoại trú (MA_LOAI_KCB 02)."),
    "XML8 with type 02: DOMAIN.md allows 03/04/06, the catalogue's XML8 field note also lists 02 — so a warning.",
    "XML8 with type 02",
)
DISCHARGE_PAPER_MISSING = _code(
    "DISCHARGE_PAPER_MISSING",
    ERROR,
    RECORD,
    _("Hồ sơ điều trị nội trú thiếu giấy ra viện (XML7)."),
    "MA_LOAI_KCB 03 without XML7, unless MA_LOAI_RV is 3 (absconded).",
    "inpatient discharged without XML7",
)
FOLLOW_UP_BEFORE_DISCHARGE = _code(
    "FOLLOW_UP_BEFORE_DISCHARGE",
    ERROR,
    RECORD,
    _("Ngày hẹn khám lại (NGAY_HEN_KL) trước thời điểm ra viện (NGAY_RA)."),
    "XML14 NGAY_HEN_KL < XML1 NGAY_RA.",
    "appointment the day before discharge",
)
CARD_FIELDS_COUNT_MISMATCH = _code(
    "CARD_FIELDS_COUNT_MISMATCH",
    ERROR,
    RECORD,
    _(
        "Số mã thẻ (MA_THE_BHYT), nơi đăng ký ban đầu (MA_DKBD) và hạn thẻ (GT_THE_TU, GT_THE_DEN) phải bằng nhau."
    ),
    "MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN hold different numbers of ';' items.",
    "two cards, one MA_DKBD",
)
RECORD_KEY_MISMATCH = _code(
    "RECORD_KEY_MISMATCH",
    ERROR,
    RECORD,
    _("MA_LK “{value}” của bảng {table} khác MA_LK “{expected}” của XML1."),
    "A row of another table carries a MA_LK different from XML1's.",
    "XML2 row of another visit",
)
FACILITY_MISMATCH = _code(
    "FACILITY_MISMATCH",
    ERROR,
    RECORD,
    _("Mã cơ sở KCB “{value}” ({table}.{field}) khác mã cơ sở gửi tệp “{expected}”."),
    "MA_CSKCB of XML1/XML13/XML14 differs from the envelope MACSKCB; the API refuses another facility's data.",
    "envelope 79048, XML1 MA_CSKCB 01001",
)
TOTAL_MISMATCH = _code(
    "TOTAL_MISMATCH",
    WARNING,
    RECORD,
    _("{field} = {value} khác tổng các dòng XML2, XML3 ({expected})."),
    "An XML1 total (T_THUOC, T_VTYT, T_TONGCHI_BV, T_TONGCHI_BH, T_BNTT, T_BNCCT, T_BHTT, T_NGUONKHAC, "
    "T_BHTT_GDV) differs from the sum of its XML2/XML3 lines by more than 1 đồng.",
    "T_TONGCHI_BV 100000 with lines summing to 95000",
)


def make_problem(
    code: str,
    *,
    file: str | None = None,
    record: str | None = None,
    table: str | None = None,
    row: int | None = None,
    field: str | None = None,
    value: str | None = None,
    extra: dict[str, Any] | None = None,
    cls: type[Problem] = Problem,
    **params: Any,
) -> Problem:
    """Build a ``Problem`` of ``code`` with its catalogue severity and its message formatted with the location."""
    entry = CODES.get(code)
    severity = entry.severity if entry else ERROR
    if value is not None and len(value) > 200:
        value = value[:200] + "…"
    message = message_for(code, field=field, table=table, value=value, **params)
    return cls(
        code=code,
        message=message,
        file=file,
        record=record,
        table=table,
        row=row,
        field=field,
        value=value,
        severity=severity,
        extra=extra if extra is not None else {},
    )


def render_markdown() -> str:
    """Render the catalogue as the Markdown page ``docs/ingestion-errors.md`` (Vietnamese messages)."""
    from django.utils import translation

    scopes = {
        FILE: "Cả tệp (file) — `FileProblem` từ `iter_visits`",
        VISIT: "Một hồ sơ (HOSO) — `Problem` từ `iter_visits`, hồ sơ không được trả về",
        RECORD: "Trường, dòng, quy tắc — trong `ValidatedVisit.errors` / `.warnings`",
    }
    lines = [
        "# QĐ 130 ingestion: problem codes",
        "",
        "<!-- Generated from src/soskdt/ingestion/errors.py by render_markdown(); a test keeps it in sync. -->",
        "",
        "Every problem is a `soskdt.core.errors.Problem` with a stable `code`, a Vietnamese `message`, a `severity`",
        "(`error` blocks the visit, `warning` does not) and its location: `file`, `record` (MA_LK), `table`, `row`",
        "(1-based within the table), `field`, `value`; parser problems carry the HOSO position in `extra['index']`.",
        "",
        "Decisions where the sources leave room (see `validation.py`):",
        "",
        "- `MA_LOAI_KCB` 10–16 (QĐ 1804, from 01/08/2026, secondary source) are accepted with a warning.",
        "- XML8 with `MA_LOAI_KCB` 02 is a warning: DOMAIN.md lists 03/04/06, the catalogue's XML8 note also lists 02.",
        "- XML4 `NGAY_KQ` may be up to 60 days after `NGAY_RA` (QĐ 4750 correction for late culture results).",
        "- `FACILITY_MISMATCH` compares `MA_CSKCB` of XML1, XML13 and XML14 with the envelope `MACSKCB`.",
        "- XML1 totals are compared with the XML2/XML3 lines with a tolerance of 1 đồng, as a warning.",
        "- `SO_CCCD`: 12 digits (personal ID), 9 digits (old ID card) or an upper-case letter and 7 digits (passport),",
        "  the portal rule in the catalogue; only the 12-digit form is cross-checked with `NGAY_SINH`/`GIOI_TINH`.",
        "- Code lists the catalogue marks as partial or vendor-sourced (`MA_DOITUONG_KCB`, `MA_TAI_NAN`, `MA_KHUVUC`)",
        "  give a warning, the others an error.",
        "- A literal `<!DOCTYPE` anywhere in the file (even inside CDATA) refuses the file from that point; in an inner",
        "  document (base64, escaped text) it refuses that visit.",
        "- Without `huge_tree`, libxml2 refuses text nodes over 10 MB: a NOIDUNGFILE that large stops the file with",
        "  `XML_LIMIT_EXCEEDED` (visits before it are kept), so the effective inner limit is about 7.5 MB decoded.",
        "",
    ]
    with translation.override("vi"):
        for scope in (FILE, VISIT, RECORD):
            lines += [
                f"## {scopes[scope]}",
                "",
                "| code | severity | message (vi) | meaning | example |",
                "|---|---|---|---|---|",
            ]
            for entry in CODES.values():
                if entry.scope != scope:
                    continue
                cells = [f"`{entry.code}`", entry.severity, entry.text(), entry.meaning, f"`{entry.example}`"]
                lines.append(
                    "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
                )
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m soskdt.ingestion.errors > docs/ingestion-errors.md
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soskdt.settings")
    django.setup()
    print(render_markdown())

"""Vietnamese names and places for the demo data (An Phú, An Giang), all in NFC with full diacritics.

Weights are rough shares in the Mekong Delta, where Huỳnh and Võ are common and Hoàng and Vũ are rare
(the same families as in the North, spelled the southern way). Tone marks use the traditional placement
(Hòa, Thủy, Thúy) throughout, so that a name never differs from itself only by where a mark sits.
"""

from __future__ import annotations

from dataclasses import dataclass


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PROVINCE_NAME = "An Giang"
# Administrative (GSO) code of An Giang; personal IDs registered there start with "0" + this code,
# facility codes and BHYT cards issued there carry it as their province part.
PROVINCE_CODE = "89"
PERSONAL_ID_PROVINCE = "089"

FAMILY_NAMES: tuple[tuple[str, int], ...] = (
    ("Nguyễn", 310),
    ("Trần", 110),
    ("Lê", 90),
    ("Phạm", 50),
    ("Huỳnh", 50),
    ("Võ", 45),
    ("Phan", 40),
    ("Trương", 20),
    ("Đặng", 18),
    ("Bùi", 15),
    ("Đỗ", 14),
    ("Hồ", 15),
    ("Ngô", 14),
    ("Dương", 12),
    ("Lý", 12),
    ("Đoàn", 10),
    ("Lâm", 10),
    ("Châu", 10),
    ("Mai", 8),
    ("Tô", 6),
    ("Lưu", 6),
    ("Đinh", 5),
    ("Thái", 5),
    ("Cao", 5),
    ("Hoàng", 5),
    ("Vũ", 5),
    ("Hà", 4),
    ("Quách", 3),
    ("Tạ", 3),
)

# Middle names by generation: "Văn" and "Thị" dominate among older people and fade among the young.
MALE_MIDDLE_OLD: tuple[tuple[str, int], ...] = (
    ("Văn", 75),
    ("Hữu", 6),
    ("Thanh", 5),
    ("Công", 4),
    ("Minh", 4),
    ("Tấn", 3),
    ("Ngọc", 3),
)
MALE_MIDDLE_MID: tuple[tuple[str, int], ...] = (
    ("Văn", 42),
    ("Hữu", 7),
    ("Minh", 9),
    ("Thanh", 8),
    ("Quốc", 7),
    ("Công", 5),
    ("Tấn", 5),
    ("Hoàng", 5),
    ("Ngọc", 4),
    ("Trọng", 3),
    ("Đức", 3),
    ("Thành", 2),
)
MALE_MIDDLE_YOUNG: tuple[tuple[str, int], ...] = (
    ("Minh", 16),
    ("Gia", 12),
    ("Hoàng", 10),
    ("Quốc", 9),
    ("Văn", 12),
    ("Bảo", 8),
    ("Đăng", 6),
    ("Nhật", 6),
    ("Anh", 5),
    ("Tuấn", 4),
    ("Thành", 4),
    ("Trọng", 4),
    ("Phúc", 4),
)
FEMALE_MIDDLE_OLD: tuple[tuple[str, int], ...] = (
    ("Thị", 85),
    ("Ngọc", 5),
    ("Kim", 5),
    ("Thanh", 3),
    ("Thu", 2),
)
FEMALE_MIDDLE_MID: tuple[tuple[str, int], ...] = (
    ("Thị", 50),
    ("Ngọc", 9),
    ("Thanh", 6),
    ("Kim", 6),
    ("Mỹ", 6),
    ("Thu", 5),
    ("Bích", 4),
    ("Hồng", 4),
    ("Kiều", 3),
    ("Phương", 3),
    ("Thùy", 4),
)
FEMALE_MIDDLE_YOUNG: tuple[tuple[str, int], ...] = (
    ("Ngọc", 14),
    ("Gia", 10),
    ("Bảo", 8),
    ("Khánh", 8),
    ("Minh", 7),
    ("Thị", 12),
    ("Anh", 6),
    ("Hoài", 5),
    ("Thảo", 5),
    ("Như", 5),
    ("Tường", 4),
    ("Yến", 4),
    ("Phương", 6),
)
# Women of the middle generation sometimes carry two middle names ("Nguyễn Thị Ngọc Hân").
FEMALE_SECOND_MIDDLE: tuple[str, ...] = ("Ngọc", "Kim", "Mỹ", "Thanh", "Bích", "Hồng", "Thu", "Diễm")

MALE_GIVEN_OLD: tuple[str, ...] = _words(
    "An Ba Bảy Bình Chiến Dũng Đức Hải Hòa Hùng Khánh Lộc Lợi Long Minh Mười Nam Nghĩa Nhân Phúc "
    "Phước Quang Sang Sáu Sơn Tâm Tám Thắng Thành Thiện Thọ Tiến Trí Trung Tư Tuấn Vinh Xuân"
)
MALE_GIVEN_MID: tuple[str, ...] = _words(
    "An Bình Cường Danh Dũng Duy Dương Đạt Điền Đức Hải Hậu Hiếu Hòa Hùng Huy Khang Khoa Kiệt Lâm "
    "Lộc Long Luân Minh Nam Nghĩa Nhân Phát Phong Phúc Quang Quân Sang Sơn Tài Tâm Thắng Thanh "
    "Thành Thiện Thịnh Toàn Trí Trung Tuấn Vinh Vũ Tín Triều"
)
MALE_GIVEN_YOUNG: tuple[str, ...] = _words(
    "An Bảo Duy Đăng Hiếu Huy Khang Khải Khoa Khôi Kiệt Lâm Long Minh Nam Nguyên Nhân Phát Phong "
    "Phúc Quân Sơn Tài Thiện Thịnh Tín Trí Tuấn Vinh Vũ Lộc Thuận"
)
FEMALE_GIVEN_OLD: tuple[str, ...] = _words(
    "Ba Bảy Bích Cúc Dung Đào Hai Hạnh Hoa Hồng Huệ Hương Lan Liên Loan Lệ Mai Nga Năm Nguyệt "
    "Nhung Phượng Sen Sương Thu Thủy Tuyết Út Vân Xuân Yến"
)
FEMALE_GIVEN_MID: tuple[str, ...] = _words(
    "Anh Bích Châu Diễm Dung Duyên Giang Hà Hạnh Hằng Hân Hiền Hoa Hồng Hương Huyền Kim Lan Liên "
    "Linh Loan Mai My Nga Ngân Ngọc Nhi Nhung Oanh Phương Phượng Quyên Tâm Thảo Thanh Thu Thủy "
    "Thúy Trang Trinh Tuyết Uyên Vân Xuân Yến Trâm Tiên"
)
FEMALE_GIVEN_YOUNG: tuple[str, ...] = _words(
    "An Anh Châu Hân Hằng Hà Khuê Linh Ly Mai My Ngân Ngọc Nhi Như Phương Quyên Tâm Thảo Thư Tiên "
    "Trâm Trang Uyên Vy Yến Ánh Diệp Hạ"
)

# Given names that people (and clerks) confuse; used to spell a card's name differently from the register.
CONFUSABLE_GIVEN: dict[str, str] = {
    "Thủy": "Thúy",
    "Thúy": "Thủy",
    "Hằng": "Hạnh",
    "Hạnh": "Hằng",
    "Trang": "Trâm",
    "Trâm": "Trang",
    "Phước": "Phúc",
    "Phúc": "Phước",
    "Hòa": "Hà",
    "Hà": "Hòa",
    "Vân": "Vy",
    "Vy": "Vân",
    "Tâm": "Tân",
    "Tân": "Tâm",
    "Nhân": "Nhàn",
    "Nhàn": "Nhân",
}


def vocabulary() -> frozenset[str]:
    """Every word a demo name may contain (for tests: no word loses its diacritics)."""
    words: set[str] = {name for name, _ in FAMILY_NAMES}
    for table in (
        MALE_MIDDLE_OLD,
        MALE_MIDDLE_MID,
        MALE_MIDDLE_YOUNG,
        FEMALE_MIDDLE_OLD,
        FEMALE_MIDDLE_MID,
        FEMALE_MIDDLE_YOUNG,
    ):
        words.update(name for name, _ in table)
    for given in (
        FEMALE_SECOND_MIDDLE,
        MALE_GIVEN_OLD,
        MALE_GIVEN_MID,
        MALE_GIVEN_YOUNG,
        FEMALE_GIVEN_OLD,
        FEMALE_GIVEN_MID,
        FEMALE_GIVEN_YOUNG,
    ):
        words.update(given)
    words.update(CONFUSABLE_GIVEN)
    words.update(CONFUSABLE_GIVEN.values())
    return frozenset(words)


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune of the An Phú area after the 1 July 2025 merger, with its hamlets and usual facility."""

    name: str
    code: str
    hamlets: tuple[str, ...]
    facility_code: str
    station_code: str


# The five communes formed from the former An Phú district on 1 July 2025. Commune codes and hamlet names
# are illustrative (shaped like the real ones, not copied from the official list).
COMMUNES: tuple[Commune, ...] = (
    Commune(
        "An Phú",
        "30337",
        ("An Thạnh", "Phước Thạnh", "Quốc Khánh", "Phú Hiệp", "Vĩnh Thạnh", "Phước Khánh"),
        "89010",
        "TYT-ANPHU",
    ),
    Commune(
        "Vĩnh Hậu",
        "30352",
        ("Vĩnh Thạnh", "Vĩnh Lợi", "Vĩnh Hòa", "Vĩnh Lộc", "Vĩnh Trường", "Búng Lớn"),
        "89012",
        "TYT-VINHHAU",
    ),
    Commune(
        "Nhơn Hội",
        "30358",
        ("Quốc Hưng", "Bắc Đai", "Hà Bao", "Phú Thạnh", "Quốc Thái", "Đồng Ky"),
        "89010",
        "TYT-NHONHOI",
    ),
    Commune(
        "Khánh Bình",
        "30343",
        ("Long Thạnh", "Long Hòa", "Khánh Hòa", "Khánh Lợi", "Tắc Trúc", "Bình Di"),
        "89011",
        "TYT-KHANHBINH",
    ),
    Commune(
        "Phú Hữu",
        "30364",
        ("Phú Hiệp", "Phú Thành", "Phú Lợi", "Phú Hữu", "Phú Thạnh", "Hưng Thạnh"),
        "89010",
        "TYT-PHUHUU",
    ),
)

# Where people living in An Phú had their birth registered (the PPP of their personal ID): mostly An Giang,
# some from the neighbouring Mekong provinces and the big cities.
BIRTH_PROVINCES: tuple[tuple[str, int], ...] = (
    ("089", 86),
    ("087", 4),  # Đồng Tháp
    ("091", 3),  # Kiên Giang
    ("092", 3),  # Cần Thơ
    ("079", 2),  # TP. Hồ Chí Minh
    ("086", 1),  # Vĩnh Long
    ("001", 1),  # Hà Nội
)

# Vietnamese mobile prefixes (10-digit numbers).
MOBILE_PREFIXES: tuple[str, ...] = _words(
    "032 033 034 035 036 037 038 039 086 096 097 098 081 082 083 084 085 088 091 094 070 076 077 078 079 089 090 093 056 058"
)

# Occupations of working-age residents, with the BHYT group their card usually carries.
OCCUPATIONS: tuple[tuple[str, str, int], ...] = (
    ("Làm ruộng", "GD", 60),
    ("Buôn bán", "GD", 28),
    ("Nuôi trồng thủy sản", "GD", 12),
    ("Lao động tự do", "GD", 20),
    ("Nội trợ", "GD", 16),
    ("Công nhân", "DN", 28),
    ("Nhân viên văn phòng", "DN", 8),
    ("Giáo viên", "HC", 10),
    ("Công chức", "HC", 6),
    ("Công an", "CA", 1),
)

STAFF_OCCUPATION = "Viên chức y tế"

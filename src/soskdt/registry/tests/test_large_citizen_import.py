from __future__ import annotations

import tracemalloc

import pytest

from soskdt.registry.models import Citizen
from soskdt.registry.services import import_register

ROWS = 200_000
NAMES = ["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Phúc", "Phạm Thị Thu Hương", "Võ Minh Đức"]


def personal_id(i: int) -> tuple[str, int, int]:
    """Return the i-th generated person's ID, birth year and sex digit (0 male, 1 female)."""
    female = i % 2
    year = 1940 + i % 80
    # G digit: sex and century (DOMAIN.md §2), so that the ID agrees with the row and gives no warning.
    century_digit = (year - 1900) // 100 * 2 + female
    return f"079{century_digit}{year % 100:02d}{i:06d}", year, female


def write_big_file(path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("personal_id,full_name,birth_date,sex,phone,address,province_code\n")
        for i in range(rows):
            value, year, female = personal_id(i)
            handle.write(
                f"{value},{NAMES[i % len(NAMES)]},{1 + i % 28:02d}/{1 + i % 12:02d}/{year},{female + 1},"
                f'09{i:08d},"{i} Lê Lợi, phường Bến Thành",079\n'
            )


@pytest.mark.slow
@pytest.mark.django_db
def test_a_200k_row_file_loads_completely_in_bounded_memory(tmp_path):
    path = tmp_path / "big.csv"
    write_big_file(path, ROWS)

    tracemalloc.start()
    try:
        result = import_register(kind="citizens", path=path, batch_size=5000)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (result.rows, result.created, result.rejected, result.exit_status) == (ROWS, ROWS, 0, 0)
    assert result.warnings.count == 0
    assert Citizen.objects.count() == ROWS
    print(f"tracemalloc peak {peak / 1e6:.1f} MB")
    assert peak < 100 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    last = Citizen.objects.get(personal_id=personal_id(ROWS - 1)[0])
    assert last.full_name == NAMES[(ROWS - 1) % len(NAMES)]

"""Measure ``soskdt registry import citizens`` on a generated 1,000,000-row file.

Writes a citizens CSV with realistic Vietnamese names (full diacritics), ethnicities, addresses and,
for children under 14, a parent as legal representative, into a temporary directory; imports it
twice (first run: every row created; second run: every row unchanged) and prints rows/s for each
and the peak resident memory of the process.

    .venv/bin/python bench/import_citizens.py [--rows 1000000] [--batch-size 2000] [--keep]

``DATABASE_URL`` chooses the database. Without it, a private PostgreSQL database
``soskdt_bench_import`` (``PGHOST``/``PGPORT``, default 127.0.0.1:5432, user postgres) is dropped,
created and migrated, and dropped again at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DB_NAME = "soskdt_bench_import"
MAX_ROWS = 1_000_000  # the 6-digit serial of the personal ID keeps generated IDs unique up to here

# Roughly the national frequencies of family names.
SURNAMES = [
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 3), ("Huỳnh", 2), ("Phan", 4),
    ("Vũ", 2), ("Võ", 2), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1), ("Hồ", 1), ("Ngô", 1), ("Dương", 1), ("Lý", 1),
]  # fmt: skip
MIDDLE = {
    "1": ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Gia", "Hoàng", "Xuân"],
    "2": ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Bảo", "Phương", "Hoài", "Mỹ", "Thị Thanh"],
}
GIVEN = {
    "1": ["An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khang", "Khôi", "Long", "Minh", "Nam",
          "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Toàn", "Trung", "Tuấn", "Việt", "Vinh", "Đông", "Lộc"],
    "2": ["Anh", "Bích", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Loan", "Mai",
          "My", "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh", "Tâm", "Thảo", "Thủy", "Trang", "Uyên", "Vân", "Vy", "Yến"],
}  # fmt: skip
ETHNICITIES = [
    ("Kinh", 85),
    ("Tày", 2),
    ("Thái", 2),
    ("Mường", 2),
    ("Khmer", 1),
    ("Hoa", 1),
    ("Nùng", 1),
    ("H'Mông", 1),
]
OCCUPATIONS = [
    "Nông dân",
    "Công nhân",
    "Giáo viên",
    "Kinh doanh",
    "Nhân viên văn phòng",
    "Điều dưỡng",
    "Nội trợ",
    "Hưu trí",
    "Sinh viên",
    "Lái xe",
]
# (personal-ID province code, name, a ward or commune there)
PLACES = [
    ("001", "Thành phố Hà Nội", "phường Hoàn Kiếm"),
    ("079", "Thành phố Hồ Chí Minh", "phường Bến Thành"),
    ("048", "Thành phố Đà Nẵng", "phường Hải Châu"),
    ("031", "Thành phố Hải Phòng", "phường Lê Chân"),
    ("092", "Thành phố Cần Thơ", "phường Ninh Kiều"),
    ("046", "Thành phố Huế", "phường Thuận Hóa"),
    ("038", "Tỉnh Thanh Hóa", "xã Hoằng Hóa"),
    ("040", "Tỉnh Nghệ An", "xã Diễn Châu"),
    ("066", "Tỉnh Đắk Lắk", "phường Buôn Ma Thuột"),
    ("089", "Tỉnh An Giang", "phường Long Xuyên"),
]
STREETS = [
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Phan Đình Phùng",
    "Quang Trung",
]
HEADER = (
    "personal_id,full_name,birth_date,sex,ethnicity,nationality,occupation,phone,address,"
    "province_code,commune_code,representative_personal_id,representative_relation\n"
)


def generate(path: Path, rows: int, *, seed: int = 20241222) -> None:
    """Write ``rows`` citizens; about one in six is a child whose representative is an earlier adult."""
    rng = random.Random(seed)
    surnames, surname_weights = zip(*SURNAMES, strict=True)
    ethnicities, ethnicity_weights = zip(*ETHNICITIES, strict=True)
    recent_adults: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(rows):
            sex = rng.choice("12")
            year = rng.randint(1935, 2024)
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            province, province_name, ward = rng.choice(PLACES)
            # DOMAIN.md §2: PPP G YY RRRRRR, G = sex and century.
            personal_id = f"{province}{(year - 1900) // 100 * 2 + (sex == '2')}{year % 100:02d}{i:06d}"
            name = f"{rng.choices(surnames, surname_weights)[0]} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
            birth = rng.choice([f"{day:02d}/{month:02d}/{year}"] * 8 + [f"{year}-{month:02d}", str(year)])
            representative, relation = "", ""
            if year >= 2012 and recent_adults:
                representative, relation = (
                    rng.choice(recent_adults),
                    rng.choice(["mẹ", "bố", "người giám hộ"]),
                )
            elif year <= 2000:
                recent_adults = [*recent_adults[-99:], personal_id]
            address = f'"Số {rng.randint(1, 300)} {rng.choice(STREETS)}, {ward}, {province_name}"'
            out.write(
                f"{personal_id},{name},{birth},{sex},{rng.choices(ethnicities, ethnicity_weights)[0]},Việt Nam,"
                f"{rng.choice(OCCUPATIONS) if year < 2008 else 'Học sinh'},09{rng.randint(0, 99_999_999):08d},"
                f"{address},{province},{rng.randint(0, 32_000):05d},{representative},{relation}\n"
            )


def _setup_database() -> bool:
    """Point Django at DATABASE_URL, or at a fresh private PostgreSQL database; return whether it is ours."""
    own = "DATABASE_URL" not in os.environ
    if own:
        import psycopg

        host = os.environ.get("PGHOST", "127.0.0.1")
        port = os.environ.get("PGPORT", "5432")
        user = os.environ.get("PGUSER", "postgres")
        with psycopg.connect(
            f"host={host} port={port} user={user} dbname=postgres", autocommit=True
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')
        os.environ["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{DB_NAME}"
    os.environ.setdefault("SOSKDT_VAR_DIR", tempfile.mkdtemp(prefix="soskdt-bench-var-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soskdt.settings")

    import django
    from django.core.management import call_command

    django.setup()
    # Every app: an import's receivers (healthbook links waiting visits) query their own tables.
    call_command("migrate", verbosity=0)
    return own


def _drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    host, port, user = (
        os.environ.get(k, d) for k, d in (("PGHOST", "127.0.0.1"), ("PGPORT", "5432"), ("PGUSER", "postgres"))
    )
    with psycopg.connect(f"host={host} port={port} user={user} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _timed_import(path: Path, batch_size: int) -> tuple[float, dict[str, int], int]:
    from soskdt.registry.services import import_register

    started = time.perf_counter()
    result = import_register(kind="citizens", path=path, batch_size=batch_size)
    return time.perf_counter() - started, result.counts(), result.warnings.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=MAX_ROWS)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the private database afterwards")
    args = parser.parse_args()
    if not 0 < args.rows <= MAX_ROWS:
        parser.error(f"--rows must be between 1 and {MAX_ROWS:,}")

    own = _setup_database()
    from django.db import connection

    with tempfile.TemporaryDirectory(prefix="soskdt-bench-") as folder:
        path = Path(folder) / "citizens.csv"
        started = time.perf_counter()
        generate(path, args.rows)
        print(
            f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB, generated in {time.perf_counter() - started:.1f} s"
        )
        print(
            f"database: {connection.vendor} {connection.settings_dict['NAME']}, batch size {args.batch_size:,}"
        )
        rss_before = _peak_rss_mb()
        for label in ("first import (all new)", "second import (same file)"):
            seconds, counts, warnings = _timed_import(path, args.batch_size)
            print(
                f"{label}: {seconds:.1f} s, {counts['rows'] / seconds:,.0f} rows/s — created {counts['created']:,}, "
                f"updated {counts['updated']:,}, unchanged {counts['unchanged']:,}, rejected {counts['rejected']:,}, "
                f"warnings {warnings:,}"
            )
    print(f"peak RSS: {_peak_rss_mb():.0f} MB (before the first import: {rss_before:.0f} MB)")
    if own and not args.keep:
        _drop_database()


if __name__ == "__main__":
    main()

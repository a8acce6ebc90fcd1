"""The ``soskdt`` console command: a thin wrapper over the project's Django management commands.

``soskdt demo`` runs ``manage.py demo``; ``soskdt export-book`` runs ``export_book``. Every management
command defined in a ``soskdt.*`` app is a sub-command, plus a few of Django's own (migrate, runserver…).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DJANGO_COMMANDS = {
    "migrate": "Tạo/cập nhật cơ sở dữ liệu (Django migrate)",
    "runserver": "Chạy máy chủ web phát triển",
    "createsuperuser": "Tạo tài khoản quản trị",
    "db_worker": "Chạy tiến trình xử lý tác vụ nền (django-tasks)",
    "shell": "Mở Python shell với Django",
    "check": "Kiểm tra cấu hình",
}


def _setup() -> None:
    src = Path(__file__).resolve().parents[1]
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soskdt.settings")
    import django

    django.setup()


def project_commands() -> dict[str, str]:
    """Map each sub-command name (with dashes) to its one-line help."""
    from django.core.management import get_commands, load_command_class

    found: dict[str, str] = {}
    for name, app in sorted(get_commands().items()):
        if app.startswith("soskdt."):
            command = load_command_class(app, name)
            found[name.replace("_", "-")] = (
                (command.help or "").strip().splitlines()[0] if command.help else ""
            )
    for name, text in DJANGO_COMMANDS.items():
        found.setdefault(name.replace("_", "-"), text)
    return dict(sorted(found.items()))


def _print_help() -> None:
    print("Cách dùng / usage: soskdt <lệnh> [tham số...]\n")
    print("Các lệnh / commands:")
    for name, text in project_commands().items():
        print(f"  {name:<18} {text}")
    print("\n`soskdt <lệnh> --help` để xem chi tiết một lệnh.")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    _setup()
    if not args or args[0] in ("-h", "--help", "help"):
        _print_help()
        return 0
    name = args[0]
    commands = project_commands()
    if name not in commands:
        print(f"soskdt: không có lệnh '{name}' / unknown command '{name}'.\n", file=sys.stderr)
        _print_help()
        return 2
    from django.core.management import ManagementUtility

    utility = ManagementUtility(["soskdt", name.replace("-", "_"), *args[1:]])
    utility.prog_name = "soskdt"
    try:
        utility.execute()
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int | None) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

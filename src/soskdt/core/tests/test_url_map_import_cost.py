"""Importing the URL map, the first thing every fresh web worker does, leaves the heavy drawing libraries alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[3]
HEAVY = ("matplotlib", "fontTools", "openpyxl", "docx", "fpdf")

_SCRIPT = f"""
import json, sys
import django
django.setup()
import soskdt.urls
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""


def test_importing_the_url_map_imports_no_chart_or_export_library(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "soskdt.settings",
        "SOSKDT_VAR_DIR": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p),
    }
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []

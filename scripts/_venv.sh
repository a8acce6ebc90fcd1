# Sourced by the scripts: make ./.venv with the project installed (from pyproject + constraints.txt).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
STAMP=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)-${SOSKDT_EXTRAS:-dev}"
if [ ! -x .venv/bin/python ]; then
  echo "==> Tạo môi trường ảo .venv ($PY)"
  "$PY" -m venv .venv
fi
if [ ! -f "$STAMP" ]; then
  echo "==> Cài đặt thư viện (pip install -c constraints.txt -e .[${SOSKDT_EXTRAS:-dev}])"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[${SOSKDT_EXTRAS:-dev}]"
  rm -f .venv/.installed-*
  touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"

"""The dashboard's charts speak the page's language: legends in Vietnamese, or in English when asked."""

from __future__ import annotations

from django.utils import translation

from soskdt.rollout.charts import MonthProgress, UnitProgress, months_line_chart, units_bar_chart

UNITS = [UnitProgress("Trạm Y tế xã An Bình", 72.5, 40.0)]
MONTHS = [MonthProgress("11/2026", 60.0, 30.0, 20.0), MonthProgress("12/2026", 72.5, 40.0, 25.0)]


def test_the_charts_legends_follow_the_language():
    with translation.override("vi"):
        bar = units_bar_chart(UNITS, target=80, title="Tiến độ")
        line = months_line_chart(MONTHS, target=90, title="Tiến độ chung")
    assert "Tài khoản mức 2 (% cán bộ)" in bar and "Tích hợp thẻ BHYT (% có điện thoại thông minh)" in bar
    assert "Khởi tạo Sổ SKĐT" in line and "Chỉ tiêu 90%" in line
    with translation.override("en"):
        bar = units_bar_chart(UNITS, target=80, title="Progress")
        line = months_line_chart(MONTHS, target=90, title="Overall progress")
    assert "Level-2 accounts (% of staff)" in bar and "Insurance card linked (% of smartphone owners)" in bar
    assert "Target 90%" in line and "Level-2 accounts" in line
    assert "Tài khoản" not in bar + line and "Chỉ tiêu" not in line

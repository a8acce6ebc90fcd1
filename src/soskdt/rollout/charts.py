"""Progress charts of the dashboard: matplotlib figures (no pyplot, thread-safe) rendered to inline SVG.

matplotlib is imported by the first chart, not with this module: the URL map imports the views, and a fresh
web worker should not pay for matplotlib before anybody opens the dashboard.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_LEVEL2 = "#b3131b"
_CARD = "#0b57d0"
_BOOK = "#0b6b2f"
_TARGET = "#4a4a4a"


@dataclass(frozen=True, slots=True)
class UnitProgress:
    name: str
    level2_percent: float | None
    card_percent: float | None


@dataclass(frozen=True, slots=True)
class MonthProgress:
    label: str
    level2_percent: float | None
    card_percent: float | None
    book_percent: float | None


@cache
def _figure_class() -> type[Figure]:
    """Import matplotlib and set it up for the charts, once per process."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    rcParams["font.family"] = "DejaVu Sans"
    rcParams["svg.fonttype"] = "none"  # text stays text: crisp, searchable, read by screen readers
    rcParams["svg.hashsalt"] = "soskdt"  # stable element ids, so the same data gives the same SVG
    return Figure


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _short(name: str, limit: int = 34) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def units_bar_chart(units: Sequence[UnitProgress], *, target: int, title: str) -> str:
    """Horizontal bars per unit: % of staff with level 2, % of smartphone owners with the card linked."""
    height = 1.2 + 0.42 * max(1, len(units))
    figure = _figure_class()(figsize=(8, height), dpi=96)
    ax = figure.add_subplot()
    names = [_short(u.name) for u in units][::-1]
    level2 = [u.level2_percent or 0 for u in units][::-1]
    card = [u.card_percent or 0 for u in units][::-1]
    positions = range(len(units))
    ax.barh(
        [p + 0.2 for p in positions],
        level2,
        height=0.38,
        color=_LEVEL2,
        label=_("Tài khoản mức 2 ({percent} cán bộ)").format(percent="%"),
    )
    ax.barh(
        [p - 0.2 for p in positions],
        card,
        height=0.38,
        color=_CARD,
        label=_("Tích hợp thẻ BHYT ({percent} có điện thoại thông minh)").format(percent="%"),
    )
    ax.axvline(target, color=_TARGET, linestyle="--", linewidth=1)
    ax.set_yticks(list(positions), names, fontsize=9)
    ax.set_xlim(0, 105)
    ax.set_xlabel("%")
    ax.set_title(title, fontsize=11, loc="left")
    ax.legend(
        loc="lower center", bbox_to_anchor=(0.5, 1.02 + 0.3 / height), ncol=1, fontsize=8, frameon=False
    )
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def months_line_chart(months: Sequence[MonthProgress], *, target: int, title: str) -> str:
    """Lines over the campaign's months: level 2, card linked, book created (%)."""
    figure = _figure_class()(figsize=(8, 3.6), dpi=96)
    ax = figure.add_subplot()
    labels = [m.label for m in months]
    xs = list(range(len(months)))
    for values, colour, label in (
        ([m.level2_percent for m in months], _LEVEL2, _("Tài khoản mức 2")),
        ([m.card_percent for m in months], _CARD, _("Tích hợp thẻ BHYT")),
        ([m.book_percent for m in months], _BOOK, _("Khởi tạo Sổ SKĐT")),
    ):
        points = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=colour, label=label)
    ax.axhline(
        target,
        color=_TARGET,
        linestyle="--",
        linewidth=1,
        label=_("Chỉ tiêu {target}%").format(target=target),
    )
    ax.set_xticks(xs, labels, fontsize=9)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_title(title, fontsize=11, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(axis="y", color="#e0e0e0")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(figure)

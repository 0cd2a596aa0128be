"""The chamber dashboard in the admin site: figures per week as server-drawn SVG bars, a table, and a CSV.

Both views are wrapped in admin.site.admin_view (staff only, a non-staff user is sent to the admin's login);
config/urls.py routes /admin/dashboard/ to them ahead of the admin site's own URLs.
"""

from __future__ import annotations

import csv

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from companies.models import Organisation
from companies.spreadsheets import escape_row
from matchmaking.dashboard import MEDIAN_LABEL, SERIES, Figures, Scope, chamber_figures, scope_for

# Bars of a chart, in the SVG's own units (it scales to the column's width): a line above them for the
# largest value, a line below for the weeks.
CHART_WIDTH, CHART_HEIGHT, TOP, AXIS = 260, 100, 14, 14
# The charts of the page, in this order ("median": the median delay to a decision); the table and the CSV
# show every series.
CHARTS = (
    "registered",
    "published",
    "decisions",
    "median",
    "introduced",
    "connected",
    "declined",
    "expired",
    "met",
    "agreement",
)


def _scope(request: HttpRequest) -> Scope | None:
    # Only a superuser's pick is read (scope_for ignores anyone else's): staff always get their own chamber.
    return scope_for(request.user, chamber_id=request.GET.get("chamber"))


def bar_chart(values: list[float | None], labels: list[str], *, title: str) -> dict:
    """Geometry of a bar chart (one bar per week, the last one this week's) for the template's inline SVG.
    Coordinates are strings already: the template would write a float the locale's way ("12,5" in Russian)."""
    top = max((value for value in values if value is not None), default=0)
    step = CHART_WIDTH / len(values)
    base = CHART_HEIGHT - AXIS
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = 0 if not value or top <= 0 else max(0.0, (base - TOP) * value / top)
        bars.append(
            {
                "x": _svg(i * step + step * 0.15),
                "width": _svg(step * 0.7),
                "y": _svg(base - height),
                "height": _svg(height),
                "value": "–" if value is None else _number(value),
                "label": label,
                "this_week": i == len(values) - 1,
            }
        )
    return {
        "title": title,
        "bars": bars,
        "width": _svg(CHART_WIDTH),
        "height": _svg(CHART_HEIGHT),
        "axis_y": _svg(base),
        "label_y": _svg(CHART_HEIGHT - 2),
        "top": _number(top),
        "top_y": _svg(TOP - 4),
        "first": labels[0],
        "last": labels[-1],
    }


def _svg(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _sector_name(sector: dict) -> str:
    return sector.get(f"name_{(get_language() or 'en')[:2]}") or sector["name_en"]


def _rows(figures: Figures) -> list[tuple[str, list]]:
    """The weekly table's rows: (label, one value per week)."""
    labels = dict(SERIES)
    rows = [(str(labels[name]), figures.weekly[name]) for name, _label in SERIES]
    rows.append((str(MEDIAN_LABEL), ["" if hours is None else hours for hours in figures.median_hours]))
    return rows


def _chambers(request: HttpRequest) -> list[Organisation]:
    return list(Organisation.objects.filter(vets_companies=True).order_by("name")) if request.user.is_superuser else []


def _dashboard(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    context = {
        **admin.site.each_context(request),
        "title": _("Chamber dashboard"),
        "scope": scope,
    }
    if scope is not None:
        figures = chamber_figures(scope)
        titles = {**dict(SERIES), "median": MEDIAN_LABEL}
        charts = [
            bar_chart(
                figures.median_hours if name == "median" else figures.weekly[name],
                figures.labels,
                title=str(titles[name]),
            )
            for name in CHARTS
        ]
        context.update(
            {
                "figures": figures,
                "week": figures.labels[-1],
                "charts": charts,
                "rows": _rows(figures),
                "sectors": [
                    {"code": s["code"], "name": _sector_name(s), "pairs": s["pairs"]} for s in figures.top_sectors
                ],
                "chambers": _chambers(request),
                "chamber_query": f"?chamber={scope.chamber_id}"
                if request.user.is_superuser and scope.chamber_id
                else "",
            }
        )
    return render(request, "admin/matchmaking/dashboard.html", context)


def _figures_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    if scope is None:
        response.status_code = 404
        return response
    figures = chamber_figures(scope)
    response["Content-Disposition"] = f'attachment; filename="dashboard-{figures.labels[-1]}.csv"'
    # A byte-order mark, or Excel reads the UTF-8 as its local code page and garbles Russian and Vietnamese.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(escape_row([_("Chamber"), scope.name]))
    writer.writerow(escape_row([_("Figure"), *figures.labels]))
    for label, values in _rows(figures):
        writer.writerow(escape_row([label, *values]))
    writer.writerow([])
    writer.writerow(escape_row([_("Firms waiting for vetting"), figures.pending_firms]))
    writer.writerow(escape_row([_("Suggestions waiting"), figures.suggestions_waiting]))
    writer.writerow([])
    writer.writerow(escape_row([_("Sector"), _("Connected pairs")]))
    for sector in figures.top_sectors:
        writer.writerow(escape_row([f"{sector['code']} {_sector_name(sector)}", sector["pairs"]]))
    return response


dashboard = admin.site.admin_view(_dashboard)
figures_csv = admin.site.admin_view(_figures_csv)

"""The organisers' report of a B2B event: meetings scheduled and held, no-shows and the outcomes the firms
told, by country and by sector; as the admin's page (tables and bar charts) and as a CSV of the meetings."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext

from companies.models import Company
from companies.spreadsheets import escape_row
from events.models import Event, Meeting, Participant
from matchmaking.models import Match


def meeting_held(meeting: Meeting) -> bool:
    """Held: both firms were checked in on the day."""
    return (
        meeting.request.requester.attendance == Participant.Attendance.CHECKED_IN
        and meeting.request.invitee.attendance == Participant.Attendance.CHECKED_IN
    )


def event_meetings_for_report(event: Event) -> QuerySet[Meeting]:
    companies = Company.objects.prefetch_related("sectors")
    return (
        event.meetings.select_related("slot", "interpreter", "request__requester", "request__invitee")
        .prefetch_related(
            Prefetch("request__requester__company", queryset=companies),
            Prefetch("request__invitee__company", queryset=companies),
        )
        .order_by("slot__starts_at", "table")
    )


def report_sector(company: Company) -> str:
    """The sector a firm counts under in the report: the first of its sectors by code (prefetched)."""
    sectors = sorted(company.sectors.all(), key=lambda s: s.code)
    return str(sectors[0]) if sectors else "—"


def event_report(event: Event) -> dict:
    """Meetings scheduled and held, no-shows, and the outcomes the firms told, by sector and by country."""
    meetings = list(event_meetings_for_report(event))
    participants = list(event.participants.filter(status=Participant.Status.ACCEPTED).select_related("company"))
    outcome_labels = dict(Match.Outcome.choices)
    by_country: dict[str, Counter] = defaultdict(Counter)
    by_sector: dict[str, Counter] = defaultdict(Counter)
    rows = []
    for meeting in meetings:
        held = meeting_held(meeting)
        for side, participant in (("requester", meeting.request.requester), ("invitee", meeting.request.invitee)):
            company = participant.company
            outcome = getattr(meeting, f"outcome_{side}") or ""
            for counter in (by_country[company.get_country_display()], by_sector[report_sector(company)]):
                counter["meetings"] += 1
                counter["held"] += held
                counter[outcome or "none"] += 1
        rows.append(
            {
                "meeting": meeting,
                "held": held,
                "outcome_requester": outcome_labels.get(meeting.outcome_requester, ""),
                "outcome_invitee": outcome_labels.get(meeting.outcome_invitee, ""),
            }
        )
    attendance = Counter(p.attendance for p in participants)
    return {
        "participants": len(participants),
        "checked_in": attendance[Participant.Attendance.CHECKED_IN],
        "no_shows": attendance[Participant.Attendance.NO_SHOW],
        "meetings": len(meetings),
        "held": sum(row["held"] for row in rows),
        "rows": rows,
        "by_country": dict(sorted(by_country.items())),
        "by_sector": dict(sorted(by_sector.items())),
        "outcomes": [(value or "none", label) for value, label in Match.Outcome.choices],
    }


# --- the admin's page and CSV --------------------------------------------------------------------------------

CHART_LABEL_WIDTH = 260  # room for 34 characters of a sector name at 12 px
CHART_BAR_AREA = 360
CHART_BAR_HEIGHT = 12
CHART_COLOURS = ["#417690", "#79aec8", "#e1a95f", "#9bc53d", "#c7c7c7"]


def bar_chart(rows: list[tuple[str, list[tuple[str, int]]]]) -> dict:
    """A horizontal bar chart as coordinates for an inline SVG: one group of bars per row, one bar per series.
    Drawn in the template, so no JavaScript library is needed and the labels are escaped."""
    top = max((value for _label, series in rows for _name, value in series), default=0) or 1
    per_row = max((len(series) for _label, series in rows), default=1)
    row_height = per_row * (CHART_BAR_HEIGHT + 2) + 10
    drawn, legend = [], []
    for n, (label, series) in enumerate(rows):
        y = 24 + n * row_height
        bars = [
            {
                "y": y + k * (CHART_BAR_HEIGHT + 2),
                "width": max(round(value / top * CHART_BAR_AREA), 1 if value else 0),
                "value": value,
                "colour": CHART_COLOURS[k % len(CHART_COLOURS)],
                "text_x": 0,
            }
            for k, (_name, value) in enumerate(series)
        ]
        for bar in bars:
            bar["text_x"] = CHART_LABEL_WIDTH + bar["width"] + 4
            bar["text_y"] = bar["y"] + CHART_BAR_HEIGHT - 2
        drawn.append({"label": label, "label_y": y + CHART_BAR_HEIGHT - 2, "bars": bars})
    if rows:
        legend = [
            {"name": name, "colour": CHART_COLOURS[k % len(CHART_COLOURS)], "x": CHART_LABEL_WIDTH + k * 120}
            for k, (name, _value) in enumerate(rows[0][1])
        ]
    return {
        "rows": drawn,
        "legend": legend,
        "label_width": CHART_LABEL_WIDTH,
        "bar_x": CHART_LABEL_WIDTH,
        "width": CHART_LABEL_WIDTH + CHART_BAR_AREA + 50,
        "height": 24 + len(rows) * row_height,
    }


def report_tables(report: dict) -> dict:
    """The report's groups as table rows and charts: meetings and held, then each outcome, in the outcomes'
    order. A meeting counts once for each firm's country (or sector): it is that firm's meeting."""
    outcomes = report["outcomes"]

    def rows(groups: dict[str, Counter]) -> list[dict]:
        return [
            {
                "label": label,
                "meetings": counts["meetings"],
                "held": counts["held"],
                "outcomes": [counts[value] for value, _label in outcomes],
            }
            for label, counts in groups.items()
        ]

    totals = Counter()
    for counts in report["by_country"].values():  # each side of each meeting once
        totals.update(counts)
    meetings_label, held_label = gettext("meetings"), gettext("held")
    return {
        "outcome_labels": [label for _value, label in outcomes],
        "country_rows": rows(report["by_country"]),
        "sector_rows": rows(report["by_sector"]),
        "country_chart": bar_chart(
            [
                (label, [(meetings_label, c["meetings"]), (held_label, c["held"])])
                for label, c in report["by_country"].items()
            ]
        ),
        "sector_chart": bar_chart(
            [
                (label, [(meetings_label, c["meetings"]), (held_label, c["held"])])
                for label, c in report["by_sector"].items()
            ]
        ),
        "outcome_chart": bar_chart([(str(label), [(gettext("firms"), totals[value])]) for value, label in outcomes]),
    }


def report_csv(event: Event) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-meetings.csv"'
    response.write("\ufeff")  # the BOM tells Excel the file is UTF-8, so Vietnamese and Russian names read right
    writer = csv.writer(response)
    writer.writerow(
        [
            gettext("starts at (%(zone)s)") % {"zone": event.time_zone},
            gettext("table"),
            gettext("requesting firm"),
            gettext("its country"),
            gettext("its sector"),
            gettext("invited firm"),
            gettext("its country"),
            gettext("its sector"),
            gettext("interpreter"),
            gettext("held"),
            gettext("outcome told by the requesting firm"),
            gettext("outcome told by the invited firm"),
        ]
    )
    zone = ZoneInfo(event.time_zone)
    outcome_labels = dict(Match.Outcome.choices)
    for meeting in event_meetings_for_report(event):
        requester, invitee = meeting.request.requester.company, meeting.request.invitee.company
        writer.writerow(
            escape_row(
                [  # firm and interpreter names are the firms' own: no formulae for Excel
                    timezone.localtime(meeting.slot.starts_at, zone).strftime("%Y-%m-%d %H:%M"),
                    meeting.table,
                    requester.name,
                    requester.get_country_display(),
                    report_sector(requester),
                    invitee.name,
                    invitee.get_country_display(),
                    report_sector(invitee),
                    meeting.interpreter.name if meeting.interpreter else "",
                    gettext("yes") if meeting_held(meeting) else gettext("no"),
                    outcome_labels[meeting.outcome_requester] if meeting.outcome_requester else "",
                    outcome_labels[meeting.outcome_invitee] if meeting.outcome_invitee else "",
                ]
            )
        )
    return response

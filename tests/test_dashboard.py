"""The chamber dashboard (/admin/dashboard/) and its summary on the admin index: the figures of a small
hand-made history, per chamber, as a page, a CSV and a summary, in a fixed number of queries."""

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from companies import services as company_services
from companies.models import Company, StatusChange
from matchmaking import services
from matchmaking.models import Match, MatchEvent
from tests.factories import ChamberFactory, ChamberStaffFactory, CompanyFactory, MatchFactory, UserFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/dashboard/"
CSV_URL = "/admin/dashboard/figures.csv"
VN_CLOCK = ZoneInfo("Asia/Ho_Chi_Minh")  # VCCI (a Vietnamese chamber) counts weeks on Hanoi's clock
_today = datetime.now(UTC).date()
# Wednesday noon (UTC) of this week: the same ISO week on Hanoi's, Moscow's and UTC's clocks.
NOW = datetime.combine(_today - timedelta(days=_today.weekday() - 2), time(12), tzinfo=UTC)


@pytest.fixture(autouse=True)
def _wednesday(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def monday(weeks_back: int = 0) -> datetime:
    """10:00 on Monday of this ISO week in Hanoi, or of a week ``weeks_back`` before it."""
    today = timezone.localtime(NOW, VN_CLOCK).date()
    start = today - timedelta(days=today.weekday(), weeks=weeks_back)
    return datetime.combine(start, time(10), tzinfo=VN_CLOCK)


def at(match: Match, action: str, moment: datetime) -> None:
    MatchEvent.objects.filter(match=match, action=action).update(at=moment)


@pytest.fixture
def rival():
    return ChamberFactory(slug="dr-test", name="Delovaya Rossiya test", country="RU")


@pytest.fixture
def rival_client(rival):
    # A client of its own: the staff_client fixture is the same test client, signed in as another user.
    other = Client()
    user = UserFactory(username="dr-staff")
    company_services.make_chamber_staff(user, rival)
    other.force_login(user)
    return other


@pytest.fixture
def history(vcci, rival):
    """VCCI's firms (Vietnamese) and Delovaya Rossiya's (Russian), matched across; what happened, and when."""
    reviewer = UserFactory(username="reviewer", is_staff=True)
    ours = [CompanyFactory(country="VN", chamber=vcci) for _ in range(4)]
    theirs = [CompanyFactory(country="RU", city="Moscow", chamber=rival) for _ in range(4)]
    for firm in ours[:3]:
        firm.sectors.set(["46"])
    Company.objects.filter(pk__in=[f.pk for f in ours[:3]]).update(created_at=monday())  # registered this week
    Company.objects.filter(pk=ours[3].pk).update(created_at=monday(2))
    Company.objects.filter(pk__in=[f.pk for f in theirs]).update(created_at=monday(20))  # before the 13 weeks
    pending = CompanyFactory(country="VN", chamber=vcci, status=Company.Status.PENDING)
    Company.objects.filter(pk=pending.pk).update(created_at=monday(1))
    CompanyFactory(country="RU", chamber=rival, status=Company.Status.PENDING)
    CompanyFactory(country="RU", chamber=rival, status=Company.Status.PENDING)

    # Published by their chamber: two of VCCI's this week, one last week, one of Delovaya Rossiya's this week.
    for firm, weeks_back in ((ours[0], 0), (ours[1], 0), (ours[2], 1), (theirs[0], 0)):
        Company.objects.filter(pk=firm.pk).update(status=Company.Status.PENDING)
        firm.refresh_from_db()
        company_services.change_status(firm, Company.Status.PUBLISHED, by=reviewer)
        StatusChange.objects.filter(company=firm, to_status=Company.Status.PUBLISHED).update(
            changed_at=monday(weeks_back)
        )

    def match(vn, ru, **kwargs):
        return MatchFactory(company_vn=vn, company_ru=ru, **kwargs)

    # Waiting: two with a VCCI firm, one between Delovaya Rossiya's firms and an unvetted Vietnamese one.
    match(ours[0], theirs[0])
    match(ours[1], theirs[0])
    match(CompanyFactory(country="VN", chamber=None), theirs[1])

    # Decided this week: one approved 10 h after it was suggested, one rejected after 30 h (median 20 h).
    approved, rejected = match(ours[0], theirs[1]), match(ours[1], theirs[1])
    services.approve([approved], by=reviewer)
    services.reject([rejected], by=reviewer, note="competitors")
    Match.objects.filter(pk=approved.pk).update(created_at=monday() - timedelta(hours=10))
    Match.objects.filter(pk=rejected.pk).update(created_at=monday() - timedelta(hours=30))
    at(approved, "approved", monday())
    at(rejected, "rejected", monday())
    # ... and introduced, accepted by both, and they signed an agreement (both tell it: one pair).
    services.introduce(approved)
    services.respond(approved, approved.company_vn, True, by=None)
    services.respond(approved, approved.company_ru, True, by=None)
    services.record_outcome(approved, approved.company_vn, Match.Outcome.AGREEMENT, by=None)
    services.record_outcome(approved, approved.company_ru, Match.Outcome.MET, by=None)
    for action in ("introduced", "accepted", "outcome"):
        at(approved, action, monday() + timedelta(hours=1))

    # Two weeks ago: approved after 4 h, introduced, declined by the Russian firm.
    declined = match(ours[2], theirs[2])
    services.approve([declined], by=reviewer)
    services.introduce(declined)
    services.respond(declined, declined.company_ru, False, by=None)
    Match.objects.filter(pk=declined.pk).update(created_at=monday(2) - timedelta(hours=4))
    for action in ("approved", "introduced", "declined"):
        at(declined, action, monday(2))

    # Last week: approved 2 h after it was suggested, introduced, left unanswered until it expired.
    expired = match(ours[3], theirs[3])
    services.approve([expired], by=reviewer)
    services.introduce(expired)
    Match.objects.filter(pk=expired.pk).update(
        created_at=monday(1) - timedelta(hours=2), introduced_at=timezone.now() - timedelta(days=60)
    )
    assert services.expire_introductions() == 1
    for action in ("approved", "introduced", "expired"):
        at(expired, action, monday(1))

    # Only Delovaya Rossiya's: a pair of two of its firms, connected and met this week; none of VCCI's business.
    other_vn = CompanyFactory(country="VN", chamber=rival)
    other_vn.sectors.set(["10"])
    mine_only = match(other_vn, theirs[3])
    services.approve([mine_only], by=reviewer)
    services.introduce(mine_only)
    services.respond(mine_only, mine_only.company_vn, True, by=None)
    services.respond(mine_only, mine_only.company_ru, True, by=None)
    services.record_outcome(mine_only, mine_only.company_vn, Match.Outcome.MET, by=None)
    MatchEvent.objects.filter(match=mine_only).update(at=monday())


def figures_of(response):
    assert response.status_code == 200
    return response.context["figures"]


def table(html: str) -> dict[str, list[str]]:
    """The page's weekly table: row label → the cells."""
    body = html.split('id="dashboard-figures"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", body, re.DOTALL):
        rows[row[0]] = re.findall(r"<td[^>]*>(.*?)</td>", row[1])
    return rows


def test_the_figures_of_a_chambers_week_and_the_weeks_before(staff_client, history):
    figures = figures_of(staff_client.get(DASHBOARD))
    assert len(figures.weeks) == 13 and figures.weeks[-1] == monday().date()
    weekly = figures.weekly
    assert weekly["registered"][-1] == 3 and weekly["registered"][-3] == 1 and weekly["registered"][-2] == 1
    assert sum(weekly["registered"]) == 5  # + the pending one last week; the rival's firms are not VCCI's
    assert weekly["published"][-1] == 2 and weekly["published"][-2] == 1 and sum(weekly["published"]) == 3
    assert figures.pending_firms == 1
    assert figures.suggestions_waiting == 2
    assert weekly["decisions"][-1] == 2 and weekly["approved"][-1] == 1 and weekly["rejected"][-1] == 1
    assert figures.median_hours[-1] == 20.0 and figures.median_hours[-3] == 4.0 and figures.median_hours[-2] == 2.0
    assert weekly["introduced"][-1] == 1 and weekly["connected"][-1] == 1
    assert weekly["declined"][-3] == 1 and weekly["introduced"][-3] == 1
    assert weekly["expired"][-2] == 1 and sum(weekly["expired"]) == 1
    assert weekly["agreement"][-1] == 1 and weekly["met"][-1] == 0  # one pair, by the best outcome either told
    assert sum(weekly["decisions"]) == 4
    assert [(s["code"], s["pairs"]) for s in figures.top_sectors] == [("21", 1), ("46", 1)]


def test_the_page_draws_the_weeks_as_svg_bars_and_lists_them_in_a_table(staff_client, history):
    response = staff_client.get(DASHBOARD)
    html = response.content.decode()
    assert "VCCI test" in html
    content = html.split('id="content-main"', 1)[1]
    assert (
        content.count('<svg viewBox="0 0 260 100" role="img"') == 10
        and content.count('class="this-week"><title>') == 10
    )
    assert "<script" not in content  # no chart library
    rows = table(html)
    assert rows["Decisions made"][-1] == "2" and rows["Firms registered"][-1] == "3"
    assert rows["Median time from suggestion to decision (hours)"][-1] == "20"
    assert '<a href="/admin/matchmaking/match/review/">' in html
    assert "46 " in html.split('id="dashboard-sectors"', 1)[1]


def test_another_chamber_sees_its_own_figures(staff_client, rival_client, history, rival):
    vcci = figures_of(staff_client.get(DASHBOARD))  # cached first: the other chamber must not get these
    theirs = figures_of(rival_client.get(DASHBOARD))
    assert theirs.weekly["registered"][-1] == 3 and vcci.weekly["registered"][-1] == 3  # not the same firms
    assert theirs.weekly["registered"][-3] == 0 and vcci.weekly["registered"][-3] == 1
    assert theirs.pending_firms == 2
    assert theirs.suggestions_waiting == 3  # the pairs with a VCCI firm are theirs too, and their own one
    assert theirs.weekly["connected"][-1] == 2 and vcci.weekly["connected"][-1] == 1
    assert theirs.weekly["met"][-1] == 1
    assert theirs.weekly["published"][-1] == 1


def test_a_chamber_cannot_read_another_chambers_figures_by_the_url(staff_client, history, rival):
    own = figures_of(staff_client.get(DASHBOARD))
    for query in (f"?chamber={rival.pk}", f"?chamber_id={rival.pk}&chamber={rival.pk}", "?chamber=all"):
        assert figures_of(staff_client.get(DASHBOARD + query)).weekly == own.weekly
        assert "Delovaya Rossiya test" not in staff_client.get(DASHBOARD + query).content.decode()
        rows = list(csv.reader(io.StringIO(staff_client.get(CSV_URL + query).content.decode("utf-8-sig"))))
        assert rows[0] == ["Chamber", "VCCI test"]


def test_superusers_see_every_chamber_or_the_one_they_pick(superuser_client, history, rival):
    everything = figures_of(superuser_client.get(DASHBOARD))
    assert everything.weekly["registered"][-1] == 3 + 3 + 1  # VCCI's, the rival's and a firm of no chamber
    assert everything.suggestions_waiting == 3
    picked = figures_of(superuser_client.get(f"{DASHBOARD}?chamber={rival.pk}"))
    assert picked.pending_firms == 2 and picked.weekly["connected"][-1] == 2


def test_staff_without_a_chamber_see_no_figures_and_others_are_sent_to_log_in(client, history):
    loner = ChamberStaffFactory().user
    loner.chamber_staff.delete()
    client.force_login(loner)
    response = client.get(DASHBOARD)
    assert response.status_code == 200 and "figures" not in response.context
    assert "not linked to a chamber" in response.content.decode()
    assert client.get(CSV_URL).status_code == 404
    assert 'id="dashboard-summary"' not in client.get("/admin/").content.decode()

    client.force_login(UserFactory(username="member"))
    for url in (DASHBOARD, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.logout()
    assert client.get(CSV_URL).status_code == 302


def test_the_csv_has_the_pages_figures(staff_client, history):
    page = staff_client.get(DASHBOARD)
    response = staff_client.get(CSV_URL)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith("\ufeff".encode())  # so that Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1] == ["Figure", *page.context["figures"].labels]
    shown = table(page.content.decode())

    def numbers(cells):  # the page writes 1,234 and 4 where the CSV has 1234 and 4.0
        return [float(cell.replace(",", "")) if cell else None for cell in cells]

    for label, *values in rows[2 : 2 + len(shown)]:
        assert numbers(values) == numbers(shown[label]), label
    assert ["Firms waiting for vetting", "1"] in rows and ["Suggestions waiting", "2"] in rows
    assert ["21 Manufacture of basic pharmaceutical products and pharmaceutical preparations", "1"] in rows


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(client):
    chamber = ChamberFactory(slug="formula", name='=HYPERLINK("http://evil.example","x")')
    user = UserFactory(username="formula-staff")
    company_services.make_chamber_staff(user, chamber)
    client.force_login(user)
    rows = list(csv.reader(io.StringIO(client.get(CSV_URL).content.decode("utf-8-sig"))))
    assert rows[0] == ["Chamber", "'" + chamber.name]


def test_the_admin_index_shows_this_weeks_summary_and_the_ways_on(staff_client, history):
    html = staff_client.get("/admin/").content.decode()
    summary = html.split('id="dashboard-summary"', 1)[1].split("</div>", 1)[0]
    assert re.search(r"Suggestions waiting</th><td>2<", summary)
    assert re.search(r"Decisions made</th><td>2<", summary)
    assert re.search(r"Accepted by both firms</th><td>1<", summary)
    assert 'href="/admin/dashboard/"' in summary and 'href="/admin/matchmaking/match/review/"' in summary
    assert 'id="content-main"' in html  # Django's list of models is still there


def add_firms_and_matches(vcci, rival, count: int) -> None:
    for i in range(count):
        vn = CompanyFactory(country="VN", chamber=vcci)
        ru = CompanyFactory(country="RU", city="Moscow", chamber=rival)
        vn.sectors.set(["46"])
        m = MatchFactory(company_vn=vn, company_ru=ru)
        if i % 2:
            services.approve([m], by=None)
            services.introduce(m)
            services.respond(m, vn, True, by=None)
            services.respond(m, ru, True, by=None)


def test_the_dashboard_reads_a_fixed_number_of_queries(
    staff_client, vcci, rival, django_assert_max_num_queries, django_assert_num_queries, settings
):
    # Session, user, chamber staff and chamber, the user's permissions (two, for the admin's menu), and five
    # for the figures: firms, publications, suggestions waiting, match events, sectors. On a warm cache, none
    # of these five.
    add_firms_and_matches(vcci, rival, 2)
    with django_assert_num_queries(11):
        staff_client.get(DASHBOARD)
    with django_assert_num_queries(6):
        staff_client.get(DASHBOARD)
    with django_assert_num_queries(4):  # no menu
        staff_client.get(CSV_URL)
    add_firms_and_matches(vcci, rival, 12)
    cache.clear()
    with django_assert_max_num_queries(11):
        assert staff_client.get(DASHBOARD).status_code == 200
    with django_assert_max_num_queries(6):
        assert staff_client.get(DASHBOARD).status_code == 200
    cache.clear()
    with django_assert_max_num_queries(9):
        assert staff_client.get(CSV_URL).status_code == 200
    settings.DASHBOARD_CACHE_SECONDS = 0  # every view computes the figures
    with django_assert_max_num_queries(11):
        staff_client.get(DASHBOARD)
    with django_assert_max_num_queries(11):
        staff_client.get(DASHBOARD)


def test_the_admin_index_summary_costs_a_fixed_number_of_queries(
    staff_client, vcci, rival, django_assert_max_num_queries
):
    # Django's index (session, user, permissions, recent actions: 5), the chamber staff and chamber, and the
    # dashboard's five figure queries when the cache is cold.
    add_firms_and_matches(vcci, rival, 2)
    with django_assert_max_num_queries(12):
        staff_client.get("/admin/")
    with django_assert_max_num_queries(7):
        staff_client.get("/admin/")
    add_firms_and_matches(vcci, rival, 12)
    cache.clear()
    with django_assert_max_num_queries(12):
        assert 'id="dashboard-summary"' in staff_client.get("/admin/").content.decode()


def test_a_decision_taken_back_in_the_workbench_is_not_counted(staff_client, vcci, rival):
    reviewer = staff_client.user
    vn, ru = CompanyFactory(country="VN", chamber=vcci), CompanyFactory(country="RU", city="Moscow", chamber=rival)
    kept, taken_back = (
        MatchFactory(company_vn=vn, company_ru=ru),
        MatchFactory(company_vn=vn, company_ru=CompanyFactory(country="RU", city="Kazan", chamber=rival)),
    )
    services.approve([kept], by=reviewer)
    services.reject([taken_back], by=reviewer, note="already in contact")
    services.undo_decision(taken_back, by=reviewer)
    cache.clear()

    weekly = figures_of(staff_client.get(DASHBOARD)).weekly
    assert (weekly["decisions"][-1], weekly["approved"][-1], weekly["rejected"][-1]) == (1, 1, 0)

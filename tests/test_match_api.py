import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from matchmaking import services
from matchmaking.models import Match, MatchEvent
from tests.factories import RU_OFFER, VN_NEED, CompanyFactory, ListingFactory, MatchFactory, UserFactory, member_api

pytestmark = pytest.mark.django_db

LIST = "/api/v1/me/matches/"
VN_OFFER = "Cà phê Robusta rang xay, đóng gói theo yêu cầu"
RU_NEED = "Кофе робуста для обжарки, от 5 тонн в месяц"
REASONS = [
    {
        "kind": "need_met",
        "data": {"need": VN_NEED, "offer": RU_OFFER, "need_ref": 1, "offer_ref": 2, "similarity": 0.78},
    },
    {
        "kind": "offer_wanted",
        "data": {"need": RU_NEED, "offer": VN_OFFER, "need_ref": 3, "offer_ref": 4, "similarity": 0.71},
    },
    {"kind": "sectors", "data": {"common": ["21", "46"]}},
    {"kind": "cooperation", "data": {"common": ["distribution", "supply"]}},
    {"kind": "language", "data": {"common": ["en"]}},
]
CONTACT_FIELDS = {"contact_name", "contact_email", "contact_phone"}


@pytest.fixture
def coffee_firm():
    """The Vietnamese side of these matches: a coffee firm with no listings (its offer and need are in REASONS)."""
    return CompanyFactory(name="Công ty Cà phê Tây Nguyên", country="VN")


@pytest.fixture
def vn_api(coffee_firm) -> APIClient:
    return member_api(coffee_firm)


@pytest.fixture
def ru_api(ru_firm) -> APIClient:
    return member_api(ru_firm)


def introduced_match(vn_firm, ru_firm, **fields) -> Match:
    """A match already introduced (made as such, not by the service), scored 0.8, with REASONS."""
    return MatchFactory(
        company_vn=vn_firm,
        company_ru=ru_firm,
        status="introduced",
        introduced_at=timezone.now(),
        score=0.8,
        reasons=REASONS,
        **fields,
    )


def test_only_introduced_and_later_matches_are_listed(vn_api, coffee_firm):
    shown = {}
    for status in ["suggested", "approved", "rejected", "introduced", "declined", "connected"]:
        shown[status] = MatchFactory(company_vn=coffee_firm, status=status).pk
    MatchFactory(status="introduced")  # another firm's
    body = vn_api.get(LIST).json()
    assert body["count"] == 3
    assert {match["id"] for match in body["results"]} == {shown[s] for s in ["introduced", "declined", "connected"]}
    assert [m["id"] for m in vn_api.get(LIST, {"status": "connected"}).json()["results"]] == [shown["connected"]]
    for status in ["suggested", "approved", "rejected"]:
        assert vn_api.get(f"{LIST}{shown[status]}/").status_code == 404


def test_the_counterparts_public_profile_and_both_answers(vn_api, coffee_firm, ru_firm):
    match = introduced_match(coffee_firm, ru_firm, response_ru="accepted")
    body = vn_api.get(f"{LIST}{match.pk}/").json()
    assert body["counterpart"]["id"] == ru_firm.pk and body["counterpart"]["name"] == "ООО «Экспресс-Диагностика»"
    assert body["counterpart"]["offers"][0]["text"] == RU_OFFER
    assert (body["my_answer"], body["their_answer"], body["status"], body["score"]) == (
        "pending",
        "accepted",
        "introduced",
        0.8,
    )
    assert body["reasons"] == REASONS


def test_contact_hidden_until_both_accept_then_shown(vn_api, ru_api, coffee_firm, ru_firm):
    match = introduced_match(coffee_firm, ru_firm)
    detail = f"{LIST}{match.pk}/"

    def contact_leaks(body: dict) -> bool:
        return bool(CONTACT_FIELDS & set(body["counterpart"])) or "Иван Петров" in str(body) or "ivan@diag" in str(body)

    body = vn_api.get(detail).json()
    assert body["counterpart_contact"] is None and not contact_leaks(body)

    body = vn_api.post(f"{detail}accept/").json()
    assert (body["status"], body["my_answer"], body["their_answer"]) == ("introduced", "accepted", "pending")
    assert body["counterpart_contact"] is None and not contact_leaks(body)
    assert ru_api.get(detail).json()["counterpart_contact"] is None

    body = ru_api.post(f"{detail}accept/").json()
    assert body["status"] == "connected"
    assert body["counterpart_contact"]["contact_email"] == coffee_firm.contact_email
    assert vn_api.get(detail).json()["counterpart_contact"] == {
        "contact_name": "Иван Петров",
        "contact_email": "ivan@diag.example",
        "contact_phone": "+7 383 000 00 00",
    }
    assert MatchEvent.objects.filter(match=match, action="accepted", actor=ru_api.user).exists()


def test_decline_ends_the_introduction(vn_api, ru_api, coffee_firm, ru_firm):
    match = introduced_match(coffee_firm, ru_firm)
    body = ru_api.post(f"{LIST}{match.pk}/decline/").json()
    assert (body["status"], body["my_answer"], body["counterpart_contact"]) == ("declined", "declined", None)
    response = vn_api.post(f"{LIST}{match.pk}/accept/")
    assert response.status_code == 400 and "status" in response.json()
    assert vn_api.get(f"{LIST}{match.pk}/").json()["counterpart_contact"] is None


def test_answering_twice_is_refused(vn_api, coffee_firm, ru_firm):
    match = introduced_match(coffee_firm, ru_firm)
    assert vn_api.post(f"{LIST}{match.pk}/accept/").status_code == 200
    response = vn_api.post(f"{LIST}{match.pk}/decline/")
    assert response.status_code == 400 and "already answered" in response.json()["status"][0]


def test_outcome_only_once_connected(vn_api, coffee_firm, ru_firm):
    match = introduced_match(coffee_firm, ru_firm)
    outcome = f"{LIST}{match.pk}/outcome/"
    response = vn_api.post(outcome, {"outcome": "met"}, format="json")
    assert response.status_code == 400 and "outcome" in response.json()

    services.respond(match, coffee_firm, True, by=None)
    services.respond(match, ru_firm, True, by=None)
    assert vn_api.post(outcome, {"outcome": "great"}, format="json").status_code == 400
    body = vn_api.post(outcome, {"outcome": "agreement"}, format="json").json()
    assert body["my_outcome"] == "agreement"
    match.refresh_from_db()
    assert (match.outcome_vn, match.outcome_ru) == ("agreement", "")


def test_another_firms_match_is_not_found(vn_api):
    foreign = MatchFactory(status="introduced", reasons=REASONS)
    assert vn_api.get(f"{LIST}{foreign.pk}/").status_code == 404
    assert vn_api.post(f"{LIST}{foreign.pk}/accept/").status_code == 404
    assert vn_api.post(f"{LIST}{foreign.pk}/outcome/", {"outcome": "met"}, format="json").status_code == 404
    foreign.refresh_from_db()
    assert foreign.response_vn == foreign.response_ru == "pending"


def test_anonymous_users_are_refused(coffee_firm, ru_firm):
    match = introduced_match(coffee_firm, ru_firm)
    assert APIClient().get(LIST).status_code in (401, 403)
    assert APIClient().post(f"{LIST}{match.pk}/accept/").status_code in (401, 403)


def test_a_member_without_a_company_has_no_matches():
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get(LIST).json()["count"] == 0


def test_explanations_from_each_sides_point_of_view(vn_api, ru_api, coffee_firm, ru_firm):
    match = introduced_match(coffee_firm, ru_firm)
    vn_sentences = vn_api.get(f"{LIST}{match.pk}/").json()["explanation"]
    assert vn_sentences[:2] == [
        f"Their offer “{RU_OFFER}” meets your need “{VN_NEED}”.",
        f"Your offer “{VN_OFFER}” meets their need “{RU_NEED}”.",
    ]
    ru_sentences = ru_api.get(f"{LIST}{match.pk}/").json()["explanation"]
    assert ru_sentences[:2] == [
        f"Your offer “{RU_OFFER}” meets their need “{VN_NEED}”.",
        f"Their offer “{VN_OFFER}” meets your need “{RU_NEED}”.",
    ]


def test_explanations_in_russian_keep_the_quoted_texts(ru_api, coffee_firm, ru_firm):
    match = introduced_match(coffee_firm, ru_firm)
    body = ru_api.get(f"{LIST}{match.pk}/", headers={"accept-language": "ru"}).json()
    assert body["explanation"] == [
        f"Ваше предложение «{RU_OFFER}» отвечает запросу партнёра «{VN_NEED}».",
        f"Предложение партнёра «{VN_OFFER}» отвечает вашему запросу «{RU_NEED}».",
        "Обе фирмы работают в 2 отраслях: «Производство лекарственных средств и материалов, применяемых в "
        "медицинских целях», «Торговля оптовая, кроме оптовой торговли автотранспортными средствами и мотоциклами».",
        "Обе фирмы заинтересованы в таких формах сотрудничества: дистрибуция, поставки.",
        "Общий язык делового общения: английский.",
    ]
    assert body["reasons"] == REASONS  # the raw facts are never translated


def test_explanations_in_vietnamese(vn_api, coffee_firm, ru_firm):
    match = introduced_match(coffee_firm, ru_firm)
    body = vn_api.get(f"{LIST}{match.pk}/", headers={"accept-language": "vi"}).json()
    assert body["explanation"][:2] == [
        f"Lời chào hàng “{RU_OFFER}” của đối tác đáp ứng nhu cầu “{VN_NEED}” của bạn.",
        f"Lời chào hàng “{VN_OFFER}” của bạn đáp ứng nhu cầu “{RU_NEED}” của đối tác.",
    ]
    assert "Sản xuất thuốc, hoá dược và dược liệu" in body["explanation"][2]


def test_list_queries_do_not_grow_with_rows(vn_api, coffee_firm):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert vn_api.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    def add(count: int) -> None:
        for _ in range(count):
            ru = CompanyFactory(country="RU", sectors=["21"])
            ListingFactory(company=ru)
            MatchFactory(company_vn=coffee_firm, company_ru=ru, status="connected", reasons=REASONS)

    add(2)
    few = queries()
    add(10)
    assert queries() == few


def test_the_counterpart_in_a_page_is_its_public_profile_in_each_language(vn_api, ru_api, coffee_firm, ru_firm):
    """A page of matches reads the other firms' profiles in bulk; one match reads its one profile through the
    relations: both give the directory's public profile, and a firm's own side never shows its contact."""
    ru_firm.sectors.set(["46", "21"])
    ru_firm.listings.first().sectors.set(["21"])
    ListingFactory(company=ru_firm, direction="need", text=RU_NEED, cooperation=["supply"])
    ListingFactory(company=coffee_firm, text=VN_OFFER)
    match = introduced_match(coffee_firm, ru_firm)
    directory = APIClient()
    for language in ["vi", "ru", "en"]:
        for api, other in ((vn_api, ru_firm), (ru_api, coffee_firm)):
            listed = api.get(LIST, HTTP_ACCEPT_LANGUAGE=language).json()["results"][0]["counterpart"]
            alone = api.get(f"{LIST}{match.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()["counterpart"]
            public = directory.get(f"/api/v1/companies/{other.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()
            assert listed == alone == public
            assert not CONTACT_FIELDS & set(listed)
    theirs = vn_api.get(LIST).json()["results"][0]["counterpart"]
    assert [s["code"] for s in theirs["sectors"]] == ["21", "46"] and theirs["offers"][0]["sectors"] == ["21"]

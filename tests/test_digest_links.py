"""The links in a digest: unsubscribe, preferences, answering an introduction, claiming an imported profile."""

import re

import pytest
from django.core import mail
from django.test import Client

from companies.models import Company, DigestFrequency, Membership
from matchmaking import services
from matchmaking.digests.delivery import Status, deliver_firm_digest
from matchmaking.digests.weeks import IsoWeek
from matchmaking.models import Match
from tests.factories import SITE_URL, CompanyFactory, MatchFactory, firm_with_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_url")]

WEEK, NEXT_WEEK = IsoWeek(2026, 48), IsoWeek(2026, 49)
LINK = re.compile(re.escape(SITE_URL) + r"(/[^\s\"<>]+)")


def member_firm(country: str, language: str = "en") -> Company:
    return firm_with_member(country, language=language, contact_email=f"office-{country.lower()}@firm.example")


def digest_links(company: Company, week: IsoWeek = WEEK) -> list[str]:
    mail.outbox.clear()
    assert deliver_firm_digest(company.pk, week).status == Status.SENT
    return LINK.findall(mail.outbox[-1].body)


def link(links: list[str], part: str) -> str:
    return next(url for url in links if part in url)


@pytest.fixture
def pair():
    vn, ru = member_firm("VN"), member_firm("RU")
    match = MatchFactory(company_vn=vn, company_ru=ru)
    services.approve([match], by=None)
    return vn, ru, match


def test_unsubscribe_link_asks_first_and_does_not_unsubscribe_on_get(pair):
    vn, ru, _ = pair
    url = link(digest_links(vn), "/email/unsubscribe/")
    response = Client().get(url)
    assert response.status_code == 200 and "Stop the weekly digest?" in response.text
    assert vn.memberships.get().digest == DigestFrequency.WEEKLY  # mail scanners follow links


def test_one_click_post_unsubscribes_without_a_session_and_stops_next_weeks_digest(pair):
    vn, ru, _ = pair
    url = link(digest_links(vn), "/email/unsubscribe/")

    # What a mail client sends for RFC 8058: a bare POST, no cookie, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert vn.memberships.get().digest == DigestFrequency.NONE
    another = MatchFactory(company_vn=vn, company_ru=member_firm("RU"))
    services.approve([another], by=None)
    result = deliver_firm_digest(vn.pk, NEXT_WEEK)
    assert (result.status, result.reason) == (Status.SKIPPED, "all members opted out")


def test_a_forged_token_is_refused(client):
    assert client.post("/email/unsubscribe/not-a-token/").status_code == 404
    assert client.get("/email/preferences/not-a-token/").status_code == 404
    assert client.get("/introductions/answer/not-a-token/").status_code == 404


def test_preferences_page_changes_frequency_and_language(pair):
    vn, _, _ = pair
    url = link(digest_links(vn), "/email/preferences/")
    client = Client()
    assert client.get(url).status_code == 200
    response = client.post(url, {"digest": DigestFrequency.NONE, "language": "ru"})
    assert response.status_code == 200
    membership = vn.memberships.get()
    assert (membership.digest, membership.language) == (DigestFrequency.NONE, "ru")
    # The page now answers in the member's new language.
    assert response.headers["Content-Language"] == "ru"


def test_preferences_reject_an_unknown_choice_with_a_field_message(pair):
    vn, _, _ = pair
    url = link(digest_links(vn), "/email/preferences/")
    response = Client().post(url, {"digest": "daily", "language": "en"})
    assert "Select a valid choice" in response.text
    assert vn.memberships.get().digest == DigestFrequency.WEEKLY


def test_both_firms_accepting_from_their_digests_reveals_the_contacts(pair):
    vn, ru, match = pair
    vn_answer = link(digest_links(vn), "/introductions/answer/")
    ru_answer = link(digest_links(ru), "/introductions/answer/")

    page = Client().get(vn_answer)
    assert ru.name in page.text and ru.contact_email not in page.text
    Client().post(vn_answer, {"answer": "accept"})
    page = Client().get(vn_answer)
    assert "waiting for the other firm" in page.text and ru.contact_email not in page.text

    Client().post(ru_answer, {"answer": "accept"})
    match.refresh_from_db()
    assert match.status == Match.Status.CONNECTED
    assert match.events.get(action="accepted", to_status="connected").actor == ru.memberships.get().user
    # Once connected, the contact needs the member's login (issue 15, item 15).
    assert ru.contact_email not in Client().get(vn_answer).text
    vn_client, ru_client = Client(), Client()
    vn_client.force_login(vn.memberships.get().user)
    ru_client.force_login(ru.memberships.get().user)
    assert ru.contact_email in vn_client.get(vn_answer).text
    assert vn.contact_email in ru_client.get(ru_answer).text


def test_a_decline_ends_the_introduction_and_a_second_answer_is_refused(pair):
    vn, ru, match = pair
    url = link(digest_links(vn), "/introductions/answer/")
    Client().post(url, {"answer": "decline"})
    match.refresh_from_db()
    assert match.status == Match.Status.DECLINED
    response = Client().post(url, {"answer": "accept"})
    assert response.status_code == 400 and "can no longer be answered" in response.text


def test_an_answer_page_shows_only_the_firms_own_match(pair):
    vn, ru, match = pair
    url = link(digest_links(vn), "/introductions/answer/")
    other = MatchFactory()
    from companies.recipients import sign_action
    from matchmaking.digests.rendering import ANSWER_SALT

    forged = sign_action({"match": other.pk, "company": vn.pk, "member": None}, ANSWER_SALT)
    assert Client().get(f"/introductions/answer/{forged}/").status_code == 404
    assert Client().get(url).status_code == 200


def test_an_imported_firm_claims_its_profile_from_the_digest_then_answers():
    vn = member_firm("VN")
    imported = CompanyFactory(country="RU", city="Kazan", languages=["ru"], contact_email="director@kazan.example")
    match = MatchFactory(company_vn=vn, company_ru=imported)
    services.approve([match], by=None)
    claim_url = link(digest_links(imported), "/claim/")
    assert "next=" in claim_url  # the answer link goes through the claim first

    client = Client()
    page = client.get(claim_url)
    assert page.status_code == 200 and "director@kazan.example" in page.text
    refused = client.post(
        claim_url, {"password1": "Kazan-2026-secret", "password2": "Kazan-2026-secret", "language": "ru"}
    )
    assert refused.status_code == 200 and not imported.memberships.exists()  # consents are not pre-ticked
    response = client.post(
        claim_url,
        {
            "password1": "Kazan-2026-secret",
            "password2": "Kazan-2026-secret",
            "language": "ru",
            "consent_matching": "on",
            "consent_share_profile": "on",
            "consent_cross_border": "on",
        },
    )
    assert response.status_code == 302 and response.url.startswith("/introductions/answer/")
    membership = Membership.objects.get(company=imported)
    assert membership.user.email == "director@kazan.example" and membership.language == "ru"
    imported.refresh_from_db()
    assert {"matching", "share_profile", "cross_border"} <= set(imported.consent_purposes)

    client.post(response.url, {"answer": "accept"})
    match.refresh_from_db()
    assert match.response_ru == Match.Response.ACCEPTED
    assert client.get(claim_url).status_code == 409  # claimed once, for good


def test_an_unclaimed_firm_cannot_answer_before_it_consents():
    vn = member_firm("VN")
    imported = CompanyFactory(country="RU", city="Kazan", languages=["ru"])
    match = MatchFactory(company_vn=vn, company_ru=imported)
    services.approve([match], by=None)
    claim_url = link(digest_links(imported), "/claim/")
    answer_path = claim_url.split("next=")[1].replace("%3A", ":").replace("%2F", "/")
    response = Client().post(answer_path, {"answer": "accept"})
    assert "/claim/" in response.text
    match.refresh_from_db()
    assert match.response_ru == Match.Response.PENDING

"""A member's pages without a browser: sign-up and verification, the profile form, introductions, security."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from companies.models import Company, Membership
from matchmaking.models import Match
from tests.factories import (
    MEMBER_PASSWORD,
    CompanyFactory,
    MembershipFactory,
    UserFactory,
    introduced_pair,
    profile_data,
)

pytestmark = pytest.mark.django_db

PASSWORD = MEMBER_PASSWORD
VERIFY_LINK = re.compile(r"http://testserver(/accounts/verify/\S+/)")


def sign_up(client: Client, email: str = "lan@firm.example") -> str:
    response = client.post("/accounts/signup/", {"email": email})
    assert response.status_code == 302 and response.url == "/accounts/signup/sent/"
    return VERIFY_LINK.search(mail.outbox[-1].body).group(1)


def test_sign_up_sends_a_link_and_the_account_works_only_after_it(client):
    link = sign_up(client)
    user = get_user_model().objects.get(username="lan@firm.example")
    assert not user.is_active
    refused = client.post("/accounts/login/", {"username": "lan@firm.example", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session

    choose = client.get(link).url  # the password is chosen on the link's page
    response = client.post(choose, {"new_password1": PASSWORD, "new_password2": PASSWORD})

    assert response.status_code == 302 and response.url == "/my/profile/"
    user.refresh_from_db()
    assert user.is_active
    assert client.get("/my/profile/").status_code == 200  # signed in by the link


def test_a_forged_or_reused_address_is_refused(client):
    UserFactory(username="taken@firm.example", email="taken@firm.example")
    response = client.post("/accounts/signup/", {"email": "taken@firm.example"})
    assert response.status_code == 302 and response.url == "/accounts/signup/sent/"  # as for any address
    assert "/accounts/verify/" not in mail.outbox[-1].body  # its owner is told, no link is sent
    assert client.get("/accounts/verify/MQ/forged-token/").status_code == 404


def test_the_link_refuses_a_weak_or_mismatched_password_field_by_field(client):
    choose = client.get(sign_up(client, "a@firm.example")).url
    response = client.post(choose, {"new_password1": "123", "new_password2": "123"})
    assert "This password is too short" in response.text
    response = client.post(choose, {"new_password1": PASSWORD, "new_password2": PASSWORD + "x"})
    assert "The two password fields didn" in response.text
    assert not get_user_model().objects.get(username="a@firm.example").is_active


def test_sign_up_is_rate_limited_per_address():
    client = Client()
    statuses = [client.post("/accounts/signup/", {"email": f"bot{n}@spam.example"}).status_code for n in range(7)]
    assert statuses[:5] == [302] * 5 and statuses[5:] == [403, 403]


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    UserFactory(username="lan@firm.example", email="lan@firm.example")
    client.post("/accounts/password-reset/", {"email": "lan@firm.example"})
    path = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    form_url = client.get(path).url  # Django swaps the token for a session and redirects
    client.post(form_url, {"new_password1": "Another-Secret-2027", "new_password2": "Another-Secret-2027"})
    response = client.post("/accounts/login/", {"username": "lan@firm.example", "password": "Another-Secret-2027"})
    assert response.status_code == 302 and response.url == "/my/profile/"


def test_the_profile_form_creates_a_draft_firm_with_its_offer_and_consent(member_client):
    response = member_client.post("/my/profile/", profile_data())

    assert response.status_code == 302
    company = Company.objects.get(name="Tay Nguyen Coffee")
    assert company.status == Company.Status.DRAFT and company.activity_division_id == "10"
    assert Membership.objects.get(company=company).user == member_client.user
    assert list(company.listings.values_list("direction", "cooperation")) == [("offer", ["supply"])]
    assert company.consent_purposes == ["cross_border", "matching", "share_profile"]
    page = member_client.get("/my/profile/")
    assert "Code 1077 belongs to ISIC division 10" in page.text
    assert "Add at least one need" in page.text  # advice for a thin profile


def test_a_code_of_the_wrong_country_gets_a_field_message_and_nothing_is_saved(member_client):
    response = member_client.post("/my/profile/", profile_data(**{"firm-activity_code": "21.20"}))
    assert response.status_code == 400
    assert "21.20 is not an activity code of this country: use VSIC 2018, such as 2100." in response.text
    assert "Roasted Robusta coffee" in response.text  # what was typed is kept
    assert not Company.objects.exists()


def test_required_consent_and_at_least_one_listing_are_asked_for(member_client):
    response = member_client.post("/my/profile/", profile_data(**{"consent-cross_border": None}))
    assert "The service cannot introduce your firm without this consent." in response.text
    response = member_client.post("/my/profile/", profile_data(**{"offers-0-text": ""}))
    assert "Describe at least one offer or one need" in response.text
    assert not Company.objects.exists()


def test_editing_keeps_untouched_offers_and_submitting_sends_the_profile_for_review(member_client):
    member_client.post("/my/profile/", profile_data())
    company = Company.objects.get()
    listing_ids = list(company.listings.values_list("pk", flat=True))
    member_client.post(
        "/my/profile/",
        profile_data(
            **{
                "firm-city": "Da Lat",
                "offers-INITIAL_FORMS": "1",
            }
        ),
    )
    company.refresh_from_db()
    assert company.city == "Da Lat"
    assert list(company.listings.values_list("pk", flat=True)) == listing_ids

    member_client.post("/my/profile/submit/")
    company.refresh_from_db()
    assert company.status == Company.Status.PENDING
    assert "reviewing the profile" in member_client.get("/my/profile/").text


def test_the_profile_page_answers_in_the_readers_language(member_client):
    member_client.post("/my/profile/", profile_data())
    page = member_client.get("/my/profile/", HTTP_ACCEPT_LANGUAGE="ru")
    assert '<html lang="ru">' in page.text
    assert "Производство пищевых продуктов" in page.text  # the sector, by its Russian name


def test_both_members_accept_on_their_page_and_only_then_see_the_contacts(client):
    match, vn_user, ru_user = introduced_pair()
    client.force_login(vn_user)
    assert match.company_ru.contact_email not in client.get("/my/introductions/").text
    client.post(f"/my/introductions/{match.pk}/answer/", {"answer": "accept"})
    client.force_login(ru_user)
    response = client.post(f"/my/introductions/{match.pk}/answer/", {"answer": "accept"}, follow=True)
    assert match.company_vn.contact_email in response.text

    client.post(f"/my/introductions/{match.pk}/outcome/", {"outcome": "met"})
    match.refresh_from_db()
    assert (match.status, match.outcome_ru) == (Match.Status.CONNECTED, Match.Outcome.MET)


def test_another_firms_introduction_is_a_404_and_never_listed(client):
    match, _, _ = introduced_pair()
    outsider = UserFactory(password=PASSWORD)
    MembershipFactory(company=CompanyFactory(country="VN"), user=outsider)
    client.force_login(outsider)
    assert match.company_ru.name not in client.get("/my/introductions/").text
    assert client.post(f"/my/introductions/{match.pk}/answer/", {"answer": "accept"}).status_code == 404
    assert client.post(f"/my/introductions/{match.pk}/outcome/", {"outcome": "met"}).status_code == 404
    match.refresh_from_db()
    assert match.response_vn == Match.Response.PENDING


def test_member_pages_need_a_login(client):
    for url in ("/my/profile/", "/my/introductions/", "/my/preferences/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_user_written_text_is_escaped(client):
    match, vn_user, _ = introduced_pair()
    Company.objects.filter(pk=match.company_ru_id).update(name="<script>alert(1)</script>")
    client.force_login(vn_user)
    page = client.get("/my/introductions/").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_login_form_is_locked_after_repeated_failures(client, settings):
    UserFactory(username="lan@firm.example", email="lan@firm.example", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "lan@firm.example", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "lan@firm.example", "password": PASSWORD})
    assert response.status_code in (403, 429)

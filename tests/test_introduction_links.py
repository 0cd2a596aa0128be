"""Issue 15, item 15: an introduction's answer link shows the counterpart's contact only to the firm's signed-in
members once both firms accepted; whoever else holds the link (a forwarded email, a shared inbox) sees that the
firms are connected and a way to sign in, never the contact. Answering by link needs no login, as before."""

import re
from urllib.parse import quote

import pytest
from django.test import Client

from companies.recipients import sign_action
from matchmaking import services
from matchmaking.digests.rendering import ANSWER_SALT
from matchmaking.models import Match
from tests.factories import CompanyFactory, MatchFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

RU_CONTACT = ("Иван Петров", "ivan@diag.example", "+7 383 000 00 00")


def answer_path(match: Match, company, member=None) -> str:
    token = sign_action(
        {"match": match.pk, "company": company.pk, "member": member.pk if member else None}, ANSWER_SALT
    )
    return f"/introductions/answer/{token}/"


@pytest.fixture
def firms():
    vn = CompanyFactory(country="VN", contact_email="office@hanoi.example")
    ru = CompanyFactory(
        country="RU", contact_name=RU_CONTACT[0], contact_email=RU_CONTACT[1], contact_phone=RU_CONTACT[2]
    )
    vn_member = MembershipFactory(company=vn, user=UserFactory(username="vn-member"), language="en")
    ru_member = MembershipFactory(company=ru, user=UserFactory(username="ru-member"), language="en")
    match = MatchFactory(company_vn=vn, company_ru=ru)
    services.approve([match], by=None)
    services.introduce(match)
    return vn, ru, vn_member, ru_member, match


def connect(match: Match, vn, ru, vn_member, ru_member) -> None:
    for company, member in ((vn, vn_member), (ru, ru_member)):
        response = Client().post(answer_path(match, company, member), {"answer": "accept"})
        assert response.status_code == 302  # answered by link, without a login
    match.refresh_from_db()
    assert match.status == Match.Status.CONNECTED


def shows_contact(text: str) -> bool:
    return any(detail in text for detail in RU_CONTACT)


def test_a_stranger_holding_the_link_of_a_connected_match_sees_no_contact(firms):
    vn, ru, vn_member, ru_member, match = firms
    connect(match, vn, ru, vn_member, ru_member)
    path = answer_path(match, vn, vn_member)

    page = Client().get(path)

    assert page.status_code == 200
    assert not shows_contact(page.text)
    assert "Sign in to see the contact details" in page.text
    assert f"/accounts/login/?next={quote(path)}" in page.text  # back here once signed in


def test_the_firm_s_signed_in_member_sees_the_contact_on_the_link_page(firms):
    vn, ru, vn_member, ru_member, match = firms
    connect(match, vn, ru, vn_member, ru_member)
    colleague = MembershipFactory(company=vn, user=UserFactory(username="vn-colleague"))
    client = Client()
    client.force_login(colleague.user)  # any member of the firm, not only the one the digest went to

    page = client.get(answer_path(match, vn, vn_member))

    assert page.status_code == 200
    assert all(detail in page.text for detail in RU_CONTACT)


def test_another_firm_s_member_holding_the_link_sees_no_contact(firms):
    vn, ru, vn_member, ru_member, match = firms
    connect(match, vn, ru, vn_member, ru_member)
    outsider = MembershipFactory(company=CompanyFactory(country="VN"), user=UserFactory(username="outsider"))
    client = Client()
    client.force_login(outsider.user)

    page = client.get(answer_path(match, vn, vn_member))

    assert page.status_code == 200 and not shows_contact(page.text)
    # The counterpart's own member holding the VN firm's link is not a member of the VN firm either.
    client.force_login(ru_member.user)
    assert not shows_contact(client.get(answer_path(match, vn, vn_member)).text)


def test_answering_by_link_still_needs_no_login_and_shows_no_contact_before_connection(firms):
    vn, ru, vn_member, ru_member, match = firms
    path = answer_path(match, vn, vn_member)
    assert Client().post(path, {"answer": "accept"}).status_code == 302
    match.refresh_from_db()
    assert match.response_vn == Match.Response.ACCEPTED and match.status == Match.Status.INTRODUCED
    client = Client()
    client.force_login(vn_member.user)
    assert not shows_contact(client.get(path).text)  # not connected yet: nobody sees it


def test_the_sign_in_link_brings_the_member_back_to_the_contact(firms):
    vn, ru, vn_member, ru_member, match = firms
    connect(match, vn, ru, vn_member, ru_member)
    path = answer_path(match, vn, vn_member)
    client = Client()
    login = re.search(r'href="(/accounts/login/\?next=[^"]+)"', client.get(path).text).group(1)

    response = client.post(login, {"username": "vn-member", "password": "correct horse battery staple"})

    assert response.status_code == 302 and response["Location"] == path
    assert all(detail in client.get(path).text for detail in RU_CONTACT)

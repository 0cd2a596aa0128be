"""Gaps a member met on the pages around their profile (issue 18, "Gaps across the other pages"):

1. an introduction card links to the other firm's public profile (only while that firm is shown to others) and
   says by when to answer, the date the digest gives;
2. a member whose firm is published is not asked, on another firm's page, to sign up their firm;
3. Preferences gives and withdraws consent purpose by purpose, matching only by deleting the account;
4. the firm's members are emailed, in their language, when their profile is published (once).
"""

import datetime as dt

import pytest
from django.core import mail
from django.utils import formats, translation

from companies import services as company_services
from companies.models import Company, ConsentSource, StatusChange
from tests.factories import (
    ChamberFactory,
    CompanyFactory,
    MembershipFactory,
    UserFactory,
    introduced_pair,
)

pytestmark = pytest.mark.django_db

PREFERENCES = "/my/preferences/"
ALL_THREE = ["cross_border", "matching", "share_profile"]


@pytest.fixture(autouse=True)
def _no_recompute(settings):
    settings.MATCHING_RECOMPUTE_ON_SAVE = False


# --- 1. the introduction card ---------------------------------------------------------------------------


def test_an_introduction_links_to_the_other_firms_public_profile_and_says_by_when_to_answer(client, settings):
    settings.DIGEST_INTRODUCTION_EXPIRY_DAYS = 21
    match, vn_user, _ = introduced_pair()
    client.force_login(vn_user)

    page = client.get("/my/introductions/").text

    assert f'href="/directory/{match.company_ru_id}/"' in page
    assert client.get(f"/directory/{match.company_ru_id}/").status_code == 200  # the link leads somewhere
    deadline = (match.introduced_at + dt.timedelta(days=21)).date()
    assert 'data-testid="answer-by"' in page
    assert f"Answer by {formats.date_format(deadline, 'DATE_FORMAT')}" in page


def test_a_firm_not_shown_to_others_gets_no_link_from_the_card(client):
    # It withdrew its consent to be shown after the introduction: its page is a 404, so no link leads there.
    match, vn_user, _ = introduced_pair()
    Company.objects.filter(pk=match.company_ru_id).update(consent_purposes=["matching"])
    client.force_login(vn_user)

    page = client.get("/my/introductions/").text

    assert f'href="/directory/{match.company_ru_id}/"' not in page
    assert client.get(f"/directory/{match.company_ru_id}/").status_code == 404


# --- 2. another firm's public page ----------------------------------------------------------------------


def test_a_member_of_a_published_firm_is_not_asked_to_sign_up_on_a_firms_page(client):
    other = CompanyFactory(country="RU", city="Kazan")
    client.force_login(MembershipFactory(company=CompanyFactory(country="VN")).user)

    page = client.get(f"/directory/{other.pk}/").text

    assert "sign up your own firm" not in page and 'href="/accounts/signup/"' not in page.split("<main")[1]
    assert 'href="/my/introductions/"' in page.split('id="next-step"')[1]


def test_a_visitor_is_still_asked_to_sign_up_and_a_firm_sees_its_own_page_as_its_own(client):
    firm = CompanyFactory(country="RU")
    assert "sign up your own firm" in client.get(f"/directory/{firm.pk}/").text

    client.force_login(MembershipFactory(company=firm).user)
    page = client.get(f"/directory/{firm.pk}/").text
    assert "This is your firm’s public profile" in page and "sign up your own firm" not in page


# --- 3. consent on Preferences --------------------------------------------------------------------------


def test_preferences_withdraw_showing_and_give_it_again(client, settings):
    firm = CompanyFactory(country="VN", consent_source="")
    client.force_login(MembershipFactory(company=firm).user)
    page = client.get(PREFERENCES).text
    assert 'name="share_profile"' in page and 'name="cross_border"' in page and 'name="news"' in page
    assert 'name="matching"' not in page  # withdrawn only by deleting the account, which the page links to
    assert 'href="/my/delete/"' in page.split('data-testid="consent-fixed-matching"')[1].split("</p>")[0]

    response = client.post(PREFERENCES, {"form": "consent", "cross_border": "on"}, follow=True)

    assert "Your consent is saved." in response.text
    firm.refresh_from_db()
    assert firm.consent_purposes == ["cross_border", "matching"]
    assert firm.consent_source == ConsentSource.FIRM and firm.consent_version == settings.CONSENT_VERSION
    assert client.get(f"/directory/{firm.pk}/").status_code == 404  # it left the directory at once
    assert Company.objects.matchable().filter(pk=firm.pk).exists()  # and is still matched

    client.post(PREFERENCES, {"form": "consent", "cross_border": "on", "share_profile": "on", "news": "on"})

    firm.refresh_from_db()
    assert firm.consent_purposes == ["cross_border", "matching", "news", "share_profile"]
    assert client.get(f"/directory/{firm.pk}/").status_code == 200


def test_matching_cannot_be_withdrawn_on_preferences(client):
    firm = CompanyFactory(country="VN")
    client.force_login(MembershipFactory(company=firm).user)

    client.post(PREFERENCES, {"form": "consent", "matching": "", "share_profile": "on", "cross_border": "on"})

    firm.refresh_from_db()
    assert "matching" in firm.consent_purposes
    with pytest.raises(company_services.ConsentError):
        company_services.change_consent(firm, ["share_profile", "cross_border"])


def test_the_mail_preferences_still_save_beside_the_consent(client):
    membership = MembershipFactory(company=CompanyFactory(country="VN"))
    client.force_login(membership.user)
    response = client.post(PREFERENCES, {"digest": "none", "language": "ru"}, follow=True)
    assert "Your preferences are saved." in response.text
    membership.refresh_from_db()
    assert (membership.digest, membership.language) == ("none", "ru")
    assert sorted(membership.company.consent_purposes) == ALL_THREE  # untouched


# --- 4. the email on publication ------------------------------------------------------------------------


@pytest.fixture
def pending_firm():
    chamber = ChamberFactory(slug="vcci-gaps", name="VCCI", country="VN")
    firm = CompanyFactory(country="VN", name="Tay Nguyen Roasters", status=Company.Status.PENDING, chamber=chamber)
    owner = MembershipFactory(
        company=firm, language="ru", user=UserFactory(username="lan@roasters.example", email="lan@roasters.example")
    )
    return firm, owner


def test_the_owner_is_emailed_in_their_language_when_the_profile_is_published(
    pending_firm, django_capture_on_commit_callbacks
):
    firm, owner = pending_firm
    with django_capture_on_commit_callbacks(execute=True):
        company_services.bulk_change_status([firm], Company.Status.PUBLISHED)
        assert not mail.outbox  # not before the publication commits

    assert len(mail.outbox) == 1  # once, at the commit (the directory's kept pages are dropped then too)
    message = mail.outbox[0]
    assert message.to == ["lan@roasters.example"]
    with translation.override("ru"):
        expected = translation.gettext("My introductions")
    html = message.alternatives[0][0]
    assert "Tay Nguyen Roasters" in message.subject
    assert f"/directory/{firm.pk}/" in message.body and "/my/introductions/" in message.body
    assert expected in html and '<html lang="ru">' in html


def test_publishing_an_already_published_firm_sends_nothing(pending_firm, django_capture_on_commit_callbacks):
    firm, _ = pending_firm
    with django_capture_on_commit_callbacks(execute=True):
        company_services.bulk_change_status([firm], Company.Status.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True):
        changed, skipped = company_services.bulk_change_status(
            [Company.objects.get(pk=firm.pk)], Company.Status.PUBLISHED
        )

    assert (changed, len(skipped)) == (0, 1)
    assert len(mail.outbox) == 1
    # Sending the same publication again (a callback run twice) finds it announced by its own row only once.
    assert StatusChange.objects.filter(company=firm, to_status=Company.Status.PUBLISHED).count() == 1


def test_a_publication_rolled_back_or_undone_before_sending_is_not_announced(
    pending_firm, django_capture_on_commit_callbacks
):
    from companies.publication_mail import send_published_email

    firm, _ = pending_firm
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        change = company_services.change_status(firm, Company.Status.PUBLISHED)
        company_services.change_status(firm, Company.Status.SUSPENDED)
    for callback in callbacks:
        callback()
    assert send_published_email(change.pk) == 0 and not mail.outbox


def test_the_admin_publish_action_emails_the_owner(pending_firm, superuser_client, django_capture_on_commit_callbacks):
    firm, _ = pending_firm
    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post("/admin/companies/company/", {"action": "publish", "_selected_action": [firm.pk]})
    firm.refresh_from_db()
    assert firm.status == Company.Status.PUBLISHED
    assert [message.to for message in mail.outbox] == [["lan@roasters.example"]]

"""A member's data rights: mail preferences, a copy of their data, withdrawal and deletion."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from companies.models import Company, DigestFrequency, Listing, Membership, StatusChange
from matchmaking import selectors
from matchmaking.models import DigestDelivery, DigestItem, Match, MatchEvent
from tests.factories import (
    RU_OFFER,
    VN_NEED,
    CompanyFactory,
    ListingFactory,
    MatchFactory,
    MembershipFactory,
    UserFactory,
    api_for,
    signed_in,
)

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factories' password
PREFERENCES, EXPORT, DELETE = "/my/preferences/", "/my/data.json", "/my/delete/"
MY_MATCHES = "/api/v1/me/matches/"
REASONS = [
    {
        "kind": "need_met",
        "data": {"need": VN_NEED, "offer": RU_OFFER, "need_ref": 1, "offer_ref": 2, "similarity": 0.8},
    },
    {"kind": "cooperation", "data": {"common": ["distribution"]}},
]


@pytest.fixture
def member(vn_firm):
    return MembershipFactory(
        company=vn_firm,
        user=UserFactory(username="hung", email="hung@thietbi.example", first_name="Hùng", last_name="Nguyễn"),
        language="vi",
    )


@pytest.fixture
def ru_member(ru_firm):
    return MembershipFactory(company=ru_firm, user=UserFactory(username="diag-owner", email="owner@diag.example"))


@pytest.fixture
def connected(vn_firm, ru_firm):
    now = timezone.now()
    match = MatchFactory(
        company_vn=vn_firm,
        company_ru=ru_firm,
        status=Match.Status.CONNECTED,
        reasons=REASONS,
        introduced_at=now,
        connected_at=now,
        response_vn=Match.Response.ACCEPTED,
        response_ru=Match.Response.ACCEPTED,
    )
    MatchEvent.objects.create(
        match=match,
        action="accepted",
        from_status="introduced",
        to_status="connected",
        note=f"{vn_firm.name} (VN) accepted",
    )
    return match


# --- preferences ----------------------------------------------------------------------------------


def test_preferences_change_saves_digest_and_language(client, member):
    page = signed_in(client, member).get(PREFERENCES)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="digest"' in html and 'name="language"' in html and "csrfmiddlewaretoken" in html
    assert EXPORT in html and DELETE in html

    response = client.post(PREFERENCES, {"digest": DigestFrequency.NONE, "language": "ru"}, follow=True)

    assert "Your preferences are saved." in response.content.decode()
    member.refresh_from_db()
    assert (member.digest, member.language) == (DigestFrequency.NONE, "ru")
    # The page shows what is now stored.
    assert response.context["form"].initial == {"digest": "none", "language": "ru"}


def test_preferences_refuse_an_unknown_choice(client, member):
    response = signed_in(client, member).post(PREFERENCES, {"digest": "daily", "language": "fr"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"digest", "language"}
    member.refresh_from_db()
    assert (member.digest, member.language) == (DigestFrequency.WEEKLY, "vi")


def test_a_user_without_a_firm_is_told_preferences_wait_for_a_profile_and_may_still_export_and_delete(client):
    user = UserFactory()
    html = signed_in(client, user).get(PREFERENCES).content.decode()
    assert "Your email preferences apply once your firm has a profile." in html
    assert 'name="digest"' not in html
    assert EXPORT in html and DELETE in html
    data = json.loads(client.get(EXPORT).content)
    assert data["account"]["username"] == user.username
    assert data["company"] is None and data["matches"] == []


@pytest.mark.parametrize("url", [PREFERENCES, EXPORT, DELETE])
def test_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- export ---------------------------------------------------------------------------------------


def test_export_is_a_download_of_the_firm_its_contact_listings_and_matches(client, member, vn_firm, ru_firm, connected):
    introduced = MatchFactory(company_vn=vn_firm, status=Match.Status.INTRODUCED, introduced_at=timezone.now())
    MatchFactory(company_vn=vn_firm, status=Match.Status.SUGGESTED)  # the chamber's, not introduced yet
    StatusChange.objects.create(company=vn_firm, from_status="pending", to_status="published", changed_by=member.user)

    response = signed_in(client, member).get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="sme-match-data.json"'
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["account"]["username"] == "hung" and data["account"]["email"] == "hung@thietbi.example"
    assert data["account"]["last_name"] == "Nguyễn" and data["account"]["date_joined"]
    assert data["membership"] == {
        "role": "owner",
        "language": "vi",
        "digest": "weekly",
        "created_at": data["membership"]["created_at"],
    }
    company = data["company"]
    assert company["name"] == vn_firm.name and company["external_id"] == "vn-42"
    assert (company["contact_name"], company["contact_email"], company["contact_phone"]) == (
        "Nguyễn Văn Hùng",
        "hung@thietbi.example",
        "+84 24 1111 2222",
    )
    assert company["consent_purposes"] == ["cross_border", "matching", "share_profile"] and company["consent_given_at"]
    assert company["sectors"] == ["21"]
    assert [listing["text"] for listing in data["listings"]] == [VN_NEED]
    assert data["status_changes"][0]["to_status"] == "published" and data["status_changes"][0]["by_you"] is True

    matches = {match["id"]: match for match in data["matches"]}
    assert set(matches) == {connected.pk, introduced.pk}
    assert matches[connected.pk]["counterpart"]["name"] == ru_firm.name
    assert matches[connected.pk]["counterpart_contact"]["contact_email"] == "ivan@diag.example"
    assert any(RU_OFFER in sentence for sentence in matches[connected.pk]["reasons"])
    assert matches[introduced.pk]["counterpart_contact"] is None  # not connected: no contact
    assert data["matches_in_review"] == 1


def test_export_never_contains_the_password_hash(client, member):
    body = signed_in(client, member).get(EXPORT).content.decode()
    member.user.refresh_from_db()
    assert member.user.password not in body
    assert "password" not in body.lower()


def test_export_holds_nothing_of_another_user(client, member, vn_firm, ru_member, connected):
    colleague = MembershipFactory(
        company=vn_firm,
        user=UserFactory(username="colleague-lan", email="lan@thietbi.example", first_name="Lan"),
        role=Membership.Role.EDITOR,
    )
    stranger = MembershipFactory(user=UserFactory(username="stranger-olga", email="olga@elsewhere.example"))
    ListingFactory(company=stranger.company, text="Stranger's secret offer")
    StatusChange.objects.create(company=vn_firm, from_status="draft", to_status="pending", changed_by=colleague.user)
    delivery = DigestDelivery.objects.create(
        company=vn_firm,
        iso_year=2026,
        iso_week=48,
        status=DigestDelivery.Status.SENT,
        sent_to=["hung@thietbi.example", "lan@thietbi.example"],
    )
    DigestItem.objects.create(delivery=delivery, match=connected, kind=DigestItem.Kind.NEW)

    body = signed_in(client, member).get(EXPORT).content.decode()

    for secret in [
        "colleague-lan",
        "lan@thietbi.example",
        "stranger-olga",
        "olga@elsewhere.example",
        stranger.company.name,
        stranger.company.contact_email,
        "Stranger's secret offer",
        "diag-owner",
        "owner@diag.example",
    ]:
        assert secret not in body, secret
    data = json.loads(body)
    assert data["digests"] == [
        {
            "week": "2026-W48",
            "status": "sent",
            "sent_at": None,
            "sent_to": ["hung@thietbi.example"],
            "items": [{"kind": "new", "match": connected.pk}],
        }
    ]
    assert [change["by_you"] for change in data["status_changes"]] == [False]


# --- deletion -------------------------------------------------------------------------------------


def test_the_delete_page_tells_the_last_member_the_firm_is_withdrawn_too(client, member, vn_firm):
    html = signed_in(client, member).get(DELETE).content.decode()
    assert "You are the last member acting for" in html and vn_firm.name in html
    assert 'name="password"' in html and 'autocomplete="current-password"' in html and "csrfmiddlewaretoken" in html


def test_deleting_with_a_wrong_password_changes_nothing(client, member, vn_firm, connected):
    response = signed_in(client, member).post(DELETE, {"password": "not my password"})

    assert response.status_code == 400
    assert "This is not your current password. Nothing was deleted." in response.content.decode()
    assert get_user_model().objects.filter(pk=member.user.pk).exists()
    vn_firm.refresh_from_db()
    assert (vn_firm.name, vn_firm.status, vn_firm.contact_email) == (
        "Công ty Thiết bị Y tế Hà Nội",
        Company.Status.PUBLISHED,
        "hung@thietbi.example",
    )
    connected.refresh_from_db()
    assert connected.status == Match.Status.CONNECTED
    assert client.get(PREFERENCES).status_code == 200  # still signed in


def test_deleting_the_last_member_withdraws_the_firm_everywhere(client, member, vn_firm, ru_firm, ru_member, connected):
    suggested = MatchFactory(company_vn=vn_firm, status=Match.Status.SUGGESTED)
    approved = MatchFactory(company_vn=vn_firm, status=Match.Status.APPROVED)
    told = DigestDelivery.objects.create(company=approved.company_ru, iso_year=2026, iso_week=48)
    item = DigestItem.objects.create(delivery=told, match=approved, kind=DigestItem.Kind.NEW)
    earlier = StatusChange.objects.create(
        company=vn_firm, from_status="pending", to_status="published", changed_by=member.user
    )
    assert vn_firm.pk in {profile.key for profile in selectors.matchable_profiles()}

    response = signed_in(client, member).post(DELETE, {"password": PASSWORD}, follow=True)

    # The member is gone and signed out, and told what happened.
    assert response.redirect_chain[-1][0] == "/"
    assert "your firm’s profile is withdrawn" in response.content.decode()
    assert not get_user_model().objects.filter(username="hung").exists()
    assert not Membership.objects.filter(company=vn_firm).exists()
    assert client.get(PREFERENCES).status_code == 302
    # The firm is anonymised in place and out of the directory and matching.
    vn_firm.refresh_from_db()
    assert vn_firm.name == "Withdrawn firm" and vn_firm.status == Company.Status.WITHDRAWN
    assert (vn_firm.city, vn_firm.website, vn_firm.contact_name, vn_firm.contact_email, vn_firm.contact_phone) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert vn_firm.external_id is None and vn_firm.contact_unsubscribed_at is not None
    assert (vn_firm.consent_version, vn_firm.consent_purposes, vn_firm.consent_given_at) == ("", [], None)
    assert not vn_firm.listings.exists() and not vn_firm.sectors.exists()
    assert not Company.objects.published().filter(pk=vn_firm.pk).exists()
    assert vn_firm.pk not in {profile.key for profile in selectors.matchable_profiles()}
    assert VN_NEED not in APIClient().get("/api/v1/companies/").content.decode()
    # Open matches are gone; the digest that had queued one keeps its item, without the match.
    assert not Match.objects.filter(pk__in=[suggested.pk, approved.pk]).exists()
    item.refresh_from_db()
    assert item.match is None
    # The connection stays, withdrawn, and names the firm nowhere any more.
    connected.refresh_from_db()
    assert connected.status == Match.Status.WITHDRAWN
    assert [reason["kind"] for reason in connected.reasons] == ["cooperation"]  # no quote of the erased need
    notes = list(connected.events.values_list("note", flat=True))
    assert "withdrawn firm (VN) accepted" in notes and not any("Hà Nội" in note for note in notes)
    # The audit trail: the withdrawal, by nobody, and the earlier change, no longer naming the deleted user.
    withdrawal = vn_firm.status_changes.get(to_status=Company.Status.WITHDRAWN)
    assert (withdrawal.from_status, withdrawal.changed_by, withdrawal.note) == (
        "published",
        None,
        "withdrawn by its last member",
    )
    earlier.refresh_from_db()
    assert earlier.changed_by is None


def test_the_counterpart_sees_the_connection_withdrawn_without_contact(client, member, ru_member, connected):
    before = api_for(ru_member.user).get(MY_MATCHES).json()["results"][0]
    assert before["counterpart_contact"]["contact_email"] == "hung@thietbi.example"

    signed_in(client, member).post(DELETE, {"password": PASSWORD})

    body = api_for(ru_member.user).get(MY_MATCHES)
    assert "hung@thietbi.example" not in body.content.decode() and VN_NEED not in body.content.decode()
    (match,) = body.json()["results"]
    assert match["id"] == connected.pk and match["status"] == "withdrawn"
    assert match["counterpart_contact"] is None
    assert match["counterpart"]["name"] == "Withdrawn firm"
    assert api_for(ru_member.user).get(MY_MATCHES, {"status": "withdrawn"}).json()["count"] == 1
    # The counterpart's own export says the same.
    ru_export = json.loads(signed_in(client, ru_member).get(EXPORT).content)
    assert [(m["status"], m["counterpart_contact"]) for m in ru_export["matches"]] == [("withdrawn", None)]


def test_a_withdrawn_firm_gets_no_digest_and_is_in_no_one_else_s(client, member, vn_firm, ru_firm):
    MatchFactory(company_vn=vn_firm, company_ru=ru_firm, status=Match.Status.APPROVED)
    week = timezone.now().isocalendar()
    assert vn_firm in selectors.digest_candidates(week.year, week.week)

    signed_in(client, member).post(DELETE, {"password": PASSWORD})

    assert vn_firm not in selectors.digest_candidates(week.year, week.week)
    assert not any(selectors.firm_digest_plan(ru_firm).values())


def test_deleting_a_member_who_is_not_the_last_keeps_the_firm(client, member, vn_firm, connected):
    colleague = MembershipFactory(company=vn_firm, role=Membership.Role.EDITOR)
    html = signed_in(client, member).get(DELETE).content.decode()
    assert "keeps its profile and its introductions" in html

    response = client.post(DELETE, {"password": PASSWORD}, follow=True)

    assert "Your firm’s profile stays, with its other members." in response.content.decode()
    assert not get_user_model().objects.filter(username="hung").exists()
    vn_firm.refresh_from_db()
    assert vn_firm.name == "Công ty Thiết bị Y tế Hà Nội" and vn_firm.contact_email == "hung@thietbi.example"
    assert Company.objects.published().filter(pk=vn_firm.pk).exists()
    assert list(vn_firm.memberships.all()) == [colleague]
    connected.refresh_from_db()
    assert connected.status == Match.Status.CONNECTED
    assert not vn_firm.status_changes.filter(to_status=Company.Status.WITHDRAWN).exists()


def test_the_departing_member_s_address_leaves_the_firm_s_digest_records(client, member, vn_firm):
    MembershipFactory(company=vn_firm, user=UserFactory(email="lan@thietbi.example"))
    delivery = DigestDelivery.objects.create(
        company=vn_firm,
        iso_year=2026,
        iso_week=48,
        status=DigestDelivery.Status.SENT,
        sent_to=["HUNG@thietbi.example", "lan@thietbi.example"],
    )
    signed_in(client, member).post(DELETE, {"password": PASSWORD})
    delivery.refresh_from_db()
    assert delivery.sent_to == ["lan@thietbi.example"]


def test_a_user_without_a_firm_can_delete_the_account(client):
    user = UserFactory()
    response = signed_in(client, user).post(DELETE, {"password": PASSWORD}, follow=True)
    assert "Your account is deleted." in response.content.decode()
    assert not get_user_model().objects.filter(pk=user.pk).exists()


def test_a_withdrawn_firm_can_never_be_published_again(member, vn_firm):
    from companies.privacy import withdraw_member
    from companies.services import WorkflowError, change_status

    withdraw_member(member.user)
    vn_firm.refresh_from_db()
    for status in [Company.Status.PUBLISHED, Company.Status.PENDING, Company.Status.DRAFT]:
        with pytest.raises(WorkflowError):
            change_status(vn_firm, status)


def test_staff_accounts_are_not_deleted_here(client):
    staff = UserFactory(is_staff=True)
    signed_in(client, staff)
    assert "Staff accounts are closed by the service’s administrators" in client.get(DELETE).content.decode()
    assert client.post(DELETE, {"password": PASSWORD}).status_code == 403
    assert get_user_model().objects.filter(pk=staff.pk).exists()


def test_the_recompute_after_the_withdrawal_never_suggests_the_firm_again(
    client, member, vn_firm, ru_firm, connected, django_capture_on_commit_callbacks, monkeypatch
):
    from matchmaking import services

    monkeypatch.setattr(services, "matching_embedder", lambda progress=None: None)  # lexical ranking: fast
    other_vn = CompanyFactory(country="VN")
    ListingFactory(company=other_vn, direction=Listing.Direction.NEED, text=RU_OFFER)
    MatchFactory(company_vn=vn_firm, status=Match.Status.SUGGESTED)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        signed_in(client, member).post(DELETE, {"password": PASSWORD})

    assert callbacks  # the recompute of the firm and of its former counterparts ran
    assert list(Match.objects.filter(company_vn=vn_firm).values_list("status", flat=True)) == ["withdrawn"]
    assert Match.objects.filter(company_vn=other_vn, company_ru=ru_firm, status=Match.Status.SUGGESTED).exists()

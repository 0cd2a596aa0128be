"""A member's data rights: mail preferences, a copy of their data (access), and leaving the service (withdrawal
of consent and deletion).

Vietnam's personal data law (Law 91/2025, Decree 356/2025, after Decree 13/2023) and Russia's 152-FZ both
let a person withdraw consent and have their data destroyed, and have the operator prove what it did. So a
member's account is deleted outright; a firm whose last member leaves is anonymised in place instead of
deleted, keeping the StatusChange audit row and the connections its counterparts made (shown to them as
withdrawn, without contact details).

Matches live in the matchmaking app, which companies must not import: they take part through the signals in
companies.signals.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from companies.models import Company, Membership, StatusChange
from companies.signals import company_withdrawing, member_withdrawing, personal_data_requested

EXPORT_FORMAT = "sme-match-personal-data/1"
WITHDRAWN_NAME = "Withdrawn firm"
WITHDRAWAL_NOTE = "withdrawn by its last member"


# --- preferences ------------------------------------------------------------------------------------


def membership_of(user) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user).select_related("company").first()


def set_member_preferences(membership: Membership, *, digest: str, language: str) -> None:
    """The member's weekly digest (weekly or none) and the language of their emails."""
    Membership.objects.filter(pk=membership.pk).update(digest=digest, language=language)
    membership.digest, membership.language = digest, language


# --- access: a copy of everything held -----------------------------------------------------------


def _fields(instance: Model, exclude: tuple[str, ...] = ()) -> dict:
    """Every stored column of a row, a foreign key as its id; values as Python (the view encodes them)."""
    return {
        field.name: field.value_from_object(instance)
        for field in instance._meta.concrete_fields
        if field.name not in exclude
    }


def _account(user) -> dict:
    # Never the password hash, nor the flags of the permission system.
    return {
        "username": user.get_username(),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def _company(company: Company) -> dict:
    data = _fields(company)
    data["chamber_name"] = company.chamber.name if company.chamber_id else None
    data["sectors"] = sorted(company.sectors.values_list("code", flat=True))
    return data


def _listings(company: Company) -> list[dict]:
    return [
        {**_fields(listing, exclude=("company",)), "sectors": sorted(sector.code for sector in listing.sectors.all())}
        for listing in company.listings.prefetch_related("sectors").order_by("pk")
    ]


def _status_changes(company: Company, user) -> list[dict]:
    # Who else changed the status (chamber staff, another member) is their data, not the member's: only
    # whether it was the member themselves.
    return [
        {
            "from_status": change.from_status,
            "to_status": change.to_status,
            "changed_at": change.changed_at,
            "by_you": change.changed_by_id == user.pk,
            "note": change.note,
        }
        for change in company.status_changes.order_by("changed_at", "pk")
    ]


def export_personal_data(user) -> dict:
    """Everything the service holds on the member and their firm, as JSON-ready values (datetimes aside).

    The account, the membership, the firm's profile with its contact and consent, its offers and needs and
    its status history; other apps add theirs (matches, digests) through ``personal_data_requested``.
    Nothing about the firm's other members or the staff who handled it.
    """
    membership = membership_of(user)
    company = membership.company if membership else None
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now(),
        "account": _account(user),
        "membership": None,
        "company": None,
        "listings": [],
        "status_changes": [],
    }
    if membership is not None:
        data["membership"] = {
            "role": membership.role,
            "language": membership.language,
            "digest": membership.digest,
            "created_at": membership.created_at,
        }
        data["company"] = _company(company)
        data["listings"] = _listings(company)
        data["status_changes"] = _status_changes(company, user)
    contributed: dict = {}
    for _receiver, response in personal_data_requested.send(sender=Company, company=company, user=user):
        if response:
            contributed.update(response)
    # A receiver adds to the export; it never replaces what this module wrote.
    data.update({key: value for key, value in contributed.items() if key not in data})
    return data


# --- withdrawal and deletion ---------------------------------------------------------------------


@dataclass(frozen=True)
class Withdrawal:
    """What withdraw_member did: the account is always gone; the firm's profile too if it was the last member."""

    company_id: int | None
    company_withdrawn: bool


def is_last_member(user) -> bool:
    """Whether deleting this user's account withdraws their firm's profile too."""
    membership = membership_of(user)
    return membership is not None and not membership.company.memberships.exclude(pk=membership.pk).exists()


@transaction.atomic
def withdraw_member(user) -> Withdrawal:
    """The member withdraws consent and leaves: the account is deleted (the membership with it).

    If nobody else acts for the firm, its profile is withdrawn too: the matchmaking app ends its matches
    (``company_withdrawing``), the row is anonymised in place (it leaves the directory, matching and the
    digests, as none of them reads a firm that is not published) and a StatusChange records it. The firm's
    consent stays while other members still act for it: it is the firm's, not one member's.
    """
    membership = Membership.objects.filter(user=user).first()
    company, last = None, False
    if membership is not None:
        # Locked, so two last members leaving at once cannot each see the other one and both leave the firm.
        company = Company.objects.select_for_update().get(pk=membership.company_id)
        last = not company.memberships.exclude(user=user).exists()
    member_withdrawing.send(sender=Company, company=company, user=user)
    if last:
        company_withdrawing.send(sender=Company, company=company)
        _anonymise(company)
    user.delete()
    return Withdrawal(company_id=company.pk if company else None, company_withdrawn=last)


def _anonymise(company: Company) -> None:
    """Erase what names or reaches the firm; keep the row, its country and size, for the audit trail."""
    from_status = company.status
    company.listings.all().delete()
    company.sectors.clear()
    company.name = WITHDRAWN_NAME
    company.city = company.website = ""
    company.contact_name = company.contact_email = company.contact_phone = ""
    company.external_id = None
    company.consent_version, company.consent_purposes, company.consent_given_at = "", [], None
    company.status = Company.Status.WITHDRAWN  # the one way in (Company.TRANSITIONS): the last member left
    company.contact_unsubscribed_at = timezone.now()
    company.save()
    StatusChange.objects.create(
        company=company,
        from_status=from_status,
        to_status=Company.Status.WITHDRAWN,
        changed_by=None,
        note=WITHDRAWAL_NOTE,
    )

"""Writes that touch company profiles: creation, edits, offers and needs, consent and the review workflow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from companies import tasks
from companies.classification import division_of
from companies.models import (
    LISTINGS_PER_DIRECTION_MAX,
    PURPOSES_TO_MATCH,
    ChamberStaff,
    Company,
    ConsentPurpose,
    ConsentSource,
    Country,
    DigestFrequency,
    Listing,
    Membership,
    Organisation,
    Source,
    StatusChange,
)
from companies.recipients import CONTACT, MEMBER, STAFF


class WorkflowError(ValueError):
    """A status change the review workflow does not allow."""


class ListingLimitError(ValueError):
    """A firm that already has as many offers (or needs) as a profile may have."""


@dataclass
class ListingData:
    direction: str
    text: str
    kind: str = Listing.Kind.PRODUCT
    cooperation: list[str] = field(default_factory=list)
    sector_codes: list[str] = field(default_factory=list)


def apply_activity_code(company: Company) -> None:
    """Derive the ISIC division from the activity code (already validated for the country)."""
    company.activity_division_id = (
        division_of(company.activity_code, company.country) if company.activity_code else None
    )


def replace_listings(company: Company, listings: Iterable[ListingData]) -> list[Listing]:
    company.listings.all().delete()
    return [add_listing(company, data) for data in listings]


def add_listing(company: Company, data: ListingData) -> Listing:
    listing = Listing.objects.create(
        company=company, direction=data.direction, kind=data.kind, text=data.text, cooperation=list(data.cooperation)
    )
    if data.sector_codes:
        listing.sectors.set(data.sector_codes)
    return listing


@transaction.atomic
def add_own_listing(company: Company, data: ListingData) -> Listing:
    """A member adds one offer or need: a profile has at most LISTINGS_PER_DIRECTION_MAX of each, as its form."""
    # The firm's row is the lock: two requests at once must not both find room for the last one.
    Company.objects.select_for_update().filter(pk=company.pk).values_list("pk", flat=True).get()
    if company.listings.filter(direction=data.direction).count() >= LISTINGS_PER_DIRECTION_MAX:
        raise ListingLimitError(
            _("A profile has at most %(count)d offers and %(count)d needs: change or delete one instead.")
            % {"count": LISTINGS_PER_DIRECTION_MAX}
        )
    return add_listing(company, data)


def record_consent(company: Company, purposes: Sequence[str], version: str | None = None) -> None:
    company.consent_version = version or settings.CONSENT_VERSION
    company.consent_purposes = sorted(set(purposes))
    company.consent_given_at = timezone.now()


class ConsentError(ValueError):
    """A change of consent the rules do not allow here (withdrawing matching is deleting the account)."""


@transaction.atomic
def change_consent(company: Company, purposes: Sequence[str]) -> bool:
    """A member gives or withdraws the firm's consent, purpose by purpose (the Preferences page). Recorded as the
    firm's own consent, to the current text version, at this time; returns False when nothing changed.

    Matching, once given, is withdrawn only by leaving the service (companies.privacy.withdraw_member), which
    also erases the data, as 152-FZ asks of a withdrawal."""
    wanted = sorted(set(purposes))
    unknown = set(wanted) - set(ConsentPurpose.values)
    if unknown:
        raise ConsentError(_("Unknown purposes: %(purposes)s.") % {"purposes": ", ".join(sorted(unknown))})
    # The firm's row is the lock: two members changing consent at once must not each undo the other's change.
    current = Company.objects.select_for_update().get(pk=company.pk)
    if set(PURPOSES_TO_MATCH) <= set(current.consent_purposes) and not set(PURPOSES_TO_MATCH) <= set(wanted):
        raise ConsentError(_("Consent to matching is withdrawn by deleting your account."))
    if wanted == sorted(current.consent_purposes):
        return False
    record_consent(company, wanted)
    company.consent_source = ConsentSource.FIRM
    company.save(
        update_fields=["consent_version", "consent_purposes", "consent_given_at", "consent_source", "updated_at"]
    )
    return True


@transaction.atomic
def create_company_for_member(
    *, user, fields: dict, sector_codes: Sequence[str], listings: Sequence[ListingData], consent_purposes: Sequence[str]
) -> Company:
    """A member registers their firm: it starts as a draft owned by that member."""
    company = Company(**{"source": Source.API, **fields})
    apply_activity_code(company)
    record_consent(company, consent_purposes)
    company.save()
    company.sectors.set(sector_codes)
    replace_listings(company, listings)
    Membership.objects.create(user=user, company=company, role=Membership.Role.OWNER)
    return company


CHAMBER_CHANGED_NOTE = "vetting chamber changed"


def chamber_problem(company: Company | None, *, country: str | None, chamber: Organisation | None) -> str:
    """Why a firm may not have this vetting chamber, or "" when it may. A chamber vets the firms of its own
    country, whatever their status; and a firm once submitted keeps a chamber, or no chamber's staff could
    review or suspend it."""
    if chamber is not None and country and chamber.country != country:
        return _("%(chamber)s reviews the firms of %(country)s: choose a chamber of your firm's country.") % {
            "chamber": chamber.name,
            "country": Country(chamber.country).label,
        }
    if (
        chamber is None
        and company is not None
        and company.chamber_id is not None
        and company.status != Company.Status.DRAFT
    ):
        return _("A profile under review or published keeps a vetting chamber: choose one of your country's.")
    return ""


@transaction.atomic
def update_company(
    company: Company,
    *,
    fields: dict,
    sector_codes: Sequence[str] | None = None,
    by=None,
) -> Company:
    """Change a firm's profile. A published firm that changes its vetting chamber goes back to review (with its
    StatusChange row): the new chamber has not vetted it."""
    stored = None
    if "chamber" in fields and company.pk is not None:
        # Read from the database: a ModelForm has already written the new chamber onto the instance.
        stored = Company.objects.select_for_update().values_list("chamber_id", "status").get(pk=company.pk)
    for name, value in fields.items():
        setattr(company, name, value)
    apply_activity_code(company)
    company.save()
    if sector_codes is not None:
        company.sectors.set(sector_codes)
    if stored is not None and stored[1] == Company.Status.PUBLISHED and company.chamber_id != stored[0]:
        change_status(company, Company.Status.PENDING, by=by, note=CHAMBER_CHANGED_NOTE)
    return company


def change_status(company: Company, to_status: str, *, by=None, note: str = "") -> StatusChange:
    if to_status == company.status:
        raise WorkflowError(_("The company is already %(status)s.") % {"status": company.get_status_display()})
    if not company.may_move_to(to_status):
        raise WorkflowError(
            _("A company cannot go from %(old)s to %(new)s.")
            % {"old": company.get_status_display(), "new": Company.Status(to_status).label}
        )
    change = StatusChange.objects.create(
        company=company, from_status=company.status, to_status=to_status, changed_by=by, note=note
    )
    company.status = to_status
    company.save(update_fields=["status", "updated_at"])
    if to_status == Company.Status.PUBLISHED:
        # Its members hear of it once the publication commits (never of one rolled back), from a worker that
        # retries while the mail server is down; the publication stands whatever the mail does.
        transaction.on_commit(lambda: tasks.send_published_email.delay(change.pk), robust=True)
    return change


@transaction.atomic
def submit_for_review(company: Company, *, by=None) -> StatusChange:
    """A member asks the chamber to vet the profile; it must say what the firm offers or needs."""
    if not company.listings.exists():
        raise WorkflowError(_("Add at least one offer or need before submitting the profile for review."))
    if company.consent_given_at is None:
        raise WorkflowError(_("Give consent to the processing of the profile before submitting it for review."))
    return change_status(company, Company.Status.PENDING, by=by)


@transaction.atomic
def bulk_change_status(companies: Iterable[Company], to_status: str, *, by=None) -> tuple[int, list[str]]:
    """Staff publish or suspend several companies at once; returns (changed, reasons for the skipped)."""
    changed, skipped = 0, []
    for company in companies:
        try:
            change_status(company, to_status, by=by)
            changed += 1
        except WorkflowError as error:
            skipped.append(f"{company.name}: {error}")
    return changed, skipped


def awaits_verification(user) -> bool:
    """An account a sign-up made and nobody opened yet. A deactivated account (it was logged into) or a staff
    account is not one: a new link must never reopen what staff closed."""
    return not (user.is_active or user.is_staff or user.is_superuser or user.last_login)


CHAMBER_STAFF_GROUP = "Chamber staff"  # created with its permissions by migration 0002


@transaction.atomic
def make_chamber_staff(user, chamber) -> None:
    """Let a user vet the companies of one chamber in the admin."""
    ChamberStaff.objects.update_or_create(user=user, defaults={"chamber": chamber})
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=CHAMBER_STAFF_GROUP))


# --- mail preferences and claiming a profile ------------------------------------------------------


def set_digest_preferences(recipient, *, digest: str, language: str | None = None) -> None:
    """Store what a recipient wants: the weekly digest or none, and (members, staff) the language."""
    if recipient.kind == CONTACT:
        unsubscribed = timezone.now() if digest == DigestFrequency.NONE else None
        Company.objects.filter(pk=recipient.pk).update(contact_unsubscribed_at=unsubscribed)
        return
    model = {MEMBER: Membership, STAFF: ChamberStaff}[recipient.kind]
    fields = {"digest": digest}
    if language is not None:
        fields["language"] = language
    model.objects.filter(pk=recipient.pk).update(**fields)


def unsubscribe(recipient) -> None:
    """One-click unsubscribe (RFC 8058): no more digests to this recipient."""
    set_digest_preferences(recipient, digest=DigestFrequency.NONE)


class ClaimError(ValueError):
    """A profile that cannot be claimed (already claimed, or the address is taken)."""


@transaction.atomic
def claim_company(company: Company, *, email: str, password: str, consent_purposes: Sequence[str], language: str):
    """The contact of a firm a chamber imported takes it over: an owner account, and the firm's own consent."""
    company = Company.objects.select_for_update().get(pk=company.pk)
    if company.memberships.exists():
        raise ClaimError(_("This profile has already been claimed; sign in instead."))
    User = get_user_model()
    existing = list(User.objects.select_for_update().filter(Q(username__iexact=email) | Q(email__iexact=email)))
    if any(not awaits_verification(user) for user in existing) or len(existing) > 1:
        raise ClaimError(_("An account with this email address already exists; sign in instead."))
    if existing:
        # A sign-up nobody confirmed yet: the claim link reached this address too, which is the same proof, so it
        # completes that account. Otherwise anyone who signed up first with a firm's contact address would keep
        # the firm from claiming its profile.
        user = existing[0]
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
    else:
        user = User.objects.create_user(username=email, email=email, password=password)
    membership = Membership.objects.create(user=user, company=company, role=Membership.Role.OWNER, language=language)
    record_consent(company, consent_purposes)
    company.contact_unsubscribed_at = None
    company.save(
        update_fields=[
            "consent_version",
            "consent_purposes",
            "consent_given_at",
            "contact_unsubscribed_at",
            "updated_at",
        ]
    )
    return membership


# --- the profile form of the site -------------------------------------------------------------------


def _same_listings(company: Company, listings: Sequence[ListingData]) -> bool:
    def key(direction, kind, text, cooperation):
        return direction, kind, text.strip(), tuple(sorted(cooperation))

    current = sorted(key(x.direction, x.kind, x.text, x.cooperation) for x in company.listings.all())
    return current == sorted(key(x.direction, x.kind, x.text, x.cooperation) for x in listings)


@transaction.atomic
def save_profile(
    *,
    user,
    company: Company | None,
    fields: dict,
    sector_codes: Sequence[str],
    listings: Sequence[ListingData],
    consent_purposes: Sequence[str],
    language: str,
) -> Company:
    """Create or change the member's firm from the profile page: fields, sectors, offers and needs, consent.

    Offers and needs are replaced only when they changed, so saving an untouched form leaves the matches'
    references to them (and their suggestions) alone."""
    if company is None:
        company = create_company_for_member(
            user=user,
            fields=fields,
            sector_codes=sector_codes,
            listings=listings,
            consent_purposes=consent_purposes,
        )
        Membership.objects.filter(user=user, company=company).update(language=language)
        return company
    if sorted(consent_purposes) != sorted(company.consent_purposes):
        record_consent(company, consent_purposes)
    update_company(company, fields=fields, sector_codes=sector_codes, by=user)
    if not _same_listings(company, listings):
        replace_listings(company, listings)
    return company

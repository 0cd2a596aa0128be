"""Who reads a firm's or a chamber's mail, in which language, and the signed tokens that act for them.

A recipient is a firm's member, the contact email of a firm that has no member account yet (a chamber
imported it), or a chamber's staff member. Links in emails carry a signed token naming the recipient, so
unsubscribing or changing preferences needs no login (RFC 8058).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from companies.models import COUNTRY_LANGUAGES, ChamberStaff, Company, DigestFrequency, Membership, Organisation

MEMBER, CONTACT, STAFF = "member", "contact", "staff"
_RECIPIENT_SALT = "sme-match.recipient"


@dataclass(frozen=True)
class Recipient:
    kind: str  # MEMBER, CONTACT or STAFF
    pk: int  # the Membership, Company or ChamberStaff row
    email: str
    name: str
    language: str  # vi, ru or en

    @property
    def token(self) -> str:
        return recipient_token(self)


def profile_language(company: Company) -> str:
    """The language the firm writes its profile in: most of its offers and needs, else its first business
    language, else its country's."""
    written = Counter(listing.language for listing in company.listings.all() if listing.language)
    if written:
        return written.most_common(1)[0][0]
    if company.languages:
        return company.languages[0]
    return COUNTRY_LANGUAGES.get(company.country, "en")


def _email_problem(email: str) -> str | None:
    if not email:
        return "no email address"
    try:
        validate_email(email)
    except ValidationError:
        return f"invalid email address {email!r}"
    return None


def firm_recipients(company: Company) -> tuple[list[Recipient], list[str]]:
    """(recipients of the firm's digest, why each other possible reader was left out).

    Members who have not opted out, each in their own language; a firm with no member yet is written to at
    its contact email, in the language of its profile. Prefetch ``memberships__user`` and ``listings`` when
    calling this for many firms.
    """
    recipients, skipped = [], []
    memberships = list(company.memberships.all())
    language = profile_language(company)
    if not memberships:
        if company.contact_unsubscribed_at is not None:
            return [], ["the contact unsubscribed"]
        problem = _email_problem(company.contact_email)
        if problem:
            return [], [f"contact: {problem}"]
        return [Recipient(CONTACT, company.pk, company.contact_email, company.contact_name, language)], []
    for membership in memberships:
        user = membership.user
        if membership.digest == DigestFrequency.NONE:
            skipped.append(f"member {user.get_username()}: opted out")
            continue
        problem = _email_problem(user.email)
        if problem:
            skipped.append(f"member {user.get_username()}: {problem}")
            continue
        name = user.get_full_name() or user.get_username()
        recipients.append(Recipient(MEMBER, membership.pk, user.email, name, membership.language or language))
    if not recipients and all(m.digest == DigestFrequency.NONE for m in memberships):
        skipped = ["all members opted out"]
    return recipients, skipped


def staff_recipients(chamber: Organisation) -> tuple[list[Recipient], list[str]]:
    """(staff of the chamber who get its review digest, why the others do not)."""
    recipients, skipped = [], []
    default_language = COUNTRY_LANGUAGES.get(chamber.country, "en")
    for staff in chamber.staff.select_related("user").order_by("pk"):
        user = staff.user
        if staff.digest == DigestFrequency.NONE:
            skipped.append(f"staff {user.get_username()}: opted out")
            continue
        problem = _email_problem(user.email)
        if problem:
            skipped.append(f"staff {user.get_username()}: {problem}")
            continue
        name = user.get_full_name() or user.get_username()
        recipients.append(Recipient(STAFF, staff.pk, user.email, name, staff.language or default_language))
    return recipients, skipped


# --- tokens -------------------------------------------------------------------------------------------


def recipient_token(recipient: Recipient) -> str:
    """A token naming the recipient; it never expires, as an unsubscribe link must work in old mail too.
    The address is part of it, so a firm's old contact cannot act for its new one."""
    return signing.dumps({"k": recipient.kind, "id": recipient.pk, "e": recipient.email.lower()}, salt=_RECIPIENT_SALT)


def recipient_from_token(token: str) -> Recipient | None:
    """The recipient a token names, read afresh from the database; None if the token is forged or stale."""
    try:
        data = signing.loads(token, salt=_RECIPIENT_SALT)
    except signing.BadSignature:
        return None
    kind, pk, email = data.get("k"), data.get("id"), data.get("e", "")
    recipient = None
    if kind == MEMBER:
        membership = Membership.objects.select_related("user", "company").filter(pk=pk).first()
        if membership:
            language = membership.language or profile_language(membership.company)
            recipient = Recipient(MEMBER, pk, membership.user.email, membership.user.get_username(), language)
    elif kind == CONTACT:
        company = Company.objects.filter(pk=pk).first()
        if company:
            recipient = Recipient(CONTACT, pk, company.contact_email, company.contact_name, profile_language(company))
    elif kind == STAFF:
        staff = ChamberStaff.objects.select_related("user", "chamber").filter(pk=pk).first()
        if staff:
            language = staff.language or COUNTRY_LANGUAGES.get(staff.chamber.country, "en")
            recipient = Recipient(STAFF, pk, staff.user.email, staff.user.get_username(), language)
    if recipient is None or recipient.email.lower() != email:
        return None
    return recipient


def sign_action(payload: dict, salt: str) -> str:
    """A token for a link that acts (answer an introduction, claim a profile); it expires, see load_action."""
    return signing.dumps(payload, salt=salt)


def load_action(token: str, salt: str, max_age_days: int) -> dict | None:
    try:
        return signing.loads(token, salt=salt, max_age=max_age_days * 86400)
    except signing.BadSignature:  # includes SignatureExpired
        return None


CLAIM_SALT = "sme-match.claim"


def claim_token(company: Company) -> str:
    """A link token with which the contact of an imported firm claims its profile."""
    return sign_action({"company": company.pk, "email": company.contact_email}, CLAIM_SALT)

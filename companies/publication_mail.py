"""The email that tells a firm's members their profile is published (services.change_status queues it once the
publication commits).

One email per publication: it is keyed on the StatusChange row that published the firm, so publishing an
already published firm (refused by the workflow) sends nothing, and each member's copy has the same Message-ID
should it ever be sent twice. It is a service message about the member's own account, so it goes to every
member with an address, whatever their digest preference, each in the language of their other emails.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from companies.mail import Mailer, message_domain
from companies.models import Company, Membership, StatusChange
from companies.recipients import profile_language

TEMPLATE = "companies/email/published"


def _address(membership: Membership) -> str:
    user = membership.user
    for candidate in (user.email, user.get_username()):
        try:
            validate_email(candidate)
        except ValidationError:
            continue
        return candidate
    return ""


def _message(
    company: Company, membership: Membership, change: StatusChange, *, shown: bool, address: str
) -> EmailMultiAlternatives:
    language = membership.language or profile_language(company)
    user = membership.user
    with translation.override(language):
        context = {
            "name": user.get_full_name() or user.get_username(),
            "firm": company,
            "language": language,
            "chamber": str(company.chamber) if company.chamber_id else "",
            "shown": shown,
            "public_url": settings.SITE_URL + reverse("directory-company", args=[company.pk]) if shown else "",
            "introductions_url": settings.SITE_URL + reverse("my-introductions"),
            "profile_url": settings.SITE_URL + reverse("my-profile"),
            "preferences_url": settings.SITE_URL + reverse("my-preferences"),
        }
        subject = " ".join(render_to_string(f"{TEMPLATE}_subject.txt", context).split())
        text = render_to_string(f"{TEMPLATE}.txt", context)
        html = render_to_string(f"{TEMPLATE}.html", context)
    domain = message_domain()
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[address],
        headers={"Message-ID": f"<published-{change.pk}-{membership.pk}@{domain}>", "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def send_published_email(change_id: int) -> int:
    """Email the members of the firm the StatusChange ``change_id`` published; returns how many messages went.
    Nothing when the firm is no longer published when this runs, or a later publication has its own email."""
    change = (
        StatusChange.objects.select_related("company__chamber")
        .filter(pk=change_id, to_status=Company.Status.PUBLISHED)
        .first()
    )
    if change is None or change.company.status != Company.Status.PUBLISHED:
        return 0
    company = change.company
    if company.status_changes.filter(to_status=Company.Status.PUBLISHED, pk__gt=change.pk).exists():
        return 0
    shown = Company.objects.shown_to_others().filter(pk=company.pk).exists()
    messages = []
    for membership in company.memberships.select_related("user").order_by("pk"):
        address = _address(membership)
        if address:
            messages.append(_message(company, membership, change, shown=shown, address=address))
    if not messages:
        return 0
    mail = Mailer()
    try:
        for message in messages:
            mail.send(message)
    finally:
        mail.close()
    return len(messages)

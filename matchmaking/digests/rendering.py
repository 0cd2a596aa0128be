"""What a digest says: the firm's and the staff's email in each reader's language, the public profile of a
counterpart, the answer links, and sector names fetched once per language for a whole batch."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from companies.mail import claim_url, footer_links, message_domain, reader_key, unsubscribe_headers
from companies.models import Company, Organisation
from companies.recipients import CONTACT, Recipient, sign_action
from matchmaking.digests.weeks import IsoWeek
from matchmaking.explain import explain, fetch_sector_names
from matchmaking.models import DigestDelivery, DigestItem, Match

ANSWER_SALT = "sme-match.answer"
LISTING_PREVIEW = 280  # characters of an offer or need quoted in the email


def public_profile(company: Company, sector_names) -> dict:
    def preview(text: str) -> str:
        return text if len(text) <= LISTING_PREVIEW else text[: LISTING_PREVIEW - 1].rstrip() + "…"

    listings = list(company.listings.all())
    sectors = [sector.name for sector in company.sectors.all()] or (
        [company.activity_division.name] if company.activity_division else []
    )
    return {
        "name": company.name,
        "country": company.get_country_display(),
        "city": company.city,
        "size": company.get_size_display() if company.size else "",
        "sectors": sectors,
        "offers": [preview(listing.text) for listing in listings if listing.direction == listing.Direction.OFFER],
        "needs": [preview(listing.text) for listing in listings if listing.direction == listing.Direction.NEED],
    }


def _answer_url(match: Match, company: Company, recipient: Recipient) -> str:
    token = sign_action(
        {"match": match.pk, "company": company.pk, "member": recipient.pk if recipient.kind != CONTACT else None},
        ANSWER_SALT,
    )
    path = reverse("introduction-answer", args=[token])
    if recipient.kind == CONTACT:  # a firm without an account claims its profile first, then answers
        return f"{claim_url(company)}?next={quote(path)}"
    return settings.SITE_URL + path


class SectorNamesByLanguage(Mapping):
    """Every sector's name in the active language, each language fetched once (one query) for a whole batch
    of digests rather than once per email."""

    def __init__(self) -> None:
        self._names: dict[str, dict[str, str]] = {}

    def _current(self) -> dict[str, str]:
        language = translation.get_language()
        if language not in self._names:
            self._names[language] = fetch_sector_names()
        return self._names[language]

    def __getitem__(self, code: str) -> str:
        return self._current()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())


def render_firm_digest(
    company: Company,
    *,
    side: str,
    items: list[DigestItem],
    recipient: Recipient,
    delivery: DigestDelivery,
    week: IsoWeek,
    names: Mapping[str, str],
) -> EmailMultiAlternatives:
    expiry_days = settings.DIGEST_INTRODUCTION_EXPIRY_DAYS
    with translation.override(recipient.language):
        sections: dict[str, list[dict]] = {kind: [] for kind in DigestItem.Kind.values}
        for item in items:
            match = item.match
            introduced = match.introduced_at or timezone.now()
            sections[item.kind].append(
                {
                    "counterpart": public_profile(match.counterpart_of(company), names),
                    "reasons": explain(match, side, sector_names=names),
                    "answer_url": _answer_url(match, company, recipient),
                    "expires_on": (introduced + timedelta(days=expiry_days)).date(),
                }
            )
        new, reminders = sections[DigestItem.Kind.NEW], sections[DigestItem.Kind.REMINDER]
        count = len(new)
        if count:
            subject = ngettext(
                "%(count)d new introduction for %(firm)s", "%(count)d new introductions for %(firm)s", count
            ) % {"count": count, "firm": company.name}
        elif reminders:
            subject = ngettext(
                "%(count)d introduction waits for your answer",
                "%(count)d introductions wait for your answer",
                len(reminders),
            ) % {"count": len(reminders)}
        else:
            subject = gettext("News about your introductions")
        context = {
            "recipient": recipient,
            "firm": company,
            "week": str(week),
            "new": new,
            "reminders": reminders,
            "expired": sections[DigestItem.Kind.EXPIRED],
            "claim": recipient.kind == CONTACT,
            "claim_url": claim_url(company) if recipient.kind == CONTACT else "",
            **footer_links(recipient),
        }
        return _message(f"SME Match · {subject}", "matchmaking/email/firm_digest", context, recipient, delivery)


def render_staff_digest(
    chamber: Organisation, *, delivery: DigestDelivery, recipient: Recipient
) -> EmailMultiAlternatives:
    """The staff digest of the chamber for one of its staff: the figures the delivery was claimed with."""
    with translation.override(recipient.language):
        figures = dict(delivery.payload)
        if figures.get("oldest_waiting_since"):
            figures["oldest_waiting_since"] = datetime.fromisoformat(figures["oldest_waiting_since"])
        count = figures["waiting_review"]
        subject = ngettext("%(count)d suggestion waits for review", "%(count)d suggestions wait for review", count) % {
            "count": count
        }
        context = {
            "recipient": recipient,
            "chamber": chamber,
            "week": delivery.week,
            "figures": figures,
            "admin_url": settings.SITE_URL + reverse("admin:matchmaking_match_changelist") + "?status=suggested",
            "vetting_url": settings.SITE_URL + reverse("admin:companies_company_changelist") + "?status=pending",
            **footer_links(recipient),
        }
        return _message(f"SME Match · {subject}", "matchmaking/email/staff_digest", context, recipient, delivery)


def _message(subject: str, template: str, context: dict, recipient: Recipient, delivery: DigestDelivery):
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    domain, reader = message_domain(), reader_key(recipient.email)
    message = EmailMultiAlternatives(
        # A firm's name in the subject was checked when written, but not rows stored before that check: a line
        # break left there would fail this digest every week (BadHeaderError), so the subject is one line.
        subject=" ".join(subject.split()),
        body=text,
        to=[recipient.email],
        headers={
            **unsubscribe_headers(context),
            # The same for every attempt at this digest to this reader, so a resent copy shows once.
            "Message-ID": f"<digest-{delivery.pk}-{reader}@{domain}>",
            "X-SME-Match-Digest": f"{delivery.pk} {delivery.week}",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message

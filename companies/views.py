"""Pages reached from links in emails: unsubscribe, mail preferences and claiming an imported profile.

Each link carries a signed token (companies.recipients), so none of them needs a login.
"""

from django.conf import settings
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from companies import services
from companies.forms import ClaimProfileForm, DigestPreferencesForm
from companies.models import ChamberStaff, Company, DigestFrequency, Membership
from companies.recipients import (
    CLAIM_SALT,
    CONTACT,
    MEMBER,
    STAFF,
    Recipient,
    load_action,
    profile_language,
    recipient_from_token,
)


def _recipient_or_404(token: str) -> Recipient:
    recipient = recipient_from_token(token)
    if recipient is None:
        raise Http404(_("This link is not valid."))
    return recipient


def speak_language(request: HttpRequest, language: str) -> None:
    """Answer in the recipient's language, unless they picked one with the language switch."""
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(language)
        request.LANGUAGE_CODE = language


@csrf_exempt  # RFC 8058: the mail client POSTs with no session and no CSRF token; the signed token is the proof
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners open links, so GET must not unsubscribe); POST unsubscribes at once."""
    recipient = _recipient_or_404(token)
    speak_language(request, recipient.language)
    if request.method == "POST":
        services.unsubscribe(recipient)
        return render(request, "companies/unsubscribed.html", {"recipient": recipient, "token": token})
    return render(request, "companies/unsubscribe.html", {"recipient": recipient, "token": token})


def _current_preferences(recipient: Recipient) -> dict:
    if recipient.kind == MEMBER:
        membership = Membership.objects.get(pk=recipient.pk)
        return {"digest": membership.digest, "language": recipient.language}
    if recipient.kind == STAFF:
        return {"digest": ChamberStaff.objects.get(pk=recipient.pk).digest, "language": recipient.language}
    company = Company.objects.get(pk=recipient.pk)
    subscribed = company.contact_unsubscribed_at is None
    return {"digest": DigestFrequency.WEEKLY if subscribed else DigestFrequency.NONE}


def preferences(request: HttpRequest, token: str) -> HttpResponse:
    recipient = _recipient_or_404(token)
    with_language = recipient.kind != CONTACT
    saved = False
    if request.method == "POST":
        form = DigestPreferencesForm(request.POST, with_language=with_language)
        if form.is_valid():
            services.set_digest_preferences(
                recipient, digest=form.cleaned_data["digest"], language=form.cleaned_data.get("language")
            )
            recipient = _recipient_or_404(token)
            saved = True
            form = DigestPreferencesForm(initial=_current_preferences(recipient), with_language=with_language)
    else:
        form = DigestPreferencesForm(initial=_current_preferences(recipient), with_language=with_language)
    speak_language(request, recipient.language)
    return render(request, "companies/preferences.html", {"form": form, "saved": saved, "recipient": recipient})


def claim_profile(request: HttpRequest, token: str) -> HttpResponse:
    """The contact of an imported firm sets a password and gives the firm's consent: the firm has joined."""
    data = load_action(token, CLAIM_SALT, settings.DIGEST_LINK_MAX_AGE_DAYS)
    if data is None:
        raise Http404(_("This link is not valid or has expired."))
    if not data.get("email"):
        raise Http404(_("This link is not valid or has expired."))
    company = get_object_or_404(
        Company.objects.exclude(status=Company.Status.WITHDRAWN),
        pk=data.get("company"),
        contact_email__iexact=data["email"],
    )
    language = profile_language(company)
    speak_language(request, language)
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    error = None
    if company.memberships.exists():
        error = _("This profile has already been claimed; sign in instead.")
        form = None
    elif request.method == "POST":
        form = ClaimProfileForm(request.POST, email=company.contact_email)
        if form.is_valid():
            try:
                membership = services.claim_company(
                    company,
                    email=company.contact_email,
                    password=form.cleaned_data["password1"],
                    consent_purposes=form.consent_purposes,
                    language=form.cleaned_data["language"],
                )
            except services.ClaimError as claim_error:
                error, form = str(claim_error), None
            else:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect(next_url or "claim-done")
    else:
        form = ClaimProfileForm(email=company.contact_email, initial={"language": language})
    status = 409 if error else 200
    return render(request, "companies/claim.html", {"form": form, "company": company, "error": error}, status=status)


def claim_done(request: HttpRequest) -> HttpResponse:
    return render(request, "companies/claim_done.html")

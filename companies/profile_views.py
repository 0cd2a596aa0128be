"""The member's own firm: one guided form for the profile, offers and needs and consent; then submit it."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from companies import selectors, services
from companies.forms import CompanyProfileForm, ConsentForm, ListingFormSet
from companies.hints import ListingDraft, profile_hints
from companies.models import Company, Listing

EDITABLE = {Company.Status.DRAFT, Company.Status.PENDING, Company.Status.PUBLISHED, Company.Status.SUSPENDED}


def _listing_initial(company: Company | None, direction: str) -> list[dict]:
    if company is None:
        return []
    return [
        {"kind": listing.kind, "text": listing.text, "cooperation": listing.cooperation}
        for listing in company.listings.all() if listing.direction == direction
    ]


def _listings(formset, direction: str) -> list[services.ListingData]:
    return [
        services.ListingData(direction=direction, text=form.cleaned_data["text"].strip(),
                             kind=form.cleaned_data.get("kind") or Listing.Kind.PRODUCT,
                             cooperation=list(form.cleaned_data.get("cooperation") or []))
        for form in formset if not form.is_blank
    ]


def _hints(company: Company | None) -> list[str]:
    if company is None:
        return []
    return profile_hints(
        sectors=[sector.code for sector in company.sectors.all()], languages=company.languages,
        listings=[ListingDraft(x.direction, x.text, x.cooperation) for x in company.listings.all()],
    )


@login_required
def edit_profile(request: HttpRequest) -> HttpResponse:
    company = selectors.company_of(request.user)
    data = request.POST if request.method == "POST" else None
    form = CompanyProfileForm(data, instance=company, prefix="firm")
    offers = ListingFormSet(data, initial=_listing_initial(company, Listing.Direction.OFFER), prefix="offers")
    needs = ListingFormSet(data, initial=_listing_initial(company, Listing.Direction.NEED), prefix="needs")
    consent = ConsentForm(
        data, given=company.consent_purposes if company else [], joining=company is None, prefix="consent"
    )
    listing_error = ""
    if request.method == "POST":
        valid = all([form.is_valid(), offers.is_valid(), needs.is_valid(), consent.is_valid()])
        listings = _listings(offers, Listing.Direction.OFFER) + _listings(needs, Listing.Direction.NEED) if valid else []
        if valid and not listings:
            listing_error = _("Describe at least one offer or one need: it is what the matching compares.")
            valid = False
        if valid:
            fields = {name: form.cleaned_data[name] for name in form.Meta.fields if name != "sectors"}
            created = company is None
            company = services.save_profile(
                user=request.user, company=company, fields=fields,
                sector_codes=[sector.code for sector in form.cleaned_data["sectors"]], listings=listings,
                consent_purposes=consent.purposes, language=translation.get_language(),
            )
            messages.success(request, _("Your profile is saved.") if not created else _(
                "Your profile is saved as a draft. Submit it for review when it is complete."))
            return redirect("my-profile")
        messages.error(request, _("Some fields need your attention; they are marked below."))
    context = {
        "company": company, "form": form, "offers": offers, "needs": needs, "consent": consent,
        "listing_error": listing_error, "hints": _hints(company), "consent_version": settings.CONSENT_VERSION,
        "can_submit": company is not None and company.status == Company.Status.DRAFT,
    }
    return render(request, "companies/my_profile.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def submit_profile(request: HttpRequest) -> HttpResponse:
    company = selectors.company_of(request.user)
    if company is None:
        return redirect("my-profile")
    try:
        services.submit_for_review(company, by=request.user)
    except services.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you. Your chamber of commerce now reviews the profile; its status "
                                    "shows on this page."))
    return redirect("my-profile")

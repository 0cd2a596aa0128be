"""The member's own firm: one guided form for the profile, offers and needs and consent; then submit it."""

from dataclasses import dataclass

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
from companies.models import Company, Listing, Sector

EDITABLE = {Company.Status.DRAFT, Company.Status.PENDING, Company.Status.PUBLISHED, Company.Status.SUSPENDED}


def _listing_initial(company: Company | None, direction: str) -> list[dict]:
    if company is None:
        return []
    return [
        {"kind": listing.kind, "text": listing.text, "cooperation": listing.cooperation}
        for listing in company.listings.all()
        if listing.direction == direction
    ]


def _listings(formset, direction: str) -> list[services.ListingData]:
    return [
        services.ListingData(
            direction=direction,
            text=form.cleaned_data["text"].strip(),
            kind=form.cleaned_data.get("kind") or Listing.Kind.PRODUCT,
            cooperation=list(form.cleaned_data.get("cooperation") or []),
        )
        for form in formset
        if not form.is_blank
    ]


@dataclass(frozen=True)
class FieldError:
    """One line of the error summary at the top of the form: a link to the field it is about."""

    target: str  # the id of the field (or of its group of boxes, or of a section)
    label: str
    message: str


def _form_errors(form, *, prefix: str = "", section: str = "") -> list[FieldError]:
    errors = [FieldError(section, prefix.rstrip(" ·"), str(message)) for message in form.non_field_errors()]
    for field in form:
        errors += [FieldError(field.auto_id, f"{prefix}{field.label}", str(message)) for message in field.errors]
    return errors


def error_summary(*, form, offers, needs, consent, listing_error: str) -> list[FieldError]:
    """Every error of the page, in the order of the page, each linked to its field (or to its section)."""
    errors = _form_errors(form, section="step-firm")
    if listing_error:
        errors.append(FieldError(offers[0]["text"].auto_id, _("Offers and needs"), listing_error))
    for formset, section in ((offers, "step-offers"), (needs, "step-needs")):
        errors += [FieldError(section, _("Offers and needs"), str(message)) for message in formset.non_form_errors()]
        for row in formset:
            errors += _form_errors(row, prefix=f"{row.title} · " if row.title else "", section=section)
    return errors + _form_errors(consent, section="step-consent")


def _hints(company: Company | None) -> list[str]:
    if company is None:
        return []
    return profile_hints(
        sectors=[sector.code for sector in company.sectors.all()],
        languages=company.languages,
        listings=[ListingDraft(x.direction, x.text, x.cooperation) for x in company.listings.all()],
    )


@login_required
def edit_profile(request: HttpRequest) -> HttpResponse:
    company = selectors.company_of(request.user)
    data = request.POST if request.method == "POST" else None
    form = CompanyProfileForm(
        data,
        instance=company,
        prefix="firm",
        language=translation.get_language(),
        email=request.user.email or request.user.username,
    )
    offers = ListingFormSet(
        data,
        initial=_listing_initial(company, Listing.Direction.OFFER),
        prefix="offers",
        direction=Listing.Direction.OFFER,
    )
    needs = ListingFormSet(
        data,
        initial=_listing_initial(company, Listing.Direction.NEED),
        prefix="needs",
        direction=Listing.Direction.NEED,
    )
    consent = ConsentForm(
        data, given=company.consent_purposes if company else [], joining=company is None, prefix="consent"
    )
    listing_error = ""
    if request.method == "POST":
        listings_valid = all([offers.is_valid(), needs.is_valid()])
        listings = (
            _listings(offers, Listing.Direction.OFFER) + _listings(needs, Listing.Direction.NEED)
            if listings_valid
            else []
        )
        if listings_valid and not listings:  # said even when other fields fail too, so one round of fixes does
            listing_error = _("Describe at least one offer or one need: it is what the matching compares.")
        valid = all([form.is_valid(), consent.is_valid(), listings_valid, not listing_error])
        if valid:
            fields = {name: form.cleaned_data[name] for name in form.Meta.fields if name != "sectors"}
            created = company is None
            company = services.save_profile(
                user=request.user,
                company=company,
                fields=fields,
                sector_codes=[sector.code for sector in form.cleaned_data["sectors"]],
                listings=listings,
                consent_purposes=consent.purposes,
                language=translation.get_language(),
            )
            if request.POST.get("then") == "submit" and company.status == Company.Status.DRAFT:
                return _submit(request, company)
            messages.success(
                request,
                _("Your profile is saved.")
                if not created
                else _("Your profile is saved as a draft. Submit it for review when it is complete."),
            )
            return redirect("my-profile")
    errors = (
        error_summary(form=form, offers=offers, needs=needs, consent=consent, listing_error=listing_error)
        if request.method == "POST"
        else []
    )
    context = {
        "company": company,
        "form": form,
        "offers": offers,
        "needs": needs,
        "consent": consent,
        "listing_error": listing_error,
        "hints": _hints(company),
        "consent_version": settings.CONSENT_VERSION,
        "can_submit": company is not None and company.status == Company.Status.DRAFT,
        "may_submit_on_save": company is None or company.status == Company.Status.DRAFT,
        "errors": errors,
        "division_names": {
            code: sector.name
            for code, sector in selectors.sectors_by_code().items()
            if sector.level == Sector.Level.DIVISION
        },
        "chambers_by_country": form.chambers_by_country(),
    }
    return render(request, "companies/my_profile.html", context, status=400 if request.method == "POST" else 200)


def _submit(request: HttpRequest, company: Company) -> HttpResponse:
    try:
        services.submit_for_review(company, by=request.user)
    except services.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Thank you. Your chamber of commerce now reviews the profile; its status shows on this page.")
        )
    return redirect("my-profile")


@login_required
@require_POST
def submit_profile(request: HttpRequest) -> HttpResponse:
    company = selectors.company_of(request.user)
    if company is None:
        return redirect("my-profile")
    return _submit(request, company)

"""The member's own data rights pages: mail preferences, a copy of their data, and deleting the account.

Every page needs a login; a member only ever acts for their own membership and firm (companies.privacy).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from companies import privacy, services
from companies.forms import DigestPreferencesForm
from companies.models import Company
from companies.preference_forms import ConsentPreferencesForm
from companies.recipients import profile_language

EXPORT_FILENAME = "sme-match-data.json"


@login_required
@require_http_methods(["GET", "POST"])
def my_preferences(request: HttpRequest) -> HttpResponse:
    """The weekly digest and the language of the member's emails, the firm's consent purpose by purpose, and the
    links to export and delete. Each form posts on its own (``form=consent`` names the consent one)."""
    membership = privacy.membership_of(request.user)
    form = consent = None
    status = 200
    if membership is not None:
        company = membership.company
        posted = request.POST if request.method == "POST" else None
        if posted is not None and posted.get("form") == "consent":
            consent = ConsentPreferencesForm(posted, given=company.consent_purposes)
            if consent.is_valid():
                try:
                    changed = services.change_consent(company, consent.purposes)
                except services.ConsentError as error:
                    consent.add_error(None, str(error))
                else:
                    messages.success(request, _("Your consent is saved.") if changed else _("Nothing changed."))
                    return redirect(f"{reverse('my-preferences')}#consent-heading")
            status = 400
        elif posted is not None:
            form = DigestPreferencesForm(posted)
            if form.is_valid():
                privacy.set_member_preferences(
                    membership, digest=form.cleaned_data["digest"], language=form.cleaned_data["language"]
                )
                messages.success(request, _("Your preferences are saved."))
                return redirect("my-preferences")
        form = form or DigestPreferencesForm(
            initial={
                "digest": membership.digest,
                "language": membership.language or profile_language(company),
            }
        )
        consent = consent or ConsentPreferencesForm(given=company.consent_purposes)
    return render(
        request,
        "companies/my_preferences.html",
        {
            "form": form,
            "consent": consent,
            "membership": membership,
            "shown": membership is not None
            and Company.objects.shown_to_others().filter(pk=membership.company_id).exists(),
        },
        status=status,
    )


@login_required
@require_GET
def export_my_data(request: HttpRequest) -> HttpResponse:
    """Everything held on the member and their firm, as a JSON file to download (the right of access)."""
    response = JsonResponse(
        privacy.export_personal_data(request.user),
        encoder=DjangoJSONEncoder,
        json_dumps_params={"ensure_ascii": False, "indent": 2},
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{EXPORT_FILENAME}"'
    add_never_cache_headers(response)  # personal data: no shared or browser cache keeps a copy
    return response


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=gettext_lazy("To be sure it is you who deletes the account."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                _("This is not your current password. Nothing was deleted."), code="password_incorrect"
            )
        return password


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def delete_my_account(request: HttpRequest) -> HttpResponse:
    """GET tells what deleting the account does; POST with the current password does it."""
    user = request.user
    membership = privacy.membership_of(user)
    context = {"membership": membership, "last_member": privacy.is_last_member(user), "staff": user.is_staff}
    if user.is_staff:
        # Chamber staff and administrators are not members: their accounts are closed by an administrator,
        # so nobody locks the chamber out of its own admin by mistake.
        context["form"] = None
        status = 403 if request.method == "POST" else 200
        return render(request, "companies/delete_account.html", context, status=status)
    if request.method == "POST":
        form = DeleteAccountForm(request.POST, user=user)
        if form.is_valid():
            withdrawal = privacy.withdraw_member(user)
            logout(request)
            if withdrawal.company_withdrawn:
                messages.success(
                    request,
                    _(
                        "Your account is deleted and your firm’s profile is withdrawn: it no longer appears in the "
                        "directory, in matching or in the weekly digests."
                    ),
                )
            elif withdrawal.company_id is not None:
                messages.success(
                    request, _("Your account is deleted. Your firm’s profile stays, with its other members.")
                )
            else:
                messages.success(request, _("Your account is deleted."))
            return redirect("home")
        status = 400
    else:
        form, status = DeleteAccountForm(user=user), 200
    context["form"] = form
    return render(request, "companies/delete_account.html", context, status=status)

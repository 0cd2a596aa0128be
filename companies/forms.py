from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from companies import services
from companies.classification import ActivityCodeError, division_of
from companies.models import (
    LISTINGS_PER_DIRECTION_MAX, REQUIRED_PURPOSES, Company, ConsentPurpose, CooperationForm, DigestFrequency,
    Language, Listing, Organisation, Sector, required_purposes,
)
from companies.validators import multi_line_text, one_line_text, validate_website, website_to_uri

# Each purpose is asked for separately and never pre-ticked (Vietnam's personal-data law and Russia's 152-FZ
# both want consent per purpose); which ones are required is companies.models' rule, the API's too.


class DigestPreferencesForm(forms.Form):
    digest = forms.ChoiceField(label=_("Weekly digest"), choices=DigestFrequency.choices, widget=forms.RadioSelect)
    language = forms.ChoiceField(label=_("Language of the emails"), choices=Language.choices)

    def __init__(self, *args, with_language: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not with_language:  # a firm's contact email is written to in the language of the profile
            del self.fields["language"]


class ClaimProfileForm(forms.Form):
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    language = forms.ChoiceField(label=_("Language of the emails"), choices=Language.choices)

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email
        for purpose in ConsentPurpose:
            self.fields[f"consent_{purpose.value}"] = forms.BooleanField(
                label=purpose.label, required=purpose in REQUIRED_PURPOSES,
                error_messages={"required": _("The service cannot introduce your firm without this consent.")},
            )

    def consent_fields(self):
        return [self[f"consent_{purpose.value}"] for purpose in ConsentPurpose]

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            from django.contrib.auth import get_user_model

            try:
                password_validation.validate_password(first, get_user_model()(username=self.email, email=self.email))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    @property
    def consent_purposes(self) -> list[str]:
        return [purpose.value for purpose in ConsentPurpose if self.cleaned_data.get(f"consent_{purpose.value}")]


class SignUpForm(forms.Form):
    """Only the address: whoever opens the link mailed to it chooses the password (account_views.VerifyEmailView),
    so a sign-up can neither set nor change the password of an account, and it answers alike whether or not the
    address has one."""

    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


# --- the firm's profile, as a guided form -------------------------------------------------------------


class WebsiteFormField(forms.URLField):
    """A firm's website, as the API takes it (serializers.WebsiteField): http(s) only, kept as a URI."""

    default_validators = [validate_website]

    def to_python(self, value) -> str:
        value = super().to_python(value)  # "firm.vn" becomes https://firm.vn
        if value:
            one_line_text(value)
            value = website_to_uri(value)
        return value


class SectorChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, sector) -> str:
        return sector.name  # in the reader's language


class CompanyProfileForm(forms.ModelForm):
    sectors = SectorChoiceField(
        queryset=None, required=False, label=_("Sectors"),
        help_text=_("The ISIC sectors your firm works in; hold Ctrl (⌘ on a Mac) to pick several."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    languages = forms.MultipleChoiceField(
        choices=Language.choices, required=False, widget=forms.CheckboxSelectMultiple,
        label=_("Business languages"), help_text=_("Languages your staff can negotiate in."),
    )
    founded = forms.IntegerField(label=_("Year founded"), min_value=1800, max_value=2100, required=False)
    website = WebsiteFormField(label=_("Website"), required=False, assume_scheme="https")  # "firm.vn" is https

    class Meta:
        model = Company
        fields = [
            "name", "country", "city", "activity_code", "sectors", "size", "founded", "languages", "website",
            "chamber", "contact_name", "contact_email", "contact_phone",
        ]
        help_texts = {
            "activity_code": _("From your registration: VSIC 2018 in Vietnam (such as 2100), OKVED2 in Russia "
                               "(such as 21.20)."),
            "chamber": _("The chamber of commerce that reviews your profile."),
            "contact_name": _("Shown to a counterpart only after both firms accept an introduction."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Sorted by their name in the reader's language, as a person looks for them.
        divisions = list(Sector.objects.filter(level=Sector.Level.DIVISION))
        self.fields["sectors"].queryset = Sector.objects.filter(level=Sector.Level.DIVISION)
        self.fields["sectors"].choices = [(s.code, s.name) for s in sorted(divisions, key=lambda s: s.name.casefold())]
        self.fields["chamber"].queryset = Organisation.objects.filter(vets_companies=True).order_by("country", "name")
        self.fields["activity_code"].required = True
        for name in ("name", "city", "contact_name", "contact_email"):
            self.fields[name].required = True
        for name in ("name", "city", "contact_name", "contact_email", "contact_phone"):
            self.fields[name].validators.append(one_line_text)

    def clean(self):
        cleaned = super().clean()
        code, country = (cleaned.get("activity_code") or "").strip(), cleaned.get("country")
        if code and country:
            try:
                cleaned["activity_division"] = division_of(code, country)
            except ActivityCodeError:
                example = {"VN": "2100", "RU": "21.20"}[country]
                self.add_error("activity_code", _(
                    "%(code)s is not an activity code of this country: use %(scheme)s, such as %(example)s."
                ) % {"code": code, "scheme": "VSIC 2018" if country == "VN" else "OKVED2", "example": example})
            cleaned["activity_code"] = code
        if "chamber" not in self.errors:
            problem = services.chamber_problem(self.instance, country=country, chamber=cleaned.get("chamber"))
            if problem:
                self.add_error("chamber", problem)
        return cleaned


class ListingForm(forms.Form):
    """One offer or need; a row left empty is ignored, so the page can offer spare rows."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Listing.Kind.choices, required=False)
    text = forms.CharField(
        label=_("Description"), required=False, max_length=2000, validators=[multi_line_text],
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        help_text=_("In Vietnamese, Russian or English: what, how much, where, with which certificates."),
    )
    cooperation = forms.MultipleChoiceField(
        label=_("Forms of cooperation"), choices=CooperationForm.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    @property
    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("text") or "").strip()


ListingFormSet = forms.formset_factory(
    ListingForm, extra=2, max_num=LISTINGS_PER_DIRECTION_MAX, absolute_max=LISTINGS_PER_DIRECTION_MAX
)


class ConsentForm(forms.Form):
    """One unticked box per purpose of processing, as both countries' data laws ask."""

    def __init__(self, *args, given: list[str] | None = None, joining: bool = True, **kwargs) -> None:
        """``joining``: the firm has no profile yet; afterwards only matching stays required."""
        super().__init__(*args, **kwargs)
        required = required_purposes(joining=joining)
        for purpose in ConsentPurpose:
            self.fields[purpose.value] = forms.BooleanField(
                label=purpose.label, required=purpose in required, initial=purpose.value in (given or []),
                error_messages={"required": _("The service cannot introduce your firm without this consent.")},
            )

    @property
    def purposes(self) -> list[str]:
        return [purpose.value for purpose in ConsentPurpose if self.cleaned_data.get(purpose.value)]

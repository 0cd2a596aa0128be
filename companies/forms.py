from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils.translation import gettext_lazy as _

from companies import selectors, services
from companies.classification import ActivityCodeError, division_of
from companies.models import (
    LISTINGS_PER_DIRECTION_MAX,
    REQUIRED_PURPOSES,
    Company,
    ConsentPurpose,
    CooperationForm,
    Country,
    DigestFrequency,
    Language,
    Listing,
    Organisation,
    Sector,
    required_purposes,
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
    password1 = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),  # the rules, before any failure
    )
    password2 = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    language = forms.ChoiceField(label=_("Language of the emails"), choices=Language.choices)

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email
        for purpose in ConsentPurpose:
            self.fields[f"consent_{purpose.value}"] = forms.BooleanField(
                label=purpose.label,
                required=purpose in REQUIRED_PURPOSES,
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
        return f"{sector.code} {sector.name}"  # the code, as on a registration; the name in the reader's language


class SectorPicker(forms.CheckboxSelectMultiple):
    """The ISIC divisions as boxes grouped by section, each section folded away (companies/widgets/
    sector_picker.html); a search box, shown by the page's script, unfolds the sections that match. 88 boxes
    instead of a multi-select that needs Ctrl and shows no codes."""

    template_name = "companies/widgets/sector_picker.html"

    def __init__(self, *args, open_sections: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.open_sections = open_sections  # section labels whose fold starts open (ticked or suggested)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        chosen = {str(v) for v in (value or [])}
        context["widget"]["sections"] = [
            {
                "label": group,
                "options": options,
                "open": group in self.open_sections or any(str(option["value"]) in chosen for option in options),
            }
            for group, options, _index in context["widget"]["optgroups"]
        ]
        return context


def country_hint(*, language: str | None, email: str = "") -> str:
    """The country a new firm most likely belongs to: its email's domain says more than the reader's language
    (a Russian speaker may work for a Vietnamese firm); "" when neither tells."""
    domain = email.rsplit("@", 1)[-1].lower()
    if domain.endswith(".vn"):
        return "VN"
    if domain.endswith((".ru", ".рф", ".xn--p1ai")):
        return "RU"
    return {"vi": "VN", "ru": "RU"}.get((language or "")[:2], "")


def activity_code_help() -> str:
    return _(
        "The code of your main activity, from your registration. Vietnam: VSIC 2018, 2 to 5 digits, such as "
        "1077. Russia: OKVED2, two digits then groups after dots, such as 10.83. Its first two digits are "
        "the ISIC division the firm is filed under."
    )


class CompanyProfileForm(forms.ModelForm):
    sectors = SectorChoiceField(
        queryset=None,
        required=False,
        label=_("Sectors"),
        help_text=_(
            "Tick each ISIC division your firm works in; open a section, or search by a word or a code. "
            "Left empty, the firm is filed under the division of its activity code."
        ),
        widget=SectorPicker,
    )
    languages = forms.MultipleChoiceField(
        choices=Language.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Business languages"),
        help_text=_("Languages your staff can negotiate in."),
    )
    founded = forms.IntegerField(label=_("Year founded"), min_value=1800, max_value=2100, required=False)
    website = WebsiteFormField(label=_("Website"), required=False, assume_scheme="https")  # "firm.vn" is https

    class Meta:
        model = Company
        fields = [
            "name",
            "country",
            "city",
            "activity_code",
            "sectors",
            "size",
            "founded",
            "languages",
            "website",
            "chamber",
            "contact_name",
            "contact_email",
            "contact_phone",
        ]
        help_texts = {
            "chamber": _("The chamber of commerce of your country that reviews your profile."),
            "contact_name": _("Shown to a counterpart only after both firms accept an introduction."),
        }
        widgets = {
            "activity_code": forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 10}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "contact_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "name": forms.TextInput(attrs={"autocomplete": "organization"}),
        }

    def __init__(self, *args, language: str | None = None, email: str = "", **kwargs) -> None:
        """``language`` and ``email``: the reader's language and sign-up address, from which a new firm's
        country, chamber, contact address and business language are preset."""
        super().__init__(*args, **kwargs)
        self.fields["activity_code"].help_text = activity_code_help()
        self.fields["activity_code"].required = True
        for name in ("name", "city", "contact_name", "contact_email"):
            self.fields[name].required = True
        for name in ("name", "city", "contact_name", "contact_email", "contact_phone"):
            self.fields[name].validators.append(one_line_text)
        if self.instance.pk is None:
            country = country_hint(language=language, email=email)
            if country:
                self.initial.setdefault("country", country)
            if email:
                self.initial.setdefault("contact_email", email)
            if (language or "")[:2] in Language.values:
                self.initial.setdefault("languages", [(language or "")[:2]])
        country = self["country"].value() or self.instance.country or ""
        self._set_sector_choices(country)
        self._set_chamber_choices(country)

    def _set_sector_choices(self, country: str) -> None:
        grouped = selectors.division_choices()
        field = self.fields["sectors"]
        field.queryset = Sector.objects.filter(level=Sector.Level.DIVISION)
        field.choices = grouped
        # The section of the activity code's division starts open: it is the likeliest place to tick.
        code = (self["activity_code"].value() or "").strip()
        try:
            division = division_of(code, country) if code and country else ""
        except ActivityCodeError:
            division = ""
        field.widget.open_sections = tuple(
            label for label, options in grouped if any(value == division for value, _name in options)
        )

    def _set_chamber_choices(self, country: str) -> None:
        """The chambers of the firm's country first, grouped by country, and for a new firm the first of its
        country chosen; clean() refuses a chamber of the other country whatever the browser sends."""
        field = self.fields["chamber"]
        field.queryset = Organisation.objects.filter(vets_companies=True).order_by("country", "name")
        chambers = list(field.queryset)
        countries = sorted({c.country for c in chambers}, key=lambda code: (code != country, code))
        field.choices = [("", "---------")] + [
            (Country(code).label, [(c.pk, str(c)) for c in chambers if c.country == code]) for code in countries
        ]
        self._chambers = chambers
        if self.instance.pk is None and country and "chamber" not in self.initial:
            own = [c for c in chambers if c.country == country]
            if own:
                self.initial["chamber"] = own[0].pk

    @property
    def activity_division(self) -> Sector | None:
        """The ISIC division of the code as typed (or stored), to say it beside the field; None if unknown."""
        code = (self["activity_code"].value() or "").strip()
        country = self["country"].value() or ""
        try:
            division = division_of(code, country) if code and country else ""
        except ActivityCodeError:
            return None
        return selectors.sectors_by_code().get(division)

    def chambers_by_country(self) -> dict[str, list[str]]:
        """The vetting chambers' ids per country, for the page's script that keeps the chamber in step."""
        by_country: dict[str, list[str]] = {}
        for chamber in self._chambers:
            by_country.setdefault(chamber.country, []).append(str(chamber.pk))
        return by_country

    def clean(self):
        cleaned = super().clean()
        code, country = (cleaned.get("activity_code") or "").strip(), cleaned.get("country")
        if code and country:
            try:
                cleaned["activity_division"] = division_of(code, country)
            except ActivityCodeError:
                example = {"VN": "2100", "RU": "21.20"}[country]
                self.add_error(
                    "activity_code",
                    _("%(code)s is not an activity code of this country: use %(scheme)s, such as %(example)s.")
                    % {"code": code, "scheme": "VSIC 2018" if country == "VN" else "OKVED2", "example": example},
                )
            cleaned["activity_code"] = code
        if "chamber" not in self.errors:
            problem = services.chamber_problem(self.instance, country=country, chamber=cleaned.get("chamber"))
            if problem:
                self.add_error("chamber", problem)
        return cleaned


# Whole sentences per direction, so that each language can decline "offer" and "need" as it must.
LISTING_LABELS = {
    Listing.Direction.OFFER: {
        "title": _("Offer %(number)s"),
        "cooperation": _("Forms of cooperation for offer %(number)s"),
    },
    Listing.Direction.NEED: {
        "title": _("Need %(number)s"),
        "cooperation": _("Forms of cooperation for need %(number)s"),
    },
}


class ListingForm(forms.Form):
    """One offer or need; a row left empty is ignored, so the page can offer spare rows."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Listing.Kind.choices, required=False)
    text = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        validators=[multi_line_text],
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        help_text=_("In Vietnamese, Russian or English: what, how much, where, with which certificates."),
    )
    cooperation = forms.MultipleChoiceField(
        label=_("Forms of cooperation"),
        choices=CooperationForm.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, direction: str = "", number: int | None = None, **kwargs) -> None:
        """``direction`` and ``number`` name the row ("Offer 2"), so that a screen reader hears which offer a
        group of boxes belongs to, and the error summary says which offer a message is about."""
        super().__init__(*args, **kwargs)
        self.direction, self.number = direction, number
        if number and direction in LISTING_LABELS:
            # Its legend: "Distribution" alone, six times over, tells a screen reader nothing.
            self.fields["cooperation"].label = LISTING_LABELS[direction]["cooperation"] % {"number": number}

    @property
    def title(self) -> str:
        """The legend of the row, such as "Offer 2"."""
        if not (self.number and self.direction in LISTING_LABELS):
            return ""
        return LISTING_LABELS[self.direction]["title"] % {"number": self.number}

    @property
    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("text") or "").strip()


class BaseListingFormSet(forms.BaseFormSet):
    def __init__(self, *args, direction: str = "", **kwargs) -> None:
        self.direction = direction
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        return {**kwargs, "direction": self.direction, "number": None if index is None else index + 1}


ListingFormSet = forms.formset_factory(
    ListingForm,
    formset=BaseListingFormSet,
    extra=2,
    max_num=LISTINGS_PER_DIRECTION_MAX,
    absolute_max=LISTINGS_PER_DIRECTION_MAX,
)


class ConsentForm(forms.Form):
    """One unticked box per purpose of processing, as both countries' data laws ask."""

    def __init__(self, *args, given: list[str] | None = None, joining: bool = True, **kwargs) -> None:
        """``joining``: the firm has no profile yet; afterwards only matching stays required."""
        super().__init__(*args, **kwargs)
        required = required_purposes(joining=joining)
        for purpose in ConsentPurpose:
            self.fields[purpose.value] = forms.BooleanField(
                label=purpose.label,
                required=purpose in required,
                initial=purpose.value in (given or []),
                error_messages={"required": _("The service cannot introduce your firm without this consent.")},
            )

    @property
    def purposes(self) -> list[str]:
        return [purpose.value for purpose in ConsentPurpose if self.cleaned_data.get(purpose.value)]

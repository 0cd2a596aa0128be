from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from companies.models import ConsentPurpose, DigestFrequency, Language

# Purposes the service cannot work without: each is asked for separately and never pre-ticked
# (Vietnam's personal-data law and Russia's 152-FZ both want consent per purpose).
REQUIRED_PURPOSES = [ConsentPurpose.MATCHING, ConsentPurpose.SHARE_PROFILE, ConsentPurpose.CROSS_BORDER]


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

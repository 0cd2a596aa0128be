"""The consent part of the member's Preferences page: a box per purpose the firm may give or withdraw there,
ticked where it is given (companies.services.change_consent applies the change)."""

from __future__ import annotations

from django import forms

from companies.models import PURPOSES_TO_MATCH, PURPOSES_TO_SHOW, ConsentPurpose


class ConsentPreferencesForm(forms.Form):
    """Every purpose but one already given that only deleting the account withdraws (matching): that one is
    listed on the page, not offered as a box."""

    def __init__(self, *args, given: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.given = list(given)
        for purpose in ConsentPurpose:
            if self.fixed(purpose.value):
                continue
            self.fields[purpose.value] = forms.BooleanField(
                label=purpose.label,
                required=False,
                initial=purpose.value in self.given,
            )

    def fixed(self, purpose: str) -> bool:
        return purpose in PURPOSES_TO_MATCH and purpose in self.given

    @property
    def purposes(self) -> list[str]:
        """The purposes the firm consents to after this change: the ticked boxes and the fixed ones."""
        return [
            purpose.value
            for purpose in ConsentPurpose
            if self.fixed(purpose.value) or self.cleaned_data.get(purpose.value)
        ]

    def rows(self) -> list[dict]:
        """Each purpose in order, with its box (None for a fixed one) and what withdrawing it does."""
        return [
            {
                "purpose": purpose.value,
                "label": purpose.label,
                "given": purpose.value in self.given,
                "field": None if self.fixed(purpose.value) else self[purpose.value],
                "shows": purpose.value in PURPOSES_TO_SHOW,
                "fixed": self.fixed(purpose.value),
            }
            for purpose in ConsentPurpose
        ]
